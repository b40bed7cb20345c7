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
/// (the role of faiss `IndexFlatL2`), exact also where distances are small next to the vectors' norms.
///
/// Candidates come from GEMM: ‖q − m‖² ≈ ‖q‖² − 2 q·m + ‖m‖² on vectors centred on the stored
/// vectors' mean (a translation changes no distance but shrinks the norms the rounding error scales
/// with). Queries run in blocks of `queryBlock` rows against tiles of `bankTile` stored vectors, one
/// `sgemm` per (block, tile) into a per-thread scratch buffer; a bounded, sorted list of the
/// k + `extraCandidates` approximately nearest is kept per query by insertion. The candidates are
/// then re-ranked by the direct Σ (qᵢ − mᵢ)² of the original vectors (ties to the lower index), and
/// the result is checked against the GEMM's rounding-error bound (Higham, *Accuracy and Stability of
/// Numerical Algorithms*, §3.1: |fl(x·y) − x·y| ≤ γ_D Σ|xᵢyᵢ|): when a vector outside the candidate
/// list could still be nearer than the k-th re-ranked one, that query is answered by a direct scan of
/// every stored vector. So the expanded form's cancellation (faiss issue 5327: points at 0, 2, 25 and
/// 10⁴ from a query whose coordinates are ≈ 10⁴ came back as 0, 0, 0 and 9984) cannot reorder or zero
/// distances. Query blocks are spread over `Threading.count` threads, each GEMM whole on its thread
/// (Docs/PERFORMANCE.md); with a single block, `BLAS.sgemm` splits the GEMM itself.
/// Searches are safe to call from one thread at a time.
public final class FlatL2Index: @unchecked Sendable {
    /// Width of every vector (D).
    public let dimension: Int
    /// Stored vectors (M).
    public let count: Int
    /// The stored vectors, [M, D] row-major.
    public let vectors: [Float]
    /// The mean of the stored vectors, [D]: subtracted from stored vectors and queries before the GEMM.
    public let mean: [Float]
    /// The stored vectors minus `mean`, [M, D] row-major (the GEMM's operand).
    let centered: [Float]
    /// ‖m − mean‖² of each stored vector, [M].
    public let squaredNorms: [Float]
    /// The largest of `squaredNorms`.
    let largestSquaredNorm: Float
    /// Query rows per GEMM.
    public var queryBlock = 256
    /// Stored vectors per GEMM.
    public var bankTile = 4096
    /// Candidates kept per query beyond k for the exact re-ranking.
    public var extraCandidates = 8
    /// Spread query blocks over threads, one whole GEMM per block and thread (default); false runs
    /// the blocks in turn, each GEMM split over the threads, and the top-k merge on one thread.
    public var parallelOverQueryBlocks = true
    /// Queries of the last search answered by a direct scan of every stored vector, because the GEMM's
    /// error bound left a vector outside the candidate list that could be nearer (diagnostics, tests).
    public private(set) var lastScannedQueries = 0

    /// Indexes `vectors` ([M, D] row-major).
    /// - Throws: `SearchError.badShape` (not a positive multiple of `dimension`), `.notFinite`.
    public init(vectors: [Float], dimension: Int) throws {
        guard dimension > 0, !vectors.isEmpty, vectors.count % dimension == 0 else {
            throw SearchError.badShape(what: "the indexed vectors", count: vectors.count, dimension: dimension)
        }
        let d = dimension, m = vectors.count / dimension
        for i in 0..<m where !(vectors[(i * d)..<((i + 1) * d)].allSatisfy(\.isFinite)) {
            throw SearchError.notFinite(what: "indexed vector", row: i)
        }
        var sum = [Double](repeating: 0, count: d)
        for i in 0..<m {
            for j in 0..<d { sum[j] += Double(vectors[i * d + j]) }
        }
        let mean = sum.map { Float($0 / Double(m)) }
        var centered = vectors
        for i in 0..<m {
            for j in 0..<d { centered[i * d + j] -= mean[j] }
        }
        self.dimension = d
        self.count = m
        self.vectors = vectors
        self.mean = mean
        self.centered = centered
        self.squaredNorms = try FlatL2Index.squaredNorms(centered, dimension: d, what: "indexed vector")
        self.largestSquaredNorm = squaredNorms.max() ?? 0
    }

