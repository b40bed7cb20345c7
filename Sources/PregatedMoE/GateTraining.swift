import Foundation
import MLCore

/// Training the routers of a constructed MoE (`pregated-moe train-gates`; Hwang et al. §4.1 with the
/// adaptation in Docs/pregated-moe.md). The target of block N's gate for a token is how much each expert
/// contributes to the dense FFN output: t_e = ‖expert_e(x_N)‖ / Σ_j ‖expert_j(x_N)‖, so the top-k of
/// t are "the k experts that best reproduce the dense output"; the gate W_N [E, D] minimises the
/// cross-entropy −Σ_e t_e log softmax(W_N x_N)_e (soft labels; with one dominant expert this is the
/// usual top-1 cross-entropy). The pre-gate of block N is trained the same way on block N+1's
/// targets from x_N, starting from W_{N+1}. Full-batch Adam on the collected rows.
public enum GateTraining {
    /// Per-layer training rows: FFN inputs and expert contribution norms.
    public struct LayerRows: Sendable {
        /// FFN inputs x_N [N, D] (the dense model's, after ffn_norm).
        public var inputs: Tensor
        /// ‖expert_e(x_N)‖ [N, E].
        public var contributions: Tensor
    }

    /// Runs `sequences` through the decoder with dense routing and collects every block's FFN inputs
    /// and each expert's contribution norm.
    /// - Precondition: the session's source is `ResidentExperts` holding `experts`.
    public static func collect(decoder: LlamaDecoder, session: MoESession, experts: [[ExpertWeights]],
                               sequences: [[Int32]], onSequence: () -> Void = {}) -> [LayerRows] {
        let layers = experts.count, e = experts[0].count
        var inputs = [[Tensor]](repeating: [], count: layers), norms = [[Tensor]](repeating: [], count: layers)
        let saved = session.routing
        session.routing = .dense
        session.onInput = { layer, rows in
            inputs[layer].append(rows)
            let columns = experts[layer].map { w -> Tensor in
                let y = w(rows)
                return (y * y).sum(axis: 1, keepingDimensions: true)
            }
            norms[layer].append(Tensor.concatenate(columns, axis: 1))
        }
        withoutGradient {
            for s in sequences where !s.isEmpty {
                var none: [Variable]? = nil
                _ = decoder.trunk(NDArray(s, shape: [1, s.count]), states: &none)
                onSequence()
            }
        }
        session.onInput = nil
        session.routing = saved
        return (0..<layers).map { l in
            let sq = Tensor.concatenate(norms[l], axis: 0).contiguous().scalars.map { $0.squareRoot() }
            return LayerRows(inputs: Tensor.concatenate(inputs[l], axis: 0), contributions: Tensor(sq, shape: [sq.count / e, e]))
        }
    }

    /// t = contributions / row sums [N, E].
    public static func targets(_ contributions: Tensor) -> Tensor {
        contributions * (1 / Tensor.maximum(contributions.sum(axis: 1, keepingDimensions: true), Tensor(scalar: 1e-12)))
    }

    /// Mean soft cross-entropy −Σ_e t_e log softmax(x Wᵀ)_e over the rows.
    public static func loss(weights: Tensor, inputs: Tensor, targets: Tensor) -> Double {
        let logp = Tensor.matmul(inputs, weights, transposeB: true).logSoftmax(axis: -1)
        return -Double((logp * targets).sum().item) / Double(inputs.shape[0])
    }

    /// Trains router weights [E, D] from `initial` by full-batch Adam (β 0.9/0.999, torch.optim.Adam)
    /// on the soft cross-entropy, on MLCore's `TrainingLoop`; gradient (softmax(x Wᵀ) − t)ᵀ x / N.
    /// - Throws: `TrainingError.nonFiniteLoss` when the loss becomes NaN or infinite.
    public static func train(initial: Tensor, inputs: Tensor, targets: Tensor, steps: Int, learningRate: Float) throws -> Tensor {
        let w = Parameter(initial.contiguous(), name: "router.weight")
        let x = Variable(inputs), t = Variable(targets)
        let scale = -1 / Float(inputs.shape[0])
        let loop = try TrainingLoop(config: TrainingConfig(length: .steps(max(1, steps))),
                                    optimizer: Adam([w], learningRate: learningRate))
        _ = try loop.run(.stream { _, _ in () }, loss: { _, _ in
            StepLoss((Variable.matmul(x, w, transposeB: true).logSoftmax(axis: -1) * t).sum() * scale)
        })
        return w.value
    }

    /// Mean over rows of |top-k(a) ∩ top-k(b)| / k for logits or scores a, b [N, E].
    public static func recall(_ a: Tensor, _ b: Tensor, k: Int) -> Double {
        let x = MoESession.topK(a, k: k), y = MoESession.topK(b, k: k)
        guard !x.isEmpty else { return 0 }
        let hits = zip(x, y).reduce(0) { $0 + Set($1.0).intersection($1.1).count }
        return Double(hits) / Double(x.count * k)
    }

    /// Mean over rows of ‖Σ_{e ∈ top-k(x Wᵀ)} expert_e(x) − Σ_e expert_e(x)‖² (how well the gate's
    /// k experts reproduce the dense FFN).
    public static func reconstructionLoss(router: Tensor, inputs: Tensor, experts: [ExpertWeights], k: Int) -> Double {
        let selection = MoESession.topK(Tensor.matmul(inputs, router, transposeB: true), k: k)
        let outputs = experts.map { $0(inputs).contiguous().scalars }
        let (n, d) = (inputs.shape[0], inputs.shape[1])
        var total = 0.0
        for r in 0..<n {
            for j in 0..<d {
                var dense: Float = 0, chosen: Float = 0
                for (e, y) in outputs.enumerated() {
                    dense += y[r * d + j]
                    if selection[r].contains(e) { chosen += y[r * d + j] }
                }
                total += Double((dense - chosen) * (dense - chosen))
            }
        }
        return total / Double(n)
    }
}
