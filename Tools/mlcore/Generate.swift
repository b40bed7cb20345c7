import ArgumentParser
import Dispatch
import Foundation
import MLCore
import MLCoreCLI

/// `mlcore generate --weights NAME --prompt TEXT`: a continuation from a causal language model,
/// streamed to stdout as it is generated.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Continue a prompt with a causal language model (SmolLM2); the text streams to stdout.",
        discussion: """
            Examples:
              mlcore generate --weights smollm2 --prompt "The capital of France is" --max-tokens 8
              mlcore generate --weights smollm2 --chat --prompt "What is 2+2?" --temperature 0.7 --top-p 0.9 --seed 1
            Greedy unless --temperature > 0; sampling applies temperature, then top-k, then top-p
            (Hugging Face semantics). Generation stops after --max-tokens, or at <|im_end|> or
            <|endoftext|> (not printed). With --chat the prompt is the user message of the model's chat
            template (with its default system message). A summary (tokens, tokens/s) goes to stderr
            unless --quiet.
            """)

    @OptionGroup var weights: WeightsOption
    var model: String { weights.weights }

    @Option(help: "The prompt text.")
    var prompt: String

    @Flag(help: "Render the prompt as a user message with the chat template; stop at <|im_end|>.")
    var chat = false

    @Option(help: "Maximum number of new tokens.")
    var maxTokens = 64

    @Option(help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0

    @Option(help: "Sample only among the k most likely tokens (0: off).")
    var topK = 0

    @Option(help: "Sample from the smallest set of tokens with total probability ≥ p (1: off).")
    var topP: Float = 1

    @Option(help: "Seed of the sampler (same seed, same text).", transform: parseSeed)
    var seed: UInt64 = 0

    @OptionGroup var threading: ThreadsOption

    @OptionGroup var specialTokens: SpecialTokensOption

    @Flag(name: .shortAndLong, help: "No summary on stderr.")
    var quiet = false

    func validate() throws {
        if maxTokens < 1 { throw ValidationError("--max-tokens must be ≥ 1, got \(maxTokens)") }
        if !(temperature.isFinite && temperature >= 0) {
            throw ValidationError("--temperature must be finite and ≥ 0 (0: greedy), got \(temperature)")
        }
        if topK < 0 { throw ValidationError("--top-k must be ≥ 0, got \(topK)") }
        if !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1], got \(topP)") }
    }

    func run() throws {
        do {
            threading.apply()
            let loaded = try LanguageModel(nameOrPath: model, specialTokens: specialTokens)
            let tokenizer = loaded.tokenizer
            let ids = chat ? tokenizer.encodeChat([.init(role: "user", content: prompt)]) : tokenizer.encode(prompt)
            guard !ids.isEmpty else { throw ValidationError("--prompt is empty") }
            let positions = loaded.decoder.config.maximumPositions
            guard maxTokens <= positions - ids.count else {
                throw ValidationError("--max-tokens \(maxTokens) with a \(ids.count)-token prompt exceeds the model's \(positions) positions (at most \(max(0, positions - ids.count)))")
            }
            let options = GenerationOptions(
                maxNewTokens: maxTokens,
                sampling: SamplingOptions(temperature: temperature, topK: topK > 0 ? topK : nil, topP: topP < 1 ? topP : nil),
                stopTokens: loaded.stopTokens)
            var rng = RandomGenerator(seed: seed)
            let stream = TextStream(tokenizer: tokenizer)
            let t0 = DispatchTime.now().uptimeNanoseconds
            var firstToken: UInt64 = 0
            let out = try loaded.decoder.continuation(of: ids, options: options, rng: &rng) { token in
                if firstToken == 0 { firstToken = DispatchTime.now().uptimeNanoseconds }
                stream.append(token)
                return true
            }
            stream.finish()
            if !quiet {
                let end = DispatchTime.now().uptimeNanoseconds
                if firstToken == 0 { firstToken = end }
                let prefill = Double(firstToken - t0) / 1e9, decode = Double(end - firstToken) / 1e9
                let rate = out.count > 1 ? String(format: "%.1f", Double(out.count - 1) / decode) : "-"
                FileHandle.standardError.write(Data(String(
                    format: "mlcore generate: %d prompt tokens (%.2f s), %d new tokens (%@ tokens/s)\n",
                    ids.count, prefill, out.count, rate).utf8))
            }
        } catch {
            ToolRunner.fail(tool: "mlcore generate", error)
        }
    }
}

/// A Llama-family checkpoint with its tokenizer, as `generate` and `score` use it.
struct LanguageModel {
    let decoder: LlamaDecoder
    let tokenizer: ByteLevelBPETokenizer
    /// End-of-text tokens of the vocabulary (<|im_end|>, <|endoftext|>).
    let stopTokens: Set<Int32>

    /// - Throws: `DatasetError` for unknown names, `CheckpointError` / `HDF5Error` for bad files.
    init(nameOrPath: String, specialTokens: SpecialTokensOption) throws {
        let checkpoint = try Checkpoint(path: try resolveNameOrPath(nameOrPath))
        decoder = try LlamaDecoder.load(from: checkpoint)
        let tokenizer = specialTokens.apply(to: try ByteLevelBPETokenizer(checkpoint: checkpoint))
        self.tokenizer = tokenizer
        stopTokens = Set(["<|im_end|>", "<|endoftext|>"].compactMap { tokenizer.id(of: $0) })
    }
}

/// Writes the text of a growing token sequence to stdout as it grows, holding back an incomplete
/// UTF-8 character (a byte-level token can end in the middle of one) until it completes. Special
/// tokens are not written.
final class TextStream {
    let tokenizer: ByteLevelBPETokenizer
    private var ids: [Int32] = []
    private var written = 0  // characters of the decoded text already written

    init(tokenizer: ByteLevelBPETokenizer) { self.tokenizer = tokenizer }

    func append(_ token: Int32) {
        ids.append(token)
        flush(final: false)
    }

    /// Writes what is left and ends the line.
    func finish() {
        flush(final: true)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    private func flush(final: Bool) {
        guard let text = try? tokenizer.decode(ids, skipSpecialTokens: true) else { return }
        var characters = Array(text)
        if !final { while characters.last == "\u{FFFD}" { characters.removeLast() } }
        guard characters.count > written else { return }
        FileHandle.standardOutput.write(Data(String(characters[written...]).utf8))
        written = characters.count
    }
}
