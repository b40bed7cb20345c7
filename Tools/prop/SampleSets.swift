import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import PROP

/// `prop sample-sets`: PROP's representative word-set pairs, one JSON line per document.
struct SampleSets: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample-sets",
        abstract: "Sample pairs of word sets from each document's Dirichlet-smoothed language model (the ROP pre-training data): JSON lines on stdout.",
        discussion: """
            Example:
              prop sample-sets --collection lee --pairs 10 --seed 1 > sets.jsonl
            Each line is {"doc_index", "doc_id", "skipped", "rep_word_sets": [[[words, score], [words, score]], ...]} \
            for one document of the pre-training corpus (--corpus pretraining, lee_background for lee) or of \
            the collection's documents (--corpus documents), in corpus order; score is the set's \
            log-likelihood and the higher one is the positive (a tie: the second). Documents shorter than \
            --short-length WordPiece tokens (of --tokenizer) are skipped with probability 0.8. \
            Document i draws from its own stream of --seed, so --shard i/n gives exactly its block of the \
            unsharded lines (after a {"mlcore_shard": ...} header); `prop merge` joins the shards. The JSON \
            report (counts, settings) goes to --output only.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var collection: CollectionOptions
    @OptionGroup var sharding: ShardOption
    @Option(help: ArgumentHelp("The WordPiece tokenizer that measures document length: a datasets.toml model name or .h5 path with a tokenizer.",
                               valueName: "name|file"))
    var tokenizer = "minilm-l6"

    @Option(help: "Which texts: pretraining (the collection's pre-training corpus) or documents (its test documents).")
    var corpus = "pretraining"

    @Option(help: "Word-set pairs per document (the reference's rop_num_per_doc).")
    var pairs = 10

    @Option(help: "λ of the Poisson distribution of set lengths.")
    var lambda: Double = 3

    @Option(help: "Size K of the sampling vocabulary.")
    var vocabularySize = 500

    @Option(help: "Documents with fewer WordPiece tokens are skipped with probability 0.8.")
    var shortLength = 100

    func validate() throws {
        guard ["pretraining", "documents"].contains(corpus) else {
            throw ValidationError("--corpus must be pretraining or documents, got '\(corpus)'")
        }
        guard (1...1000).contains(pairs) else { throw ValidationError("--pairs must be in 1...1000, got \(pairs)") }
        guard lambda > 0 && lambda <= 100 else { throw ValidationError("--lambda must be in (0, 100], got \(lambda)") }
        guard (1...100_000).contains(vocabularySize) else { throw ValidationError("--vocabulary-size must be in 1...100000, got \(vocabularySize)") }
    }

    func run() throws {
        var options = common
        if common.output == nil { options.output = "/dev/null" }  // stdout carries the JSON lines
        try ToolRunner.run(tool: "prop", command: "sample-sets", options: options, reflecting: self) { context in
            let (c, path) = try context.timer.measure("load") { try collection.load() }
            let texts = corpus == "pretraining" ? c.pretrainingTexts : c.documentTexts
            let ids = corpus == "pretraining" ? texts.indices.map { "bg-\($0)" } : c.documentIds
            let modelPath = try resolveNameOrPath(tokenizer)
            try requireFile(modelPath, "tokenizer")
            let wordPiece = try WordPieceTokenizer(checkpoint: try Checkpoint(path: modelPath))
            let lengths = wordPiece.encodeBatch(texts, addSpecialTokens: false).map(\.count)
            let index = try context.timer.measure("index") { try CorpusIndex(ids: ids, texts: texts, tokenizer: try collection.tokenizer()) }
            let sampler = try WordSetSampler(index: index, vocabularySize: vocabularySize, lambda: lambda,
                                             pairsPerDocument: pairs, shortLength: shortLength)
            let records = sharding.select(Array(0..<index.count))
            var inputs = try collection.inputs(c, path: path)
            inputs["tokenizer"] = try fileInput(modelPath)
            if let shard = sharding.shard {
                let header = ShardHeader(shard: shard, records: index.count,
                                         job: ["tool": "prop", "command": "sample-sets", "config": ShardOption.jobConfig(of: self),
                                               "inputs": .object(inputs)])
                FileHandle.standardOutput.write(Data((try header.line() + "\n").utf8))
            }
            var skipped = 0, pairCount = 0
            try context.timer.measure("sample") {
                for d in records {
                    let result = sampler.sample(document: d, length: lengths[d], seed: common.seed)
                    if result.skipped { skipped += 1 }
                    pairCount += result.pairs.count
                    let sets: [JSONValue] = result.pairs.map { pair in
                        .array(zip(pair.sets, pair.scores).map { .array([.string($0.joined(separator: " ")), .double($1)]) })
                    }
                    let line: JSONValue = ["doc_index": .int(d), "doc_id": .string(result.documentId), "skipped": .bool(result.skipped),
                                           "rep_word_sets": .array(sets)]
                    FileHandle.standardOutput.write(Data((try line.jsonText() + "\n").utf8))
                }
            }
            var report = Report(tool: "prop", command: "sample-sets")
            report.paper = paperCitation
            report.inputs = inputs
            report.metrics = ["documents": .int(records.count), "skipped_documents": .int(skipped), "pairs": .int(pairCount),
                              "mu": .double(sampler.mu), "background_words": .int(sampler.background.filter { $0 > 0 }.count)]
            return report
        }
    }
}
