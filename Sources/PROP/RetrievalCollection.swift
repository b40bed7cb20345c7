import Foundation
import MLCore

/// A test collection built from real text with real relevance signals (Docs/prop.md, "Collections"):
/// documents, queries, graded judgements and a pre-training corpus.
public struct RetrievalCollection: Sendable {
    /// Short name (`lee`).
    public var name: String
    /// Document identifiers and texts (same order).
    public var documentIds: [String]
    public var documentTexts: [String]
    /// Query identifiers and texts of the queries kept (those with at least one relevant document).
    public var queryIds: [String]
    public var queryTexts: [String]
    /// Judgements: query id → document id → level (0 non-relevant, ≥ 1 relevant).
    public var qrels: [String: [String: Int]]
    /// Per query, documents never ranked for it (Lee: the query's own document).
    public var excluded: [String: Set<String>]
    /// Queries left out because none of their judged documents is relevant (trec_eval would count them
    /// with value 0; they carry no signal).
    public var skippedQueries: [String]
    /// How the judgements were derived, for reports.
    public var judgementRule: String
    /// Texts for pre-training (never the test documents themselves unless stated in `judgementRule`).
    public var pretrainingTexts: [String]

    /// The judged text of query `id`.
    public func queryText(_ id: String) -> String? { queryIds.firstIndex(of: id).map { queryTexts[$0] } }
}

/// gensim's Lee corpus as a test collection (`lee`, `lee/similarity`, `lee_background` groups of the
/// `gensim-corpora` dataset, Tools/data/convert_gensim.py).
///
/// Each of the 50 documents is a query against the other 49. The similarity file holds, per pair, the
/// mean of 9–10 judges' ratings on a 1–5 scale divided by 5 (its values are multiples of 1/50 or
/// 1/45; 0.2 = every judge said "highly unrelated"). Rule: level 2 when s ≥ 0.75 (mean rating ≥ 3.75),
/// level 1 when 0.5 ≤ s < 0.75 (mean rating 2.5–3.75), else 0; all 49 other documents are judged.
/// Queries with no document of level ≥ 1 (2 of 50) are skipped and counted. The 300 background
/// documents are the pre-training corpus.
public enum LeeCollection {
    /// Threshold of level 1 and level 2 on the similarity scale.
    public static let thresholds: (relevant: Double, highly: Double) = (0.5, 0.75)

    /// Identifier of Lee document i: `lee-00` … `lee-49` (queries use the same identifiers).
    public static func id(_ i: Int) -> String { String(format: "lee-%02d", i) }

    /// Loads the collection from the prepared dataset file.
    /// - Throws: `HDF5Error` (missing file or group), `PROPError.malformedData` when the texts are not 50
    ///   or the matrix is not 50×50.
    public static func load(path: String) throws -> RetrievalCollection {
        let file = try HDF5File(path: path, mode: .readOnly)
        let texts = try file.dataset("lee/text").readStrings()
        let sim = try file.dataset("lee/similarity")
        guard texts.count == 50, sim.shape == [50, 50] else {
            throw PROPError.malformedData(file: path, detail: "expected 50 Lee documents and a 50×50 similarity matrix, found \(texts.count) and \(sim.shape)")
        }
        let matrix = try sim.read(as: Float.self)
        let background = try file.dataset("lee_background/text").readStrings()
        return build(texts: texts, similarity: matrix.map(Double.init), background: background)
    }

    /// The collection from its parts: `similarity` [50·50] row-major, upper triangle used.
    public static func build(texts: [String], similarity: [Double], background: [String]) -> RetrievalCollection {
        let n = texts.count
        var qrels: [String: [String: Int]] = [:]
        var queryIds: [String] = [], queryTexts: [String] = [], skipped: [String] = []
        var excluded: [String: Set<String>] = [:]
        for i in 0..<n {
            var judged: [String: Int] = [:]
            for j in 0..<n where j != i {
                let s = similarity[min(i, j) * n + max(i, j)]
                judged[id(j)] = s >= thresholds.highly ? 2 : (s >= thresholds.relevant ? 1 : 0)
            }
            if judged.values.contains(where: { $0 >= 1 }) {
                queryIds.append(id(i))
                queryTexts.append(texts[i])
                qrels[id(i)] = judged
                excluded[id(i)] = [id(i)]
            } else {
                skipped.append(id(i))
            }
        }
        return RetrievalCollection(
            name: "lee", documentIds: (0..<n).map(id), documentTexts: texts, queryIds: queryIds, queryTexts: queryTexts,
            qrels: qrels, excluded: excluded, skippedQueries: skipped,
            judgementRule: "each Lee document is a query against the other 49; s = mean judge rating (1-5) / 5 from similarities0-1.txt; level 2 if s >= 0.75, 1 if 0.5 <= s < 0.75, else 0; queries without a level >= 1 document skipped",
            pretrainingTexts: background)
    }
}

/// A known-item collection from the Openclipart clip art (the `openclipart` dataset,
/// Tools/data/convert_openclipart.py): an item's document is its keywords and description
/// ("keywords. description"); the queries are the titles of every 8th item (in file order) among those
/// with a title and a document, each with its own item as the one relevant document (level 1;
/// every other document unjudged, i.e. non-relevant). Items with the same keywords and description
/// (near-duplicates drawn by one author) compete with the known item. The documents are also the
/// pre-training corpus.
public enum OpenclipartCollection {
    /// Every `stride`-th eligible item is a query.
    public static let stride = 8

    /// Identifier of item i (its row in the dataset): `oc-0000` ….
    public static func id(_ i: Int) -> String { String(format: "oc-%04d", i) }

    /// Loads the collection from the prepared dataset file.
    /// - Throws: `HDF5Error` (missing file or dataset), `PROPError.malformedData` when the columns differ in length.
    public static func load(path: String) throws -> RetrievalCollection {
        let file = try HDF5File(path: path, mode: .readOnly)
        let titles = try file.dataset("items/title").readStrings()
        let descriptions = try file.dataset("items/description").readStrings()
        let keywords = try file.dataset("items/keywords").readStrings()
        guard titles.count == descriptions.count, titles.count == keywords.count else {
            throw PROPError.malformedData(file: path, detail: "items/title, description and keywords differ in length")
        }
        return build(titles: titles, descriptions: descriptions, keywords: keywords)
    }

    /// The collection from the items' columns.
    public static func build(titles: [String], descriptions: [String], keywords: [String]) -> RetrievalCollection {
        var ids: [String] = [], texts: [String] = [], queryIds: [String] = [], queryTexts: [String] = []
        var qrels: [String: [String: Int]] = [:]
        var eligible = 0
        for i in titles.indices {
            let text = [keywords[i], descriptions[i]].filter { !$0.isEmpty }.joined(separator: ". ")
            guard !text.isEmpty else { continue }
            ids.append(id(i))
            texts.append(text)
            guard !titles[i].isEmpty else { continue }
            if eligible % stride == 0 {
                let q = "q-" + id(i)
                queryIds.append(q)
                queryTexts.append(titles[i])
                qrels[q] = [id(i): 1]
            }
            eligible += 1
        }
        return RetrievalCollection(
            name: "openclipart", documentIds: ids, documentTexts: texts, queryIds: queryIds, queryTexts: queryTexts, qrels: qrels,
            excluded: [:], skippedQueries: [],
            judgementRule: "known item: query = the title of every 8th item with a title and a document; its one relevant document (level 1) = that item's keywords and description; all other documents unjudged (non-relevant)",
            pretrainingTexts: texts)
    }
}
