import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import SkillLocalization

/// The reproduced paper, for reports.
let paperCitation = "Panigrahi, Saunshi, Zhao, Arora. Task-Specific Skill Localization in Fine-tuned Language Models. ICML 2023"

/// `{"path", "sha256"}` of an input file.
/// - Throws: `SHA256.FileError` (exit 66) when it cannot be read.
func fileInput(_ path: String) throws -> JSONValue {
    ["path": .string(path), "sha256": .string(try SHA256.hexDigest(ofFile: path))]
}

/// Where the task data comes from and how the fixed splits are cut.
struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The tweets dataset: a datasets.toml name or an .h5 path.", valueName: "name|file"))
    var dataset = "tweets"

    @Option(help: "Held-out test examples per class (fixed for every seed).")
    var testPerClass = 500

    @Option(help: "Dev examples per class (fixed for every seed; model and mask selection).")
    var devPerClass = 64

    @Option(help: "Tokens per text at most, [CLS] and [SEP] included.")
    var maxLength = 128

    func validate() throws {
        guard testPerClass >= 0, devPerClass > 0 else { throw ValidationError("--test-per-class must be ≥ 0 and --dev-per-class > 0") }
        guard maxLength >= 2 else { throw ValidationError("--max-length must be at least 2") }
    }

    /// The splits of `task`.
    func splits(_ task: SkillTask) throws -> (TaskSplits, path: String) {
        let path = try resolveNameOrPath(dataset)
        return (try TaskSplits.load(tweets: path, task: task, testPerClass: testPerClass, devPerClass: devPerClass), path)
    }

    var config: [String: JSONValue] {
        ["dataset": .string(dataset), "test_per_class": .int(testPerClass), "dev_per_class": .int(devPerClass),
         "max_length": .int(maxLength)]
    }
}

/// `--pretrained` and `--finetuned` checkpoints.
struct PairOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Pre-trained checkpoint: a datasets.toml name or an .h5 path.", valueName: "name|file"))
    var pretrained = "minilm-l6"

    @Option(help: ArgumentHelp("Fine-tuned checkpoint written by `graft finetune`.", valueName: "file"))
    var finetuned: String

    /// Loads and checks the pair.
    func load(maxLength: Int) throws -> ModelPair {
        try ModelPair(pretrained: try resolveNameOrPath(pretrained), finetuned: finetuned, maxLength: maxLength)
    }
}

/// Parses `--k`: a positive integer, or "full" for the whole training pool.
func parseShots(_ text: String) throws -> Int? {
    if text == "full" { return nil }
    guard let k = Int(text), k > 0 else { throw ValidationError("--k must be a positive integer or 'full', got '\(text)'") }
    return k
}

extension MaskEpoch {
    var json: JSONValue {
        ["epoch": .int(epoch), "loss": .double(loss), "train_accuracy": .double(trainAccuracy),
         "dev_accuracy": .double(devAccuracy), "selected": .int(selected), "kept": .bool(kept)]
    }
}

/// Peak resident set size of this process so far (getrusage ru_maxrss, KiB on Linux), in MB.
func peakResidentMegabytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}
