import XCTest
@testable import MLCore
@testable import PregatedMoE

/// The fast tier's byte cap and eviction orders on hand-made sequences.
final class FastTierTests: XCTestCase {
    /// A 1-neuron, width-1 expert: 3 floats = 12 bytes.
    private let w = ExpertWeights(packed: Tensor([1, 2, 3], shape: [3, 1, 1]))
    private func key(_ e: Int) -> ExpertKey { ExpertKey(layer: 0, expert: e) }

    /// Capacity 3 experts. Insert 0, 1, 2 (clock 1, 2, 3); use 0 twice (clock 4, 5) and 1 once (6).
    /// Inserting 3 evicts 2 under both orders (LRU: last use 3 is the oldest; LFU: 0 uses). Use 3
    /// three times (clock 8–10). Inserting 4 evicts 0 under LRU (last use 5 < 6 < 10) but 1 under LFU
    /// (1 use < 2 < 3).
    func testLRUAndLFUOrders() {
        for (policy, second) in [(EvictionPolicy.lru, 0), (.lfu, 1)] {
            var tier = FastTier(capacityBytes: 36, eviction: policy)
            for e in 0..<3 { XCTAssertEqual(tier.insert(key(e), w, pinned: [], reserved: [])?.count, 0) }
            _ = tier.lookup(key(0), touch: true)
            _ = tier.lookup(key(0), touch: true)
            _ = tier.lookup(key(1), touch: true)
            XCTAssertEqual(tier.insert(key(3), w, pinned: [], reserved: [])?.map(\.key), [key(2)], "\(policy)")
            for _ in 0..<3 { _ = tier.lookup(key(3), touch: true) }
            XCTAssertEqual(tier.insert(key(4), w, pinned: [], reserved: [])?.map(\.key), [key(second)], "\(policy)")
            XCTAssertEqual(tier.residentBytes, 36)
            XCTAssertEqual(tier.peakBytes, 36)
        }
    }

    /// Pinned entries are never evicted; reserved ones only for a pinned insert; otherwise the insert
    /// is dropped (nil) and nothing changes.
    func testPinnedAndReserved() {
        var tier = FastTier(capacityBytes: 24, eviction: .lru)
        _ = tier.insert(key(0), w, pinned: [], reserved: [])
        _ = tier.insert(key(1), w, pinned: [], reserved: [])
        XCTAssertNil(tier.insert(key(2), w, pinned: [key(0)], reserved: [key(1)]), "no room: dropped")
        XCTAssertTrue(tier.contains(key(0)) && tier.contains(key(1)) && !tier.contains(key(2)))
        XCTAssertEqual(tier.insert(key(2), w, pinned: [key(0), key(2)], reserved: [key(1)])?.map(\.key), [key(1)],
                       "a pinned insert may evict a reserved entry")
        XCTAssertNil(tier.insert(key(3), w, pinned: [key(0), key(2)], reserved: []))
    }
}
