import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import PROP

/// `prop bench`: BM25 indexing and query throughput on a collection, for the rank-bm25 peer
/// (Benchmarks/peers/rank_bm25_bench.py) to run the same work.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time BM25 indexing (tokenisation included) and retrieval of every query's top 100 on a collection.",
        discussion: """
            Cases (median of --repeats after one warm-up), records as mlcore-bench writes them in metrics.results:
            bm25_index_<collection>: tokenise (lower-case [a-zA-Z]+ runs, NLTK stop words) and index every document.
            bm25_query_<collection>: every query's terms, BM25 scores of all documents, the top 100.
            prop_rerank_step_g2_n3_t128 (with --rerank-step): one re-ranker fine-tuning step on MiniLM-L6             (--weights): 2 groups of 1 positive + 3 negatives = 8 rows of 128 tokens (query 62 + document             63 random ids in 1000..<29000 + [CLS] [SEP] [SEP], no padding), dropout on, group softmax             cross-entropy, backward, AdamW update.
            Throughput is documents (index), queries (query) or rows (step) per second, in units of 1e9 (the peers' scale).
            Compare: Benchmarks/peers/rank_bm25_bench.py --ours REPORT (rank-bm25 BM25Okapi, same tokens) and             Benchmarks/peers/torch_prop_bench.py --ours REPORT (PyTorch BertForSequenceClassification, same step).
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var collection: CollectionOptions

    @OptionGroup var weights: ModelWeightsOption<MiniLMDefault>

    @Option(help: "Timed repetitions per case.")
    var repeats = 5

    @Flag(help: "Also time one re-ranker fine-tuning step (prop_rerank_step_g2_n3_t128).")
    var rerankStep = false

    func validate() throws {
        guard (1...1000).contains(repeats) else { throw ValidationError("--repeats must be in 1...1000, got \(repeats)") }
    }

    func run() throws {
        try ToolRunner.run(tool: "prop", command: "bench", options: common, reflecting: self) { context in
            let (c, path) = try collection.load()
            let tokenizer = try collection.tokenizer()
            var results: [JSONValue] = []
            func measure(_ name: String, work: Int, _ body: () throws -> Void) rethrows {
                let (median, times) = try BenchTiming.measure(repeats: repeats, body)
                if !common.quiet { FileHandle.standardError.write(Data("\(name): \(String(format: "%.4f", median)) s\n".utf8)) }
                results.append(["name": .string(name), "group": "prop", "median_s": .double(median),
                                "throughput": .double(Double(work) / median / 1e9), "unit": "G items/s", "repeats_s": JSONValue(times),
                                "peak_rss_mib": .double(ResourceUsage.peakResidentMiB)])
            }
            var index = try CorpusIndex(ids: c.documentIds, texts: c.documentTexts, tokenizer: tokenizer)
            try measure("bm25_index_\(c.name)", work: c.documentIds.count) {
                index = try CorpusIndex(ids: c.documentIds, texts: c.documentTexts, tokenizer: tokenizer)
                _ = try BM25(index: index)
            }
            let bm25 = try BM25(index: index)
            let queries = c.queryTexts.map(tokenizer.terms)
            var retrieved = 0
            measure("bm25_query_\(c.name)", work: queries.count) {
                retrieved = 0
                for q in queries { retrieved += bm25.search(terms: q, depth: 100).count }
            }
            if rerankStep {
                let modelPath = try weights.resolve()
                let (encoder, checkpoint) = try loadEncoder(path: modelPath)
                let reranker = Reranker(encoder: encoder, tokenizer: try WordPieceTokenizer(checkpoint: checkpoint), seed: 1)
                var rng = RandomGenerator(seed: common.seed)
                func ids(_ n: Int) -> [Int32] { (0..<n).map { _ in Int32(1000 + rng.nextInt(below: 28000)) } }
                let groups = (0..<2).map { _ in (query: ids(62), documents: (0..<4).map { _ in ids(63) }) }
                let optimizer = AdamW(ParameterGroup.decayAndNoDecay(reranker.model.parameters, learningRate: 2e-5, weightDecay: 0.01))
                let context = ForwardContext(training: true, seed: 3)
                measure("prop_rerank_step_g2_n3_t128", work: 8) {
                    reranker.model.zeroGradients()
                    reranker.groupLoss(groups, maxLength: 128, context: context).loss.backward()
                    optimizer.step()
                }
            }
            var report = Report(tool: "prop", command: "bench")
            report.paper = paperCitation
            report.inputs = try collection.inputs(c, path: path)
            report.metrics = ["results": .array(results), "documents": .int(index.count), "queries": .int(queries.count),
                              "retrieved": .int(retrieved)]
            report.units = ["median_s": "s", "throughput": "1e9 documents or queries per second"]
            return report
        }
    }
}
