import Foundation

/// A document retrieved for a query with its retrieval score (higher = better).
public struct ScoredDocument: Sendable, Equatable {
    /// The document identifier (trec_eval's docno).
    public var id: String
    /// The run's score (trec_eval's sim); ranks are derived from it, not from a rank column.
    public var score: Double

    public init(id: String, score: Double) {
        self.id = id
        self.score = score
    }
}

/// Ranking metrics with trec_eval semantics (Docs/METRICS.md §3).
///
/// A run maps each query id to its retrieved documents; qrels map each query id to graded judgments
/// (document id → relevance level). A document is relevant when its level is ≥ 1 (trec_eval's default
/// `-l 1`); unjudged documents count as non-relevant; negative levels count as non-relevant and give
/// no gain. Source: trec_eval 9.0 (`m_P.c`, `m_recall.c`, `m_map.c`, `m_ndcg_cut.c`, `m_recip_rank.c`,
/// `form_res_rels.c`), checked through pytrec_eval (pytrec-eval-terrier).
public enum Retrieval {
    /// How a relevance level becomes a gain in nDCG.
    public enum Gain: Sendable, Equatable {
        /// gain = level (trec_eval's `ndcg`, `ndcg_cut`).
        case linear
        /// gain = 2^level − 1 (Burges et al., "Learning to Rank using Gradient Descent", ICML 2005).
        case exponential
    }

    /// A measure of one query, averaged by `evaluate`.
    public enum Measure: Sendable, Equatable, CustomStringConvertible {
        /// trec_eval `P_k`: relevant documents in the top k, divided by k (even if fewer were retrieved).
        case precision(k: Int)
        /// trec_eval `recall_k`: relevant documents in the top k, divided by all relevant in the qrels.
        case recall(k: Int)
        /// trec_eval `map`: Σ over relevant retrieved documents of precision at their rank, divided by
        /// R = all relevant documents in the qrels (retrieved or not).
        case averagePrecision
        /// trec_eval `ndcg_cut_k` (k = nil: `ndcg`, the whole ranking) with the given gain; the discount
        /// of rank r is log2(r + 1) and the ideal ranking sorts all judged levels of the query.
        case ndcg(k: Int?, gain: Gain)
        /// trec_eval `recip_rank`: 1 / rank of the first relevant document, 0 when none is retrieved.
        case reciprocalRank
        /// trec_eval `Rprec`: relevant documents in the top R, divided by R (R = relevant in the qrels;
        /// 0 when R = 0).
        case rPrecision
        /// trec_eval `success_k`: 1 when a relevant document is in the top k, else 0.
        case success(k: Int)
        /// trec_eval `map_cut_k`: average precision over the top k only (Σ over relevant documents ranked
        /// ≤ k of precision at their rank, divided by R).
        case averagePrecisionCut(k: Int)

        public var description: String {
            switch self {
            case .precision(let k): return "P_\(k)"
            case .recall(let k): return "recall_\(k)"
            case .averagePrecision: return "map"
            case .ndcg(let k, let gain):
                return (k.map { "ndcg_cut_\($0)" } ?? "ndcg") + (gain == .exponential ? "_exp" : "")
            case .reciprocalRank: return "recip_rank"
            case .rPrecision: return "Rprec"
            case .success(let k): return "success_\(k)"
            case .averagePrecisionCut(let k): return "map_cut_\(k)"
            }
        }
    }

    /// trec_eval's default cutoffs of `P`, `recall`, `ndcg_cut` and `map_cut` (`m_P.c` and the others:
    /// 5, 10, 15, 20, 30, 100, 200, 500, 1000) and of `success` (1, 5, 10).
    public static let defaultCutoffs = [5, 10, 15, 20, 30, 100, 200, 500, 1000]
    static let defaultSuccessCutoffs = [1, 5, 10]

