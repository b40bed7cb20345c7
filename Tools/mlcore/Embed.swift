import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI

/// `mlcore embed --weights minilm-l6`: UTF-8 lines on stdin → one JSON object per line with the
/// sentence embedding, as sentence-transformers computes it.
struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Embed UTF-8 lines from stdin with a BERT encoder; one JSON object {\"text\", \"embedding\"} per line.",
        discussion: """
            Examples:
              echo "A happy tweet" | mlcore embed --weights minilm-l6
              mlcore embed --weights minilm-l6 --pooling cls --no-normalize < sentences.txt > embeddings.jsonl
            Defaults follow sentence-transformers for all-MiniLM-L6-v2: mean pooling over real tokens
            ([CLS] and [SEP] included), L2 normalisation, at most 256 tokens per line (longer lines are
            truncated). Lines are batched by length; output order is input order.
            """)

    enum MiniLMWeights: WeightsDefault {
        static var weights: String? { "minilm-l6" }
    }

    @OptionGroup var weights: ModelWeightsOption<MiniLMWeights>
    var model: String { weights.weights }

    @Option(help: "Pooling: mean (over attention-mask tokens) or cls.")
    var pooling: Pooling = .mean

    @Flag(inversion: .prefixedNo, help: "L2-normalise each embedding.")
    var normalize = true

    @Option(help: "Maximum tokens per line, special tokens included (longer lines are truncated).")
    var maxLength = 256

    @Option(help: "Lines per forward pass.")
    var batchSize = 32

    @OptionGroup var threading: ThreadsOption

    @Flag(help: "No progress on stderr.")
    var quiet = false

    @OptionGroup var textInput: TextInputOption

    @OptionGroup var specialTokens: SpecialTokensOption

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        guard maxLength >= 2 else { throw ValidationError("--max-length must be at least 2 (room for [CLS] and [SEP])") }
    }

    func run() throws {
        do {
            threading.apply()
            let checkpoint = try Checkpoint(path: try resolveNameOrPath(model))
            let encoder = SentenceEncoder(encoder: try BertEncoder.load(from: checkpoint),
                                          tokenizer: specialTokens.apply(to: try WordPieceTokenizer(checkpoint: checkpoint)),
                                          pooling: pooling, normalize: normalize, maxLength: maxLength)
            let output = FileHandle.standardOutput
            var lines: [String] = [], done = 0
            let started = Date()
            func flush() {
                guard !lines.isEmpty else { return }
                let embeddings = encoder.encode(lines, batchSize: batchSize).scalars, d = encoder.dimension
                var text = ""
                for (i, line) in lines.enumerated() {
                    text += "{\"embedding\":[" + embeddings[(i * d)..<((i + 1) * d)].map { "\($0)" }.joined(separator: ",") + "],\"text\":"
                        + ((try? JSONValue.string(line).jsonText()) ?? "\"\"") + "}\n"
                }
                output.write(Data(text.utf8))
                done += lines.count
                lines.removeAll(keepingCapacity: true)
                let rate = Double(done) / max(Date().timeIntervalSince(started), 1e-9)
                log("mlcore embed: \(done) lines (\(String(format: "%.1f", rate)) lines/s)", quiet: quiet)
            }
            var input = textInput.standardInputLines()
            while let line = try input.next() {
                lines.append(line)
                if lines.count == 1024 { flush() }
            }
            flush()
        } catch {
            ToolRunner.fail(tool: "mlcore embed", error)
        }
    }
}

extension Pooling: ExpressibleByArgument {}
