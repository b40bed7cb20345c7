import ArgumentParser
import MLCore
import MLCoreCLI

/// `reb`: REB anomaly detection (Lyu et al. 2023) — DefectMaker self-supervised fine-tuning of an
/// ImageNet EfficientNet-Lite0, PatchCore-style patch features, a memory bank of normal patches and
/// local-density kNN scoring.
@main
struct REBTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reb",
        abstract: "REB anomaly detection: DefectMaker self-supervision, memory bank of normal patch features, kNN / local-density kNN (LDKNN) scores, AUROC.",
        discussion: """
            A pipeline (Docs/reb.md):
              reb ssl-train --save ssl.h5 -o ssl.json          (optional: DefectMaker self-supervision)
              reb fit --train-normals 200 --coreset 0.1 --save bank.h5 -o fit.json   (--weights ssl.h5 for SSL features)
              reb eval --bank bank.h5 -o eval.json
              reb score --bank bank.h5 --method ldknn --k 9 | mlcore score auroc
              reb baseline -o baseline.json                    (the handcrafted detectability ceiling)
              reb defectmaker --count 4 --save defects.h5 --sheet defects.png
            eval and score must be given the split fit used (--train-normals, --split-seed) when they \
            read the bank's dataset, so that no training image is tested; a different split is refused.
            """,
        version: MLCoreVersion.string,
        subcommands: [SSLTrain.self, Fit.self, Score.self, Evaluate.self, Baseline.self, DefectMakerCommand.self, SplitCommand.self,
                      FeaturesCommand.self, MergeCommand.self])

    static func main() { mainWithOneLineErrors() }
}
