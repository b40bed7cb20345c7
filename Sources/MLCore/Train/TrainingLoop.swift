import Foundation

/// Where a run's micro-batches come from. The generator passed to `TrainingLoop.run` is the only
/// source of randomness the data may use, so that a saved run resumes with the same batches.
public enum TrainingData<Batch> {
    /// The batches of each epoch, made when the epoch is first needed (e.g. a seeded shuffle:
    /// `BatchSampler`/`RandomGenerator.shuffledBatches`). Arguments: the 0-based epoch, the generator.
    case epochs((_ epoch: Int, _ rng: inout RandomGenerator) throws -> [Batch])
    /// One batch per micro-step, made on demand (e.g. synthetic batches). Arguments: the 0-based
    /// micro-batch index over the whole run, the generator.
    case stream((_ index: Int, _ rng: inout RandomGenerator) throws -> Batch)
}

/// Where in the run a loss is being computed.
public struct TrainingStep: Sendable, Equatable {
    /// The optimizer step being computed, 1-based (the first update is step 1).
    public let step: Int
    /// The 0-based epoch of the batch (0 for streamed data).
    public let epoch: Int
    /// The 0-based micro-batch within the step (under gradient accumulation).
    public let microBatch: Int
}

/// A micro-batch's loss (a scalar `Variable` to differentiate) and optional per-step metrics
/// (e.g. accuracy), which the loop averages over the step's micro-batches.
public struct StepLoss {
    public var loss: Variable
    public var metrics: [String: Double]

    public init(_ loss: Variable, metrics: [String: Double] = [:]) {
        self.loss = loss
        self.metrics = metrics
    }
}

/// One optimizer step as it happened.
public struct TrainingStepRecord: Sendable, Equatable, Codable {
    /// 1-based optimizer step.
    public var step: Int
    /// 0-based epoch of its batches.
    public var epoch: Int
    /// Mean loss of its micro-batches (before the 1/count scaling of accumulation).
    public var loss: Double
    /// The first group's learning rate used by the update.
    public var learningRate: Float
    /// The global gradient norm before clipping (nil without clipping).
    public var gradientNorm: Float?
    /// Wall seconds of forward, backward, clipping and update.
    public var seconds: Double
    /// Wall seconds spent making the step's batches.
    public var dataSeconds: Double
    /// The loss closure's metrics, averaged over the micro-batches.
    public var metrics: [String: Double]
}

/// One evaluation.
public struct TrainingEvaluationRecord: Sendable, Equatable, Codable {
    /// The optimizer step after which it ran (1-based).
    public var step: Int
    /// The 0-based epoch of that step.
    public var epoch: Int
    /// Mean training loss over the steps since the previous evaluation.
    public var trainLoss: Double
    /// The evaluation callback's score.
    public var score: Double
    /// Whether keep-best took this evaluation's parameters.
    public var isBest: Bool
}

/// What the loop reports while it runs (the library never prints; a tool renders these).
public enum TrainingEvent: Sendable {
    case step(TrainingStepRecord)
    case evaluation(TrainingEvaluationRecord)
    /// The state was saved to `path` after `step`.
    case saved(path: String, step: Int)
    /// Early stopping ended the run after `step`.
    case stoppedEarly(step: Int)
}

/// What a run did.
public struct TrainingResult: Sendable {
    /// Every optimizer step, in order (those before a resume included).
    public var steps: [TrainingStepRecord]
    /// Every evaluation, in order.
    public var evaluations: [TrainingEvaluationRecord]
    /// The evaluation whose parameters were kept (nil without keep-best or evaluations).
    public var best: TrainingEvaluationRecord?
    /// Whether early stopping ended the run.
    public var stoppedEarly: Bool

    /// Mean wall seconds of an optimizer step (forward + backward + update).
    public var secondsPerStep: Double {
        steps.isEmpty ? 0 : steps.reduce(0) { $0 + $1.seconds } / Double(steps.count)
    }
}

/// The one training loop of MLCore (in the manner of llm.c's `train_gpt2.c` and Hugging Face's
/// Trainer): every trainer is a `TrainingConfig`, an optimizer, a data source and a loss closure.
///
/// Each optimizer step: set the scheduled learning rates; zero the gradients; for each micro-batch,
/// compute the loss and back-propagate it divided by the step's micro-batch count; check the loss
/// is finite; clip; update. Then, when due, evaluate (keep-best, early stopping) and save the state.
/// When the run ends the gradients are dropped and, with keep-best, the best evaluation's
/// parameters are restored.
///
/// A saved state (`TrainingConfig.checkpointing`) holds the parameters, the optimizer's moments,
/// the counters, the history, keep-best's parameters, and the data and dropout generators, so that
/// `resume(from:)` followed by `run` gives bit for bit the parameters of the uninterrupted run.
public final class TrainingLoop {
    /// The settings.
    public let config: TrainingConfig
    /// The optimizer; its groups' parameters are the ones trained.
    public let optimizer: any Optimizer
    /// The parameters saved with the state and snapshotted by keep-best (trainable or not: a
    /// BatchNorm's running statistics change while training too).
    public let parameters: [Parameter]
    /// The context whose dropout generator is saved and restored with the state.
    public let context: ForwardContext?
    private var state = RunState()
    private var bestValues: [Tensor]?

