import ArgumentParser
import MLCore
import MLCoreCLI

/// `prop`: PROP pre-training with representative-words prediction (Ma et al., WSDM 2021), BM25 and
/// neural re-ranking on real text with real relevance signals.
@main
struct PROPTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prop",
        abstract: "PROP: BM25 retrieval, representative word-set sampling, ROP + MLM pre-training of MiniLM and BERT re-ranking on test collections built from real text.",
        discussion: """
            A pipeline (Docs/prop.md):
              prop index --collection lee --save-qrels lee.qrels -o index.json
              prop bm25 --collection lee --save-run bm25.run -o bm25.json
              prop sample-sets --collection lee --pairs 10 > sets.jsonl
              prop pretrain --sets sets.jsonl --steps 200 --save prop.h5 -o pretrain.json
              prop pretrain --sets sets.jsonl --steps 200 --objective mlm --save mlm.h5 -o mlm.json
              prop rerank --weights prop.h5 --bm25-run bm25.run --save-run prop.run -o rerank.json
            Collections: lee (gensim's Lee corpus: each of the 50 documents is a query against the other \
            49, graded judgements from the mean human similarity ratings; lee_background is the \
            pre-training corpus).
            """,
        version: MLCoreVersion.string,
        subcommands: [Index.self, BM25Command.self, SampleSets.self, Pretrain.self, Rerank.self, Bench.self, MergeCommand.self])

    static func main() { mainWithOneLineErrors() }
}