    /// The measures named as trec_eval's `-m` takes them: `map`, `recip_rank`, `Rprec`, `ndcg`, and
    /// `P`, `recall`, `ndcg_cut`, `map_cut`, `success` with cutoffs (`P.5,10`; without: trec_eval's
    /// default cutoffs); the printed form `P_5` is accepted too. Order is kept, repeats dropped.
    /// - Throws: `MetricsError.invalidArgument` for an unknown name or a cutoff that is not an integer ≥ 1.
    public static func measures(named name: String) throws -> [Measure] {
        let metric = "trec measure"
        let cutoffFamilies: [String: (Int) -> Measure] = [
            "P": { .precision(k: $0) }, "recall": { .recall(k: $0) }, "ndcg_cut": { .ndcg(k: $0, gain: .linear) },
            "map_cut": { .averagePrecisionCut(k: $0) }, "success": { .success(k: $0) },
        ]
        switch name {
        case "map": return [.averagePrecision]
        case "recip_rank": return [.reciprocalRank]
        case "Rprec": return [.rPrecision]
        case "ndcg": return [.ndcg(k: nil, gain: .linear)]
        default: break
        }
        var family = name, cutoffs: [Int]?
        if let dot = name.firstIndex(of: ".") {
            family = String(name[..<dot])
            let list = name[name.index(after: dot)...].split(separator: ",", omittingEmptySubsequences: false)
            cutoffs = try list.map { part in
                guard let k = Int(part), k >= 1 else {
                    throw MetricsError.invalidArgument(metric: metric, reason: "cutoff '\(part)' in '\(name)', expected integers ≥ 1 like P.5,10")
                }
                return k
            }
        } else if let underscore = name.lastIndex(of: "_"), let k = Int(name[name.index(after: underscore)...]),
                  cutoffFamilies[String(name[..<underscore])] != nil {
            guard k >= 1 else { throw MetricsError.invalidArgument(metric: metric, reason: "cutoff \(k) in '\(name)', expected ≥ 1") }
            family = String(name[..<underscore])
            cutoffs = [k]
        }
        guard let make = cutoffFamilies[family] else {
            throw MetricsError.invalidArgument(
                metric: metric,
                reason: "unknown measure '\(name)', expected map, recip_rank, Rprec, ndcg, P, recall, ndcg_cut, map_cut or success (with cutoffs: P.5,10)")
        }
        var seen = Set<Int>()
        return (cutoffs ?? (family == "success" ? defaultSuccessCutoffs : defaultCutoffs)).filter { seen.insert($0).inserted }.map(make)
    }

    /// Per-query values and their mean for one measure.
    public struct Evaluation: Sendable, Equatable {
        /// The measure for each query that is in both the run and the qrels.
        public var perQuery: [String: Double]
        /// The mean over those queries (trec_eval's `all` line without `-c`).
        public var mean: Double
    }

    /// The documents of one query in trec_eval's order: score decreasing, ties broken by document id
    /// decreasing (byte-wise `strcmp`, `form_res_rels.c`). The run's own rank column plays no part.
    /// - Throws: `MetricsError.notFinite` for a NaN/infinite score, `.duplicate` for a repeated id
    ///   (trec_eval refuses duplicate documents too).
    public static func ranking(_ documents: [ScoredDocument]) throws -> [String] {
        let metric = "ranking"
        var seen = Set<String>()
        for (i, d) in documents.enumerated() {
            if !d.score.isFinite { throw MetricsError.notFinite(metric: metric, what: "scores", index: i) }
            if !seen.insert(d.id).inserted { throw MetricsError.duplicate(metric: metric, what: "document", id: d.id) }
        }
        return documents.sorted(by: precedes).map(\.id)
    }

    /// trec_eval's order of two documents of a query: score decreasing, then id decreasing byte-wise.
    @inline(__always)
    static func precedes(_ a: ScoredDocument, _ b: ScoredDocument) -> Bool {
        a.score != b.score ? a.score > b.score : b.id.utf8.lexicographicallyPrecedes(a.id.utf8)
    }

    /// The value of `measure` for one query, given its documents in ranked order (see `ranking`) and
    /// its judgments.
    /// - Throws: `MetricsError.invalidArgument` for k ≤ 0, `.duplicate` for a repeated id in `ranked`.
    public static func value(_ measure: Measure, ranked: [String], judgments: [String: Int]) throws -> Double {
        var seen = Set<String>()
        for id in ranked where !seen.insert(id).inserted {
            throw MetricsError.duplicate(metric: measure.description, what: "document", id: id)
        }
        try checkArguments(measure)
        return value(measure, query: Query(levels: ranked.map { judgments[$0] ?? 0 }, judgments: judgments))
    }

    /// One query reduced to what the measures read: the relevance level of each ranked document
    /// (0 when unjudged) and the query's judged levels sorted decreasing.
    struct Query {
        var levels: [Int]
        var ideal: [Int]
        var relevant: Int