    /// - Parameters:
    ///   - parameters: what to save and snapshot; nil: the optimizer's parameters.
    ///   - context: the forward context of the loss closure, if it draws dropout masks.
    /// - Throws: `TrainingError.invalidConfiguration` for invalid settings.
    public init(config: TrainingConfig, optimizer: any Optimizer, parameters: [Parameter]? = nil,
                context: ForwardContext? = nil) throws {
        try config.validate()
        self.config = config
        self.optimizer = optimizer
        self.parameters = parameters ?? optimizer.allParameters
        self.context = context
    }

    /// Optimizer steps completed so far (after `resume(from:)`, those of the saved run).
    public var stepsCompleted: Int { state.step }

    /// Trains until the configured length (or early stopping).
    /// - Parameters:
    ///   - data: the batches; `rng` is the generator they draw from (replaced by the saved one after
    ///     `resume(from:)`).
    ///   - loss: the loss of one micro-batch, computed with gradient recording on.
    ///   - evaluate: the score of the current parameters (required unless evaluation is `.never`).
    ///   - onEvent: called after each step, evaluation, save and early stop.
    /// - Throws: `TrainingError` (invalid combination of settings and data, non-finite loss, an
    ///   empty epoch), and whatever the closures or saving throw.
    public func run<Batch>(_ data: TrainingData<Batch>, rng: inout RandomGenerator,
                           loss: (Batch, TrainingStep) throws -> StepLoss,
                           evaluate: (() throws -> Double)? = nil,
                           onEvent: (TrainingEvent) -> Void = { _ in }) throws -> TrainingResult {
        try run(data, rng: &rng, prepare: { batch, _ in batch }, loss: loss, evaluate: evaluate, onEvent: onEvent)
    }

