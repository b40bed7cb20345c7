import XCTest
import MLCore
@testable import REB

/// Coreset selection, the split, and the memory bank file with its checks.
final class MemoryBankTests: XCTestCase {
    private func provenance(ratio: Double = 1) -> BankProvenance {
        BankProvenance(backbone: "b.h5", backboneSHA256: "abc", features: PatchFeatureConfig(inputSize: 64, stages: [2, 4], dimension: 4),
                       imageHeight: 250, imageWidth: 250, dataset: "d.h5", trainImages: 3, seed: 9, coresetRatio: ratio, totalPatches: 0)
    }

    /// Three tight, far-apart clusters: a 3-point greedy coreset takes one point of each.
    func testGreedyCoresetCoversClusters() throws {
        var rng = RandomGenerator(seed: 2)
        let centres: [[Float]] = [[0, 0, 0, 0], [100, 0, 0, 0], [0, 0, 100, 100]]
        var rows: [Float] = []
        for i in 0..<300 { rows += centres[i % 3].map { $0 + rng.normal() * 0.1 } }
        let x = Tensor(rows, shape: [300, 4])
        let picked = try GreedyCoreset.select(x, ratio: 0.01, projectionDimension: 4, rng: &rng)
        XCTAssertEqual(picked.count, 3)
        XCTAssertEqual(Set(picked.map { $0 % 3 }), [0, 1, 2])
        XCTAssertEqual(try GreedyCoreset.select(x, ratio: 1, rng: &rng), Array(0..<300))
        XCTAssertThrowsError(try GreedyCoreset.select(x, ratio: 0, rng: &rng))
    }

    func testSplitIsSeededDisjointAndComplete() throws {
        let labels = [0, 0, 1, 0, 2, 0, 0, 1, 0, 0]
        let a = try AnomalySplit(labels: labels, trainCount: 3, seed: 4)
        XCTAssertEqual(a, try AnomalySplit(labels: labels, trainCount: 3, seed: 4))
        XCTAssertEqual(a.train.count, 3)
        XCTAssertTrue(Set(a.train).isDisjoint(with: a.test))
        XCTAssertEqual(Set(a.train + a.test), Set(0..<10))
        XCTAssertTrue(a.train.allSatisfy { labels[$0] == 0 })
        XCTAssertEqual(a.test.filter { labels[$0] > 0 }, [2, 4, 7])
        XCTAssertEqual(a.limitingTest(perLabel: 1, labels: labels).map { labels[$0] }.sorted(), [0, 1, 2])
        XCTAssertThrowsError(try AnomalySplit(labels: labels, trainCount: 0, seed: 4)) { XCTAssertEqual(($0 as? REBError)?.category, .usage) }
        XCTAssertThrowsError(try AnomalySplit(labels: labels, trainCount: 7, seed: 4))  // no held-out normal left
        XCTAssertThrowsError(try AnomalySplit(labels: [1, 2], trainCount: 1, seed: 4))  // no normal image
    }

    /// build → write → read keeps features and neighbour distances; ρ matches a hand computation;
    /// a K beyond the bank or another backbone/feature size is refused.
    func testBankRoundTripAndChecks() throws {
        // Four 4-d points on a line: 0, 1, 3, 6 (first coordinate). Neighbour d² of 0: 1, 9; of 1: 1, 4;
        // of 3: 4, 9; of 6: 9, 25. ρ (K = 2) = 5, 2.5, 6.5, 17.
        let x = Tensor([0, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 6, 0, 0, 0], shape: [4, 4])
        var rng = RandomGenerator(seed: 0)
        let bank = try MemoryBank.build(patches: x, maxK: 2, provenance: provenance(), rng: &rng)
        XCTAssertEqual(try bank.densities(k: 2), [5, 2.5, 6.5, 17])
        XCTAssertThrowsError(try MemoryBank.build(patches: x, maxK: 4, provenance: provenance(), rng: &rng)) {
            XCTAssertEqual(($0 as? REBError)?.category, .usage)
        }
        let path = NSTemporaryDirectory() + "reb-bank-\(UUID().uuidString).h5"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try bank.write(to: path)
        let back = try MemoryBank.read(from: path)
        XCTAssertEqual(back.features, bank.features)
        XCTAssertEqual(back.neighborDistances, bank.neighborDistances)
        XCTAssertEqual(back.provenance, bank.provenance)
        XCTAssertNoThrow(try back.check(backboneSHA256: "abc", backbone: "b.h5", features: back.provenance.features, file: path))
        XCTAssertThrowsError(try back.check(backboneSHA256: "def", backbone: "other.h5", features: back.provenance.features, file: path)) {
            XCTAssertTrue("\($0)".contains("backbone"), "\($0)")
        }
        var wider = back.provenance.features
        wider.dimension = 8
        XCTAssertThrowsError(try back.check(backboneSHA256: "abc", backbone: "b.h5", features: wider, file: path)) {
            XCTAssertTrue("\($0)".contains("feature size"), "\($0)")
        }
        // A file that is not a bank.
        let other = NSTemporaryDirectory() + "reb-notbank-\(UUID().uuidString).h5"
        defer { try? FileManager.default.removeItem(atPath: other) }
        try HDF5File.createAtomically(other) { try $0.root.createDataset("x", shape: [1], data: [Float(1)]) }
        XCTAssertThrowsError(try MemoryBank.read(from: other)) { XCTAssertEqual(($0 as? REBError)?.category, .badData) }
    }
}
