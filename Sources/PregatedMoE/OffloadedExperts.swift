import Foundation
import MLCore

/// Experts offloaded to the slow tier (`ExpertStore`, the HDF5 file) and migrated into a bounded
/// fast tier (`FastTier`) by one copy thread, under one of the paper's four policies (Hwang et al.
/// §4.2–4.3, §5; reference: fetcher.cc, one copy stream and an arena cache):
///
/// - gpu-only: every expert is read into the fast tier at start (needs L·E experts of budget).
/// - on-demand: after a block has routed, its missing experts are queued; the block waits for each.
/// - prefetch-all: block 0 queues all E of its experts; block N, once routed, queues all E of block N+1.
/// - pre-gated: block N queues the missing experts of its own selection (block 0; and any the
///   pre-gate did not predict) and then block N+1's experts chosen by its pre-gate; the last block
///   queues no prefetch.
///
/// The copy thread serves the queue first-in first-out, reading each expert with one partial read
/// of the file (and sleeping to emulate `linkBytesPerSecond` when given) while the caller's thread
/// computes. A prefetch that finds the fast tier full of experts in use is dropped (counted): the
/// block then fetches it on demand.
public final class OffloadedExperts: ExpertSource, @unchecked Sendable {
    /// One entry of the event log (`recordEvents`), for tests and traces.
    public struct Event: Sendable, Equatable {
        /// What happened.
        public enum Kind: String, Sendable {
            /// A block queued a fetch it waits for.
            case demandIssued = "demand-issued"
            /// A block queued a fetch for the next block.
            case prefetchIssued = "prefetch-issued"
            /// The copy thread started / finished reading an expert.
            case fetchStart = "fetch-start"
            /// The expert is in the fast tier.
            case fetchEnd = "fetch-end"
            /// A prefetch dropped for lack of room.
            case dropped
            /// An expert left the fast tier.
            case evict
            /// The compute thread started computing an expert.
            case compute
        }
        /// What happened.
        public var kind: Kind
        /// The expert.
        public var key: ExpertKey
        /// The block that issued it (issue events), or the computing block.
        public var block: Int
        /// Position in the log (a total order across both threads).
        public var sequence: Int
        /// Seconds since the tier was created.
        public var seconds: Double
    }

    /// Counters of a run (`statistics`, reset by `resetStatistics()`).
    public struct Statistics: Sendable {
        /// Expert uses requested by blocks, and how many found the expert resident.
        public var demands = 0
        /// Uses whose expert was resident when the block routed.
        public var hits = 0
        /// Experts read from the slow tier and their bytes (the gpu-only preload excluded).
        public var transfers = 0
        /// Bytes read from the slow tier.
        public var bytesMigrated = 0
        /// Bytes read by the gpu-only preload.
        public var preloadBytes = 0
        /// Prefetches dropped for lack of room.
        public var droppedPrefetches = 0
        /// Time the compute thread waited for experts, seconds.
        public var stallSeconds = 0.0
        /// Time the copy thread spent moving experts, seconds.
        public var copySeconds = 0.0
        /// Fraction of uses that found the expert resident.
        public var hitRate: Double { demands > 0 ? Double(hits) / Double(demands) : 1 }
        /// Fraction of copy time hidden behind compute: 1 − stall / copy (1 without copies).
        public var overlapRatio: Double { copySeconds > 0 ? max(0, 1 - stallSeconds / copySeconds) : 1 }
    }

    /// The policy, the slow tier and the budget.
    public let policy: OffloadPolicy
    /// The slow tier.
    public let store: ExpertStore
    /// Emulated link bandwidth in bytes per second (nil: as fast as the disk and page cache read).
    public let linkBytesPerSecond: Double?
    private let condition = NSCondition()
    private var tier: FastTier
    private var queue: [(key: ExpertKey, block: Int)] = []
    private var requested = Set<ExpertKey>()
    private var pinned = Set<ExpertKey>()
    private var reserved = Set<ExpertKey>()
    private var failure: Error?
    /// Evicted experts' storage, read into again (fresh memory costs page faults).
    private var spare: [Tensor] = []
    private var stopping = false
    private var finished = false
    private var stats = Statistics()
    private var log: [Event] = []
    private let recordEvents: Bool
    private let origin = DispatchTime.now().uptimeNanoseconds

