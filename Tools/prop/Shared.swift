import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import PROP

/// The reproduced paper, for reports.
let paperCitation = "Ma, Guo, Zhang, Fan, Ji, Cheng. PROP: Pre-training with Representative Words Prediction for Ad-hoc Retrieval. WSDM 2021 (arXiv 2010.10137)"

/// A missing input file (exit 66).
struct MissingInput: CategorizedError {
    let path: String
    let what: String
    var category: ErrorCategory { .missingInput }
    var description: String { "\(what) \(path) does not exist" }
}

/// Fails with exit 66 when `path` does not exist.
func requireFile(_ path: String, _ what: String) throws {
    guard FileManager.default.fileExists(atPath: path) else { throw MissingInput(path: path, what: what) }
}

/// `--collection NAME`, `--dataset NAME|FILE`, `--stopwords FILE`: which test collection, where its
/// prepared data is, and the stop list of the bag-of-words preprocessing.
struct CollectionOptions: ParsableArguments {
    @Option(help: "Test collection: lee or openclipart (Docs/prop.md, \"Collections\").")
    var collection = "lee"

    @Option(help: ArgumentHelp("The collection's prepared data: a datasets.toml name or an .h5 path (default: gensim-corpora for lee, openclipart for openclipart).",
                               valueName: "name|file"))
    var dataset: String?

    @Option(help: ArgumentHelp("Stop list file (one word per line; default: NLTK's 179 English stop words).", valueName: "file"))
    var stopwords: String?

    @Flag(help: "Porter-stem the terms (NLTK's PorterStemmer, as the reference's --stem).")
    var stem = false

    func validate() throws {
        guard ["lee", "openclipart"].contains(collection) else {
            throw ValidationError("--collection must be lee or openclipart, got '\(collection)'")
        }
    }

    /// The dataset file.
    func datasetPath() throws -> String {
        let path = try resolveNameOrPath(dataset ?? (collection == "lee" ? "gensim-corpora" : "openclipart"))
        try requireFile(path, "dataset")
        return path
    }

    /// Loads the collection. - Throws: `MissingInput`, `DatasetError`, `HDF5Error`, `PROPError`.
    func load() throws -> (RetrievalCollection, path: String) {
        let path = try datasetPath()
        return (collection == "lee" ? try LeeCollection.load(path: path) : try OpenclipartCollection.load(path: path), path)
    }

    /// The term tokenizer (with `--stopwords` when given). - Throws: `MissingInput` for a missing file.
    func tokenizer() throws -> TermTokenizer {
        guard let stopwords else { return TermTokenizer(stemming: stem) }
        try requireFile(stopwords, "stop list")
        return TermTokenizer(stopwords: Stopwords.parse(try String(contentsOfFile: stopwords, encoding: .utf8)), stemming: stem)
    }

    /// Report inputs of the collection.
    func inputs(_ c: RetrievalCollection, path: String) throws -> [String: JSONValue] {
        var inputs: [String: JSONValue] = ["dataset": try fileInput(path), "collection": .string(c.name)]
        if let stopwords { inputs["stopwords"] = try fileInput(stopwords) }
        return inputs
    }
}

/// Writes `text` to `path` ("-": stdout).
func writeText(_ text: String, to path: String) throws {
    if path == "-" {
        FileHandle.standardOutput.write(Data(text.utf8))
    } else {
        try OutputFile.write(Data(text.utf8), to: path)
    }
}

/// The BM25 run of every query of a collection: the `depth` best documents, the query's own
/// document excluded.
func bm25Run(_ c: RetrievalCollection, bm25: BM25, tokenizer: TermTokenizer, depth: Int) -> [String: [ScoredDocument]] {
    var run: [String: [ScoredDocument]] = [:]
    for (q, text) in zip(c.queryIds, c.queryTexts) {
        run[q] = bm25.search(terms: tokenizer.terms(text), depth: depth, excluding: c.excluded[q] ?? [])
    }
    return run
}

/// Metrics of a run as JSON: means and per-query values.
func evaluationJSON(_ run: [String: [ScoredDocument]], qrels: [String: [String: Int]]) throws -> JSONValue {
    let e = try RunEvaluation.evaluate(run: run, qrels: qrels)
    return ["mean": JSONValue.object(e.mean.mapValues(JSONValue.double)),
            "per_query": JSONValue.object(e.perQuery.mapValues { .object($0.mapValues(JSONValue.double)) }),
            "queries": .int(e.perQuery.first?.value.count ?? 0)]
}

/// `--weights` defaults to all-MiniLM-L6-v2.
enum MiniLMDefault: WeightsDefault {
    static var weights: String? { "minilm-l6" }
}
