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
            finetuning_gain: FT − pre accuracy with McNemar's exact test and a paired bootstrap interval. \
            Beside every graft two controls (--no-controls to skip): its base patch alone and a random \
            mask of the same size; each with the fraction of the fine-tuning gain kept \
            ((acc − pre)/(FT − pre), bootstrap interval). \
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

    @Flag(inversion: .prefixedNo, help: "Evaluate each graft's controls: its base patch alone and a random mask of the same size.")
    var controls = true

    @Option(help: "Bootstrap resamples of the intervals.")
    var resamples = 1000

    func validate() throws {
        guard ["test", "dev", "train"].contains(split) else { throw ValidationError("--split must be test, dev or train, got '\(split)'") }
        guard batchSize > 0, resamples > 0 else { throw ValidationError("--batch-size and --resamples must be positive") }
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

            /// One model's evaluations and its per-item correctness on the split.
            func evaluate(_ name: String) throws -> (evaluations: EvalMetrics.Evaluations, correct: [Bool]) {
                try context.timer.measure("evaluate") {
                    var out = EvalMetrics.Evaluations()
                    let logits = models.classifier.predictLogits(examples.texts, batchSize: batchSize)
                    let result = try ClassifierEvaluation(logits: logits, labels: examples.labels)
                    out[split] = result
                    if let (set, _) = oodSet {
                        out.ood = try ClassifierEvaluation(logits: models.classifier.predictLogits(set.texts, batchSize: batchSize),
                                                           labels: set.labels)
                    }
                    log("graft eval: \(name) \(split) accuracy \(result.accuracy) ECE \(String(format: "%.4f", result.expectedCalibrationError))", quiet: common.quiet)
                    let predictions = logits.argmax(axis: 1).elements.map(Int.init)
                    return (out, zip(predictions, examples.labels).map { $0 == $1 })
                }
            }
            models.usePretrained()
            let pre = try evaluate("pretrained")
            models.useFinetuned()
            let ft = try evaluate("finetuned")
            let ftAccuracy = ft.evaluations[split]?.accuracy ?? 0
            let seed = common.seed
            let gain = try PairedComparison(a: pre.correct, b: ft.correct, resamples: resamples, seed: seed)
            log("graft eval: fine-tuning gain \(String(format: "%+.3f", gain.gain)) (95% \(String(format: "%+.3f", gain.gainLower)) to \(String(format: "%+.3f", gain.gainUpper)), McNemar p = \(String(format: "%.3g", gain.mcnemarP)))", quiet: common.quiet)
            func control(_ mask: GraftMask, _ name: String) throws -> EvalMetrics.Control {
                models.use(mask)
                let (evaluations, correct) = try evaluate(name)
                return EvalMetrics.Control(evaluations: evaluations, selected: mask.selectedCount,
                                           gainKept: try GainKept(pretrained: pre.correct, finetuned: ft.correct, grafted: correct,
                                                                  resamples: resamples, seed: seed))
            }
            var grafts: [EvalMetrics.Graft] = []
            var controlRng = RandomGenerator(seed: seed &+ 0x5eed)
            for (index, (path, mask)) in loaded.enumerated() {
                models.use(mask)
                let (evaluations, correct) = try evaluate("graft \(path)")
                let accuracy = evaluations[split]?.accuracy ?? 0
                var eceReduction: Double?
                if let ftECE = ft.evaluations[split]?.expectedCalibrationError, let graftECE = evaluations[split]?.expectedCalibrationError, ftECE > 0 {
                    eceReduction = 1 - graftECE / ftECE  // the paper's "ECE error reduction"
                }
                var controlResults: EvalMetrics.Controls?
                if controls {
                    let attributes = try GraftMask.read(from: path).attributes
                    guard case .double(let requested)? = attributes["requested_sparsity"],
                          case .string(let ruleName)? = attributes["base_patch_rule"], let rule = BasePatchRule(rawValue: ruleName) else {
                        throw SkillLocalizationError.malformedFile(file: path, detail: "no requested_sparsity/base_patch_rule attributes (not written by graft localize); use --no-controls")
                    }
                    let base = GraftMask(names: models.space.names,
                                         values: try BasePatch.make(delta: models.space.delta, sparsity: requested, rule: rule))
                    let random = try GraftMask.random(count: mask.selectedCount, names: models.space.names, shapes: models.space.shapes,
                                                      rng: &controlRng)
                    controlResults = EvalMetrics.Controls(basePatch: try control(base, "base patch of mask \(index + 1)"),
                                                          random: try control(random, "random mask of \(mask.selectedCount) entries"))
                }
                grafts.append(EvalMetrics.Graft(evaluations: evaluations, mask: try fileInput(path), selected: mask.selectedCount,
                                                sparsity: mask.sparsity, sparsityPercent: 100 * mask.sparsity,
                                                graftFtAccuracyRatio: ftAccuracy > 0 ? accuracy / ftAccuracy : 0,
                                                eceReductionVsFt: eceReduction,
                                                gainKept: try GainKept(pretrained: pre.correct, finetuned: ft.correct, grafted: correct,
                                                                       resamples: resamples, seed: seed),
                                                controls: controlResults))
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
            try report.setMetrics(EvalMetrics(head: models.head.rawValue, pretrained: pre.evaluations, finetuned: ft.evaluations,
                                              finetuningGain: gain, grafts: grafts,
                                              graftableParameters: models.space.parameterCount,
                                              peakRssMb: ResourceUsage.peakResidentMiB))
            report.units = ["accuracy": "fraction", "ece": "fraction", "nll": "nats", "selected": "count",
                            "sparsity": "fraction", "sparsity_percent": "%", "graft_ft_accuracy_ratio": "ratio",
                            "ece_reduction_vs_ft": "fraction", "graftable_parameters": "count", "peak_rss_mb": "MB",
                            "gain": "accuracy (fraction)", "gain_kept": "fraction of FT − pre accuracy", "mcnemar_p": "p-value"]
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
        /// (acc_graft − acc_pre)/(acc_ft − acc_pre) with its bootstrap interval.
        var gainKept: GainKept
        /// The base patch alone and a random mask of the same size (absent with --no-controls).
        var controls: Controls?

        enum CodingKeys: CodingKey { case mask, selected, sparsity, sparsityPercent, graftFtAccuracyRatio, eceReductionVsFt, gainKept, controls }

        func encode(to encoder: Encoder) throws {
            try evaluations.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(mask, forKey: .mask)
            try c.encode(selected, forKey: .selected)
            try c.encode(sparsity, forKey: .sparsity)
            try c.encode(sparsityPercent, forKey: .sparsityPercent)
            try c.encode(graftFtAccuracyRatio, forKey: .graftFtAccuracyRatio)
            try c.encodeIfPresent(eceReductionVsFt, forKey: .eceReductionVsFt)
            try c.encode(gainKept, forKey: .gainKept)
            try c.encodeIfPresent(controls, forKey: .controls)
        }
    }
    /// A control mask's evaluations (inline), size and gain kept.
    struct Control: Encodable {
        var evaluations: Evaluations
        var selected: Int
        var gainKept: GainKept

        enum CodingKeys: CodingKey { case selected, gainKept }

        func encode(to encoder: Encoder) throws {
            try evaluations.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(selected, forKey: .selected)
            try c.encode(gainKept, forKey: .gainKept)
        }
    }
    /// A graft's two controls.
    struct Controls: Encodable {
        var basePatch: Control, random: Control
    }
    /// The shared head's kind.
    var head: String
    var pretrained: Evaluations, finetuned: Evaluations
    /// FT − pre accuracy on the split, McNemar's test and the paired bootstrap interval.
    var finetuningGain: PairedComparison
    var grafts: [Graft]
    var graftableParameters: Int
    var peakRssMb: Double
}
