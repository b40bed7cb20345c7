import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import SkillLocalization

/// The reproduced paper, for reports.
let paperCitation = "Panigrahi, Saunshi, Zhao, Arora. Task-Specific Skill Localization in Fine-tuned Language Models. ICML 2023"

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
}

/// graft's default pre-trained model.
enum MiniLMWeights: WeightsDefault {
    static var weights: String? { "minilm-l6" }
}

/// `--weights` (pre-trained) and `--finetuned` checkpoints.
struct PairOptions: ParsableArguments {
    @OptionGroup var base: ModelWeightsOption<MiniLMWeights>
    var pretrained: String { base.weights }

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

/// Fine-tuning's SGD settings (`--steps`, `--learning-rate`, `--batch-size`, `--weight-decay`: not on
/// biases and LayerNorm; `--clip`: 0, none, the reference clips at 1; `--warmup`: 0 steps, then constant).
enum FineTuneDefaults: OptimizerDefaults {
    static var learningRate: Double? { 1e-3 }
    static var weightDecay: Double? { 1e-4 }
    static var steps: Int? { 1000 }
    static var batchSize: Int? { 2 }
    static var clip: Double? { 0 }
    static var warmup: Int? { 0 }
}

/// `graft continual`: fine-tuning's settings plus `--epochs`, the mask-training epochs per task.
enum ContinualDefaults: OptimizerDefaults {
    static var learningRate: Double? { FineTuneDefaults.learningRate }
    static var weightDecay: Double? { FineTuneDefaults.weightDecay }
    static var steps: Int? { FineTuneDefaults.steps }
    static var batchSize: Int? { FineTuneDefaults.batchSize }
    static var clip: Double? { FineTuneDefaults.clip }
    static var warmup: Int? { FineTuneDefaults.warmup }
    static var epochs: Int? { 10 }
}

/// The two-stage training of a task (Docs/graft.md): linear probe of the head on
/// frozen features, then SGD on the encoder layers with the head fixed.
struct TrainingOptions<Defaults: OptimizerDefaults>: ParsableArguments {
    @OptionGroup var optimizer: OptimizerOptions<Defaults>

    var steps: Int { optimizer.steps }
    var learningRate: Float { Float(optimizer.learningRate) }
    var batchSize: Int { optimizer.batchSize }
    var weightDecay: Float { Float(optimizer.weightDecay) }
    var clip: Float? { optimizer.clip > 0 ? Float(optimizer.clip) : nil }

    @Option(help: "Dev evaluation every this many steps (the best is kept).")
    var evalEvery = 100

    @Option(help: "Full-batch Adam steps of the linear probe.")
    var probeSteps = 300

    @Option(help: "Linear-probe learning rate.")
    var probeLearningRate: Float = 1e-2

    @Option(help: "Linear-probe C, the inverse L2 strength (scikit-learn's LogisticRegression objective).")
    var probeC: Float = 1

    @Flag(inversion: .prefixedNo, help: "Dropout while fine-tuning.")
    var dropout = true

    func validate() throws {
        guard evalEvery > 0, probeSteps >= 0 else { throw ValidationError("--eval-every must be positive, --probe-steps ≥ 0") }
        guard probeC > 0 else { throw ValidationError("--probe-c must be > 0") }
    }

    /// Report config entries that are not options (the options are reflected by ToolRunner).
    var derivedConfig: [String: JSONValue] {
        ["optimizer": "SGD (no momentum)", "trained_parameters": "encoder.layer.* (head and embeddings fixed)",
         "keep_best": "latest best dev accuracy (>=)"]
    }

    /// Probes the head on `train`, then fine-tunes the encoder layers; logs and shows progress.
    func train(_ classifier: SentenceClassifier, train: LabelledTexts, dev: LabelledTexts, rng: inout RandomGenerator,
               timer: inout PhaseTimer, label: String, quiet: Bool) throws
        -> (probeLoss: Double, probeTrain: Double, probeDev: Double, result: FineTuningResult) {
        let probeLoss = try timer.measure("probe") {
            try LinearProbe.train(head: classifier.model.classifier, features: classifier.features(train.texts), labels: train.labels,
                              config: LinearProbeConfig(steps: probeSteps, learningRate: probeLearningRate, inverseRegularization: probeC))
        }
        let probeTrain = classifier.accuracy(train), probeDev = classifier.accuracy(dev)
        log("\(label): linear probe train accuracy \(probeTrain), dev \(probeDev)", quiet: quiet)
        let progress = TrainingProgress(label, steps: steps, logEvery: evalEvery, quiet: quiet, scoreName: "dev accuracy")
        let config = FineTuningConfig(steps: steps, learningRate: learningRate, batchSize: batchSize,
                                      weightDecay: weightDecay, evalEvery: evalEvery, dropout: dropout, clipNorm: clip,
                                      warmupSteps: optimizer.warmup)
        let result = try timer.measure("finetune") {
            try FineTuner.run(classifier, train: train, dev: dev, config: config, rng: &rng, onEvent: progress.handle)
        }
        progress.finish()
        return (probeLoss, probeTrain, probeDev, result)
    }
}
