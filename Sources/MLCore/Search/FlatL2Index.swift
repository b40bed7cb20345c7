import Foundation

/// Errors of exact nearest-neighbour search (`FlatL2Index`). One line each: what, and what was expected.
public enum SearchError: CategorizedError, Equatable {
    /// The stored vectors or the queries are not a whole number of `dimension`-wide rows, or the
    /// dimension is not positive.
    case badShape(what: String, count: Int, dimension: Int)
    /// An index with no vector cannot answer a query.
    case emptyIndex
    /// More neighbours asked for than the index holds (`available` excludes the query itself in a
    /// self-search).
    case tooManyNeighbors(k: Int, available: Int)
    /// A vector holds NaN or ±∞ (distances would be meaningless).
    case notFinite(what: String, row: Int)

    /// `.usage` for k, `.badData` for the vectors.
    public var category: ErrorCategory {
        switch self {
        case .tooManyNeighbors: return .usage
        default: return .badData
        }
    }

    public var description: String {
        switch self {
        case .badShape(let what, let count, let dimension):
            return "nearest-neighbour search: \(what) has \(count) floats, expected a positive multiple of the dimension \(dimension)"
        case .emptyIndex:
            return "nearest-neighbour search: the index holds no vector, expected at least one"
        case .tooManyNeighbors(let k, let available):
            return "nearest-neighbour search: k = \(k) neighbours asked for, but only \(available) available (expected 1 ≤ k ≤ \(available))"
        case .notFinite(let what, let row):
            return "nearest-neighbour search: \(what) row \(row) holds NaN or infinity"
        }
    }
}

/// The k nearest stored vectors of each query, nearest first.
public struct Neighbors: Sendable, Equatable {
    /// Neighbours per query.
    public let k: Int
    /// Row indices into the index, [queries, k] row-major, nearest first.
    public var indices: [Int32]
    /// Squared Euclidean distances, [queries, k] row-major, non-decreasing along each row, ≥ 0.
    public var distances: [Float]
    /// Number of queries.
    public var queryCount: Int { k == 0 ? 0 : indices.count / k }
}

/// Exact k-nearest-neighbour search under the squared Euclidean distance over a fixed set of vectors
/// (the role of faiss `IndexFlatL2`).
///
/// Distances go through GEMM: ‖q − m‖² = ‖q‖² − 2 q·m + ‖m‖², with ‖m‖² precomputed. Queries run in
/// blocks of `queryBlock` rows against tiles of `bankTile` stored vectors, one `sgemm` per (block, tile)
/// into a per-thread scratch buffer; a bounded, sorted top-k list per query is kept by insertion.
/// Query blocks are spread over `Threading.count` threads, each GEMM whole on its thread (measured
/// faster than one GEMM split over the threads per block on 2 cores, Docs/PERFORMANCE.md); with a
/// single block, `BLAS.sgemm` splits the GEMM itself. Negative distances from rounding are clamped to 0.
/// Searches are safe to call from one thread at a time.
public final class FlatL2Index: @unchecked Sendable {
    /// Width of every vector (D).
    public let dimension: Int
    /// Stored vectors (M).
    public let count: Int
    /// The stored vectors, [M, D] row-major.
    public let vectors: [Float]
    /// ‖m‖² of each stored vector, [M].
    public let squaredNorms: [Float]
    /// Query rows per GEMM.
    public var queryBlock = 256
    /// Stored vectors per GEMM.
    public var bankTile = 4096
    /// Spread query blocks over threads, one whole GEMM per block and thread (default); false runs
    /// the blocks in turn, each GEMM split over the threads, and the top-k merge on one thread.
    public var parallelOverQueryBlocks = true

    /// Indexes `vectors` ([M, D] row-major).
    /// - Throws: `SearchError.badShape` (not a positive multiple of `dimension`), `.notFinite`.
    public init(vectors: [Float], dimension: Int) throws {
        guard dimension > 0, !vectors.isEmpty, vectors.count % dimension == 0 else {
            throw SearchError.badShape(what: "the indexed vectors", count: vectors.count, dimension: dimension)
        }
        self.dimension = dimension
        self.count = vectors.count / dimension
        self.vectors = vectors
        self.squaredNorms = try FlatL2Index.squaredNorms(vectors, dimension: dimension, what: "indexed vector")
    }

    /// The `k` nearest stored vectors of each query ([Q, D] row-major), nearest first.
    /// - Throws: `SearchError.badShape`, `.notFinite`, `.tooManyNeighbors` (k < 1 or k > M).
    public func search(_ queries: [Float], k: Int) throws -> Neighbors {
        guard !queries.isEmpty, queries.count % dimension == 0 else {
            throw SearchError.badShape(what: "the queries", count: queries.count, dimension: dimension)
        }
        guard k >= 1, k <= count else { throw SearchError.tooManyNeighbors(k: k, available: count) }
        let norms = try FlatL2Index.squaredNorms(queries, dimension: dimension, what: "query")
        return queries.withUnsafeBufferPointer { q in
            run(queries: q.baseAddress!, norms: norms, k: k, excludeSelf: false, skipping: nil)
        }
    }

