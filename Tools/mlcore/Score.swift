import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI

/// `mlcore score --weights NAME`: per-token log-probabilities of each stdin line under a causal LM.
struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score UTF-8 lines from stdin with a causal language model: one JSON object per line.",
        discussion: """
            Example:
              printf 'The capital of France is Paris.\\n' | mlcore score --weights smollm2
            Each output line is {"line": n, "ids": [...], "log_probs": [...], "total": Σ, "count": T − 1}:
            log_probs[t − 1] = ln p(ids[t] | ids[<t]) for t ≥ 1 (the first token has no context and no
            score; no BOS token is added, as SmolLM2's tokenizer adds none). Lines run in padded
            batches (--batch lines at a time); output order is input order.
            `mlcore score auroc` instead reads scored items (JSON lines with "score" and "label") and
            reports their AUROC: it is `mlcore metric auroc` under its older name.
            """,
        subcommands: [MetricAUROC.self])

    /// A language model `run` requires; `mlcore score auroc` needs none.
    enum LanguageModelWeights: WeightsDefault {
        static var weights: String? { nil }
        static var isRequired: Bool { false }
    }

    @OptionGroup var weights: ModelWeightsOption<LanguageModelWeights>
    var model: String? { weights.value }

    @Option(help: "Lines per forward pass.")
    var batch = 8

    @OptionGroup var threading: ThreadsOption

    @OptionGroup var textInput: TextInputOption

    @OptionGroup var specialTokens: SpecialTokensOption

    func validate() throws {
        if batch < 1 { throw ValidationError("--batch must be at least 1, got \(batch)") }
    }

    func run() throws {
        do {
            threading.apply()
            guard let model else { throw ValidationError("Missing expected argument '--weights <name|file>'") }
            let loaded = try LanguageModel(nameOrPath: model, specialTokens: specialTokens)
            let limit = loaded.decoder.config.maximumPositions
            var lineNumber = 0
            var block: [(line: Int, ids: [Int32])] = []
            func flush() throws {
                guard !block.isEmpty else { return }
                let scores = loaded.decoder.tokenLogProbabilities(block.map(\.ids))
                var text = ""
                for (entry, lp) in zip(block, scores) {
                    let total = lp.reduce(0.0) { $0 + Double($1) }
                    let object: JSONValue = ["line": .int(entry.line), "ids": JSONValue(entry.ids.map(Int.init)),
                                             "log_probs": .array(lp.map { JSONValue($0) }), "total": JSONValue(total),
                                             "count": .int(lp.count)]
                    text += try object.jsonText() + "\n"
                }
                FileHandle.standardOutput.write(Data(text.utf8))
                block.removeAll(keepingCapacity: true)
            }
            var input = textInput.standardInputLines()
            while let line = try input.next() {
                lineNumber += 1
                let ids = loaded.tokenizer.encode(line)
                guard ids.count <= limit else {
                    throw IdLineError(line: lineNumber, reason: "\(ids.count) tokens exceed the model's \(limit) positions")
                }
                block.append((lineNumber, ids))
                if block.count == batch { try flush() }
            }
            try flush()
        } catch {
            ToolRunner.fail(tool: "mlcore score", error)
        }
    }
}
