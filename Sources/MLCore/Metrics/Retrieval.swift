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

        public var description: String {
            switch self {
            case .precision(let k): return "P_\(k)"
            case .recall(let k): return "recall_\(k)"
            case .averagePrecision: return "map"
            case .ndcg(let k, let gain):
                return (k.map { "ndcg_cut_\($0)" } ?? "ndcg") + (gain == .exponential ? "_exp" : "")
            case .reciprocalRank: return "recip_rank"
            }
        }
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
        return documents.sorted { a, b in
            a.score != b.score ? a.score > b.score : b.id.utf8.lexicographicallyPrecedes(a.id.utf8)
        }.map(\.id)
    }

    /// The value of `measure` for one query, given its documents in ranked order (see `ranking`) and
    /// its judgments.
    /// - Throws: `MetricsError.invalidArgument` for k ≤ 0, `.duplicate` for a repeated id in `ranked`.
    public static func value(_ measure: Measure, ranked: [String], judgments: [String: Int]) throws -> Double {
        var seen = Set<String>()
        for id in ranked where !seen.insert(id).inserted {
            throw MetricsError.duplicate(metric: measure.description, what: "document", id: id)
        }
        let relevant = judgments.values.filter { $0 >= 1 }.count
        func isRelevant(_ id: String) -> Bool { (judgments[id] ?? 0) >= 1 }
        switch measure {
        case .precision(let k):
            try MetricsError.checkPositive(measure.description, "k", k)
            return Double(ranked.prefix(k).filter(isRelevant).count) / Double(k)
        case .recall(let k):
            try MetricsError.checkPositive(measure.description, "k", k)
            return relevant == 0 ? 0 : Double(ranked.prefix(k).filter(isRelevant).count) / Double(relevant)
        case .averagePrecision:
            guard relevant > 0 else { return 0 }
            var found = 0, sum = 0.0
            for (r, id) in ranked.enumerated() where isRelevant(id) {
                found += 1
                sum += Double(found) / Double(r + 1)
            }
            return sum / Double(relevant)
        case .ndcg(let k, let gainKind):
            if let k { try MetricsError.checkPositive(measure.description, "k", k) }
            let cut = k ?? Int.max
            func gain(_ level: Int) -> Double {
                guard level > 0 else { return 0 }
                return gainKind == .linear ? Double(level) : Foundation.pow(2, Double(level)) - 1
            }
            var dcg = 0.0
            for (r, id) in ranked.prefix(cut).enumerated() { dcg += gain(judgments[id] ?? 0) / Foundation.log2(Double(r + 2)) }
            var idcg = 0.0
            for (r, level) in judgments.values.sorted(by: >).prefix(cut).enumerated() { idcg += gain(level) / Foundation.log2(Double(r + 2)) }
            return idcg > 0 ? dcg / idcg : 0
        case .reciprocalRank:
            guard let r = ranked.firstIndex(where: isRelevant) else { return 0 }
            return 1 / Double(r + 1)
        }
    }

    /// `measure` for every query in both the run and the qrels, and its mean over them (trec_eval's
    /// default: queries only in the run or only in the qrels are skipped; a query whose judgments are
    /// all non-relevant counts, with value 0).
    /// - Throws: as `ranking` and `value`; `MetricsError.empty` when no query is in both.
    public static func evaluate(_ measure: Measure, run: [String: [ScoredDocument]],
                                qrels: [String: [String: Int]]) throws -> Evaluation {
        var perQuery: [String: Double] = [:]
        for (query, documents) in run {
            guard let judgments = qrels[query] else { continue }
            perQuery[query] = try value(measure, ranked: ranking(documents), judgments: judgments)
        }
        if perQuery.isEmpty { throw MetricsError.empty(metric: measure.description, what: "the queries common to run and qrels") }
        // Sum in sorted query order so the mean does not depend on dictionary order.
        let mean = perQuery.keys.sorted().reduce(0.0) { $0 + perQuery[$1]! } / Double(perQuery.count)
        return Evaluation(perQuery: perQuery, mean: mean)
    }
}
