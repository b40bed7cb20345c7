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

    /// Search with one skipped stored row per query (stored rows used as queries, as REB's density of
    /// coreset points among all patches): identical to a brute force that leaves that row out; a
    /// duplicate of the query still counts at distance 0; −1 skips nothing; bad shapes and k are errors.
    func testSearchSkippingOneRowPerQueryMatchesBruteForce() throws {
        var rng = RandomGenerator(seed: 11)
        let d = 16, m = 700
        var bank = (0..<(m * d)).map { _ in rng.normal() }
        bank.replaceSubrange((40 * d)..<(41 * d), with: bank[(300 * d)..<(301 * d)])  // row 40 duplicates row 300
        let rows = [300, 3, 650, 40, 0, 699]
        let queries = rows.flatMap { bank[($0 * d)..<(($0 + 1) * d)] }
        let index = try FlatL2Index(vectors: bank, dimension: d)
        index.queryBlock = 4
        index.bankTile = 128
        let found = try index.search(queries, k: 4, skipping: rows)
        for (i, row) in rows.enumerated() {
            // Brute force over every stored row except `row`.
            var all: [(Double, Int)] = []
            for j in 0..<m where j != row {
                var s = 0.0
                for t in 0..<d { let diff = Double(queries[i * d + t]) - Double(bank[j * d + t]); s += diff * diff }
                all.append((s, j))
            }
            all.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            XCTAssertEqual(found.indices[(i * 4)..<(i * 4 + 4)].map(Int.init), all.prefix(4).map(\.1), "query \(i)")
            for (a, b) in zip(found.distances[(i * 4)..<(i * 4 + 4)], all.prefix(4)) { XCTAssertEqual(Double(a), b.0, accuracy: 1e-4 * max(1, b.0)) }
        }
        XCTAssertEqual(found.indices[0], 40)   // row 300's duplicate, at distance 0
        XCTAssertEqual(found.distances[0], 0, accuracy: 1e-4)  // GEMM rounding: ≈ 0, not exactly
        XCTAssertEqual(found.indices[3 * 4], 300)
        // −1 skips nothing: the query row itself comes first.
        let unskipped = try index.search(Array(queries[0..<d]), k: 1, skipping: [-1])
        XCTAssertTrue([300, 40].contains(Int(unskipped.indices[0])))
        XCTAssertThrowsError(try index.search(queries, k: 4, skipping: [1])) { XCTAssertEqual(($0 as? SearchError)?.category, .badData) }
        XCTAssertThrowsError(try index.search(queries, k: m, skipping: rows)) { XCTAssertEqual(($0 as? SearchError)?.category, .usage) }
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
