import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import PregatedMoE

/// The reproduced paper, for reports.
let paperCitation = "Hwang, Wei, Jeong, Kim, Kim, Rhu. Pre-gated MoE: An Algorithm-System Co-Design for Fast and Scalable Mixture-of-Expert Inference. ISCA 2024 (arXiv 2308.12066)"

/// Fails with exit 66 when `path` does not exist (before HDF5 reports it less clearly).
func requireFile(_ path: String, _ what: String) throws {
    guard FileManager.default.fileExists(atPath: path) else { throw MissingInput(path: path, what: what) }
}

/// A missing input file (exit 66).
struct MissingInput: CategorizedError {
    let path: String
    let what: String
    var category: ErrorCategory { .missingInput }
    var description: String { "\(what) \(path) does not exist" }
}

/// `--weights FILE`: a MoE checkpoint written by `moefy` (`--checkpoint` is a hidden, deprecated alias).
struct MoECheckpointOption: ParsableArguments {
    @OptionGroup var weights: WeightsOption
    var checkpoint: String { weights.weights }

    /// Opens it. - Throws: `MissingInput` (66), `PregatedMoEError.notAMoECheckpoint` (65).
    func open() throws -> MoECheckpoint {
        try requireFile(checkpoint, "MoE checkpoint")
        return try MoECheckpoint(path: checkpoint)
    }
}

/// Parses a comma-separated list with `parse`, naming the option in the error.
func parseList<T>(_ text: String, option: String, _ parse: (String) -> T?) throws -> [T] {
    let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    let values = items.compactMap(parse)
    guard !items.isEmpty, values.count == items.count else { throw ValidationError("\(option): cannot parse '\(text)'") }
    return values
}

/// Arithmetic mean (NaN for none).
func mean(_ values: [Double]) -> Double { values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count) }

/// `--combine`: how gate and pre-gate routing combine the selected experts (`ExpertCombination`),
/// shared by `train-gates`, `evaluate` and `run`.
struct CombinationOption: ParsableArguments {
    @Option(help: "How gate and pre-gate routing combine the selected experts: weighted (k·softmax over the top-k, as Switch) or sum (weight 1).")
    var combine: ExpertCombination = .weighted
}

extension ExpertCombination: ExpressibleByArgument {}

/// `--routers FILE`: a routers file written by `train-gates --save` (default: the checkpoint's own routers).
struct RoutersOption: ParsableArguments {
    @Option(help: ArgumentHelp("Routers file written by `train-gates --save` (default: the checkpoint's own, untrained).", valueName: "file"))
    var routers: String?

    /// The routers of `checkpoint`, from the file if one is given.
    /// - Throws: `MissingInput` (66), `PregatedMoEError.notAMoECheckpoint` (65), `HDF5Error`.
    func load(for checkpoint: MoECheckpoint) throws -> Routers {
        if let routers { try requireFile(routers, "routers file") }
        return try checkpoint.routers(from: routers)
    }

    /// Adds the routers file (path, size, sha256) to `inputs` when one is given.
    /// - Throws: what `fileInput` throws (unreadable file).
    func record(in inputs: inout [String: JSONValue]) throws {
        if let routers { inputs["routers"] = try fileInput(routers) }
    }
}
