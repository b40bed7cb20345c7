/// Peak bytes of expert weights each policy keeps in the fast tier (Hwang et al. §6.3, the
/// "GPU memory" comparison), for L MoE blocks of E experts of `expertBytes` each, when at most A
/// experts are active in a block (A = k for one token; up to min(E, k·B) for a batch of B):
///
/// - GPU-only: all L·E experts.
/// - Prefetch-all: the current block's E plus the next block's E being fetched = 2·E.
/// - OnDemand: the current block's A active experts = A.
/// - Pre-gated: the current block's A plus the next block's A being prefetched = 2·A.
///
/// The paper's base-8 numbers (L = 6, E = 8, A = 4, 18,874,368 B per expert) are 48, 16, 4 and 8
/// experts: 905,969,664 / 301,989,888 / 75,497,472 / 150,994,944 B (tested).
public enum ExpertMemory {
    /// Peak expert bytes of `policy` (formula above).
    /// - Precondition: blocks ≥ 1, 1 ≤ maxActive ≤ experts, expertBytes ≥ 0.
    public static func peakBytes(policy: OffloadPolicy, blocks: Int, experts: Int, maxActive: Int, expertBytes: Int) -> Int {
        precondition(blocks >= 1 && maxActive >= 1 && maxActive <= experts && expertBytes >= 0,
                     "ExpertMemory: blocks \(blocks), experts \(experts), maxActive \(maxActive)")
        let resident: Int
        switch policy {
        case .gpuOnly: resident = blocks * experts
        case .prefetchAll: resident = (blocks > 1 ? 2 : 1) * experts
        case .onDemand: resident = maxActive
        case .pregated: resident = (blocks > 1 ? 2 : 1) * maxActive
        }
        return resident * expertBytes
    }
}
