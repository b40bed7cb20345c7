import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import PROP

/// `prop rerank`: fine-tune a BERT re-ranker with k-fold cross-validation over the queries and
/// re-rank BM25's top k of each held-out query.
struct Rerank: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fine-tune a cross-encoder re-ranker (softmax cross-entropy over a positive and BM25 negatives) with k-fold cross-validation; re-rank BM25's top k; TREC run and metrics.",
        discussion: """
            Example:
              prop bm25 --save-run bm25.run
              prop rerank --weights prop.h5 --bm25-run bm25.run --folds 5 --save-run prop.run -o prop-rerank.json
            --weights is minilm-l6 or a `prop pretrain` checkpoint (its encoder; the tokenizer comes from \
            --tokenizer). For each fold the model starts again from --weights with a fresh Linear(384 → 1) \
            head on the pooled [CLS] (the same head for every model with the same --seed; --head pretrained \
            starts from the checkpoint's ROP head instead), trains on the other folds' queries (at most \
            --train-queries of them; 0: no fine-tuning, the zero-resource setting) and re-ranks the fold's \
            queries. Positives: the query's judged relevant documents; negatives: BM25's top --depth \
            without them. Documents below the top --depth keep BM25's order under the re-ranked ones.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var collection: CollectionOptions
    @OptionGroup var weights: ModelWeightsOption<MiniLMDefault>
    @OptionGroup var optimizer: OptimizerOptions<RerankDefaults>

    @Option(help: ArgumentHelp("The WordPiece tokenizer: a datasets.toml model name or .h5 path with a tokenizer.", valueName: "name|file"))
    var tokenizer = "minilm-l6"

    @Option(help: ArgumentHelp("BM25 run (TREC format, `prop bm25 --save-run`) whose top --depth documents are re-ranked.", valueName: "file"))
    var bm25Run: String

    @Option(help: "Documents re-ranked per query (BM25's top k).")
    var depth = 20

    @Option(help: "Cross-validation folds over the queries (≥ 2).")
    var folds = 5

    @Option(help: "Seed of the query shuffle that makes the folds (MLCore Splits.kFold; the same for every model compared).")
    var foldSeed: UInt64 = 0

    @Option(help: "At most this many training queries per fold (the first of the fold's shuffled training queries; 0: no fine-tuning).")
    var trainQueries: Int?

    @Option(help: "The score head: fresh (N(0, 0.02)) or pretrained (the checkpoint's ROP head classifier.*).")
    var head = "fresh"

    @Option(help: "Query groups per step.")
    var groupsPerStep = 2

    @Option(help: "Negatives per group.")
    var negatives = 3

    @Option(help: "Tokens per [CLS] query [SEP] document [SEP] (longest-first truncation).")
    var maxLength = 256

    @Option(name: .customLong("save-run"), help: ArgumentHelp("Write the re-ranked run (TREC format; '-' for stdout).", valueName: "file"))
    var runFile: String?

    @Option(help: "Tag (last column) of the written run.")
    var tag = "rerank"

    func validate() throws {
        guard depth >= 1 else { throw ValidationError("--depth must be ≥ 1, got \(depth)") }
        guard folds >= 2 else { throw ValidationError("--folds must be ≥ 2, got \(folds)") }
        guard trainQueries.map({ $0 >= 0 }) ?? true else { throw ValidationError("--train-queries must be ≥ 0") }
        guard ["fresh", "pretrained"].contains(head) else { throw ValidationError("--head must be fresh or pretrained, got '\(head)'") }
        guard groupsPerStep >= 1, negatives >= 1 else { throw ValidationError("--groups-per-step and --negatives must be ≥ 1") }
        guard maxLength >= 8 && maxLength <= 512 else { throw ValidationError("--max-length must be in 8...512, got \(maxLength)") }
        guard optimizer.learningRate.isFinite && optimizer.weightDecay.isFinite else { throw ValidationError("--learning-rate and --weight-decay must be finite") }
    }

    func run() throws {
        var options = common
        if common.output == nil && runFile == "-" { options.output = "/dev/null" }
        try ToolRunner.run(tool: "prop", command: "rerank", options: options, reflecting: self) { context in
            let (c, path) = try context.timer.measure("load") { try collection.load() }
            try requireFile(bm25Run, "BM25 run")
            let bm25 = try TRECFiles.readRun(path: bm25Run)
            let queries = c.queryIds.filter { bm25[$0] != nil }
            guard queries.count >= folds else {
                throw PROPError.malformedData(file: bm25Run, detail: "\(queries.count) of the collection's queries are in the run; \(folds) folds need at least \(folds)")
            }
            let ranked = try bm25.mapValues { docs in
                try Retrieval.ranking(docs).map { id in ScoredDocument(id: id, score: docs.first { $0.id == id }!.score) }
            }
            let modelPath = try weights.resolve()
            let tokenizerPath = try resolveNameOrPath(tokenizer)
            try requireFile(tokenizerPath, "tokenizer")
            let wordPiece = try WordPieceTokenizer(checkpoint: try Checkpoint(path: tokenizerPath))
            let cap = maxLength
            let docTokens = Dictionary(uniqueKeysWithValues: zip(c.documentIds,
                                                                 wordPiece.encodeBatch(c.documentTexts, addSpecialTokens: false).map { Array($0.ids.prefix(cap)) }))
            let queryTokens = Dictionary(uniqueKeysWithValues: zip(c.queryIds,
                                                                   wordPiece.encodeBatch(c.queryTexts, addSpecialTokens: false).map { Array($0.ids.prefix(cap)) }))
            let steps = optimizer.steps
            let config = RerankConfig(steps: steps, groupsPerStep: groupsPerStep, negatives: negatives, learningRate: Float(optimizer.learningRate),
                                      weightDecay: Float(optimizer.weightDecay), maxLength: maxLength, depth: depth)
            var foldRNG: RandomGenerator? = RandomGenerator(seed: foldSeed)
            let foldSets = Splits.kFold(count: queries.count, folds: folds, using: &foldRNG).map { $0.test.map { queries[$0] } }
            var reranked: [String: [ScoredDocument]] = [:]
            var foldReports: [JSONValue] = []
            for (f, test) in foldSets.enumerated() {
                let testSet = Set(test)
                var train = queries.filter { !testSet.contains($0) }
                if let trainQueries { train = Array(train.prefix(trainQueries)) }
                let (encoder, checkpoint) = try context.timer.measure("load") { try loadEncoder(path: modelPath) }
                var pretrainedHead: (weight: Tensor, bias: Tensor)?
                if head == "pretrained" {
                    guard checkpoint.keys.contains("classifier.weight") else {
                        throw PROPError.malformedData(file: modelPath, detail: "no ROP head classifier.weight (not a `prop pretrain` checkpoint)")
                    }
                    pretrainedHead = (try checkpoint.tensor("classifier.weight"), try checkpoint.tensor("classifier.bias"))
                }
                let reranker = Reranker(encoder: encoder, tokenizer: wordPiece, seed: common.seed &+ 1, head: pretrainedHead)
                let trainingQueries = train.map { q -> RerankTrainingQuery in
                    let judged = c.qrels[q] ?? [:]
                    let excluded = c.excluded[q] ?? []
                    let positives = judged.filter { $0.value >= 1 && !excluded.contains($0.key) }.keys.sorted().compactMap { docTokens[$0] }
                    let negatives = ranked[q]!.prefix(depth).filter { (judged[$0.id] ?? 0) < 1 }.compactMap { docTokens[$0.id] }
                    return RerankTrainingQuery(query: queryTokens[q]!, positives: positives, negatives: negatives)
                }
                let progress = TrainingProgress("prop rerank fold \(f + 1)/\(folds)", steps: steps, logEvery: max(1, steps / 5), quiet: common.quiet)
                let result = try context.timer.measure("train") {
                    train.isEmpty ? nil : try reranker.train(trainingQueries, config: config, rng: &context.random, onEvent: progress.handle)
                }
                progress.finish()
                try context.timer.measure("rerank") {
                    for q in test {
                        let top = Array(ranked[q]!.prefix(depth))
                        guard let docs = Optional(top.compactMap { docTokens[$0.id] }), docs.count == top.count else {
                            throw PROPError.malformedData(file: bm25Run, detail: "query \(q) ranks a document that is not in the collection")
                        }
                        let scores = reranker.scores(query: queryTokens[q]!, documents: docs, maxLength: maxLength, batch: config.inferenceBatch)
                        reranked[q] = Reranking.merged(ranked[q]!, depth: depth, scores: scores)
                    }
                }
                var foldReport: [String: JSONValue] = ["fold": .int(f), "test_queries": JSONValue(test), "train_queries": .int(train.count)]
                if let result { foldReport["training"] = .object(trainingSummary(result, instances: trainingQueries.count)) }
                foldReports.append(.object(foldReport))
            }
            if let runFile {
                try writeText(TRECFiles.formatRun(queries.map { ($0, reranked[$0]!) }, tag: tag), to: runFile)
            }
            let base = Dictionary(uniqueKeysWithValues: queries.map { ($0, bm25[$0]!) })
            var report = Report(tool: "prop", command: "rerank")
            report.paper = paperCitation
            report.inputs = try collection.inputs(c, path: path).merging(["bm25_run": try fileInput(bm25Run), "weights": try fileInput(modelPath)]) { a, _ in a }
            report.metrics = ["reranked": try evaluationJSON(reranked, qrels: c.qrels), "bm25": try evaluationJSON(base, qrels: c.qrels),
                              "folds": .array(foldReports), "queries": .int(queries.count),
                              "unjudged_run_queries": JSONValue(RunEvaluation.unjudgedQueries(run: bm25, qrels: c.qrels))]
            return report
        }
    }
}
