import MLCore

/// The optimizer of encoder fine-tuning.
public enum FineTuningOptimizer: String, CaseIterable, Sendable {
    /// SGD without momentum, L2 weight decay (the paper's few-shot recipe).
    case sgd
    /// AdamW (β 0.9/0.999, ε 1e-8, decoupled weight decay; torch.optim.AdamW, the Hugging Face
    /// Trainer's default).
    case adamw
}

/// Settings of encoder fine-tuning (the paper's few-shot recipe: SGD lr 1e-3 without momentum,
/// batch 2, weight decay 1e-4, 1000 steps, evaluation every 100 steps; Docs/graft.md).
public struct FineTuningConfig: Sendable, Equatable {
    /// SGD steps.
    public var steps = 1000
    /// SGD learning rate (no momentum).
    public var learningRate: Float = 1e-3
    /// Examples per step.
    public var batchSize = 2
    /// L2 weight decay of SGD (torch's `weight_decay`), not applied to biases and LayerNorm weights
    /// (HF Trainer's grouping, `ParameterGroup.decayAndNoDecay`).
    public var weightDecay: Float = 1e-4
    /// Dev evaluation every this many steps (and at the last step); the best dev accuracy's
    /// parameters are kept, the later of equal ones (the reference trainer's `objective >= best`:
    /// "later checkpoints rule").
    public var evalEvery = 100
    /// Clip the gradients' global L2 norm to this before each update (the reference clips at 1.0);
    /// nil: no clipping.
    public var clipNorm: Float?
    /// Steps of linear learning-rate warm-up from 0 (then constant; 0: none).
    public var warmupSteps: Int
    /// Dropout during fine-tuning (the encoder's configured rates).
    public var dropout = true
    /// The optimizer (SGD by default).
    public var optimizer: FineTuningOptimizer = .sgd
    /// Whether the classification head is trained together with the encoder layers
    /// (`HeadKind.linear`); false: the head stays fixed (verbaliser, probe).
    public var trainHead = false

    /// The paper's few-shot recipe by default.
    public init(steps: Int = 1000, learningRate: Float = 1e-3, batchSize: Int = 2, weightDecay: Float = 1e-4,
                evalEvery: Int = 100, dropout: Bool = true, clipNorm: Float? = nil, warmupSteps: Int = 0,
                optimizer: FineTuningOptimizer = .sgd, trainHead: Bool = false) {
        self.optimizer = optimizer; self.trainHead = trainHead
        self.steps = steps; self.learningRate = learningRate; self.batchSize = batchSize
        self.weightDecay = weightDecay; self.evalEvery = evalEvery; self.dropout = dropout; self.clipNorm = clipNorm
        self.warmupSteps = warmupSteps
    }
}

/// One dev evaluation during fine-tuning. Encodable for reports: its properties are the keys
/// (snake_case in `graft finetune`'s `metrics.history`, Docs/REPORT_FORMAT.md).
public struct FineTuningCheckpoint: Sendable, Equatable, Encodable {
    /// 1-based step after which the evaluation ran.
    public var step: Int
    /// Mean training loss since the previous evaluation (nats).
    public var trainLoss: Double
    /// Accuracy on the dev split (inference mode).
    public var devAccuracy: Double
    /// Mean global gradient L2 norm (before clipping) over the steps since the previous evaluation;
    /// nil when gradients are not clipped (the norm is computed by the clipping).
    public var gradientNorm: Double?

    /// A checkpoint record from its parts.
    public init(step: Int, trainLoss: Double, devAccuracy: Double, gradientNorm: Double? = nil) {
        self.step = step; self.trainLoss = trainLoss; self.devAccuracy = devAccuracy; self.gradientNorm = gradientNorm
    }
}

/// What fine-tuning returns.
public struct FineTuningResult: Sendable {
    /// The evaluation whose parameters were kept.
    public var best: FineTuningCheckpoint?
    /// Every dev evaluation, in order.
    public var history: [FineTuningCheckpoint]
    /// Mean wall seconds of one optimisation step (forward + backward + update).
    public var secondsPerStep: Double
}

/// Fine-tunes the encoder layers of a sentence classifier: only the graftable parameters
/// (`encoder.layer.*`) and, with `trainHead`, the head are trained, so θ_ft − θ_pre is zero outside
/// the graftable set and the head (which all three models share) and a full graft reproduces the
/// fine-tuned model exactly (Docs/graft.md, "Adaptation to this project").
public enum FineTuner {
    /// Runs the optimizer over shuffled epochs of `train` on MLCore's `TrainingLoop`; the parameters end at the
    /// best dev evaluation (on ties the later one, as the reference trainer).
    /// - Parameter onEvent: the loop's events (steps, dev evaluations) for progress and logging.
    /// - Precondition: non-empty train and dev splits, positive steps and batch size.
    /// - Throws: `TrainingError.nonFiniteLoss` when a step's loss is NaN or infinite.
    public static func run(_ classifier: SentenceClassifier, train: LabelledTexts, dev: LabelledTexts,
                           config: FineTuningConfig, rng: inout RandomGenerator,
                           onEvent: (TrainingEvent) -> Void = { _ in }) throws -> FineTuningResult {
        require(!train.isEmpty && !dev.isEmpty && config.steps > 0 && config.batchSize > 0 && config.evalEvery > 0,
                "FineTuner: empty split or non-positive steps/batch size/evaluation interval")
        let model = classifier.model
        let head = Set(model.classifier.parameters.map(\.name))
        for p in model.parameters { p.isTrainable = GraftSpace.isGraftable(p.name) || (config.trainHead && head.contains(p.name)) }
        let trainable = model.parameters.filter(\.isTrainable)
        let groups = ParameterGroup.decayAndNoDecay(trainable, learningRate: config.learningRate, weightDecay: config.weightDecay)
        let optimizer: Optimizer = config.optimizer == .sgd ? SGD(groups) : AdamW(groups)
        let context = ForwardContext(training: config.dropout, seed: rng.next())
        let loop = try TrainingLoop(
            config: TrainingConfig(length: .steps(config.steps), clipNorm: config.clipNorm,
                                   schedule: config.warmupSteps > 0 ? .constantWithWarmup(warmupSteps: config.warmupSteps) : nil,
                                   evaluation: .everySteps(config.evalEvery), keepBest: .init(.maximize, ties: .keepLater)),
            optimizer: optimizer, parameters: trainable, context: context)
        let batchSize = config.batchSize
        var norms: [Float] = [], meanNorms: [Int: Double] = [:]
        let result = try loop.run(
            .epochs { _, rng in rng.shuffledBatches(count: train.count, batchSize: batchSize) }, rng: &rng,
            loss: { batch, _ in StepLoss(classifier.loss(train, indices: batch, context: context)) },
            evaluate: { classifier.accuracy(dev) },
            onEvent: { event in
                switch event {
                case .step(let record): if let n = record.gradientNorm { norms.append(n) }
                case .evaluation(let record):
                    if !norms.isEmpty { meanNorms[record.step] = Double(norms.reduce(0, +)) / Double(norms.count) }
                    norms.removeAll()
                default: break
                }
                onEvent(event)
            })
        func checkpoint(_ e: TrainingEvaluationRecord) -> FineTuningCheckpoint {
            FineTuningCheckpoint(step: e.step, trainLoss: e.trainLoss, devAccuracy: e.score, gradientNorm: meanNorms[e.step])
        }
        return FineTuningResult(best: result.best.map(checkpoint), history: result.evaluations.map(checkpoint),
                                secondsPerStep: result.secondsPerStep)
    }
}
