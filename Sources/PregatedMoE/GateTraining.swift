import Foundation
import MLCore

/// Training the routers of a constructed MoE (`pregated-moe train-gates`; Hwang et al. §4.1 with the
/// adaptation in Docs/pregated-moe.md). The target of block N's gate for a token is how much each expert
/// contributes to the dense FFN output: t_e = ‖expert_e(x_N)‖ / Σ_j ‖expert_j(x_N)‖, so the top-k of
/// t are "the k experts that best reproduce the dense output"; the gate W_N [E, D] minimises the
/// cross-entropy −Σ_e t_e log softmax(W_N x_N)_e (soft labels; with one dominant expert this is the
/// usual top-1 cross-entropy). The pre-gate of block N is trained the same way on block N+1's
/// targets from x_N, starting from W_{N+1}. Full-batch Adam on the collected rows, optionally with
/// the Switch load-balancing loss (`loadBalancingLoss`).
///
/// On-policy collection (`collect(routing:)`): the FFN inputs are those the MoE itself produces under
/// a routing (e.g. the oracle top-k, or the gate being trained), not the dense model's, so the
/// routers learn on the activations they will see.
public enum GateTraining {
    /// Per-layer training rows: FFN inputs and expert contribution norms.
    public struct LayerRows: Sendable {
        /// FFN inputs x_N [N, D] (the dense model's, after ffn_norm).
        public var inputs: Tensor
        /// ‖expert_e(x_N)‖ [N, E].
        public var contributions: Tensor
    }

    /// Runs `sequences` through the decoder with `routing` (`.dense`: the dense model's activations;
    /// any other: the MoE's own, on-policy) and collects every block's FFN inputs and each expert's
    /// contribution norm on them.
    /// - Precondition: the session's source is `ResidentExperts` holding `experts`.
    public static func collect(decoder: LlamaDecoder, session: MoESession, experts: [[ExpertWeights]],
                               sequences: [[Int32]], routing: RoutingMode = .dense, onSequence: () -> Void = {}) -> [LayerRows] {
        let layers = experts.count, e = experts[0].count
        var inputs = [[Tensor]](repeating: [], count: layers), norms = [[Tensor]](repeating: [], count: layers)
        let saved = session.routing
        session.routing = routing
        session.resetFailure()
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

    /// The Switch load-balancing loss of router probabilities p [N, E] with top-k dispatch (Fedus et
    /// al. 2022, eq. 4–6; Hugging Face's `load_balancing_loss_func` for k > 1):
    /// E · Σ_i f_i · P_i, where f_i = |{t : i ∈ top-k(p_t)}| / (k·N) is the fraction of dispatches to
    /// expert i and P_i = Σ_t p_{t,i} / N its mean probability. 1 under uniform routing; only P
    /// carries a gradient (f counts). Returns a scalar.
    public static func loadBalancingLoss(probabilities p: Variable, k: Int) -> Variable {
        let (n, e) = (p.shape[0], p.shape[1])
        var counts = [Float](repeating: 0, count: e)
        for row in MoESession.topK(p.value, k: k) { for i in row { counts[i] += 1 } }
        let f = Tensor(counts.map { $0 / Float(k * n) }, shape: [1, e])
        return (p.mean(axis: 0, keepingDimensions: true) * Variable(f)).sum() * Float(e)
    }

    /// Trains router weights [E, D] from `initial` by Adam (β 0.9/0.999, torch.optim.Adam) on the soft
    /// cross-entropy plus `balance` × the load-balancing loss of top-`k` dispatch, on MLCore's
    /// `TrainingLoop`; the cross-entropy's gradient is (softmax(x Wᵀ) − t)ᵀ x / N. Each step uses
    /// `batchRows` rows drawn with replacement by a generator seeded with `seed` (0 or ≥ N: all rows,
    /// full batch, and the seed plays no part).
    /// - Throws: `TrainingError.nonFiniteLoss` when the loss becomes NaN or infinite.
    public static func train(initial: Tensor, inputs: Tensor, targets: Tensor, steps: Int, learningRate: Float,
                             balance: Float = 0, k: Int = 1, batchRows: Int = 0, seed: UInt64 = 0) throws -> Tensor {
        let w = Parameter(initial.contiguous(), name: "router.weight")
        let n = inputs.shape[0]
        let full = (Variable(inputs), Variable(targets))
        let loop = try TrainingLoop(config: TrainingConfig(length: .steps(max(1, steps))),
                                    optimizer: Adam([w], learningRate: learningRate))
        var rng = RandomGenerator(seed: seed)
        _ = try loop.run(.stream { _, rng -> [Int]? in
            guard batchRows > 0 && batchRows < n else { return nil }
            return (0..<batchRows).map { _ in rng.nextInt(below: n) }
        }, rng: &rng, loss: { rows, _ in
            let (x, t) = rows.map { (Variable(inputs.indexSelect($0, axis: 0)), Variable(targets.indexSelect($0, axis: 0))) } ?? full
            let logits = Variable.matmul(x, w, transposeB: true)
            let crossEntropy = (logits.logSoftmax(axis: -1) * t).sum() * (-1 / Float(x.shape[0]))
            guard balance > 0 else { return StepLoss(crossEntropy) }
            return StepLoss(crossEntropy + loadBalancingLoss(probabilities: logits.softmax(axis: -1), k: k) * balance)
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

    /// Mean over rows of ‖Σ_{e ∉ S} expert_e(x)‖² / ‖Σ_e expert_e(x)‖², S the k experts with the largest
    /// output norm (the oracle top-k): the share of the dense FFN output's energy that even the best
    /// routing drops in one layer. Rows whose dense output is 0 are skipped.
    public static func oracleResidual(inputs: Tensor, experts: [ExpertWeights], k: Int) -> Double {
        let (n, d) = (inputs.shape[0], inputs.shape[1])
        let outputs = experts.map { $0(inputs).contiguous().scalars }
        var total = 0.0, rows = 0
        for r in 0..<n {
            var norms: [Float] = [], dense = [Float](repeating: 0, count: d)
            for y in outputs {
                var s: Float = 0
                for j in 0..<d { let v = y[r * d + j]; s += v * v; dense[j] += v }
                norms.append(s)
            }
            let kept = Set((0..<experts.count).sorted { norms[$0] != norms[$1] ? norms[$0] > norms[$1] : $0 < $1 }.prefix(k))
            var residual = dense
            for e in kept { for j in 0..<d { residual[j] -= outputs[e][r * d + j] } }
            let denom = dense.reduce(Float(0)) { $0 + $1 * $1 }
            guard denom > 0 else { continue }
            total += Double(residual.reduce(Float(0)) { $0 + $1 * $1 } / denom)
            rows += 1
        }
        return rows > 0 ? total / Double(rows) : .nan
    }
}
