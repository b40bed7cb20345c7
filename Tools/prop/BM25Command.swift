import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import PROP

/// `prop bm25`: BM25 retrieval for every query of a collection, a TREC run file and its metrics.
struct BM25Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bm25",
        abstract: "Rank a collection's documents for each query with BM25 (rank-bm25's BM25Okapi formula); write a TREC run and MAP, nDCG@20, P@20.",
        discussion: """
            Example:
              prop bm25 --collection lee --k1 1.5 --b 0.75 --save-run bm25.run -o bm25.json
            The report's metrics include the same measures for a random ordering of the same documents \
            (mean over --random-permutations seeded shuffles): the power check, BM25 must be clearly above it.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var collection: CollectionOptions

    @Option(help: "BM25 k1 (term-frequency saturation, ≥ 0).")
    var k1: Double = 1.5

    @Option(help: "BM25 b (length normalisation, in [0, 1]).")
    var b: Double = 0.75

    @Option(help: "rank-bm25's ε: a negative idf becomes ε times the mean idf.")
    var epsilon: Double = 0.25

    @Option(help: "Documents per query in the run.")
    var depth = 1000

    @Option(name: .customLong("save-run"), help: ArgumentHelp("Write the run as a TREC run file ('-' for stdout).", valueName: "file"))
    var runFile: String?

    @Option(help: "Random orderings averaged for the random-ranking baseline.")
    var randomPermutations = 200

    func validate() throws {
        guard k1 >= 0 && k1.isFinite else { throw ValidationError("--k1 must be ≥ 0, got \(k1)") }
        guard (0...1).contains(b) else { throw ValidationError("--b must be in [0, 1], got \(b)") }
        guard depth >= 1 else { throw ValidationError("--depth must be ≥ 1, got \(depth)") }
        guard epsilon >= 0 && epsilon.isFinite else { throw ValidationError("--epsilon must be a finite number ≥ 0, got \(epsilon)") }
        guard randomPermutations >= 1 else { throw ValidationError("--random-permutations must be ≥ 1, got \(randomPermutations)") }
    }

    func run() throws {
        var options = common
        if common.output == nil && runFile == "-" { options.output = "/dev/null" }  // stdout carries the run
        try ToolRunner.run(tool: "prop", command: "bm25", options: options, reflecting: self) { context in
            let (c, path) = try context.timer.measure("load") { try collection.load() }
            let tokenizer = try collection.tokenizer()
            let index = try context.timer.measure("index") {
                try CorpusIndex(ids: c.documentIds, texts: c.documentTexts, tokenizer: tokenizer)
            }
            let bm25 = try BM25(index: index, k1: k1, b: b, epsilon: epsilon)
            let ranked = context.timer.measure("search") { bm25Run(c, bm25: bm25, tokenizer: tokenizer, depth: depth) }
            if let runFile {
                try writeText(TRECFiles.formatRun(c.queryIds.map { ($0, ranked[$0]!) }, tag: "bm25"), to: runFile)
            }
            let metrics = try evaluationJSON(ranked, qrels: c.qrels)
            let random = try RunEvaluation.randomBaseline(run: ranked, qrels: c.qrels, permutations: randomPermutations,
                                                          seed: common.seed)
            var report = Report(tool: "prop", command: "bm25")
            report.paper = paperCitation
            report.inputs = try collection.inputs(c, path: path)
            report.metrics = ["bm25": metrics, "random": .object(random.mapValues(JSONValue.double)),
                              "skipped_queries": JSONValue(c.skippedQueries), "documents": .int(index.count),
                              "unjudged_run_queries": JSONValue(RunEvaluation.unjudgedQueries(run: ranked, qrels: c.qrels))]
            return report
        }
    }
}