    /// The `k` nearest stored vectors of each query ([Q, D] row-major), nearest first.
    /// - Throws: `SearchError.badShape`, `.notFinite`, `.tooManyNeighbors` (k < 1 or k > M).
    public func search(_ queries: [Float], k: Int) throws -> Neighbors {
        guard !queries.isEmpty, queries.count % dimension == 0 else {
            throw SearchError.badShape(what: "the queries", count: queries.count, dimension: dimension)
        }
        guard k >= 1, k <= count else { throw SearchError.tooManyNeighbors(k: k, available: count) }
        let q = queries.count / dimension
        for i in 0..<q where !(queries[(i * dimension)..<((i + 1) * dimension)].allSatisfy(\.isFinite)) {
            throw SearchError.notFinite(what: "query", row: i)
        }
        return queries.withUnsafeBufferPointer { p in
            run(queries: p.baseAddress!, queryCount: q, centeredQueries: nil, k: k, excludeSelf: false, skipping: nil)
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
        let q = queries.count / dimension
        for i in 0..<q where !(queries[(i * dimension)..<((i + 1) * dimension)].allSatisfy(\.isFinite)) {
            throw SearchError.notFinite(what: "query", row: i)
        }
        return queries.withUnsafeBufferPointer { p in
            run(queries: p.baseAddress!, queryCount: q, centeredQueries: nil, k: k, excludeSelf: false, skipping: skipping)
        }
    }

    /// The `k` nearest *other* stored vectors of every stored vector (the vector itself is skipped by
    /// index, not by a zero distance, so duplicates still count as neighbours at distance 0).
    /// - Throws: `SearchError.tooManyNeighbors` (k < 1 or k > M − 1).
    public func selfNeighbors(k: Int) throws -> Neighbors {
        guard k >= 1, k <= count - 1 else { throw SearchError.tooManyNeighbors(k: k, available: count - 1) }
        return vectors.withUnsafeBufferPointer { p in
            centered.withUnsafeBufferPointer { c in
                run(queries: p.baseAddress!, queryCount: count, centeredQueries: c.baseAddress!, k: k, excludeSelf: true, skipping: nil)
            }
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

    /// Bound on |GEMM-form distance − true distance| for a query of centred squared norm `queryNorm`:
    /// (2γ_D + 16u)(‖q‖² + max‖m‖²), with γ_D = D·u/(1 − D·u) and u = 2⁻²⁴ (dot product and norms
    /// as in Higham §3.1, plus the centring and the three additions), doubled for safety.
    @inline(__always)
    func errorBound(queryNorm: Float) -> Float {
        let u = Double(Float.ulpOfOne) / 2
        let d = Double(dimension)
        let gamma = d * u / Swift.max(1e-3, 1 - d * u)
        return Float(2 * (2 * gamma + 16 * u) * (Double(queryNorm) + Double(largestSquaredNorm)))
    }

    private func run(queries: UnsafePointer<Float>, queryCount q: Int, centeredQueries: UnsafePointer<Float>?, k: Int,
                     excludeSelf: Bool, skipping: [Int]?) -> Neighbors {
        let d = dimension
        let available = count - (excludeSelf || skipping != nil ? 1 : 0)
        let kc = Swift.min(available, k + Swift.max(0, extraCandidates))
        var indices = [Int32](repeating: -1, count: q * k)
        var distances = [Float](repeating: .infinity, count: q * k)
        let qb = Swift.max(1, queryBlock), tile = Swift.max(1, bankTile)
        let blocks = (q + qb - 1) / qb
        let threads = Threading.count
        let parallelBlocks = parallelOverQueryBlocks && blocks >= 2 && threads > 1
        var scannedPerBlock = [Int](repeating: 0, count: blocks)
        indices.withUnsafeMutableBufferPointer { ip in
            distances.withUnsafeMutableBufferPointer { dp in
                centered.withUnsafeBufferPointer { cp in
                    do {
                        squaredNorms.withUnsafeBufferPointer { mn in
                            scannedPerBlock.withUnsafeMutableBufferPointer { sp in
                                let ctx = UncheckedSendable((ip.baseAddress!, dp.baseAddress!, cp.baseAddress!, mn.baseAddress!, sp.baseAddress!))
                                let body: (Range<Int>) -> Void = { range in
                                    let (ip, dp, cp, mn, sp) = ctx.value
                                    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: qb * Swift.min(tile, self.count))
                                    let rowsBuffer = UnsafeMutablePointer<Float>.allocate(capacity: centeredQueries == nil ? qb * d : 0)
                                    let queryNorms = UnsafeMutablePointer<Float>.allocate(capacity: qb)
                                    let candD = UnsafeMutablePointer<Float>.allocate(capacity: qb * kc)
                                    let candI = UnsafeMutablePointer<Int32>.allocate(capacity: qb * kc)
                                    let ranked = UnsafeMutableBufferPointer<(Float, Int32)>.allocate(capacity: kc)
                                    defer {
                                        scratch.deallocate(); rowsBuffer.deallocate(); queryNorms.deallocate()
                                        candD.deallocate(); candI.deallocate(); ranked.deallocate()
                                    }
                                    for block in range {
                                        let q0 = block * qb, rows = Swift.min(qb, q - q0)
                                        // The block's queries, centred on the bank's mean, and their squared norms.
                                        let a: UnsafePointer<Float>
                                        if let centeredQueries {
                                            a = centeredQueries + q0 * d
                                            for r in 0..<rows { queryNorms[r] = mn[q0 + r] }
                                        } else {
                                            self.mean.withUnsafeBufferPointer { mu in
                                                for r in 0..<rows {
                                                    let src = queries + (q0 + r) * d, dst = rowsBuffer + r * d
                                                    var s: Float = 0
                                                    for j in 0..<d {
                                                        let x = src[j] - mu[j]
                                                        dst[j] = x
                                                        s += x * x
                                                    }
                                                    queryNorms[r] = s
                                                }
                                            }
                                            a = UnsafePointer(rowsBuffer)
                                        }
                                        candD.update(repeating: .infinity, count: rows * kc)
                                        candI.update(repeating: -1, count: rows * kc)
                                        var m0 = 0
                                        while m0 < self.count {
                                            let cols = Swift.min(tile, self.count - m0)
                                            BLAS.sgemm(transA: false, transB: true, m: rows, n: cols, k: d, alpha: -2,
                                                       a: a, lda: d, b: cp + m0 * d, ldb: d, beta: 0, c: scratch, ldc: cols,
                                                       split: !parallelBlocks)
                                            for r in 0..<rows {
                                                FlatL2Index.merge(row: scratch + r * cols, count: cols, offset: m0, queryNorm: queryNorms[r],
                                                                  bankNorms: mn + m0, skip: excludeSelf ? q0 + r : (skipping?[q0 + r] ?? -1), k: kc,
                                                                  bestD: candD + r * kc, bestI: candI + r * kc)
                                            }
                                            m0 += cols
                                        }
                                        for r in 0..<rows {
                                            let qi = q0 + r
                                            let skip = excludeSelf ? qi : (skipping?[qi] ?? -1)
                                            let exact = self.rerank(query: queries + qi * d, candidates: candD + r * kc, ids: candI + r * kc,
                                                                    kc: kc, k: k, available: self.count - (skip >= 0 ? 1 : 0), queryNorm: queryNorms[r],
                                                                    ranked: ranked, bestD: dp + qi * k, bestI: ip + qi * k)
                                            if !exact {
                                                self.scan(query: queries + qi * d, skip: skip, k: k,
                                                          bestD: dp + qi * k, bestI: ip + qi * k)
                                                sp[block] += 1
                                            }
                                        }
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
        }
        lastScannedQueries = scannedPerBlock.reduce(0, +)
        return Neighbors(k: k, indices: indices, distances: distances)
    }

    /// Re-ranks one query's `kc` GEMM candidates by the direct distance and writes the `k` nearest
    /// (ties to the lower index). Returns false when a vector outside the candidates could be nearer
    /// than the k-th within the GEMM's error bound (the caller then scans every vector).
    @inline(__always)
    private func rerank(query: UnsafePointer<Float>, candidates: UnsafeMutablePointer<Float>, ids: UnsafeMutablePointer<Int32>,
                        kc: Int, k: Int, available: Int, queryNorm: Float, ranked: UnsafeMutableBufferPointer<(Float, Int32)>,
                        bestD: UnsafeMutablePointer<Float>, bestI: UnsafeMutablePointer<Int32>) -> Bool {
        let d = dimension
        vectors.withUnsafeBufferPointer { v in
            for c in 0..<kc {
                let id = ids[c]
                ranked[c] = (squaredDistance(query, v.baseAddress! + Int(id) * d, d), id)
            }
        }
        var slice = UnsafeMutableBufferPointer(rebasing: ranked[0..<kc])
        slice.sort(by: FlatL2Index.nearerFirst)
        for c in 0..<k {
            bestD[c] = slice[c].0
            bestI[c] = slice[c].1
        }
        // Every vector is a candidate: nothing was left out.
        if kc >= available { return true }
        // A vector left out has a GEMM distance ≥ the last candidate's, so a true distance
        // ≥ that minus the error bound; it cannot displace the k-th when that is larger still.
        return candidates[kc - 1] - errorBound(queryNorm: queryNorm) > slice[k - 1].0
    }

    /// Distance order, ties to the lower index.
    @inline(__always)
    static func nearerFirst(_ a: (Float, Int32), _ b: (Float, Int32)) -> Bool {
        a.0 != b.0 ? a.0 < b.0 : a.1 < b.1
    }

    /// The `k` nearest by the direct distance over every stored vector (ties to the lower index).
    private func scan(query: UnsafePointer<Float>, skip: Int, k: Int, bestD: UnsafeMutablePointer<Float>,
                      bestI: UnsafeMutablePointer<Int32>) {
        let d = dimension
        bestD.update(repeating: .infinity, count: k)
        bestI.update(repeating: -1, count: k)
        vectors.withUnsafeBufferPointer { v in
            var worst = Float.infinity
            for j in 0..<count where j != skip {
                let dist = squaredDistance(query, v.baseAddress! + j * d, d)
                guard dist < worst else { continue }
                worst = FlatL2Index.insert(dist, index: j, k: k, bestD: bestD, bestI: bestI)
            }
        }
    }

    /// Inserts (dist, index) into a sorted list of k, dropping its last entry (after equal distances:
    /// the earlier index stays first); returns the new last distance.
    @inline(__always)
    static func insert(_ dist: Float, index: Int, k: Int, bestD: UnsafeMutablePointer<Float>,
                       bestI: UnsafeMutablePointer<Int32>) -> Float {
        var p = k - 1
        while p > 0 && bestD[p - 1] > dist {
            bestD[p] = bestD[p - 1]
            bestI[p] = bestI[p - 1]
            p -= 1
        }
        bestD[p] = dist
        bestI[p] = Int32(index)
        return bestD[k - 1]
    }

    /// Folds one row of −2·q·m products into the sorted candidate list of a query.
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
            worst = insert(dist, index: index, k: k, bestD: bestD, bestI: bestI)
        }
    }
}