    /// Sets up the tiers and starts the copy thread (gpu-only: reads every expert first).
    /// - Parameters:
    ///   - budgetBytes: the fast tier's cap; at least one block's E experts (gpu-only: all L·E).
    ///   - linkGigabytesPerSecond: emulate a link of this many 10⁹ B/s (nil: no throttle).
    ///   - recordEvents: keep the event log (`events`).
    /// - Throws: `PregatedMoEError.budgetTooSmall`, `.invalidSetting` (non-positive bandwidth);
    ///   the gpu-only preload's `.corruptExpert`.
    public init(store: ExpertStore, policy: OffloadPolicy, budgetBytes: Int, eviction: EvictionPolicy = .lru,
                linkGigabytesPerSecond: Double? = nil, recordEvents: Bool = false) throws {
        let block = store.experts * store.expertBytes
        if policy == .gpuOnly, budgetBytes < store.layers * block {
            throw PregatedMoEError.budgetTooSmall(budgetBytes: budgetBytes, neededBytes: store.layers * block,
                                                  what: "all \(store.layers) × \(store.experts) experts (gpu-only keeps every expert resident)")
        }
        guard budgetBytes >= block else {
            throw PregatedMoEError.budgetTooSmall(budgetBytes: budgetBytes, neededBytes: block,
                                                  what: "one block's \(store.experts) experts of \(store.expertBytes) B")
        }
        if let g = linkGigabytesPerSecond, !(g > 0) {
            throw PregatedMoEError.invalidSetting("the link bandwidth must be positive, got \(g) GB/s")
        }
        self.store = store
        self.policy = policy
        self.linkBytesPerSecond = linkGigabytesPerSecond.map { $0 * 1e9 }
        self.recordEvents = recordEvents
        tier = FastTier(capacityBytes: budgetBytes, eviction: eviction)
        if policy == .gpuOnly {
            for l in 0..<store.layers {
                for e in 0..<store.experts {
                    let key = ExpertKey(layer: l, expert: e)
                    let w = try store.read(layer: l, expert: e)
                    _ = tier.insert(key, w, pinned: [], reserved: [])
                    stats.preloadBytes += w.byteCount
                    record(.fetchEnd, key, block: -1)
                }
            }
        }
        let thread = Thread { [unowned self] in self.copyLoop() }
        thread.name = "pregated-moe copy"
        thread.start()
    }

    deinit { stop() }

    /// Stops the copy thread (waits for it). Idempotent.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    /// The counters so far.
    public var statistics: Statistics {
        condition.lock(); defer { condition.unlock() }
        return stats
    }

    /// Most bytes the fast tier has held.
    public var peakResidentBytes: Int { condition.lock(); defer { condition.unlock() }; return tier.peakBytes }

    /// Zeroes the counters (not the fast tier's content or peak) and clears the event log.
    public func resetStatistics() {
        condition.lock(); defer { condition.unlock() }
        let preload = stats.preloadBytes
        stats = Statistics()
        stats.preloadBytes = preload
        log.removeAll()
    }

    /// The event log (empty unless `recordEvents`).
    public var events: [Event] { condition.lock(); defer { condition.unlock() }; return log }

