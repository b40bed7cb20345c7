import MLCore

/// One expert of one MoE block.
public struct ExpertKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Block index N.
    public var layer: Int
    /// Expert index in 0..<E.
    public var expert: Int
    /// - Parameters: see the properties.
    public init(layer: Int, expert: Int) {
        self.layer = layer
        self.expert = expert
    }
    /// Layer, then expert.
    public static func < (a: ExpertKey, b: ExpertKey) -> Bool { (a.layer, a.expert) < (b.layer, b.expert) }
    /// "layer/expert".
    public var description: String { "\(layer)/\(expert)" }
}

/// Which resident expert the fast tier evicts when it needs room (the paper's arena cache, §5).
public enum EvictionPolicy: String, CaseIterable, Sendable {
    /// Least recently used.
    case lru
    /// Least frequently used (ties: least recently used).
    case lfu
}

/// The fast tier: a byte-capped in-memory cache of expert weights (the paper's GPU memory). Not
/// thread-safe by itself: `OffloadedExperts` guards it with its lock. Entries that are `pinned` (the
/// block computing now) are never evicted; `reserved` ones (prefetched for the next block) only to make
/// room for a pinned one.
public struct FastTier {
    /// The byte cap.
    public let capacityBytes: Int
    /// The eviction order.
    public let eviction: EvictionPolicy
    private var entries: [ExpertKey: (weights: ExpertWeights, lastUse: Int, uses: Int)] = [:]
    private var clock = 0
    /// Bytes held now, and the most ever held.
    public private(set) var residentBytes = 0
    /// The most bytes ever held.
    public private(set) var peakBytes = 0

    /// - Parameters: see the properties.
    public init(capacityBytes: Int, eviction: EvictionPolicy) {
        self.capacityBytes = capacityBytes
        self.eviction = eviction
    }

    /// The weights of a resident expert (nil when absent); counts a use when `touch`.
    public mutating func lookup(_ key: ExpertKey, touch: Bool) -> ExpertWeights? {
        guard let entry = entries[key] else { return nil }
        if touch {
            clock += 1
            entries[key] = (entry.weights, clock, entry.uses + 1)
        }
        return entry.weights
    }

    /// Whether `key` is resident.
    public func contains(_ key: ExpertKey) -> Bool { entries[key] != nil }

    /// Inserts `weights`, evicting unpinned entries (reserved ones last, and only for a pinned key).
    /// - Returns: the evicted entries, or nil when there is no room (the insert is dropped).
    public mutating func insert(_ key: ExpertKey, _ weights: ExpertWeights, pinned: Set<ExpertKey>,
                                reserved: Set<ExpertKey>) -> [(key: ExpertKey, weights: ExpertWeights)]? {
        if entries[key] != nil { return [] }
        let bytes = weights.byteCount
        var evicted: [(key: ExpertKey, weights: ExpertWeights)] = []
        while residentBytes + bytes > capacityBytes {
            let free = entries.keys.filter { !pinned.contains($0) && !reserved.contains($0) }
            let candidates = free.isEmpty && pinned.contains(key) ? entries.keys.filter { !pinned.contains($0) } : free
            guard let victim = candidates.min(by: { order($0) < order($1) }) else { return nil }
            let gone = entries.removeValue(forKey: victim)!.weights
            residentBytes -= gone.byteCount
            evicted.append((victim, gone))
        }
        clock += 1
        entries[key] = (weights, clock, 0)
        residentBytes += bytes
        peakBytes = max(peakBytes, residentBytes)
        return evicted
    }

    /// Eviction rank: smaller goes first.
    private func order(_ key: ExpertKey) -> (Int, Int, ExpertKey) {
        let e = entries[key]!
        return eviction == .lru ? (e.lastUse, 0, key) : (e.uses, e.lastUse, key)
    }
}
