import Foundation
import MLCore

/// How the experts of each MoE block are chosen for a token.
public enum RoutingMode: Sendable, Equatable, CustomStringConvertible {
    /// Every expert (the dense FFN, recovered exactly up to rounding).
    case dense
    /// The conventional gate of the block: top-k of W_N x_N (Fedus et al. 2022; Hwang et al. §2).
    case gate(k: Int)
    /// Pre-gating (Hwang et al. §4.1): block 0 uses its own gate; block N > 0 uses the top-k that
    /// block N − 1's pre-gate chose from x_{N−1}.
    case pregate(k: Int)
    /// The k experts whose outputs have the largest norm for the token (computes all E: an upper bound
    /// on what any router can reach with these experts, for evaluation only).
    case oracle(k: Int)

    /// Experts per token (nil: all).
    public var k: Int? {
        switch self {
        case .dense: return nil
        case .gate(let k), .pregate(let k), .oracle(let k): return k
        }
    }

    /// "dense", "gate (k = 2)", ….
    public var description: String {
        switch self {
        case .dense: return "dense"
        case .gate(let k): return "gate (k = \(k))"
        case .pregate(let k): return "pre-gate (k = \(k))"
        case .oracle(let k): return "oracle (k = \(k))"
        }
    }
}

/// How a MoE block combines its selected experts' outputs.
public enum ExpertCombination: String, Sendable, CaseIterable {
    /// Weighted by the router: k · softmax over the selected logits (`MoESession.combinationWeights`;
    /// Switch's `expert_scales`, renormalised).
    case weighted
    /// Summed with weight 1 (MoEfication): a constructed expert is a slice of the dense FFN, so without
    /// fine-tuning the experts this keeps each selected slice at its dense scale.
    case sum
}

/// Where a MoE block gets its experts' weights: all resident in memory, or a tiered store that fetches
/// them (`OffloadedExperts`). Called from the thread that runs the model, block by block.
public protocol ExpertSource: AnyObject {
    /// Block `layer` has routed: `active` (sorted) will be computed now; `predictedNext` (sorted) are the
    /// experts block `layer + 1` is expected to use (its pre-gate's choice; nil for the last block).
    /// - Throws: an error of the slow tier (e.g. `PregatedMoEError.corruptExpert`).
    func prepare(layer: Int, active: [Int], predictedNext: [Int]?) throws
    /// The weights of an active expert, once they are in the fast tier (may wait for a fetch).
    /// - Throws: an error of the slow tier.
    func expert(layer: Int, index: Int) throws -> ExpertWeights
    /// Block `layer` has computed its experts.
    func finish(layer: Int)
}

/// Every expert in memory: no tiers, no waiting.
public final class ResidentExperts: ExpertSource {
    /// [layer][expert].
    public let experts: [[ExpertWeights]]
    /// - Parameter experts: [layer][expert] weights.
    public init(_ experts: [[ExpertWeights]]) { self.experts = experts }
    /// Nothing to move: every expert is resident.
    public func prepare(layer: Int, active: [Int], predictedNext: [Int]?) {}
    /// The expert's weights.
    public func expert(layer: Int, index: Int) -> ExpertWeights { experts[layer][index] }
    /// Nothing to release.
    public func finish(layer: Int) {}
}

