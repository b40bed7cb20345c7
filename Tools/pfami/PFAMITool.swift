import ArgumentParser
import MLCore
import MLCoreCLI
import PFAMI

/// `pfami`: membership inference on generative models by probabilistic fluctuation (Fu et al. 2023).
@main
struct PFAMITool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pfami",
        abstract: "PFAMI membership inference on a VAE and a DDPM trained here: probe losses at each record and its crop neighbours, calibrated by a reference model.",
        discussion: """
            A pipeline (Docs/pfami.md):
              pfami train --model ddpm --role target --save target.h5 -o train-target.json
              pfami train --model ddpm --role reference --save reference.h5 -o train-reference.json
              pfami features --target target.h5 --reference reference.h5 --save features.h5 -o features.json
              pfami attack --features features.h5 --method met -o attack.json > scores.jsonl
              mlcore score auroc < scores.jsonl
            The positive control: the same commands with --model kde (an analytic Gaussian-KDE generator).
            features splits over records with --shard i/n; `pfami merge --save features.h5 shard-*.h5` joins them.
            """,
        version: MLCoreVersion.string,
        subcommands: [Train.self, Features.self, Attack.self, MergeCommand.self])

    static func main() { mainWithOneLineErrors() }
}

/// The reproduced paper, for reports.
let paperCitation = "Fu, Wang, Gao, Liu, Li, Jiang. A Probabilistic Fluctuation based Membership Inference Attack for Diffusion Models (PFAMI). arXiv 2308.12143, 2023"

/// Parses a comma-separated list of integers ("0,50,100").
func parseIntegers(_ text: String, option: String) throws -> [Int] {
    let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    let values = parts.compactMap { Int($0) }
    guard !parts.isEmpty, values.count == parts.count else { throw ValidationError("--\(option) must be comma-separated integers, got '\(text)'") }
    return values
}

/// The default probes of a model kind (the reference's config): DDPM timesteps 0, 50, …, 450; VAE
/// passes 0..<10; one pass of the deterministic KDE.
func defaultProbes(_ kind: ModelKind) -> [Int] {
    switch kind {
    case .ddpm: return Array(stride(from: 0, to: 500, by: 50))
    case .vae: return Array(0..<10)
    case .kde: return [0]
    }
}
