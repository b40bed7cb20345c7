import XCTest
@testable import MLCore

/// `FlatL2Index` against a brute-force double-precision reference on random data, over several query
/// blocks and bank tiles, and its errors.
final class FlatL2IndexTests: XCTestCase {
    /// The k nearest of each query by direct Σ (q − m)² in Double, ties to the lower index.
    private func bruteForce(_ q: [Float], _ m: [Float], d: Int, k: Int, skipSelf: Bool) -> (indices: [Int32], distances: [Double]) {
        var indices: [Int32] = [], distances: [Double] = []
        for i in 0..<(q.count / d) {
            var all: [(Double, Int)] = []
            for j in 0..<(m.count / d) where !(skipSelf && i == j) {
                var s = 0.0
                for t in 0..<d { let diff = Double(q[i * d + t]) - Double(m[j * d + t]); s += diff * diff }
                all.append((s, j))
            }
            all.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            indices += all.prefix(k).map { Int32($0.1) }
            distances += all.prefix(k).map(\.0)
        }
        return (indices, distances)
    }

    func testSearchMatchesBruteForceAcrossBlocksAndTiles() throws {
        var rng = RandomGenerator(seed: 7)
        let d = 24, m = 1_100, q = 300, k = 5
        let bank = (0..<(m * d)).map { _ in rng.normal() }
        let queries = (0..<(q * d)).map { _ in rng.normal() }
        let index = try FlatL2Index(vectors: bank, dimension: d)
        index.queryBlock = 64   // 5 blocks, the last partial
        index.bankTile = 256    // 5 tiles, the last partial
        let found = try index.search(queries, k: k)
        let reference = bruteForce(queries, bank, d: d, k: k, skipSelf: false)
        XCTAssertEqual(found.queryCount, q)
        XCTAssertEqual(found.indices, reference.indices)
        for (a, b) in zip(found.distances, reference.distances) { XCTAssertEqual(Double(a), b, accuracy: 1e-4 * max(1, b)) }
        // One block and one tile (threaded GEMM path) gives the same neighbours.
        index.queryBlock = 4096
        index.bankTile = 4096
        XCTAssertEqual(try index.search(queries, k: k).indices, reference.indices)
    }

    /// Self-search skips each vector by index: a duplicate still counts at distance 0, never the vector itself.
    func testSelfNeighborsSkipSelfByIndexAndKeepDuplicates() throws {
        var rng = RandomGenerator(seed: 3)
        let d = 8
        var bank = (0..<(200 * d)).map { _ in rng.normal() }
        bank.replaceSubrange((5 * d)..<(6 * d), with: bank[(17 * d)..<(18 * d)])  // row 5 duplicates row 17
        let index = try FlatL2Index(vectors: bank, dimension: d)
        index.queryBlock = 32
        index.bankTile = 50
        let found = try index.selfNeighbors(k: 3)
        let reference = bruteForce(bank, bank, d: d, k: 3, skipSelf: true)
        XCTAssertEqual(found.indices, reference.indices)
        for i in 0..<200 { XCTAssertFalse(found.indices[(i * 3)..<(i * 3 + 3)].contains(Int32(i))) }
        XCTAssertEqual(found.indices[5 * 3], 17)
        XCTAssertEqual(found.distances[5 * 3], 0)  // clamped: the GEMM form gives ≈ 0, possibly negative
        XCTAssertTrue(found.distances.allSatisfy { $0 >= 0 })
    }

    func testErrors() throws {
        XCTAssertThrowsError(try FlatL2Index(vectors: [1, 2, 3], dimension: 2)) {
            XCTAssertEqual($0 as? SearchError, .badShape(what: "the indexed vectors", count: 3, dimension: 2))
        }
        XCTAssertThrowsError(try FlatL2Index(vectors: [1, .nan, 3, 4], dimension: 2)) {
            XCTAssertEqual($0 as? SearchError, .notFinite(what: "indexed vector", row: 0))
        }
        let index = try FlatL2Index(vectors: [0, 0, 1, 1, 2, 2], dimension: 2)
        XCTAssertThrowsError(try index.search([0, 0], k: 4)) { XCTAssertEqual($0 as? SearchError, .tooManyNeighbors(k: 4, available: 3)) }
        XCTAssertThrowsError(try index.selfNeighbors(k: 3)) { XCTAssertEqual(($0 as? SearchError)?.category, .usage) }
        XCTAssertThrowsError(try index.search([0, 0, 1], k: 1)) { XCTAssertEqual(($0 as? SearchError)?.category, .badData) }
    }
}
