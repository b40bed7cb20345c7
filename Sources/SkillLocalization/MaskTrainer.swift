import MLCore

/// How η, the step size of the mask scores, is chosen (Docs/graft.md, "Step size").
public enum MaskStepRule: Sendable, Equatable {
    /// η = `MaskTrainingConfig.learningRate` (the reference's 1e7, tuned for RoBERTa's Δ).
    case fixed
    /// η scaled to this model's Δ and gradients: on the first epoch, η = target / max_i |∂L/∂S_i|
    /// with ∂L/∂S = (1 − 2γ_base) ⊙ mean(g) ⊙ Δ ⊙ σ'(S − b), so the entry with the strongest signal
    /// moves by exactly `target` (in score units) in the first epoch and the others in proportion; η
    /// is then kept for the remaining epochs. With target = b (the sigmoid bias, 10 by default) that
    /// entry can flip in one step, since S starts in [0, 1) and flips where S crosses b.
    case scaled(target: Float)

    /// η for a first-epoch largest score-gradient magnitude `maxScoreGradient` (the fixed rate
    /// `fixedRate` for `.fixed`, or when the gradient is 0).
    public func learningRate(maxScoreGradient: Float, fixedRate: Float) -> Float {
        switch self {
        case .fixed: return fixedRate
        case .scaled(let target): return maxScoreGradient > 0 ? target / maxScoreGradient : fixedRate
        }
    }
}

/// Settings of mask training (the reference's defaults).
public struct MaskTrainingConfig: Sendable, Equatable {
    /// Epochs (the reference's `num_train_epochs`; 10 in its scripts, 100 in the README example).
    public var epochs = 10
    /// η, the step size of the score update (the reference's `learning_rate`, 1e7).
    public var learningRate: Float = 1e7
    /// Examples per batch (8).
    public var batchSize = 8
    /// Batches per epoch at most (the reference's `gradient_accumulation_steps`, 128).
    public var maxBatches = 128
    /// b in σ(S − b) (10).
    public var sigmoidBias: Float = 10
    /// How η is chosen: `.fixed` (η = `learningRate`, the reference) by default.
    public var stepRule: MaskStepRule = .fixed

    /// The reference's settings by default.
    public init(epochs: Int = 10, learningRate: Float = 1e7, batchSize: Int = 8, maxBatches: Int = 128,
                sigmoidBias: Float = 10, stepRule: MaskStepRule = .fixed) {
        self.epochs = epochs; self.learningRate = learningRate; self.batchSize = batchSize
        self.maxBatches = maxBatches; self.sigmoidBias = sigmoidBias; self.stepRule = stepRule
    }
}

/// One epoch of mask training. Encodable for reports: its properties are the keys (snake_case in
/// `graft localize`'s `metrics.history`, Docs/REPORT_FORMAT.md).
public struct MaskEpoch: Sendable, Equatable, Encodable {
    /// 1-based epoch number.
    public var epoch: Int
    /// Mean training loss over the epoch's batches, at the continuous θ(S) before the step (nats).
    public var loss: Double
    /// Accuracy of the rounded mask's model on the train and dev splits after the step.
    public var trainAccuracy: Double, devAccuracy: Double
    /// Σ round(γ) after the step.
    public var selected: Int
    /// max |S_after − S_before| over all entries: how far the step moved the scores (against the
    /// sigmoid bias b that an entry must cross to flip).
    public var maxScoreChange: Double
    /// Entries whose rounded mask value changed in this epoch (against the previous epoch's rounded
    /// mask; for epoch 1 against the initial scores' rounding, the base patch).
    public var flipped: Int
    /// Entries whose rounded mask differs from the base patch after the step.
    public var changedFromBase: Int
    /// Whether this epoch's S became the best so far (train + dev strictly better).
    public var kept: Bool
}

/// What mask training returns.
public struct MaskTrainingResult: Sendable {
    /// The best scores (or the initial ones when no epoch scored above 0).
    public var scores: MaskScores
    /// round(γ) of the best scores.
    public var mask: GraftMask
    /// The epoch whose scores were kept, nil when none was.
    public var bestEpoch: Int?
    /// Per-epoch records.
    public var history: [MaskEpoch]
    /// The η used (the fixed rate, or the one the scaled rule chose on the first epoch).
    public var learningRate: Float
}

