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
        XCTAssertEqual(found.distances[5 * 3], 0)  // re-ranked by the direct difference: exactly 0
        XCTAssertTrue(found.distances.allSatisfy { $0 >= 0 })
    }

    /// faiss issue 5327's case: a query with coordinates ≈ 10⁴ and stored points at squared distances
    /// 10000, 25, 2 and 0 (hand-made: offsets (100, 0, 0, 0), (3, 4, 0, 0), (1, 0, 1, 0), 0). The
    /// expanded form in Float gave ids [1, 2, 3, 0] at [0, 0, 0, 9984]; the exact answer is below.
    func testSmallDistancesNextToLargeNormsAreExact() throws {
        let q: [Float] = [10_000, 10_003, 9_998, 10_001]
        let offsets: [[Float]] = [[100, 0, 0, 0], [3, 4, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]
        let bank = offsets.flatMap { o in zip(q, o).map { $0 + $1 } }
        let index = try FlatL2Index(vectors: bank, dimension: 4)
        let found = try index.search(q, k: 4)
        XCTAssertEqual(found.indices, [3, 2, 1, 0])
        XCTAssertEqual(found.distances, [0, 2, 25, 10_000])
    }

    /// A 20 × 15 grid of unit spacing at ≈ 10⁴ (300 rows): the query equal to row 0 has exactly one
    /// neighbour at 0 (itself), then rows 1 and 15 at 1 (ties to the lower index); its self-neighbours
    /// are rows 1 and 15 at 1, and every row's nearest other row is at 1.
    func testGridQueryEqualToARowHasOneNeighbourAtZero() throws {
        var bank: [Float] = []
        for i in 0..<20 { for j in 0..<15 { bank += [12_345 + Float(i), 23_456 + Float(j)] } }
        let index = try FlatL2Index(vectors: bank, dimension: 2)
        let found = try index.search(Array(bank[0..<2]), k: 3)
        XCTAssertEqual(found.indices, [0, 1, 15])
        XCTAssertEqual(found.distances, [0, 1, 1])
        let own = try index.selfNeighbors(k: 2)
        XCTAssertEqual(Array(own.indices[0..<2]), [1, 15])
        XCTAssertEqual(Array(own.distances[0..<2]), [1, 1])
        for r in 0..<300 { XCTAssertEqual(own.distances[r * 2], 1, "row \(r)") }
    }

    /// Two tight clusters far apart (±10⁴ along every axis, spread 10⁻¹): the bank's mean is near 0, so
    /// centring does not help and the GEMM's error (≈ 10⁻⁴ of 10⁸·D) dwarfs the within-cluster
    /// distances. The re-ranking and, where the error bound leaves doubt, the direct scan must still give
    /// the brute-force neighbours and distances.
    func testFarClustersStayExactThroughTheScan() throws {
        var rng = RandomGenerator(seed: 11)
        let d = 16, m = 400, q = 50, k = 4
        let bank = (0..<m).flatMap { i in (0..<d).map { _ in (i % 2 == 0 ? 10_000 : -10_000) + 0.1 * rng.normal() } }
        let queries = (0..<q).flatMap { i in (0..<d).map { _ in (i % 2 == 0 ? -10_000 : 10_000) + 0.1 * rng.normal() } }
        let index = try FlatL2Index(vectors: bank, dimension: d)
        index.queryBlock = 16
        index.bankTile = 128
        let found = try index.search(queries, k: k)
        let reference = bruteForce(queries, bank, d: d, k: k, skipSelf: false)
        XCTAssertEqual(found.indices, reference.indices)
        for (a, b) in zip(found.distances, reference.distances) { XCTAssertEqual(Double(a), b, accuracy: 1e-3 * b) }
        XCTAssertGreaterThan(index.lastScannedQueries, 0, "the case must exercise the direct scan")
        let own = try index.selfNeighbors(k: k)
        let ownReference = bruteForce(bank, bank, d: d, k: k, skipSelf: true)
        XCTAssertEqual(own.indices, ownReference.indices)
        for (a, b) in zip(own.distances, ownReference.distances) { XCTAssertEqual(Double(a), b, accuracy: 1e-3 * b) }
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
