import Foundation

/// Writers of the TREC run and qrels text formats (the inverse of `TRECFiles.parseRun` /
/// `parseQrels`; Docs/METRICS.md §3).
extension TRECFiles {
    /// One run as text: per query (in the given order), its documents in trec_eval's order
    /// (`Retrieval.ranking`: score decreasing, ties by id decreasing) as lines
    /// `query Q0 document rank score tag` with 1-based ranks and scores printed with 17 significant
    /// digits (`%.17g`, round-trips a Double).
    /// - Throws: as `Retrieval.ranking` (non-finite score, repeated document).
    public static func formatRun(_ run: [(query: String, documents: [ScoredDocument])], tag: String) throws -> String {
        var text = ""
        for (query, documents) in run {
            let byID = Dictionary(documents.map { ($0.id, $0.score) }, uniquingKeysWith: { a, _ in a })
            for (r, id) in try Retrieval.ranking(documents).enumerated() {
                text += "\(query) Q0 \(id) \(r + 1) \(String(format: "%.17g", byID[id]!)) \(tag)\n"
            }
        }
        return text
    }

    /// Qrels as text: lines `query 0 document level`, queries in the given order, documents sorted.
    public static func formatQrels(_ qrels: [(query: String, judgments: [String: Int])]) -> String {
        var text = ""
        for (query, judgments) in qrels {
            for id in judgments.keys.sorted() { text += "\(query) 0 \(id) \(judgments[id]!)\n" }
        }
        return text
    }
}