/// Grafting's mask optimisation, as the reference's `graft_Trainer.train_graft`: per epoch,
/// (1) set the graftable parameters to θ(S) with the continuous γ; (2) accumulate ∂L/∂θ (mean
/// cross-entropy per batch) over up to `maxBatches` shuffled batches of `batchSize`; (3) step S
/// with the mean gradient (`MaskScores.step`; η from `config.stepRule`, chosen on the first epoch); (4) evaluate the rounded mask on train and dev and
/// keep S when train + dev accuracy is strictly higher than the best so far (starting from 0).
/// Source: Docs/graft.md; Panigrahi et al. 2023; reference `src/graft_trainer.py`.
///
/// This trainer keeps its own loop instead of MLCore's `TrainingLoop`: what receives gradients (the
/// graftable θ) is not what is updated (the scores S, through ∂θ(S)/∂S = Δ·σ'(S − b)); the parameters
/// are overwritten from S before each epoch and with the rounded graft after it; the selection keeps S
/// (not θ) against a baseline of 0 on train + dev accuracy; and one update spans an epoch of up to
/// `maxBatches` micro-batches. Expressed on the loop, each of these would need a special case.
public enum MaskTrainer {
    /// Trains the mask.
    /// - Parameters:
    ///   - space: the graftable parameters (θ_pre, Δ).
    ///   - parameters: the model's parameters for `space.names`, in order; they must be trainable
    ///     (other parameters should be frozen: their gradients are not used). On return they hold
    ///     the last evaluated (rounded) graft.
    ///   - initial: the starting scores (`MaskScores(basePatch:names:sigmoidBias:rng:)`).
    ///   - trainCount: N_train; batches are index lists into the training split.
    ///   - rng: shuffles each epoch's batches.
    ///   - loss: the mean loss of a batch (indices) under the model's current parameters.
    ///   - evaluate: (train accuracy, dev accuracy) under the model's current parameters.
    ///   - onEpoch: called after each epoch (progress, logging).
    public static func train(space: GraftSpace, parameters: [Parameter], initial: MaskScores,
                             config: MaskTrainingConfig, trainCount: Int, rng: inout RandomGenerator,
                             loss: ([Int]) -> Variable, evaluate: () -> (train: Double, dev: Double),
                             onEpoch: (MaskEpoch) -> Void = { _ in }) -> MaskTrainingResult {
        require(parameters.map(\.name) == space.names, "MaskTrainer: parameters do not match the graft space's names")
        require(trainCount > 0 && config.batchSize > 0 && config.maxBatches > 0, "MaskTrainer: empty training split or batch")
        var scores = initial
        var best = initial, bestEpoch: Int? = nil, baseline = 0.0
        var history: [MaskEpoch] = []
        let baseMask = initial.rounded()
        var previous = baseMask
        var eta = config.learningRate
        for epoch in 1...max(config.epochs, 1) where config.epochs > 0 {
            GraftSpace.assign(space.interpolated(scores), to: parameters)
            for p in parameters { p.zeroGradient() }
            let batches = rng.shuffledBatches(count: trainCount, batchSize: config.batchSize).prefix(config.maxBatches)
            var total = 0.0
            for batch in batches {
                let l = loss(batch)
                total += Double(l.value.item)
                l.backward()
            }
            let scale = 1 / Float(batches.count)
            let mean = parameters.map { ($0.grad ?? Tensor(shape: $0.value.shape, repeating: 0)) * scale }
            for p in parameters { p.zeroGradient() }
            if epoch == 1 {
                let largest = scores.scores.indices.reduce(Float(0)) {
                    max($0, scores.gradient($1, parameterGradient: mean[$1], delta: space.delta[$1]).abs().max().item)
                }
                eta = config.stepRule.learningRate(maxScoreGradient: largest, fixedRate: config.learningRate)
            }
            let before = scores.scores
            scores.step(meanGradient: mean, delta: space.delta, learningRate: eta)
            let change = zip(before, scores.scores).reduce(0.0) { max($0, Double(($1.0 - $1.1).abs().max().item)) }

            let mask = scores.rounded()
            let flipped = mask.differences(from: previous), changedFromBase = mask.differences(from: baseMask)
            previous = mask
            GraftSpace.assign(space.grafted(mask), to: parameters)
            let (train, dev) = evaluate()
            let kept = train + dev > baseline
            if kept { best = scores; bestEpoch = epoch; baseline = train + dev }
            let record = MaskEpoch(epoch: epoch, loss: total / Double(batches.count), trainAccuracy: train,
                                   devAccuracy: dev, selected: mask.selectedCount, maxScoreChange: change,
                                   flipped: flipped, changedFromBase: changedFromBase, kept: kept)
            history.append(record)
            onEpoch(record)
        }
        return MaskTrainingResult(scores: best, mask: best.rounded(), bestEpoch: bestEpoch, history: history, learningRate: eta)
    }
}
