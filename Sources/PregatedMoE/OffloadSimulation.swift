/// A deterministic discrete-event simulation of MoE decoding with experts offloaded behind a link
/// (Hwang et al. §4.2–4.3 and §6: the runtime of each design on one GPU with a copy engine). Two
/// resources, each serving its work first-in first-out: the compute engine (one MoE decoder block
/// at a time) and the link (one expert transfer at a time).
///
/// Per decode step and MoE block n (of L), with S_n the block's active experts:
/// - GPU-only: compute the block.
/// - OnDemand: after the previous block, fetch S_n, then compute.
/// - Prefetch-all: block 0 fetches all E experts on demand; when block n starts computing it issues
///   the fetch of all E experts of block n + 1 (none from the last block).
/// - Pre-gated: block 0 fetches S_0 on demand; when block n starts computing it issues the fetch of
///   S_{n+1} chosen by its pre-gate (none from the last block); block n + 1 waits for its own set.
///
/// An expert occupies fast memory from the issue of its transfer (the destination buffer is
/// allocated then, as for an asynchronous copy) until its block has computed
/// (GPU-only: all L·E, always). With compute 1 ms per block, 0.75 ms per expert, L = 6, one active
/// expert of E = 8 the time per block is 1.000 / 1.750 / 1.125 / 6.167 ms (Docs/pregated-moe.md's vector, tested).
public struct OffloadSimulation: Sendable {
    /// Blocks L, experts per block E and the bytes of one expert.
    public var blocks: Int
    /// Experts per MoE block E.
    public var experts: Int
    /// Bytes of one expert (for the traffic and memory totals).
    public var expertBytes: Int
    /// Seconds the compute engine spends on one MoE decoder block (attention, dense layers and the
    /// active experts) at the simulated batch size.
    public var blockComputeSeconds: Double
    /// Seconds the link spends on one expert (`LinkModel.transferSeconds(bytes:)`).
    public var expertFetchSeconds: Double

    /// - Parameters: see the properties. - Precondition: blocks, experts ≥ 1; times ≥ 0.
    public init(blocks: Int, experts: Int, expertBytes: Int, blockComputeSeconds: Double, expertFetchSeconds: Double) {
        precondition(blocks >= 1 && experts >= 1 && blockComputeSeconds >= 0 && expertFetchSeconds >= 0,
                     "OffloadSimulation: blocks \(blocks), experts \(experts), compute \(blockComputeSeconds), fetch \(expertFetchSeconds)")
        self.blocks = blocks
        self.experts = experts
        self.expertBytes = expertBytes
        self.blockComputeSeconds = blockComputeSeconds
        self.expertFetchSeconds = expertFetchSeconds
    }

    /// One interval on a resource.
    public struct Event: Sendable, Equatable {
        /// What happened.
        public enum Kind: String, Sendable {
            /// An expert transfer that the block itself waits for (issued at the block's start).
            case demandFetch = "demand-fetch"
            /// An expert transfer issued by the previous block for this one.
            case prefetch
            /// The block's computation.
            case compute
        }
        /// What happened.
        public var kind: Kind
        /// Decode step (token or batch of tokens).
        public var step: Int
        /// The MoE block the transfer is for, or that computes.
        public var block: Int
        /// The expert moved (nil for compute).
        public var expert: Int?
        /// The block that issued it (transfers; equals `block` for demand fetches and compute).
        public var issuedBy: Int
        /// When the transfer was issued (its destination buffer is allocated then), seconds from the
        /// first step's start; equals `start` for compute.
        public var issued: Double
        /// Start, seconds from the first step's start.
        public var start: Double
        /// End time in seconds.
        public var end: Double
    }

    /// What a simulation produces.
    public struct Result: Sendable {
        /// Every transfer and computation, in the order issued.
        public var events: [Event]
        /// Wall time of all steps, seconds.
        public var totalSeconds: Double
        /// `totalSeconds` / (steps · L).
        public var secondsPerBlock: Double
        /// Number of decode steps.
        public var steps: Int
        /// Expert transfers and their bytes.
        public var transfers: Int
        /// Bytes moved over the link.
        public var bytesMigrated: Int
        /// Most expert bytes resident at once.
        public var peakResidentBytes: Int
        /// Time the compute engine waited for the link (sum over blocks of compute start − the
        /// previous block's end).
        public var stallSeconds: Double
        /// Time the link was busy.
        public var linkBusySeconds: Double
        /// Fraction of link time hidden behind compute: 1 − stall / link busy (1 with no transfers).
        public var overlapRatio: Double { linkBusySeconds > 0 ? max(0, 1 - stallSeconds / linkBusySeconds) : 1 }
    }