    /// The `k` nearest stored vectors of each query ([Q, D] row-major), nearest first, leaving out
    /// stored row `skipping[i]` for query i (−1: none) — the neighbours among *other* stored vectors of
    /// queries that are themselves stored (REB's density of a coreset point among all training patches,
    /// Docs/reb.md). Skipped by index, not by a zero distance, so duplicates still count.
    /// - Throws: `SearchError.badShape` (also when `skipping` has not one entry per query), `.notFinite`,
    ///   `.tooManyNeighbors` (k < 1 or k > M − 1).
    public func search(_ queries: [Float], k: Int, skipping: [Int]) throws -> Neighbors {
        guard !queries.isEmpty, queries.count % dimension == 0, skipping.count == queries.count / dimension else {
            throw SearchError.badShape(what: "the queries (with one skipped row each)", count: queries.count, dimension: dimension)
        }
        guard k >= 1, k <= count - 1 else { throw SearchError.tooManyNeighbors(k: k, available: count - 1) }
        let norms = try FlatL2Index.squaredNorms(queries, dimension: dimension, what: "query")
        return queries.withUnsafeBufferPointer { q in
            run(queries: q.baseAddress!, norms: norms, k: k, excludeSelf: false, skipping: skipping)
        }
    }

    /// The `k` nearest *other* stored vectors of every stored vector (the vector itself is skipped by
    /// index, not by a zero distance, so duplicates still count as neighbours at distance 0).
    /// - Throws: `SearchError.tooManyNeighbors` (k < 1 or k > M − 1).
    public func selfNeighbors(k: Int) throws -> Neighbors {
        guard k >= 1, k <= count - 1 else { throw SearchError.tooManyNeighbors(k: k, available: count - 1) }
        return vectors.withUnsafeBufferPointer { q in
            run(queries: q.baseAddress!, norms: squaredNorms, k: k, excludeSelf: true, skipping: nil)
        }
    }

    static func squaredNorms(_ v: [Float], dimension d: Int, what: String) throws -> [Float] {
        let n = v.count / d
        var norms = [Float](repeating: 0, count: n)
        var bad = -1
        v.withUnsafeBufferPointer { p in
            norms.withUnsafeMutableBufferPointer { out in
                for i in 0..<n {
                    var s: Float = 0
                    let row = p.baseAddress! + i * d
                    for j in 0..<d { s += row[j] * row[j] }
                    out[i] = s
                    if !s.isFinite && bad < 0 { bad = i }
                }
            }
        }
        if bad >= 0 { throw SearchError.notFinite(what: what, row: bad) }
        return norms
    }

    private func run(queries: UnsafePointer<Float>, norms: [Float], k: Int, excludeSelf: Bool, skipping: [Int]?) -> Neighbors {
        let q = norms.count, d = dimension
        var indices = [Int32](repeating: -1, count: q * k)
        var distances = [Float](repeating: .infinity, count: q * k)
        let qb = Swift.max(1, queryBlock), tile = Swift.max(1, bankTile)
        let blocks = (q + qb - 1) / qb
        let threads = Threading.count
        let parallelBlocks = parallelOverQueryBlocks && blocks >= 2 && threads > 1
        indices.withUnsafeMutableBufferPointer { ip in
            distances.withUnsafeMutableBufferPointer { dp in
                vectors.withUnsafeBufferPointer { mp in
                    squaredNorms.withUnsafeBufferPointer { mn in
                        norms.withUnsafeBufferPointer { qn in
                            let ctx = UncheckedSendable((ip.baseAddress!, dp.baseAddress!, mp.baseAddress!, mn.baseAddress!, qn.baseAddress!))
                            let body: (Range<Int>) -> Void = { range in
                                let (ip, dp, mp, mn, qn) = ctx.value
                                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: qb * Swift.min(tile, self.count))
                                defer { scratch.deallocate() }
                                for block in range {
                                    let q0 = block * qb, rows = Swift.min(qb, q - q0)
                                    var m0 = 0
                                    while m0 < self.count {
                                        let cols = Swift.min(tile, self.count - m0)
                                        BLAS.sgemm(transA: false, transB: true, m: rows, n: cols, k: d, alpha: -2,
                                                   a: queries + q0 * d, lda: d, b: mp + m0 * d, ldb: d, beta: 0, c: scratch, ldc: cols,
                                                   split: !parallelBlocks)
                                        for r in 0..<rows {
                                            let qi = q0 + r
                                            FlatL2Index.merge(row: scratch + r * cols, count: cols, offset: m0, queryNorm: qn[qi],
                                                              bankNorms: mn + m0, skip: excludeSelf ? qi : (skipping?[qi] ?? -1), k: k,
                                                              bestD: dp + qi * k, bestI: ip + qi * k)
                                        }
                                        m0 += cols
                                    }
                                    for i in q0 * k ..< (q0 + rows) * k where dp[i] < 0 { dp[i] = 0 }
                                }
                            }
                            if parallelBlocks {
                                Threading.parallelFor(blocks, grain: 1, body)
                            } else {
                                body(0..<blocks)
                            }
                        }
                    }
                }
            }
        }
        return Neighbors(k: k, indices: indices, distances: distances)
    }

    /// Folds one row of −2·q·m products into the sorted top-k list of a query.
    @inline(__always)
    static func merge(row: UnsafeMutablePointer<Float>, count: Int, offset: Int, queryNorm: Float,
                      bankNorms: UnsafePointer<Float>, skip: Int, k: Int,
                      bestD: UnsafeMutablePointer<Float>, bestI: UnsafeMutablePointer<Int32>) {
        var worst = bestD[k - 1]
        for j in 0..<count {
            let dist = row[j] + bankNorms[j] + queryNorm
            guard dist < worst else { continue }
            let index = offset + j
            if index == skip { continue }
            var p = k - 1
            while p > 0 && bestD[p - 1] > dist {
                bestD[p] = bestD[p - 1]
                bestI[p] = bestI[p - 1]
                p -= 1
            }
            bestD[p] = dist
            bestI[p] = Int32(index)
            worst = bestD[k - 1]
        }
    }
}
