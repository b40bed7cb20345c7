import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import SkillLocalization

/// `graft eval`: pre-trained, fine-tuned and grafted models on a split (and the OOD set).
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate the pre-trained, fine-tuned and grafted models: accuracy, graft/FT ratio, ECE with reliability bins, NLL, sparsity, OOD.",
        discussion: """
            Example:
              graft eval --finetuned ft.h5 --mask mask.h5 --split test -o eval.json
            The three models share the fine-tuned checkpoint's head; the pre-trained model is the \
            pre-trained encoder under that head. ECE uses 10 equal-width confidence bins (lo, hi]. \
            For the polarity task the movie-review sentences (--ood, gensim-corpora) are evaluated too \
            (trained on tweets, tested on movie reviews). --task evaluates on another task's split.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var pair: PairOptions
    @OptionGroup var data: DataOptions

    @Option(name: .customLong("mask"), help: ArgumentHelp("A mask written by `graft localize` (repeatable).", valueName: "file"))
    var masks: [String] = []

    @Option(help: "Split: test, dev or train (the fine-tuned checkpoint's training split).")
    var split = "test"

    @Option(help: "Evaluate on this task instead of the fine-tuned checkpoint's.")
    var task: String?

    @Option(help: ArgumentHelp("Out-of-distribution set for polarity: a datasets.toml name or .h5 path; 'none' to skip.", valueName: "name|file"))
    var ood = "gensim-corpora"

    @Option(help: "Texts per inference batch.")
    var batchSize = 32

    func validate() throws {
        guard ["test", "dev", "train"].contains(split) else { throw ValidationError("--split must be test, dev or train, got '\(split)'") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
    }

    func run() throws {
        try ToolRunner.run(tool: "graft", command: "eval", options: common, reflecting: self) { context in
            let models = try context.timer.measure("load") { try pair.load(maxLength: data.maxLength) }
            let task = try task.map(SkillTask.init(named:)) ?? models.provenance.task
            let (splits, datasetPath) = try context.timer.measure("data") { try data.splits(task) }
            let examples: LabelledTexts
            switch split {
            case "dev": examples = splits.dev
            case "train": examples = try splits.train(k: models.provenance.k, seed: models.provenance.dataSeed)
            default: examples = splits.test
            }
            guard !examples.isEmpty else {
                throw SkillLocalizationError.emptySplit(task: task.rawValue, split: split, reason: "no example (--test-per-class 0?)")
            }
            var oodSet: (LabelledTexts, String)?
            if task == .polarity && ood != "none" {
                let path = try resolveNameOrPath(ood)
                oodSet = (try MovieReviews.load(path), path)
            }
            var loaded: [(path: String, mask: GraftMask)] = []
            for path in masks {
                let (mask, _) = try GraftMask.read(from: path)
                try mask.check(fits: models.space, file: path)
                loaded.append((path, mask))
            }

            func evaluate(_ name: String) throws -> EvalMetrics.Evaluations {
                try context.timer.measure("evaluate") {
                    var out = EvalMetrics.Evaluations()
                    let result = try ClassifierEvaluation(logits: models.classifier.predictLogits(examples.texts, batchSize: batchSize),
                                                          labels: examples.labels)
                    out[split] = result
                    if let (set, _) = oodSet {
                        out.ood = try ClassifierEvaluation(logits: models.classifier.predictLogits(set.texts, batchSize: batchSize),
                                                           labels: set.labels)
                    }
                    log("graft eval: \(name) \(split) accuracy \(result.accuracy) ECE \(String(format: "%.4f", result.expectedCalibrationError))", quiet: common.quiet)
                    return out
                }
            }
            models.usePretrained()
            let pre = try evaluate("pretrained")
            models.useFinetuned()
            let ft = try evaluate("finetuned")
            let ftAccuracy = ft[split]?.accuracy ?? 0
            var grafts: [EvalMetrics.Graft] = []
            for (path, mask) in loaded {
                models.use(mask)
                let evaluations = try evaluate("graft \(path)")
                let accuracy = evaluations[split]?.accuracy ?? 0
                var eceReduction: Double?
                if let ftECE = ft[split]?.expectedCalibrationError, let graftECE = evaluations[split]?.expectedCalibrationError, ftECE > 0 {
                    eceReduction = 1 - graftECE / ftECE  // the paper's "ECE error reduction"
                }
                grafts.append(EvalMetrics.Graft(evaluations: evaluations, mask: try fileInput(path), selected: mask.selectedCount,
                                                sparsity: mask.sparsity, sparsityPercent: 100 * mask.sparsity,
                                                graftFtAccuracyRatio: ftAccuracy > 0 ? accuracy / ftAccuracy : 0,
                                                eceReductionVsFt: eceReduction))
            }

            var report = Report(tool: "graft", command: "eval")
            report.paper = paperCitation
            var inputs: [String: JSONValue] = ["pretrained": try fileInput(models.pretrainedPath),
                                               "finetuned": try fileInput(models.finetunedPath),
                                               "dataset": try fileInput(datasetPath), "task": .string(task.rawValue),
                                               "split_sizes": [split: .int(examples.count)]]
            if let (set, path) = oodSet {
                inputs["ood"] = try fileInput(path)
                inputs["split_sizes"] = [split: .int(examples.count), "ood": .int(set.count)]
            }
            report.inputs = inputs
            // Every option is added by ToolRunner (reflecting); these are derived values and old spellings.
            report.config = ["task": .string(task.rawValue), "pretrained": .string(pair.pretrained)]
            try report.setMetrics(EvalMetrics(pretrained: pre, finetuned: ft, grafts: grafts,
                                              graftableParameters: models.space.parameterCount,
                                              peakRssMb: ResourceUsage.peakResidentMiB))
            report.units = ["accuracy": "fraction", "ece": "fraction", "nll": "nats", "selected": "count",
                            "sparsity": "fraction", "sparsity_percent": "%", "graft_ft_accuracy_ratio": "ratio",
                            "ece_reduction_vs_ft": "fraction", "graftable_parameters": "count", "peak_rss_mb": "MB"]
            return report
        }
    }
}

/// `graft eval`'s metrics (snake_case keys in the report; units in `report.units`).
struct EvalMetrics: Encodable {
    /// One model's evaluations: the evaluated split's (under its name) and, for polarity, the
    /// out-of-distribution set's; absent ones are left out.
    struct Evaluations: Encodable {
        var test: ClassifierEvaluation?, dev: ClassifierEvaluation?, train: ClassifierEvaluation?
        var ood: ClassifierEvaluation?

        /// The evaluation of split `name` (test, dev or train).
        subscript(name: String) -> ClassifierEvaluation? {
            get { name == "dev" ? dev : name == "train" ? train : test }
            set {
                switch name {
                case "dev": dev = newValue
                case "train": train = newValue
                default: test = newValue
                }
            }
        }
    }
    /// A mask's graft: its evaluations (inline) and the mask's size and effect.
    struct Graft: Encodable {
        var evaluations: Evaluations
        /// The mask file (path, sha256).
        var mask: JSONValue
        var selected: Int, sparsity: Double, sparsityPercent: Double
        var graftFtAccuracyRatio: Double
        /// 1 − ECE(graft) / ECE(fine-tuned), the paper's "ECE error reduction"; absent when ECE(fine-tuned) is 0.
        var eceReductionVsFt: Double?

        enum CodingKeys: CodingKey { case mask, selected, sparsity, sparsityPercent, graftFtAccuracyRatio, eceReductionVsFt }

        func encode(to encoder: Encoder) throws {
            try evaluations.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(mask, forKey: .mask)
            try c.encode(selected, forKey: .selected)
            try c.encode(sparsity, forKey: .sparsity)
            try c.encode(sparsityPercent, forKey: .sparsityPercent)
            try c.encode(graftFtAccuracyRatio, forKey: .graftFtAccuracyRatio)
            try c.encodeIfPresent(eceReductionVsFt, forKey: .eceReductionVsFt)
        }
    }
    var pretrained: Evaluations, finetuned: Evaluations
    var grafts: [Graft]
    var graftableParameters: Int
    var peakRssMb: Double
}
