import MLCore

/// Settings of the linear probe that trains the classification head on frozen pooled features.
public struct LinearProbeConfig: Sendable, Equatable {
    /// Full-batch steps.
    public var steps = 300
    /// AdamW learning rate.
    public var learningRate: Float = 1e-2
    /// AdamW decoupled weight decay.
    public var weightDecay: Float = 1e-2

    public init(steps: Int = 300, learningRate: Float = 1e-2, weightDecay: Float = 1e-2) {
        self.steps = steps; self.learningRate = learningRate; self.weightDecay = weightDecay
    }
}

/// The adaptation's first stage: logistic regression of the head on frozen encoder features
/// (full-batch AdamW on the mean cross-entropy), so that pre-trained, fine-tuned and grafted
/// models share one head — the analogue of the paper's untrained LM head (papers/graft.md,
/// "Adaptation"). The head then stays fixed while the encoder is fine-tuned.
public enum LinearProbe {
    /// Trains `head` on `features` [N, D] with `labels` [N]; returns the final training loss (nats).
    /// - Precondition: N > 0, labels in 0..<C.
    @discardableResult
    public static func train(head: Linear, features: Tensor, labels: [Int], config: LinearProbeConfig) -> Double {
        require(features.rank == 2 && features.shape[0] == labels.count && !labels.isEmpty,
                "LinearProbe: features \(features.shape) for \(labels.count) labels")
        let x = Variable(features), targets = NDArray(labels.map(Int32.init), shape: [labels.count])
        for p in head.parameters { p.isTrainable = true }
        let optimizer = AdamW(head.parameters, learningRate: config.learningRate, weightDecay: config.weightDecay)
        for _ in 0..<config.steps {
            optimizer.zeroGradients()
            Variable.crossEntropy(head(x), targets: targets).backward()
            optimizer.step()
        }
        optimizer.zeroGradients()
        return withoutGradient { Double(Variable.crossEntropy(head(x), targets: targets).value.item) }
    }
}
