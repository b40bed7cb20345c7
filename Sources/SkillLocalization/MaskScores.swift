import MLCore

/// The real-valued mask parameters S of grafting and the map to the mask:
///
///     γ(S) = γ_base + (1 − 2γ_base) ⊙ σ(S − b)
///
/// so γ starts near γ_base (S ~ U[0, 1), b = 10: σ ∈ [4.54e-5, 1.23e-4]) and moving S up flips an
/// entry away from its base value. The binary mask is round(γ) (torch.round: γ > 0.5 → 1; 0.5
/// rounds to even, 0). Source: Docs/graft.md; reference `graft_trainer.py` (`interpolate_model`,
/// `train_graft`).
public struct MaskScores: Sendable {
    /// Parameter names, in the space's order.
    public let names: [String]
    /// S, one tensor per name.
    public var scores: [Tensor]
    /// γ_base (0/1), one tensor per name.
    public let basePatch: [Tensor]
    /// b, the reference's `sigmoid_bias` (10).
    public let sigmoidBias: Float

    /// Scores from their parts.
    /// - Precondition: one score and one base-patch tensor per name, of equal shapes.
    public init(names: [String], scores: [Tensor], basePatch: [Tensor], sigmoidBias: Float = 10) {
        require(names.count == scores.count && scores.count == basePatch.count
                    && zip(scores, basePatch).allSatisfy { $0.shape == $1.shape },
                "MaskScores: names, scores and base patch must match one to one")
        self.names = names
        self.scores = scores.map { $0.contiguous() }
        self.basePatch = basePatch.map { $0.contiguous() }
        self.sigmoidBias = sigmoidBias
    }

    /// The reference's initialisation: S ~ U[0, 1) (`torch.rand_like`), drawn tensor by tensor in
    /// row-major order from `rng`.
    public init(basePatch: [Tensor], names: [String], sigmoidBias: Float = 10, rng: inout RandomGenerator) {
        let scores = basePatch.map { Tensor.uniform($0.shape, using: &rng) }
        self.init(names: names, scores: scores, basePatch: basePatch, sigmoidBias: sigmoidBias)
    }

    /// σ(S − b) of tensor `k`.
    public func sigmoid(_ k: Int) -> Tensor { (scores[k] - sigmoidBias).sigmoid() }

    /// The continuous mask γ(S) of tensor `k`.
    public func gamma(_ k: Int) -> Tensor {
        basePatch[k] + (1 - 2 * basePatch[k]) * sigmoid(k)
    }

    /// The binary mask round(γ(S)).
    public func rounded() -> GraftMask {
        GraftMask(names: names, values: scores.indices.map { gamma($0).greater(0.5) })
    }

    /// ∂L/∂S for tensor `k` given ∂L/∂θ (`parameterGradient`) at θ(S) = θ_pre + γ(S) ⊙ Δ:
    /// (1 − 2γ_base) ⊙ ∂L/∂θ ⊙ Δ ⊙ σ(S − b)(1 − σ(S − b)).
    public func gradient(_ k: Int, parameterGradient: Tensor, delta: Tensor) -> Tensor {
        let s = sigmoid(k)
        return (1 - 2 * basePatch[k]) * parameterGradient * delta * s * (1 - s)
    }

    /// The reference's step: S ← S − η · (1 − 2γ_base) ⊙ G ⊙ σ(S − b)(1 − σ(S − b)), where G is
    /// the mean over the epoch's batches of ∂L/∂θ ⊙ Δ (no optimizer, no L1 term).
    /// Source: reference `train_graft` ("Take the gradient step").
    /// - Parameters:
    ///   - meanGradient: G per tensor (the mean batch gradient ∂L/∂θ, not yet multiplied by Δ).
    ///   - delta: Δ per tensor.
    ///   - learningRate: η (1e7 in the reference).
    public mutating func step(meanGradient: [Tensor], delta: [Tensor], learningRate: Float) {
        require(meanGradient.count == scores.count && delta.count == scores.count,
                "MaskScores.step: \(meanGradient.count) gradients and \(delta.count) deltas for \(scores.count) tensors")
        for k in scores.indices {
            scores[k] = scores[k] - learningRate * gradient(k, parameterGradient: meanGradient[k], delta: delta[k])
        }
    }
}
