import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI

/// `mlcore tokenize --weights NAME`: UTF-8 lines on stdin → one JSON array of ids per line (or back).
struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn UTF-8 lines from stdin into JSON arrays of token ids, one per line (--decode: the reverse).",
        discussion: """
            Examples:
              echo "Hello world" | mlcore tokenize --weights minilm-l6            # [7592,2088]
              echo "Hello world" | mlcore tokenize --weights minilm-l6 --special  # [101,7592,2088,102]
              echo "[7592,2088]" | mlcore tokenize --weights minilm-l6 --decode
            Special tokens written in the text ("[MASK]", "<|im_end|>") become their ids, as in Hugging Face \
            tokenizers; --split-special-tokens tokenizes them as ordinary text.
            Lines are processed in blocks on all cores; output order is input order.
            """)

    @OptionGroup var weights: WeightsOption
    var model: String { weights.weights }

    @Flag(help: "Add the model's special tokens ([CLS] … [SEP] for BERT; SmolLM2 adds none). With --decode: keep special tokens in the text.")
    var special = false

    @Flag(help: "Read JSON arrays of ids (one per line) and write the decoded text lines.")
    var decode = false

    @OptionGroup var threading: ThreadsOption

    @OptionGroup var textInput: TextInputOption

    @OptionGroup var specialTokens: SpecialTokensOption

    func run() throws {
        do {
            threading.apply()
            let tokenizer = try specialTokens.loadTokenizer(from: Checkpoint(path: try resolveNameOrPath(model)))
            let output = FileHandle.standardOutput
            var lineNumber = 0
            var block: [String] = []
            func flush() throws {
                guard !block.isEmpty else { return }
                var text = ""
                if decode {
                    for (k, line) in block.enumerated() {
                        let ids = try parseIds(line, line: lineNumber - block.count + k + 1, vocabularySize: tokenizer.vocabularySize)
                        text += try tokenizer.decode(ids, skipSpecialTokens: !special).replacingOccurrences(of: "\n", with: "\\n") + "\n"
                    }
                } else {
                    for ids in tokenizer.encodeBatch(block, addSpecialTokens: special) {
                        text += "[" + ids.map(String.init).joined(separator: ",") + "]\n"
                    }
                }
                output.write(Data(text.utf8))
                block.removeAll(keepingCapacity: true)
            }
            var input = textInput.standardInputLines()
            while let line = try input.next() {
                lineNumber += 1
                block.append(line)
                if block.count == 4096 { try flush() }
            }
            try flush()
        } catch {
            ToolRunner.fail(tool: "mlcore tokenize", error)
        }
    }
}

/// Errors in `--decode` input.
struct IdLineError: CategorizedError {
    let line: Int
    let reason: String
    var category: ErrorCategory { .badData }
    var description: String { "stdin:\(line): \(reason)" }
}

/// Parses "[1,2,3]" into ids. - Throws: `IdLineError` naming the line.
func parseIds(_ text: String, line: Int, vocabularySize: Int) throws -> [Int32] {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    guard trimmed.hasPrefix("["), trimmed.hasSuffix("]") else {
        throw IdLineError(line: line, reason: "expected a JSON array of token ids like [1,2,3]")
    }
    let body = trimmed.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
    if body.isEmpty { return [] }
    return try body.split(separator: ",").map { part in
        guard let v = Int32(part.trimmingCharacters(in: .whitespaces)), v >= 0, Int(v) < vocabularySize else {
            throw IdLineError(line: line, reason: "'\(part)' is not a token id in 0..<\(vocabularySize)")
        }
        return v
    }
}
