import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import PROP

/// `prop index`: the collection's corpus statistics (and optionally its qrels and queries as files).
struct Index: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Corpus statistics of a collection (tokens, vocabulary, avgdl, queries, judgements); optionally write its qrels.",
        discussion: """
            Example:
              prop index --collection lee --save-qrels lee.qrels -o index.json
            Terms: lower-cased [a-zA-Z]+ runs without stop words (the PROP reference's preprocessing). \
            The qrels file has trec_eval's format (query 0 document level).
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var collection: CollectionOptions

    @Option(name: .customLong("save-qrels"), help: ArgumentHelp("Write the collection's judgements as a TREC qrels file ('-' for stdout).", valueName: "file"))
    var qrels: String?

    func run() throws {
        try ToolRunner.run(tool: "prop", command: "index", options: common, reflecting: self) { context in
            let (c, path) = try context.timer.measure("load") { try collection.load() }
            let tokenizer = try collection.tokenizer()
            let index = try context.timer.measure("index") {
                try CorpusIndex(ids: c.documentIds, texts: c.documentTexts, tokenizer: tokenizer)
            }
            let pretraining = try context.timer.measure("index_pretraining") {
                try CorpusIndex(ids: c.pretrainingTexts.indices.map { "bg-\($0)" }, texts: c.pretrainingTexts, tokenizer: tokenizer)
            }
            if let qrels {
                try writeText(TRECFiles.formatQrels(c.queryIds.map { ($0, c.qrels[$0]!) }), to: qrels)
            }
            let levels = c.qrels.values.flatMap(\.values)
            var report = Report(tool: "prop", command: "index")
            report.paper = paperCitation
            report.inputs = try collection.inputs(c, path: path)
            report.metrics = [
                "documents": .int(index.count), "vocabulary": .int(index.vocabulary.count), "terms": .int(index.totalTerms),
                "average_length": .double(index.averageLength), "queries": .int(c.queryIds.count),
                "skipped_queries": JSONValue(c.skippedQueries), "judgements": .int(levels.count),
                "judgements_per_level": .object(Dictionary(grouping: levels, by: { "\($0)" }).mapValues { .int($0.count) }),
                "judgement_rule": .string(c.judgementRule),
                "pretraining": ["documents": .int(pretraining.count), "vocabulary": .int(pretraining.vocabulary.count),
                                "terms": .int(pretraining.totalTerms), "average_length": .double(pretraining.averageLength)],
            ]
            report.units = ["average_length": "terms per document after stop-word removal"]
            return report
        }
    }
}
