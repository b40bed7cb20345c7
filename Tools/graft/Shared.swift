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

/// Fine-tuning's optimizer settings (`--steps`, `--learning-rate`, `--batch-size`, `--weight-decay`:
/// not on biases and LayerNorm; `--clip`: 1, as the reference, 0 for none; `--warmup`: 0 steps, then
/// constant). The defaults are the paper's few-shot SGD recipe with the reference's clipping.
enum FineTuneDefaults: OptimizerDefaults {
    static var learningRate: Double? { 1e-3 }
    static var weightDecay: Double? { 1e-4 }
    static var steps: Int? { 1000 }
    static var batchSize: Int? { 2 }
    static var clip: Double? { 1 }
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

extension HeadKind: ExpressibleByArgument {}
extension FineTuningOptimizer: ExpressibleByArgument {}

/// The training of a task (Docs/graft.md): the head (a fixed zero-shot verbaliser, a linear probe on
/// frozen features, or a linear head trained with the encoder), then the encoder layers.
struct TrainingOptions<Defaults: OptimizerDefaults>: ParsableArguments {
    @OptionGroup var optimizer: OptimizerOptions<Defaults>

    @Option(help: "Head shared by the pre-trained, fine-tuned and grafted models: verbaliser (fixed, zero-shot: scale · cosine to label-sentence embeddings), linear (trained jointly with the encoder) or probe (linear probe on frozen features, then fixed).")
    var head: HeadKind = .verbaliser

    @Option(help: "Scale of the verbaliser's cosine logits.")
    var verbaliserScale: Float = Verbaliser.defaultScale

    @Option(name: .customLong("optimizer"), help: "Fine-tuning optimizer: sgd (no momentum) or adamw.")
    var optimizerKind: FineTuningOptimizer = .sgd

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
        guard probeLearningRate > 0, probeLearningRate.isFinite else {
            throw ValidationError("--probe-learning-rate must be finite and > 0, got \(probeLearningRate)")
        }
        guard verbaliserScale > 0 else { throw ValidationError("--verbaliser-scale must be > 0") }
    }

    /// A classifier for `task` over `encoder` with this head: the verbaliser is installed now, from
    /// the encoder's current (pre-trained) features of the label sentences; a linear or probe head
    /// starts at N(0, 0.02).
    func makeClassifier(encoder: BertEncoder, tokenizer: WordPieceTokenizer, task: SkillTask, maxLength: Int,
                        seed: UInt64) -> SentenceClassifier {
        let model = BertClassifier(encoder: encoder, labels: task.classNames.count, input: .mean, factory: ParameterFactory(seed: seed))
        let classifier = SentenceClassifier(model: model, tokenizer: tokenizer, maxLength: maxLength,
                                            normalizesFeatures: head.normalizesFeatures)
        if head == .verbaliser {
            Verbaliser.install(on: model.classifier, embeddings: classifier.features(Verbaliser.sentences(for: task)),
                               scale: verbaliserScale)
        }
        return classifier
    }

    /// The head's entries of the fine-tuned checkpoint's config: `classification_head` and, for the
    /// verbaliser, `verbaliser` {scale, sentences}.
    func headConfig(_ task: SkillTask) -> [String: JSONValue] {
        var config: [String: JSONValue] = ["classification_head": .string(head.rawValue)]
        if head == .verbaliser {
            config["verbaliser"] = ["scale": .double(Double(verbaliserScale)), "sentences": JSONValue(Verbaliser.sentences(for: task))]
        }
        return config
    }

    /// Report config entries that are not options (the options are reflected by ToolRunner).
    var derivedConfig: [String: JSONValue] {
        ["optimizer_description": .string(optimizerKind == .sgd ? "SGD (no momentum)" : "AdamW (0.9, 0.999, 1e-8)"),
         "trained_parameters": .string(head.trainedWithEncoder ? "encoder.layer.* and classifier.* (embeddings fixed)"
                                                               : "encoder.layer.* (head and embeddings fixed)"),
         "keep_best": "latest best dev accuracy (>=)"]
    }

    /// Fits the head when it is a probe, then fine-tunes the encoder layers (and a linear head);
    /// logs and shows progress. `probe*` are the head's train loss and the model's train and dev
    /// accuracy before fine-tuning (the loss is nil for heads that are not probed).
    func train(_ classifier: SentenceClassifier, train: LabelledTexts, dev: LabelledTexts, rng: inout RandomGenerator,
               timer: inout PhaseTimer, label: String, quiet: Bool)
        throws -> (probeLoss: Double?, probeTrain: Double, probeDev: Double, result: FineTuningResult) {
        var probeLoss: Double?
        if head == .probe {
            probeLoss = try timer.measure("probe") {
                try LinearProbe.train(head: classifier.model.classifier, features: classifier.features(train.texts), labels: train.labels,
                                      config: LinearProbeConfig(steps: probeSteps, learningRate: probeLearningRate, inverseRegularization: probeC))
            }
        }
        let probeTrain = classifier.accuracy(train.evaluationSample()), probeDev = classifier.accuracy(dev)
        log("\(label): \(head.rawValue) head before fine-tuning: train accuracy \(probeTrain), dev \(probeDev)", quiet: quiet)
        let progress = TrainingProgress(label, steps: steps, logEvery: evalEvery, quiet: quiet, scoreName: "dev accuracy")
        let config = FineTuningConfig(steps: steps, learningRate: learningRate, batchSize: batchSize,
                                      weightDecay: weightDecay, evalEvery: evalEvery, dropout: dropout, clipNorm: clip,
                                      warmupSteps: optimizer.warmup, optimizer: optimizerKind, trainHead: head.trainedWithEncoder)
        let result = try timer.measure("finetune") {
            try FineTuner.run(classifier, train: train, dev: dev, config: config, rng: &rng, onEvent: progress.handle)
        }
        progress.finish()
        return (probeLoss, probeTrain, probeDev, result)
    }
}
