import Foundation

/// How a training run proceeds: its length, gradient accumulation and clipping, the learning-rate
/// schedule, evaluation, keep-best selection, early stopping and checkpoints (`TrainingLoop`).
///
/// The defaults follow PyTorch/Hugging Face practice: one micro-batch per optimizer step, no clipping,
/// the optimizer's own learning rates, no evaluation.
public struct TrainingConfig: Sendable, Equatable {
    /// How long to train.
    public enum Length: Sendable, Equatable {
        /// A fixed number of optimizer steps (batches continue across epochs).
        case steps(Int)
        /// A fixed number of passes over the data (`TrainingData.epochs` only).
        case epochs(Int)
    }

    /// When the evaluation callback runs.
    public enum Evaluation: Sendable, Equatable {
        /// Never.
        case never
        /// After every n-th optimizer step and after the last one (Hugging Face's
        /// `evaluation_strategy="steps"`).
        case everySteps(Int)
        /// After the last step of every epoch (`TrainingData.epochs` only).
        case everyEpoch
    }

    /// Whether a larger or a smaller evaluation score is better.
    public enum Goal: String, Sendable, Equatable, Codable {
        case maximize, minimize
    }

    /// Which of two evaluations with the same score is kept.
    public enum Ties: String, Sendable, Equatable, Codable {
        /// The later one (`score >= best`), as the LM-BFF/grafting reference trainers do.
        case keepLater
        /// The earlier one (`score > best`).
        case keepEarlier
    }

    /// Keep the parameters of the best evaluation and restore them when the run ends.
    public struct KeepBest: Sendable, Equatable {
        public var goal: Goal
        public var ties: Ties

        public init(_ goal: Goal, ties: Ties = .keepLater) {
            self.goal = goal
            self.ties = ties
        }

        /// Whether `score` replaces `best` under this rule (any finite score replaces none).
        public func replaces(_ score: Double, best: Double?) -> Bool {
            guard let best else { return true }
            switch (goal, ties) {
            case (.maximize, .keepLater): return score >= best
            case (.maximize, .keepEarlier): return score > best
            case (.minimize, .keepLater): return score <= best
            case (.minimize, .keepEarlier): return score < best
            }
        }

        /// Whether `score` is strictly better than `best` (what resets early stopping's patience).
        public func improves(_ score: Double, best: Double?) -> Bool {
            guard let best else { return true }
            return goal == .maximize ? score > best : score < best
        }
    }

    /// Where and how often the run's state is saved for `TrainingLoop.resume(from:)`.
    public struct Checkpointing: Sendable, Equatable {
        /// The training-state file (HDF5; replaced atomically at each save).
        public var path: String
        /// Save after every this many optimizer steps; the last step is always saved.
        public var everySteps: Int

        public init(path: String, everySteps: Int) {
            self.path = path
            self.everySteps = everySteps
        }
    }

    /// The run's length.
    public var length: Length
    /// Micro-batches whose gradients are summed (each loss divided by the step's micro-batch count)
    /// before one optimizer step; the last step of an epoch takes what is left of it.
    public var gradientAccumulation: Int
    /// Clip the gradients' global L2 norm to this value before each update
    /// (torch.nn.utils.clip_grad_norm_); nil: no clipping.
    public var clipNorm: Float?
    /// Each group's learning rate before optimizer step s (0-based) is `schedule(base, s)`; nil:
    /// the groups' rates are left as they are.
    public var schedule: LearningRateSchedule?
    /// When to evaluate.
    public var evaluation: Evaluation
    /// Keep-best selection over the evaluations; nil: the parameters end as the last step left them.
    public var keepBest: KeepBest?
    /// Stop after this many evaluations in a row without a strict improvement (needs `keepBest`,
    /// which defines "better"); nil: never stop early.
    public var earlyStoppingPatience: Int?
    /// Save the run's state for resuming; nil: never.
    public var checkpointing: Checkpointing?

    public init(length: Length, gradientAccumulation: Int = 1, clipNorm: Float? = nil,
                schedule: LearningRateSchedule? = nil, evaluation: Evaluation = .never, keepBest: KeepBest? = nil,
                earlyStoppingPatience: Int? = nil, checkpointing: Checkpointing? = nil) {
        self.length = length
        self.gradientAccumulation = gradientAccumulation
        self.clipNorm = clipNorm
        self.schedule = schedule
        self.evaluation = evaluation
        self.keepBest = keepBest
        self.earlyStoppingPatience = earlyStoppingPatience
        self.checkpointing = checkpointing
    }

    /// - Throws: `TrainingError.invalidConfiguration` for a non-positive length, accumulation,
    ///   evaluation interval, patience or checkpoint interval, a non-positive or non-finite clip norm,
    ///   or early stopping without keep-best.
    public func validate() throws {
        func check(_ ok: Bool, _ message: String) throws {
            if !ok { throw TrainingError.invalidConfiguration(message) }
        }
        switch length {
        case .steps(let n): try check(n >= 1, "the number of steps must be at least 1, got \(n)")
        case .epochs(let n): try check(n >= 1, "the number of epochs must be at least 1, got \(n)")
        }
        try check(gradientAccumulation >= 1, "gradient accumulation must be at least 1, got \(gradientAccumulation)")
        if let clipNorm { try check(clipNorm > 0 && clipNorm.isFinite, "the clipping norm must be positive, got \(clipNorm)") }
        if case .everySteps(let n) = evaluation { try check(n >= 1, "the evaluation interval must be at least 1 step, got \(n)") }
        if let earlyStoppingPatience {
            try check(earlyStoppingPatience >= 1, "early-stopping patience must be at least 1, got \(earlyStoppingPatience)")
            try check(keepBest != nil, "early stopping needs a keep-best goal (which scores are better)")
            try check(evaluation != .never, "early stopping needs evaluations")
        }
        if let checkpointing {
            try check(checkpointing.everySteps >= 1, "the checkpoint interval must be at least 1 step, got \(checkpointing.everySteps)")
            try check(!checkpointing.path.isEmpty, "the checkpoint path is empty")
        }
    }
}

/// Errors of training runs.
public enum TrainingError: CategorizedError, Equatable {
    /// A setting out of range (exit 64).
    case invalidConfiguration(String)
    /// The loss of an optimizer step is NaN or infinite (exit 65); `step` is 1-based.
    case nonFiniteLoss(step: Int, loss: Double)
    /// An epoch of the training data has no batch (exit 65).
    case emptyEpoch(epoch: Int)
    /// Saved optimizer state that does not fit the optimizer's parameters (exit 65).
    case optimizerStateMismatch([String])
    /// A training-state file that cannot be resumed from (exit 65).
    case badState(file: String, reason: String)

    public var category: ErrorCategory {
        switch self {
        case .invalidConfiguration: return .usage
        case .nonFiniteLoss, .emptyEpoch, .optimizerStateMismatch, .badState: return .badData
        }
    }

    public var description: String {
        switch self {
        case .invalidConfiguration(let message): return "training: \(message)"
        case .nonFiniteLoss(let step, let loss): return "training: the loss is \(loss) at step \(step) (try a lower learning rate or clipping)"
        case .emptyEpoch(let epoch): return "training: epoch \(epoch + 1) of the training data has no batch"
        case .optimizerStateMismatch(let problems): return "training: saved optimizer state does not fit: \(problems.joined(separator: "; "))"
        case .badState(let file, let reason): return "training state \(file): \(reason)"
        }
    }
}
