/// Where the experts of a MoE model live during inference and when they move into the fast tier
/// (Hwang et al., ISCA 2024, §3 and §5: the four designs the paper compares).
public enum OffloadPolicy: String, CaseIterable, Sendable, Codable {
    /// Every expert of every MoE block is resident in the fast tier ("GPU-only"): no migration.
    case gpuOnly = "gpu-only"
    /// A block's experts are fetched after its gate has selected them, and computed when they
    /// arrive ("MoE-OnDemand"): the fetch is on the critical path.
    case onDemand = "on-demand"
    /// While block N computes, all E experts of block N+1 are fetched ("MoE-Prefetch"): no
    /// selection is needed, at E times the traffic.
    case prefetchAll = "prefetch-all"
    /// Block N's pre-gate selects block N+1's experts, which a copy thread fetches while block N
    /// computes ("Pre-gated MoE", §4); the first block fetches on demand, the last issues no prefetch.
    case pregated

    /// The paper's name for the design.
    public var paperName: String {
        switch self {
        case .gpuOnly: return "GPU-only"
        case .onDemand: return "MoE-OnDemand"
        case .prefetchAll: return "MoE-Prefetch"
        case .pregated: return "Pre-gated MoE"
        }
    }
}
