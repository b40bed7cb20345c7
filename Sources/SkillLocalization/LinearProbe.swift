import MLCore

/// Settings of the linear probe that trains the classification head on frozen pooled features.
public struct LinearProbeConfig: Sendable, Equatable {
    /// Full-batch steps.
    public var steps = 300
    /// Adam learning rate.
    public var learningRate: Float = 1e-2
    /// C, the inverse L2 strength as scikit-learn's LogisticRegression (default 1): the objective is
    /// mean CE + ‖W‖² / (2·C·N) (the bias is not penalised).
    public var inverseRegularization: Float = 1

    /// 300 full-batch Adam steps at lr 1e-2 with C = 1 by default.
    public init(steps: Int = 300, learningRate: Float = 1e-2, inverseRegularization: Float = 1) {
        self.steps = steps; self.learningRate = learningRate; self.inverseRegularization = inverseRegularization
    }
}

/// The adaptation's first stage: L2-regularised logistic regression of the head on frozen encoder
/// features (scikit-learn's objective with C = 1, minimised by full-batch Adam with the penalty's
/// gradient ‖W‖/(C·N) as coupled weight decay), so that pre-trained, fine-tuned and grafted
/// models share one head — the analogue of the paper's untrained LM head (Docs/graft.md,
/// "Adaptation"). The head then stays fixed while the encoder is fine-tuned.
public enum LinearProbe {
    /// Trains `head` on `features` [N, D] with `labels` [N] by full-batch Adam on MLCore's
    /// `TrainingLoop`; returns the final training loss (nats).
    /// - Precondition: N > 0, labels in 0..<C.
    /// - Throws: `TrainingError.nonFiniteLoss` when the loss becomes NaN or infinite.
    @discardableResult
    public static func train(head: Linear, features: Tensor, labels: [Int], config: LinearProbeConfig) throws -> Double {
        require(features.rank == 2 && features.shape[0] == labels.count && !labels.isEmpty,
                "LinearProbe: features \(features.shape) for \(labels.count) labels")
        let x = Variable(features), targets = NDArray(labels.map(Int32.init), shape: [labels.count])
        for p in head.parameters { p.isTrainable = true }
        // Without the penalty a few-shot probe separates the training set and saturates (training
        // loss ~0.003 on 32 tweets), leaving fine-tuning no gradient to learn from.
        let l2 = 1 / (config.inverseRegularization * Float(labels.count))
        let optimizer = Adam([ParameterGroup([head.weight], learningRate: config.learningRate, weightDecay: l2),
                              ParameterGroup(head.bias.map { [$0] } ?? [], learningRate: config.learningRate)])
        if config.steps > 0 {  // 0 steps: the head as it is
            let loop = try TrainingLoop(config: TrainingConfig(length: .steps(config.steps)), optimizer: optimizer)
            _ = try loop.run(.stream { _, _ in () }, loss: { _, _ in StepLoss(Variable.crossEntropy(head(x), targets: targets)) })
        }
        return withoutGradient { Double(Variable.crossEntropy(head(x), targets: targets).value.item) }
    }
}
