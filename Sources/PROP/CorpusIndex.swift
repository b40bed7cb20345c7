/// Bag-of-words statistics of a corpus (the PROP reference's `preprocessing_data.py` output: tf(w, d),
/// |d|, df(w), corpus tf(w), avgdl), with postings for retrieval. Terms are numbered in order of first
/// occurrence; all counts are over terms after stop-word removal.
public struct CorpusIndex: Sendable {
    /// The document identifiers, in corpus order (N entries).
    public let documentIds: [String]
    /// Term id → term.
    public let vocabulary: [String]
    /// Term → term id.
    public let termIds: [String: Int32]
    /// Per document: its distinct term ids (first-occurrence order) and their counts tf(w, d).
    public let documentTerms: [[(term: Int32, count: Int)]]
    /// |d|: terms per document after stop-word removal (N entries).
    public let lengths: [Int]
    /// df(w): documents containing each term (V entries).
    public let documentFrequency: [Int]
    /// Corpus tf(w): occurrences of each term in the whole corpus (V entries).
    public let collectionFrequency: [Int]
    /// Postings: per term, (document index, tf) in increasing document order.
    public let postings: [[(document: Int32, count: Int32)]]

    /// Indexes `texts` with `tokenizer`.
    /// - Parameters: `ids`: one identifier per text.
    /// - Throws: `PROPError.emptyCorpus` for no texts; `.invalidSetting` when ids and texts differ in
    ///   count or an id repeats.
    public init(ids: [String], texts: [String], tokenizer: TermTokenizer = TermTokenizer()) throws {
        try self.init(ids: ids, terms: texts.map(tokenizer.terms))
    }

    /// Indexes already tokenised documents (`terms[i]` the terms of document `ids[i]`).
    /// - Throws: as `init(ids:texts:tokenizer:)`.
    public init(ids: [String], terms: [[String]]) throws {
        guard !terms.isEmpty else { throw PROPError.emptyCorpus(what: "the corpus") }
        guard ids.count == terms.count else {
            throw PROPError.invalidSetting("\(ids.count) document ids for \(terms.count) documents")
        }
        guard Set(ids).count == ids.count else { throw PROPError.invalidSetting("document ids repeat") }
        var termIds: [String: Int32] = [:]
        var vocabulary: [String] = []
        var df: [Int] = [], cf: [Int] = []
        var postings: [[(document: Int32, count: Int32)]] = []
        var documentTerms: [[(term: Int32, count: Int)]] = []
        documentTerms.reserveCapacity(terms.count)
        for (d, words) in terms.enumerated() {
            var local: [Int32: Int] = [:]
            var order: [Int32] = []
            for w in words {
                let id: Int32
                if let known = termIds[w] {
                    id = known
                } else {
                    id = Int32(vocabulary.count)
                    termIds[w] = id
                    vocabulary.append(w)
                    df.append(0); cf.append(0); postings.append([])
                }
                if local[id] == nil { order.append(id) }
                local[id, default: 0] += 1
            }
            var entry: [(term: Int32, count: Int)] = []
            entry.reserveCapacity(order.count)
            for id in order {
                let c = local[id]!
                entry.append((id, c))
                df[Int(id)] += 1
                cf[Int(id)] += c
                postings[Int(id)].append((Int32(d), Int32(c)))
            }
            documentTerms.append(entry)
        }
        self.documentIds = ids
        self.vocabulary = vocabulary
        self.termIds = termIds
        self.documentTerms = documentTerms
        self.lengths = terms.map(\.count)
        self.documentFrequency = df
        self.collectionFrequency = cf
        self.postings = postings
    }

    /// Number of documents N.
    public var count: Int { documentIds.count }
    /// Total terms Σ|d|.
    public var totalTerms: Int { lengths.reduce(0, +) }
    /// Mean document length avgdl = Σ|d| / N.
    public var averageLength: Double { Double(totalTerms) / Double(count) }
}
