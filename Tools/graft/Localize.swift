import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import SkillLocalization

/// `graft localize`: learns the grafting mask of a fine-tuned checkpoint, as the reference does.
struct Localize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Learn the grafting mask: which tiny set of transformer-layer parameters carries the fine-tuned skill.",
        discussion: """
            Example:
              graft localize --finetuned ft.h5 --sparsity 1e-4 --save-mask mask.h5
            As the reference (graft_trainer.py): base patch γ_base from the s = int(sparsity·N) largest \
            |θ_ft − θ_pre| (--rule strict keeps |Δ| > τ, the s-th largest, as the reference; top-s keeps \
            exactly s); γ(S) = γ_base + (1 − 2γ_base)·σ(S − b), S ~ U[0,1), b = 10; per epoch the model is \
            set to θ_pre + γ(S)·Δ, ∂CE/∂θ is accumulated over up to 128 batches of 8 training examples, \
            and S ← S − η·(1 − 2γ_base)·mean(g·Δ)·σ'(S − b); the rounded mask is kept when \
            train + dev accuracy is strictly better. η: --eta-rule scaled (default) sets it on the first \
            epoch so that the entry with the largest |∂L/∂S| moves by --eta-target (default b) — Δ here is \
            far smaller than RoBERTa's; --eta-rule fixed uses --learning-rate (the reference's 1e7). The \
            task and training split are the fine-tuned checkpoint's (graft finetune records them). \
            Power check: fine-tuning must beat the pre-trained model on dev by --min-gain (0.05); \
            otherwise localization is refused (exit 65) unless --force.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var pair: PairOptions
    @OptionGroup var data: DataOptions

    @Option(help: "Fraction of the graftable parameters in the base patch (s = int(sparsity·N)).")
    var sparsity = 1e-4

    @Option(help: "Base patch rule: strict (reference: |Δ| > τ) or top-s (exactly s).")
    var rule: BasePatchRule = .strict

    @Option(help: "Mask-training epochs.")
    var epochs = 10

    @Option(help: "How η is chosen: scaled (to this model's Δ and gradients, on the first epoch) or fixed (--learning-rate).")
    var etaRule: EtaRule = .scaled

    @Option(help: "Scaled rule: the first epoch's largest score change (default: the sigmoid bias b).")
    var etaTarget: Float?

    @Option(help: "η, the step size of the mask scores, for --eta-rule fixed (the reference's 1e7).")
    var learningRate: Float = 1e7

    @Option(help: "Power check: the dev accuracy gain of fine-tuning over the pre-trained model needed to localize.")
    var minGain = PowerCheck.defaultMinimumGain

    @Flag(help: "Localize even when the power check fails (the report records the failure).")
    var force = false

    @Option(help: "Examples per gradient batch.")
    var batchSize = 8

    @Option(help: "Batches per epoch at most.")
    var maxBatches = 128

    @Option(help: "b in σ(S − b).")
    var sigmoidBias: Float = 10

    @Option(help: ArgumentHelp("Where to write the mask (HDF5).", valueName: "file"))
    var saveMask: String

    func validate() throws {
        guard sparsity >= 0, sparsity <= 1 else { throw ValidationError("--sparsity must be in [0, 1], got \(sparsity)") }
        guard epochs >= 0, batchSize > 0, maxBatches > 0 else { throw ValidationError("--epochs ≥ 0, --batch-size and --max-batches > 0") }
        if let etaTarget, !(etaTarget > 0) { throw ValidationError("--eta-target must be > 0, got \(etaTarget)") }
        guard minGain >= 0, minGain <= 1 else { throw ValidationError("--min-gain must be in [0, 1], got \(minGain)") }
    }

    func run() throws {
        try ToolRunner.run(tool: "graft", command: "localize", options: common, reflecting: self) { context in
            let models = try context.timer.measure("load") { try pair.load(maxLength: data.maxLength) }
            let provenance = models.provenance
            let (splits, datasetPath) = try context.timer.measure("data") { try data.splits(provenance.task) }
            let train = try splits.train(k: provenance.k, seed: provenance.dataSeed)
            let classifier = models.classifier
            let n = models.space.parameterCount

            models.freezeAllButGraftable()
            models.usePretrained()
            let preDev = classifier.accuracy(splits.dev)
            models.useFinetuned()
            let ftDev = classifier.accuracy(splits.dev)
            let power = PowerCheck(pretrainedDevAccuracy: preDev, finetunedDevAccuracy: ftDev, minimumGain: minGain)
            log("graft localize: power check \(power.passed ? "passed" : "FAILED"): dev accuracy pre-trained \(preDev), fine-tuned \(ftDev)\(power.passed || !force ? "" : " (forced)")", quiet: common.quiet)
            try power.enforce(force: force)
            let stepRule: MaskStepRule = etaRule == .fixed ? .fixed : .scaled(target: etaTarget ?? sigmoidBias)
            let config = MaskTrainingConfig(epochs: epochs, learningRate: learningRate, batchSize: batchSize,
                                            maxBatches: maxBatches, sigmoidBias: sigmoidBias, stepRule: stepRule)
            var rng = context.random
            var epochSeconds: [Double] = []
            var started = Date()
            let (result, baseMask) = try context.timer.measure("train_mask") {
                try MaskTrainer.localize(classifier, space: models.space, parameters: models.graftParameters, train: train,
                                         dev: splits.dev, sparsity: sparsity, rule: rule, config: config, rng: &rng) { epoch in
                    epochSeconds.append(Date().timeIntervalSince(started))
                    started = Date()
                    log("graft localize: epoch \(epoch.epoch) loss \(String(format: "%.4f", epoch.loss)) train \(epoch.trainAccuracy) dev \(epoch.devAccuracy) selected \(epoch.selected) flipped \(epoch.flipped) max |ΔS| \(String(format: "%.3g", epoch.maxScoreChange))\(epoch.kept ? " (kept)" : "")", quiet: common.quiet)
                }
            }
            let baseCount = baseMask.selectedCount
            let diagnostics = try BasePatchDiagnostics(space: models.space, patch: baseMask)
            models.use(baseMask)
            let baseTrain = classifier.accuracy(train.evaluationSample()), baseDev = classifier.accuracy(splits.dev)
            log("graft localize: \(provenance.task.rawValue), N = \(n) graftable, base patch \(baseCount) (\(rule.rawValue)): train \(baseTrain), dev \(baseDev)", quiet: common.quiet)
            let mask = result.mask
            models.use(mask)
            let graftTrain = classifier.accuracy(train.evaluationSample()), graftDev = classifier.accuracy(splits.dev)

            let pretrainedInput = try fileInput(models.pretrainedPath), finetunedInput = try fileInput(models.finetunedPath)
            try context.timer.measure("save") {
                try mask.write(to: saveMask, attributes: [
                    "task": .string(provenance.task.rawValue), "k": .int(provenance.k ?? 0), "data_seed": .int(Int(provenance.dataSeed)),
                    "requested_sparsity": .double(sparsity), "base_patch_rule": .string(rule.rawValue),
                    "base_patch_selected": .int(baseCount), "sigmoid_bias": .double(Double(sigmoidBias)),
                    "epochs": .int(epochs), "learning_rate": .double(Double(result.learningRate)), "eta_rule": .string(etaRule.rawValue),
                    "best_epoch": .int(result.bestEpoch ?? 0), "classification_head": .string(models.head.rawValue),
                    "pretrained": .string(try pretrainedInput.jsonText()), "finetuned": .string(try finetunedInput.jsonText()),
                    "tool": .string("graft localize \(MLCoreVersion.string)"),
                ])
            }

            var report = Report(tool: "graft", command: "localize")
            report.paper = paperCitation
            report.inputs = ["pretrained": pretrainedInput, "finetuned": finetunedInput, "dataset": try fileInput(datasetPath),
                             "task": .string(provenance.task.rawValue), "head": .string(models.head.rawValue),
                             "split_sizes": ["train": .int(train.count), "dev": .int(splits.dev.count)]]
            // Every option is added by ToolRunner (reflecting); these are derived values and old spellings.
            report.config = ["pretrained": .string(pair.pretrained), "k": provenance.k.map(JSONValue.int) ?? "full",
                             "data_seed": .int(Int(provenance.dataSeed))]
            try report.setMetrics(LocalizeMetrics(
                graftableParameters: n, basePatchSelected: baseCount, basePatchTrainAccuracy: baseTrain, basePatchDevAccuracy: baseDev,
                selected: mask.selectedCount, sparsity: mask.sparsity, sparsityPercent: 100 * mask.sparsity,
                bestEpoch: result.bestEpoch ?? 0, trainAccuracy: graftTrain, devAccuracy: graftDev,
                head: models.head.rawValue, powerCheck: power, learningRateUsed: Double(result.learningRate),
                flippedPerEpoch: result.history.map(\.flipped), basePatchDiagnostics: diagnostics,
                nonGraftableMaxAbsDelta: Double(models.nonGraftableMaxChange),
                secondsPerEpoch: epochSeconds.isEmpty ? 0 : epochSeconds.reduce(0, +) / Double(epochSeconds.count),
                peakRssMb: ResourceUsage.peakResidentMiB,
                perLayerSelected: Dictionary(uniqueKeysWithValues: mask.perLayer().map { ("\($0.layer)", $0.selected) }),
                history: result.history))
            report.units = ["graftable_parameters": "count", "base_patch_selected": "count", "selected": "count",
                            "sparsity": "fraction", "sparsity_percent": "%", "base_patch_train_accuracy": "fraction",
                            "base_patch_dev_accuracy": "fraction", "train_accuracy": "fraction", "dev_accuracy": "fraction",
                            "best_epoch": "epoch", "non_graftable_max_abs_delta": "weight units",
                            "learning_rate_used": "η (score units per unit of ∂L/∂S)", "flipped_per_epoch": "entries",
                            "seconds_per_epoch": "s", "peak_rss_mb": "MB"]
            return report
        }
    }
}

/// `graft localize`'s metrics (snake_case keys in the report; units in `report.units`).
struct LocalizeMetrics: Encodable {
    var graftableParameters: Int, basePatchSelected: Int
    var basePatchTrainAccuracy: Double, basePatchDevAccuracy: Double
    var selected: Int, sparsity: Double, sparsityPercent: Double
    var bestEpoch: Int, trainAccuracy: Double, devAccuracy: Double
    /// The shared head's kind.
    var head: String
    var powerCheck: PowerCheck
    /// η as used (chosen on the first epoch by the scaled rule).
    var learningRateUsed: Double
    /// Entries whose rounded mask changed, per epoch.
    var flippedPerEpoch: [Int]
    var basePatchDiagnostics: BasePatchDiagnostics
    var nonGraftableMaxAbsDelta: Double
    var secondsPerEpoch: Double
    var peakRssMb: Double
    /// Selected entries per transformer layer (key K of `encoder.layer.K`).
    var perLayerSelected: [String: Int]
    var history: [MaskEpoch]
}

extension BasePatchRule: ExpressibleByArgument {}

/// `--eta-rule`: how η is chosen (`MaskStepRule`).
enum EtaRule: String, ExpressibleByArgument, CaseIterable {
    case scaled, fixed
}