        init(levels: [Int], judgments: [String: Int]) {
            self.levels = levels
            ideal = judgments.values.sorted(by: >)
            relevant = ideal.reduce(0) { $0 + ($1 >= 1 ? 1 : 0) }
        }
    }

    static func checkArguments(_ measure: Measure) throws {
        switch measure {
        case .precision(let k), .recall(let k), .success(let k), .averagePrecisionCut(let k):
            try MetricsError.checkPositive(measure.description, "k", k)
        case .ndcg(let k?, _):
            try MetricsError.checkPositive(measure.description, "k", k)
        default:
            break
        }
    }

    /// The value of a measure (arguments already checked) on one reduced query.
    static func value(_ measure: Measure, query q: Query) -> Double {
        let levels = q.levels, relevant = q.relevant
        func relevantInTop(_ k: Int) -> Int { levels.prefix(k).reduce(0) { $0 + ($1 >= 1 ? 1 : 0) } }
        func averagePrecision(_ cut: Int) -> Double {
            guard relevant > 0 else { return 0 }
            var found = 0, sum = 0.0
            for (r, level) in levels.prefix(cut).enumerated() where level >= 1 {
                found += 1
                sum += Double(found) / Double(r + 1)
            }
            return sum / Double(relevant)
        }
        switch measure {
        case .precision(let k):
            return Double(relevantInTop(k)) / Double(k)
        case .recall(let k):
            return relevant == 0 ? 0 : Double(relevantInTop(k)) / Double(relevant)
        case .averagePrecision:
            return averagePrecision(Int.max)
        case .averagePrecisionCut(let k):
            return averagePrecision(k)
        case .ndcg(let k, let gainKind):
            let cut = k ?? Int.max
            func gain(_ level: Int) -> Double {
                guard level > 0 else { return 0 }
                return gainKind == .linear ? Double(level) : Foundation.pow(2, Double(level)) - 1
            }
            var dcg = 0.0
            for (r, level) in levels.prefix(cut).enumerated() where level > 0 { dcg += gain(level) / Foundation.log2(Double(r + 2)) }
            var idcg = 0.0
            for (r, level) in q.ideal.prefix(cut).enumerated() where level > 0 { idcg += gain(level) / Foundation.log2(Double(r + 2)) }
            return idcg > 0 ? dcg / idcg : 0
        case .reciprocalRank:
            guard let r = levels.firstIndex(where: { $0 >= 1 }) else { return 0 }
            return 1 / Double(r + 1)
        case .rPrecision:
            return relevant == 0 ? 0 : Double(relevantInTop(relevant)) / Double(relevant)
        case .success(let k):
            return relevantInTop(k) > 0 ? 1 : 0
        }
    }

    /// `measure` for every query in both the run and the qrels, and its mean over them (trec_eval's
    /// default: queries only in the run or only in the qrels are skipped; a query whose judgments are
    /// all non-relevant counts, with value 0).
    /// - Throws: as `ranking` and `value`; `MetricsError.empty` when no query is in both.
    public static func evaluate(_ measure: Measure, run: [String: [ScoredDocument]],
                                qrels: [String: [String: Int]]) throws -> Evaluation {
        try evaluate([measure], run: run, qrels: qrels)[0]
    }

