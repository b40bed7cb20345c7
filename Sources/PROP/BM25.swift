import Foundation
import MLCore

/// Okapi BM25 with the rank-bm25 package's `BM25Okapi` semantics (rank_bm25.py 0.2.2; Docs/prop.md,
/// "BM25"), so its scores can be checked against that implementation:
///
///     idf(w) = ln(N − df + 0.5) − ln(df + 0.5), and a negative idf is replaced by ε · mean idf
///     score(q, d) = Σ_{t ∈ q} idf(t) · tf(t,d)·(k1 + 1) / (tf(t,d) + k1·(1 − b + b·|d|/avgdl))
///
/// where the sum runs over the query's terms with repetition (a term twice in the query counts twice),
/// the mean idf is over the whole vocabulary, and terms outside the vocabulary add nothing. Float64.
public struct BM25: Sendable {
    /// Term-frequency saturation k1 (rank-bm25 default 1.5).
    public let k1: Double
    /// Length normalisation b in [0, 1] (default 0.75).
    public let b: Double
    /// ε, the floor factor for negative idf (default 0.25).
    public let epsilon: Double
    /// The indexed corpus.
    public let index: CorpusIndex
    /// idf per term id (after the ε floor).
    public let idf: [Double]
    /// k1·(1 − b + b·|d|/avgdl) per document (the length part of the denominator).
    let lengthNorm: [Double]

    /// - Throws: `PROPError.invalidSetting` for k1 < 0, b outside [0, 1] or a negative ε.
    public init(index: CorpusIndex, k1: Double = 1.5, b: Double = 0.75, epsilon: Double = 0.25) throws {
        guard k1 >= 0, k1.isFinite else { throw PROPError.invalidSetting("BM25 k1 must be ≥ 0, got \(k1)") }
        guard (0...1).contains(b) else { throw PROPError.invalidSetting("BM25 b must be in [0, 1], got \(b)") }
        guard epsilon >= 0, epsilon.isFinite else { throw PROPError.invalidSetting("BM25 ε must be ≥ 0, got \(epsilon)") }
        self.index = index
        self.k1 = k1
        self.b = b
        self.epsilon = epsilon
        let n = Double(index.count)
        var idf = index.documentFrequency.map { df in log(n - Double(df) + 0.5) - log(Double(df) + 0.5) }
        let mean = idf.isEmpty ? 0 : idf.reduce(0, +) / Double(idf.count)
        for i in idf.indices where idf[i] < 0 { idf[i] = epsilon * mean }
        self.idf = idf
        let avgdl = index.averageLength
        lengthNorm = index.lengths.map { k1 * (1 - b + b * Double($0) / avgdl) }
    }

    /// Scores of every document for a query given as terms (N entries, corpus order).
    public func scores(terms: [String]) -> [Double] {
        var scores = [Double](repeating: 0, count: index.count)
        for t in terms {
            guard let id = index.termIds[t] else { continue }
            let w = idf[Int(id)]
            for p in index.postings[Int(id)] {
                let tf = Double(p.count), d = Int(p.document)
                scores[d] += w * (tf * (k1 + 1) / (tf + lengthNorm[d]))
            }
        }
        return scores
    }

    /// The `depth` best documents for a query's terms, score decreasing (ties: document id decreasing,
    /// trec_eval's order), leaving out the documents in `excluding` (e.g. the query's own document).
    public func search(terms: [String], depth: Int, excluding: Set<String> = []) -> [ScoredDocument] {
        let s = scores(terms: terms)
        var docs: [ScoredDocument] = []
        docs.reserveCapacity(index.count)
        for (i, id) in index.documentIds.enumerated() where !excluding.contains(id) {
            docs.append(ScoredDocument(id: id, score: s[i]))
        }
        docs.sort { $0.score != $1.score ? $0.score > $1.score : $1.id.utf8.lexicographicallyPrecedes($0.id.utf8) }
        return Array(docs.prefix(max(0, depth)))
    }
}