    /// Runs the policy over `routes`: for each decode step, for each block, the experts active in it
    /// (the union over the batch's tokens; sorted, distinct, in 0..<E).
    /// - Precondition: every step has `blocks` entries with valid, distinct experts.
    public func run(policy: OffloadPolicy, routes: [[[Int]]]) -> Result {
        var events: [Event] = []
        var computeFree = 0.0, linkFree = 0.0, stall = 0.0, linkBusy = 0.0
        var intervals: [(start: Double, end: Double, bytes: Int)] = []
        /// Issues a transfer on the FIFO link at `time`; returns its end.
        func transfer(_ kind: Event.Kind, step: Int, block: Int, expert: Int, issuedBy: Int, at time: Double) -> Event {
            let start = max(time, linkFree)
            let end = start + expertFetchSeconds
            linkFree = end
            linkBusy += expertFetchSeconds
            let e = Event(kind: kind, step: step, block: block, expert: expert, issuedBy: issuedBy, issued: time, start: start, end: end)
            events.append(e)
            return e
        }
        for (step, blockRoutes) in routes.enumerated() {
            precondition(blockRoutes.count == blocks, "OffloadSimulation: step \(step) has \(blockRoutes.count) blocks, expected \(blocks)")
            // Transfers already issued for the next block (by prefetch), waiting to be used.
            var pending: [Event] = []
            for block in 0..<blocks {
                let active = blockRoutes[block]
                precondition(active.allSatisfy { (0..<experts).contains($0) } && Set(active).count == active.count,
                             "OffloadSimulation: step \(step) block \(block) experts \(active) not distinct in 0..<\(experts)")
                let blockStart = computeFree
                var fetched = pending
                pending = []
                switch policy {
                case .gpuOnly:
                    break
                case .onDemand:
                    fetched = active.map { transfer(.demandFetch, step: step, block: block, expert: $0, issuedBy: block, at: blockStart) }
                case .prefetchAll, .pregated:
                    if block == 0 {
                        let needed = policy == .prefetchAll ? Array(0..<experts) : active
                        fetched = needed.map { transfer(.demandFetch, step: step, block: block, expert: $0, issuedBy: block, at: blockStart) }
                    }
                }
                let ready = fetched.reduce(blockStart) { max($0, $1.end) }
                let computeStart = ready
                stall += computeStart - blockStart
                // The next block's transfers are issued as this block starts computing.
                if block + 1 < blocks {
                    switch policy {
                    case .prefetchAll:
                        pending = (0..<experts).map { transfer(.prefetch, step: step, block: block + 1, expert: $0, issuedBy: block, at: computeStart) }
                    case .pregated:
                        pending = blockRoutes[block + 1].map { transfer(.prefetch, step: step, block: block + 1, expert: $0, issuedBy: block, at: computeStart) }
                    case .gpuOnly, .onDemand:
                        break
                    }
                }
                let computeEnd = computeStart + blockComputeSeconds
                events.append(Event(kind: .compute, step: step, block: block, expert: nil, issuedBy: block, issued: computeStart, start: computeStart, end: computeEnd))
                for f in fetched { intervals.append((f.issued, computeEnd, expertBytes)) }
                computeFree = computeEnd
            }
        }
        let transfers = events.filter { $0.kind != .compute }.count
        let resident: Int
        if policy == .gpuOnly {
            resident = blocks * experts * expertBytes
        } else {
            // Sweep: +bytes at a transfer's issue, −bytes at its block's end (frees before allocations at ties).
            var points: [(time: Double, delta: Int)] = []
            for i in intervals {
                points.append((i.start, i.bytes))
                points.append((i.end, -i.bytes))
            }
            points.sort { a, b in a.time != b.time ? a.time < b.time : a.delta < b.delta }
            var current = 0, peak = 0
            for (_, delta) in points { current += delta; peak = max(peak, current) }
            resident = peak
        }
        let steps = routes.count
        return Result(events: events, totalSeconds: computeFree,
                      secondsPerBlock: steps > 0 ? computeFree / Double(steps * blocks) : 0, steps: steps,
                      transfers: transfers, bytesMigrated: transfers * expertBytes, peakResidentBytes: resident,
                      stallSeconds: stall, linkBusySeconds: linkBusy)
    }
}