    /// Several measures at once: each query is ranked and looked up in the qrels once, then every
    /// measure reads the ranked relevance levels (what trec_eval does per query). Same values, order
    /// and errors as calling `evaluate(_:run:qrels:)` per measure.
    /// - Returns: one `Evaluation` per measure, in the order given.
    /// - Throws: as the one-measure form; `MetricsError.invalidArgument` for k ≤ 0.
    public static func evaluate(_ measures: [Measure], run: [String: [ScoredDocument]],
                                qrels: [String: [String: Int]]) throws -> [Evaluation] {
        for m in measures { try checkArguments(m) }
        var perQuery = [[String: Double]](repeating: [:], count: measures.count)
        // Per query: the documents indexed by id bytes (duplicates found there), ranked once, and the
        // judged documents looked up among them (R lookups, not one per retrieved document).
        var index = DocumentIndex(), order: [Int] = [], rankOf: [Int] = []
        for (query, documents) in run {
            guard let judgments = qrels[query] else { continue }
            index.reset(capacity: documents.count)
            for (j, d) in documents.enumerated() {
                if !d.score.isFinite { throw MetricsError.notFinite(metric: "ranking", what: "scores", index: j) }
                if index.insert(d.id, at: j, ids: { documents[$0].id }) != nil {
                    throw MetricsError.duplicate(metric: "ranking", what: "document", id: d.id)
                }
            }
            order.removeAll(keepingCapacity: true)
            order.append(contentsOf: documents.indices)
            order.sort { precedes(documents[$0], documents[$1]) }
            rankOf = [Int](repeating: 0, count: documents.count)
            for (r, j) in order.enumerated() { rankOf[j] = r }
            var levels = [Int](repeating: 0, count: documents.count)
            for (id, level) in judgments {
                if let j = index.find(id, ids: { documents[$0].id }) { levels[rankOf[j]] = level }
            }
            let q = Query(levels: levels, judgments: judgments)
            for (i, m) in measures.enumerated() { perQuery[i][query] = value(m, query: q) }
        }
        if perQuery.first?.isEmpty ?? true, let m = measures.first {
            throw MetricsError.empty(metric: m.description, what: "the queries common to run and qrels")
        }
        let queries = perQuery.first.map { $0.keys.sorted() } ?? []
        return perQuery.map { values in
            // Sum in sorted query order so the mean does not depend on dictionary order.
            Evaluation(perQuery: values, mean: queries.reduce(0.0) { $0 + values[$1]! } / Double(queries.count))
        }
    }
}

/// Positions of document ids in a list, keyed by their UTF-8 bytes (FNV-1a with a final mix,
/// `WordPieceVocabulary.hash`; open addressing, linear probing, at most half full), for the per-query
/// work of `Retrieval.evaluate` and `TRECFiles.RunReader`: a String's Hashable hash per document cost
/// most of a 10⁷-line run's evaluation (Docs/PERFORMANCE.md, "Metrics at the shell").
struct DocumentIndex {
    /// Position + 1 of the id in a slot (0: empty), and the id's hash beside it.
    private var slots: [Int32] = []
    private var hashes: [UInt32] = []
    private var mask = 0
    private(set) var count = 0

    /// Empties the index, sized for `capacity` ids without growing.
    mutating func reset(capacity: Int) {
        var size = 16
        while size < 2 * capacity { size <<= 1 }
        if slots.count == size {
            for i in slots.indices { slots[i] = 0 }
        } else {
            slots = [Int32](repeating: 0, count: size)
            hashes = [UInt32](repeating: 0, count: size)
        }
        mask = size - 1
        count = 0
    }

    /// Adds `id` at `position`; returns the position already holding an equal id instead (nothing added).
    /// `ids` gives the id at a position.
    mutating func insert(_ id: String, at position: Int, ids: (Int) -> String) -> Int? {
        if slots.isEmpty { reset(capacity: 8) }
        let h = Self.hash(id)
        var i = Int(h) & mask
        while slots[i] != 0 {
            if hashes[i] == h && ids(Int(slots[i]) - 1).utf8.elementsEqual(id.utf8) { return Int(slots[i]) - 1 }
            i = (i + 1) & mask
        }
        slots[i] = Int32(position + 1)
        hashes[i] = h
        count += 1
        if 2 * count > slots.count { grow() }
        return nil
    }

    /// The position of `id`, nil when absent.
    func find(_ id: String, ids: (Int) -> String) -> Int? {
        guard !slots.isEmpty else { return nil }
        let h = Self.hash(id)
        var i = Int(h) & mask
        while slots[i] != 0 {
            if hashes[i] == h && ids(Int(slots[i]) - 1).utf8.elementsEqual(id.utf8) { return Int(slots[i]) - 1 }
            i = (i + 1) & mask
        }
        return nil
    }

    /// The id's hash, from its contiguous UTF-8 when it has some (native strings do).
    @inline(__always)
    static func hash(_ id: String) -> UInt32 {
        id.utf8.withContiguousStorageIfAvailable { WordPieceVocabulary.hash($0, kind: 0) } ?? WordPieceVocabulary.hash(id.utf8, kind: 0)
    }

    private mutating func grow() {
        let oldSlots = slots, oldHashes = hashes
        slots = [Int32](repeating: 0, count: oldSlots.count * 2)
        hashes = [UInt32](repeating: 0, count: oldSlots.count * 2)
        mask = slots.count - 1
        for (slot, h) in zip(oldSlots, oldHashes) where slot != 0 {
            var i = Int(h) & mask
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = slot
            hashes[i] = h
        }
    }
}