    /// `run` with a preparation stage: each micro-batch of `data` is turned into the loss's input by
    /// `prepare`, which may draw from the generator (e.g. augmentation or synthetic defects on a
    /// batch of image indices), timed as data time.
    public func run<Batch, Prepared>(_ data: TrainingData<Batch>, rng: inout RandomGenerator,
                                     prepare: (Batch, inout RandomGenerator) throws -> Prepared,
                                     loss: (Prepared, TrainingStep) throws -> StepLoss,
                                     evaluate: (() throws -> Double)? = nil,
                                     onEvent: (TrainingEvent) -> Void = { _ in }) throws -> TrainingResult {
        var isStream = false
        if case .stream = data { isStream = true }
        if isStream, case .epochs = config.length {
            throw TrainingError.invalidConfiguration("a length in epochs needs epoch data, not a stream")
        }
        if isStream, config.evaluation == .everyEpoch {
            throw TrainingError.invalidConfiguration("evaluation every epoch needs epoch data, not a stream")
        }
        if config.evaluation != .never, evaluate == nil {
            throw TrainingError.invalidConfiguration("evaluations are scheduled but no evaluation was given")
        }
        var epochBatches: [Batch] = []
        // A resumed run continues from the saved generators; the current epoch is made again from the
        // generator as it was when the epoch began.
        if case .epochs(let make) = data, let start = state.epochRNG {
            rng = RandomGenerator(state: start)
            epochBatches = try make(state.epoch, &rng)
        }
        if let saved = state.dataRNG { rng = RandomGenerator(state: saved) }
        if let saved = state.dropoutRNG { context?.rng = RandomGenerator(state: saved) }

        var stoppedEarly = false
        training: while true {
            if case .steps(let n) = config.length, state.step >= n { break }
            let stepIndex = state.step + 1
            let dataStarted = DispatchTime.now().uptimeNanoseconds
            var micro: [Prepared] = []
            switch data {
            case .epochs(let make):
                if epochBatches.isEmpty || state.position >= epochBatches.count {
                    if !epochBatches.isEmpty { state.epoch += 1; state.position = 0 }
                    if case .epochs(let n) = config.length, state.epoch >= n { break training }
                    state.epochRNG = rng.state
                    epochBatches = try make(state.epoch, &rng)
                    guard !epochBatches.isEmpty else { throw TrainingError.emptyEpoch(epoch: state.epoch) }
                }
                let take = Swift.min(config.gradientAccumulation, epochBatches.count - state.position)
                for batch in epochBatches[state.position..<(state.position + take)] { micro.append(try prepare(batch, &rng)) }
                state.position += take
            case .stream(let make):
                for _ in 0..<config.gradientAccumulation {
                    micro.append(try prepare(try make(state.microBatches, &rng), &rng))
                    state.microBatches += 1
                }
            }
            let started = DispatchTime.now().uptimeNanoseconds

            if let schedule = config.schedule { optimizer.setLearningRates(schedule, step: state.step) }
            optimizer.zeroGradients()
            var lossSum = 0.0
            var metricSums: [String: Double] = [:]
            for (i, batch) in micro.enumerated() {
                let output = try loss(batch, TrainingStep(step: stepIndex, epoch: state.epoch, microBatch: i))
                lossSum += Double(output.loss.value.item)
                for (k, v) in output.metrics { metricSums[k, default: 0] += v }
                (micro.count == 1 ? output.loss : output.loss * (1 / Float(micro.count))).backward()
            }
            let meanLoss = lossSum / Double(micro.count)
            guard meanLoss.isFinite else {
                optimizer.zeroGradients()
                throw TrainingError.nonFiniteLoss(step: stepIndex, loss: meanLoss)
            }
            let norm = config.clipNorm.map { clipGradientNorm(optimizer.allParameters, maxNorm: $0) }
            optimizer.step()
            state.step = stepIndex
            let finished = DispatchTime.now().uptimeNanoseconds
            let record = TrainingStepRecord(
                step: stepIndex, epoch: state.epoch, loss: meanLoss, learningRate: optimizer.groups.first?.learningRate ?? 0,
                gradientNorm: norm, seconds: Double(finished - started) / 1e9,
                dataSeconds: Double(started - dataStarted) / 1e9,
                metrics: metricSums.mapValues { $0 / Double(micro.count) })
            state.steps.append(record)
            state.lossSinceEvaluation += meanLoss
            state.stepsSinceEvaluation += 1
            onEvent(.step(record))

            let epochEnded = !isStream && state.position == epochBatches.count
            var isLast = false
            switch config.length {
            case .steps(let n): isLast = state.step == n
            case .epochs(let n): isLast = epochEnded && state.epoch == n - 1
            }
            var due = false
            switch config.evaluation {
            case .never: due = false
            case .everySteps(let k): due = state.step % k == 0 || isLast
            case .everyEpoch: due = epochEnded
            }
            if due, let evaluate {
                let score = try evaluate()
                let rule = config.keepBest
                let replaces = score.isFinite && (rule?.replaces(score, best: state.best?.score) ?? false)
                let improves = score.isFinite && (rule?.improves(score, best: state.best?.score) ?? false)
                let evaluation = TrainingEvaluationRecord(
                    step: state.step, epoch: state.epoch, trainLoss: state.lossSinceEvaluation / Double(state.stepsSinceEvaluation),
                    score: score, isBest: replaces)
                state.lossSinceEvaluation = 0
                state.stepsSinceEvaluation = 0
                if replaces {
                    state.best = evaluation
                    bestValues = parameters.map(\.value)
                }
                state.evaluationsWithoutImprovement = improves ? 0 : state.evaluationsWithoutImprovement + 1
                state.evaluations.append(evaluation)
                onEvent(.evaluation(evaluation))
                if let patience = config.earlyStoppingPatience, state.evaluationsWithoutImprovement >= patience {
                    stoppedEarly = true
                }
            }
            if let checkpointing = config.checkpointing,
               state.step % checkpointing.everySteps == 0 || isLast || stoppedEarly {
                state.dataRNG = rng.state
                state.dropoutRNG = context?.rng.state
                try save(to: checkpointing.path)
                onEvent(.saved(path: checkpointing.path, step: state.step))
            }
            if stoppedEarly {
                onEvent(.stoppedEarly(step: state.step))
                break
            }
        }
        optimizer.zeroGradients()
        if let bestValues, config.keepBest != nil {
            for (p, v) in zip(parameters, bestValues) { p.value = v }
        }
        return TrainingResult(steps: state.steps, evaluations: state.evaluations, best: state.best, stoppedEarly: stoppedEarly)
    }

    /// `run` for data that draws nothing random (e.g. full-batch training: `.stream { _, _ in () }`).
    public func run<Batch>(_ data: TrainingData<Batch>, loss: (Batch, TrainingStep) throws -> StepLoss,
                           evaluate: (() throws -> Double)? = nil,
                           onEvent: (TrainingEvent) -> Void = { _ in }) throws -> TrainingResult {
        var rng = RandomGenerator(seed: 0)
        return try run(data, rng: &rng, loss: loss, evaluate: evaluate, onEvent: onEvent)
    }