/// The routing state shared by the `MixtureOfExperts` FFNs of one decoder: the routers, the routing
/// mode, the pre-gate's pending choice for the next block, and the expert source. One forward pass
/// visits the blocks in order, so block N's pre-gate choice is consumed by block N + 1 of the same pass.
///
/// A slow-tier failure inside a forward pass (the `FeedForward` protocol cannot throw) is kept in
/// `failure`; the remaining blocks of the pass output zeros and the caller must check it (the
/// runtimes do, and throw it).
public final class MoESession: @unchecked Sendable {
    /// The routing of every block.
    public var routing: RoutingMode
    /// Gate and pre-gate weights.
    public var routers: Routers
    /// Experts per block E.
    public let experts: Int
    /// Where the weights come from.
    public var source: any ExpertSource
    /// The first slow-tier error of the current run, if any.
    public private(set) var failure: Error?
    /// Called with each block's FFN input rows [N, D] (gate training collects them).
    public var onInput: ((Int, Tensor) -> Void)?
    /// How gate and pre-gate routing combine the selected experts (dense and oracle routing always sum).
    public var combination: ExpertCombination = .weighted
    /// Blocks that always use all their experts with weight 1 (the dense FFN), whatever the routing:
    /// Switch Transformers place a MoE block on every other layer only (Fedus et al. 2022, §2); a
    /// constructed MoE can do the same by keeping these layers dense. Empty: MoE on every layer.
    public var denseLayers: Set<Int> = []
    /// Called with each block's active experts (routing traces).
    public var onRoute: ((Int, [Int]) -> Void)?
    private var pending: (selection: [[Int]], weights: [[Float]])?

    /// - Parameters: see the properties. - Precondition: routers for at least one layer, E ≥ 1.
    public init(routing: RoutingMode, routers: Routers, experts: Int, source: any ExpertSource) {
        precondition(!routers.gates.isEmpty && experts >= 1, "MoESession: no routers or experts")
        self.routing = routing
        self.routers = routers
        self.experts = experts
        self.source = source
    }

    /// Number of MoE blocks.
    public var layers: Int { routers.gates.count }

    /// Forgets the last failure (before a new run).
    public func resetFailure() { failure = nil; pending = nil }

    /// The top-k experts of each row of logits [N, E], ties to the lower index; sorted per row.
    public static func topK(_ logits: Tensor, k: Int) -> [[Int]] {
        let (n, e) = (logits.shape[0], logits.shape[1])
        let v = logits.contiguous().scalars
        return (0..<n).map { r in
            Array((0..<e).sorted { v[r * e + $0] != v[r * e + $1] ? v[r * e + $0] > v[r * e + $1] : $0 < $1 }.prefix(k)).sorted()
        }
    }

    /// The combination weights of the selected experts of each row (Switch's `expert_scales`, Fedus et
    /// al. 2022 eq. 1–2; moe_kernels.cu's `topk_gating_softmax`): w_e = k · softmax(z_S)_e for e in the
    /// row's selection S, i.e. the gate probabilities renormalised over the k selected experts and
    /// scaled by k, so that a uniform gate gives weight 1 to each selected expert (MoEfication's
    /// unweighted sum, and with all E experts the dense FFN).
    ///
    /// The reference does not renormalise: Switch (k = 1) scales by the softmax over all E. A
    /// constructed expert is a part of the dense FFN, so scaling it by p_e < 1 would shrink the FFN
    /// output; with k = 1 the weight here is always 1 (Docs/pregated-moe.md, "Combination").
    /// - Parameters:
    ///   - logits: [N, E] router logits z.
    ///   - selection: per row, the selected experts (k of them, distinct, in 0..<E).
    /// - Returns: per row, the weight of each selected expert, in the selection's order.
    public static func combinationWeights(_ logits: Tensor, selection: [[Int]]) -> [[Float]] {
        let e = logits.shape[1]
        let v = logits.contiguous().scalars
        return selection.enumerated().map { r, chosen in
            guard let top = chosen.map({ v[r * e + $0] }).max() else { return [] }
            let w = chosen.map { Foundation.exp(v[r * e + $0] - top) }
            let scale = Float(chosen.count) / w.reduce(0, +)
            return w.map { $0 * scale }
        }
    }