    private func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds - origin) / 1e9 }

    /// Inside the lock.
    private func record(_ kind: Event.Kind, _ key: ExpertKey, block: Int) {
        guard recordEvents else { return }
        log.append(Event(kind: kind, key: key, block: block, sequence: log.count, seconds: now()))
    }

    /// Inside the lock: queue a fetch unless resident or already queued.
    private func enqueue(_ key: ExpertKey, block: Int, prefetch: Bool) {
        guard !tier.contains(key) && !requested.contains(key) else { return }
        requested.insert(key)
        queue.append((key, block))
        record(prefetch ? .prefetchIssued : .demandIssued, key, block: block)
    }

    /// Pins block `layer`'s experts, counts hits, queues the missing ones (demand) and, per policy, the
    /// next block's (prefetch; none from the last block).
    /// - Throws: the copy thread's first error (e.g. `PregatedMoEError.corruptExpert`).
    public func prepare(layer: Int, active: [Int], predictedNext: [Int]?) throws {
        condition.lock(); defer { condition.unlock() }
        if let failure { throw failure }
        let keys = active.map { ExpertKey(layer: layer, expert: $0) }
        pinned = Set(keys)
        for key in keys {
            stats.demands += 1
            if tier.contains(key) { stats.hits += 1 }
        }
        var demand = keys
        if policy == .prefetchAll && layer == 0 {
            // MoE-Prefetch keeps a block's E experts in the fast tier: block 0 has no prefetch, so it fetches all.
            demand = (0..<store.experts).map { ExpertKey(layer: 0, expert: $0) }
        }
        for key in demand { enqueue(key, block: layer, prefetch: false) }
        if layer + 1 < store.layers {
            let next: [Int]
            switch policy {
            case .prefetchAll: next = Array(0..<store.experts)
            case .pregated: next = predictedNext ?? []
            case .gpuOnly, .onDemand: next = []
            }
            reserved = Set(next.map { ExpertKey(layer: layer + 1, expert: $0) })
            for e in next { enqueue(ExpertKey(layer: layer + 1, expert: e), block: layer, prefetch: true) }
        } else {
            reserved = []
        }
        condition.broadcast()
    }

    /// Waits until the expert is in the fast tier (the wait counts as stall) and returns it.
    /// - Throws: the copy thread's first error.
    public func expert(layer: Int, index: Int) throws -> ExpertWeights {
        let key = ExpertKey(layer: layer, expert: index)
        condition.lock(); defer { condition.unlock() }
        let start = now()
        var waited = false
        while !tier.contains(key) && failure == nil {
            // Evicted or dropped since `prepare`: fetch it now.
            enqueue(key, block: layer, prefetch: false)
            condition.broadcast()
            waited = true
            condition.wait()
        }
        if let failure { throw failure }
        if waited { stats.stallSeconds += now() - start }
        record(.compute, key, block: layer)
        return tier.lookup(key, touch: true)!
    }

    /// Unpins the block's experts.
    public func finish(layer: Int) {
        condition.lock()
        pinned = []
        condition.broadcast()
        condition.unlock()
    }

    /// The copy thread: serve the queue in order until stopped.
    private func copyLoop() {
        condition.lock()
        while true {
            while queue.isEmpty && !stopping { condition.wait() }
            if stopping { break }
            let (key, block) = queue.removeFirst()
            record(.fetchStart, key, block: block)
            let buffer = spare.popLast()
            condition.unlock()
            let start = now()
            let result = Result { try store.read(layer: key.layer, expert: key.expert, reusing: buffer) }
            if let bps = linkBytesPerSecond {
                let target = Double(store.expertBytes) / bps, elapsed = now() - start
                if elapsed < target { Thread.sleep(forTimeInterval: target - elapsed) }
            }
            let seconds = now() - start
            condition.lock()
            requested.remove(key)
            stats.copySeconds += seconds
            switch result {
            case .failure(let error):
                if failure == nil { failure = error }
            case .success(let weights):
                stats.transfers += 1
                stats.bytesMigrated += weights.byteCount
                if let evicted = tier.insert(key, weights, pinned: pinned, reserved: reserved) {
                    for victim in evicted {
                        record(.evict, victim.key, block: block)
                        if spare.count < 4 { spare.append(victim.weights.packed) }
                    }
                    record(.fetchEnd, key, block: block)
                } else {
                    stats.droppedPrefetches += 1
                    record(.dropped, key, block: block)
                }
            }
            condition.broadcast()
        }
        finished = true
        condition.broadcast()
        condition.unlock()
    }
}