    // MARK: - Saving and resuming

    /// Everything besides tensors that a resumed run needs.
    struct RunState: Codable {
        var step = 0
        var epoch = 0
        var position = 0
        var microBatches = 0
        var epochRNG: RandomGenerator.State?
        var dataRNG: RandomGenerator.State?
        var dropoutRNG: RandomGenerator.State?
        var lossSinceEvaluation = 0.0
        var stepsSinceEvaluation = 0
        var evaluationsWithoutImprovement = 0
        var best: TrainingEvaluationRecord?
        var steps: [TrainingStepRecord] = []
        var evaluations: [TrainingEvaluationRecord] = []
        var optimizerSteps: [String: Int] = [:]
    }

    /// The `architecture` attribute of training-state files.
    public static let stateArchitecture = "mlcore-training-state"

    /// Writes the run's state as an MLCore checkpoint (Docs/CHECKPOINT_FORMAT.md) with architecture
    /// "mlcore-training-state": tensors `model.<name>` (every loop parameter),
    /// `optimizer.<name>.<buffer>` (moments) and `best.<name>` (keep-best's parameters), and the
    /// counters, history and generators as the `config` JSON.
    /// - Throws: `HDF5Error` when the file cannot be written.
    public func save(to path: String) throws {
        var tensors: [String: Tensor] = [:]
        for p in parameters { tensors["model.\(p.name)"] = p.value }
        var saved = state
        saved.optimizerSteps = [:]
        for (name, entry) in optimizer.stateDict() {
            saved.optimizerSteps[name] = entry.step
            for (buffer, t) in entry.buffers { tensors["optimizer.\(name).\(buffer)"] = t }
        }
        if let bestValues {
            for (p, v) in zip(parameters, bestValues) { tensors["best.\(p.name)"] = v }
        }
        let text = String(decoding: try JSONEncoder().encode(saved), as: UTF8.self)
        try CheckpointWriter.save(tensors, to: path, architecture: Self.stateArchitecture, config: try JSONValue.parse(text))
    }

    /// Loads a state written by `save(to:)` into the parameters and the optimizer; the next `run`
    /// continues after the saved step with the saved generators.
    /// - Throws: `TrainingError.badState` for a file of another architecture, a parameter missing,
    ///   unexpected or of another shape; `TrainingError.optimizerStateMismatch`; checkpoint and
    ///   HDF5 errors for unreadable files.
    public func resume(from path: String) throws {
        let checkpoint = try Checkpoint(path: path)
        guard checkpoint.architecture == Self.stateArchitecture else {
            throw TrainingError.badState(file: path, reason: "architecture '\(checkpoint.architecture)', expected \(Self.stateArchitecture)")
        }
        let saved: RunState
        do {
            saved = try JSONDecoder().decode(RunState.self, from: Data(try checkpoint.config.jsonText().utf8))
        } catch {
            throw TrainingError.badState(file: path, reason: "the run's counters cannot be read (\(error))")
        }
        let names = Set(parameters.map(\.name))
        let savedNames = Set(checkpoint.keys.filter { $0.hasPrefix("model.") }.map { String($0.dropFirst("model.".count)) })
        var problems = names.subtracting(savedNames).sorted().map { "missing \($0)" }
        problems += savedNames.subtracting(names).sorted().map { "unexpected \($0)" }
        for p in parameters where savedNames.contains(p.name) && checkpoint.shape(of: "model.\(p.name)") != p.value.shape {
            problems.append("\(p.name) has shape \(checkpoint.shape(of: "model.\(p.name)")!), expected \(p.value.shape)")
        }
        guard problems.isEmpty else { throw TrainingError.badState(file: path, reason: problems.joined(separator: "; ")) }

        var optimizerState: [String: OptimizerParameterState] = [:]
        for (name, step) in saved.optimizerSteps {
            let prefix = "optimizer.\(name)."
            var buffers: [String: Tensor] = [:]
            for key in checkpoint.keys where key.hasPrefix(prefix) {
                buffers[String(key.dropFirst(prefix.count))] = try checkpoint.tensor(key)
            }
            optimizerState[name] = OptimizerParameterState(step: step, buffers: buffers)
        }
        try optimizer.loadStateDict(optimizerState)
        for p in parameters { p.value = try checkpoint.tensor("model.\(p.name)").reshaped(p.value.shape) }
        bestValues = saved.best == nil ? nil : try parameters.map { try checkpoint.tensor("best.\($0.name)").reshaped($0.value.shape) }
        state = saved
    }
}