    /// The MoE FFN of block `layer` on x [..., D] → [..., D]: route each row, prepare the source, add
    /// the selected experts' outputs times their combination weights (`combinationWeights`; 1 for
    /// dense and oracle routing) in increasing expert order (so every source and policy gives the same
    /// bits), and record the pre-gate's choice (experts and weights) for the next block, whose weights
    /// then come from the pre-gate as the reference's `next_expert_scales_` do.
    public func forward(layer: Int, _ x: Tensor) -> Tensor {
        let d = x.shape[x.rank - 1]
        let rows = x.reshaped([-1, d]).contiguous()
        let n = rows.shape[0]
        guard failure == nil else { return Tensor.zeros(x.shape) }
        onInput?(layer, rows)
        let isDense = denseLayers.contains(layer)
        let k = isDense ? experts : min(routing.k ?? experts, experts)
        func gated(_ router: Tensor) -> (selection: [[Int]], weights: [[Float]]) {
            let logits = Tensor.matmul(rows, router, transposeB: true)
            let chosen = MoESession.topK(logits, k: k)
            return (chosen, MoESession.combinationWeights(logits, selection: chosen))
        }
        let routed: (selection: [[Int]], weights: [[Float]])?
        switch isDense ? .dense : routing {
        case .dense, .oracle:
            routed = nil
        case .gate:
            routed = gated(routers.gates[layer])
        case .pregate:
            if layer > 0, let p = pending, p.selection.count == n {
                routed = p
            } else {
                routed = gated(routers.gates[layer])
            }
        }
        let selection = routed?.selection ?? Array(repeating: Array(0..<experts), count: n)
        let weights = combination == .weighted ? routed?.weights : nil
        var predicted: [Int]? = nil
        pending = nil
        if layer + 1 < layers && denseLayers.contains(layer + 1) {
            predicted = Array(0..<experts)
        } else if layer + 1 < layers && layer < routers.pregates.count {
            let next = gated(routers.pregates[layer])
            if case .pregate = routing { pending = next }
            predicted = Array(Set(next.selection.joined())).sorted()
        }
        let active = Array(Set(selection.joined())).sorted()
        onRoute?(layer, active)
        var out = [Float](repeating: 0, count: n * d)
        do {
            try source.prepare(layer: layer, active: active, predictedNext: predicted)
            if case .oracle = routing, !isDense {
                let outputs = try active.map { try source.expert(layer: layer, index: $0)(rows).contiguous().scalars }
                let norms = Tensor(shape: [n, experts]) { i in
                    let (r, e) = (i / experts, i % experts)
                    return (0..<d).reduce(Float(0)) { $0 + outputs[e][r * d + $1] * outputs[e][r * d + $1] }
                }
                let chosen = MoESession.topK(norms, k: k)
                for r in 0..<n { for e in chosen[r] { for j in 0..<d { out[r * d + j] += outputs[e][r * d + j] } } }
                source.finish(layer: layer)
                return Tensor(out, shape: x.shape)
            }
            for e in active {
                var members: [Int] = [], scales: [Float] = []
                for r in 0..<n {
                    guard let slot = selection[r].firstIndex(of: e) else { continue }
                    members.append(r)
                    scales.append(weights?[r][slot] ?? 1)
                }
                let w = try source.expert(layer: layer, index: e)
                let y = w(members.count == n ? rows : rows.indexSelect(members, axis: 0)).contiguous().scalars
                for (i, r) in members.enumerated() {
                    let s = scales[i]
                    for j in 0..<d { out[r * d + j] += s * y[i * d + j] }
                }
            }
        } catch {
            failure = error
        }
        source.finish(layer: layer)
        return Tensor(out, shape: x.shape)
    }
}

/// A decoder block's FFN as a mixture of experts (`FeedForward`, so `LlamaDecoder`'s generation and
/// scoring run unchanged): delegates to the shared `MoESession` with its block index. Its experts are
/// not module parameters (they stream from the slow tier).
public final class MixtureOfExperts: FeedForward {
    /// The block index N.
    public let layer: Int
    /// The shared routing state.
    public let session: MoESession
    /// None: the experts stream from the slow tier and the routers live in the session.
    public var parameters: [Parameter] { [] }

    /// - Parameters: see the properties.
    public init(layer: Int, session: MoESession) {
        self.layer = layer
        self.session = session
    }

    /// x [..., D] → [..., D] (inference only: no gradient flows through the experts).
    public func callAsFunction(_ x: Variable) -> Variable { Variable(session.forward(layer: layer, x.value)) }
}
