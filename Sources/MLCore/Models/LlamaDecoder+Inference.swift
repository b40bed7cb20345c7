/// Scoring text and generating continuations with a `LlamaDecoder` (inference mode throughout).

/// What `LlamaDecoder.generate` produces and when it stops.
public struct GenerationOptions: Sendable, Equatable {
    /// At most this many new tokens (the stop token, when hit, counts and is included).
    public var maxNewTokens: Int
    /// Greedy or sampled choice of each token.
    public var sampling: SamplingOptions
    /// Generation ends after any of these ids (e.g. `<|im_end|>`).
    public var stopTokens: Set<Int32>

    public init(maxNewTokens: Int = 32, sampling: SamplingOptions = .greedy, stopTokens: Set<Int32> = []) {
        self.maxNewTokens = maxNewTokens
        self.sampling = sampling
        self.stopTokens = stopTokens
    }
}

/// Why `LlamaDecoder.continuation` refused or stopped. One line each.
public enum GenerationError: CategorizedError, Equatable {
    /// The prompt has no token.
    case emptyPrompt
    /// Prompt plus new tokens exceed the model's positions.
    case tooLong(promptTokens: Int, newTokens: Int, positions: Int)
    /// A generation or sampling setting is out of its range (`what` says which and the range).
    case invalidSetting(String)
    /// The logits of new token `step` (1-based) hold NaN or ±∞ (broken weights or an overflow).
    case nonFiniteLogits(step: Int, position: Int)

    /// `.badData` for non-finite logits, `.usage` otherwise.
    public var category: ErrorCategory {
        if case .nonFiniteLogits = self { return .badData }
        return .usage
    }

    public var description: String {
        switch self {
        case .emptyPrompt: return "generation: the prompt has no token, expected at least one"
        case .tooLong(let p, let n, let positions):
            return "generation: \(p) prompt tokens + \(n) new tokens exceed the model's \(positions) positions (at most \(Swift.max(0, positions - p)) new tokens for this prompt)"
        case .invalidSetting(let what): return "generation: \(what)"
        case .nonFiniteLogits(let step, let position):
            return "generation: the logits for new token \(step) (position \(position)) hold NaN or infinity; expected finite logits (broken weights?)"
        }
    }
}

extension GenerationOptions {
    /// Checks the settings: at least one new token; the sampling settings (`SamplingOptions.validate`).
    /// - Throws: `GenerationError.invalidSetting`.
    public func validate() throws {
        guard maxNewTokens >= 1 else { throw GenerationError.invalidSetting("the number of new tokens must be ≥ 1, got \(maxNewTokens)") }
        try sampling.validate()
    }
}

extension LlamaDecoder {
    /// Continues `prompt`: one prefill pass over the prompt into a fresh KV cache (logits of its last
    /// position only), then one single-token pass per new token; each token is chosen by
    /// `TokenSampler` from logits that are checked to be finite first.
    ///
    /// - Parameters:
    ///   - prompt: token ids (at least one).
    ///   - rng: the sampler's generator (unused when greedy): same seed, same tokens.
    ///   - onToken: called with each new token as soon as it is chosen; return false to stop.
    /// - Returns: the new tokens (a final stop token included).
    /// - Throws: `GenerationError.emptyPrompt`, `.tooLong` (prompt + maxNewTokens > positions),
    ///   `.invalidSetting` (`GenerationOptions.validate`), `.nonFiniteLogits` naming the step.
    public func continuation(of prompt: [Int32], options: GenerationOptions, rng: inout RandomGenerator,
                             onToken: (Int32) -> Bool = { _ in true }) throws -> [Int32] {
        guard !prompt.isEmpty else { throw GenerationError.emptyPrompt }
        try options.validate()
        guard options.maxNewTokens <= config.maximumPositions - prompt.count else {
            throw GenerationError.tooLong(promptTokens: prompt.count, newTokens: options.maxNewTokens, positions: config.maximumPositions)
        }
        return try decode(prompt: prompt, options: options, rng: &rng, onToken: onToken)
    }

    private func decode(prompt: [Int32], options: GenerationOptions, rng: inout RandomGenerator,
                        onToken: (Int32) -> Bool) throws -> [Int32] {
        try withoutGradient {
            let cache = makeCache()
            var logits = self(NDArray(prompt, shape: [1, prompt.count]), cache: cache, logits: .last).logits.value
            var out: [Int32] = []
            while true {
                let token = try logits.withUnsafeBufferPointer { p -> Int32 in
                    if !p.allSatisfy(\.isFinite) {
                        throw GenerationError.nonFiniteLogits(step: out.count + 1, position: prompt.count + out.count)
                    }
                    return TokenSampler.next(p, options: options.sampling, rng: &rng)
                }
                out.append(token)
                if !onToken(token) || options.stopTokens.contains(token) || out.count == options.maxNewTokens { break }
                logits = self(NDArray([token], shape: [1, 1]), cache: cache, logits: .last).logits.value
            }
            return out
        }
    }

    /// log p(ids[t] | ids[<t]) for t = 1..<T (natural log), i.e. T − 1 values per sequence; an
    /// empty or one-token sequence gives none.
    ///
    /// Sequences are run together right-padded with an attention mask; the output projection and
    /// log-softmax run on `chunkRows` positions at a time, so memory stays O(chunkRows·V).
    /// - Precondition: every id in 0..<V; every sequence ≤ `config.maximumPositions` tokens.
    public func tokenLogProbabilities(_ sequences: [[Int32]], chunkRows: Int = 256) -> [[Float]] {
        let lengths = sequences.map(\.count)
        let t = lengths.max() ?? 0
        guard t > 1 else { return sequences.map { _ in [] } }
        let b = sequences.count
        var ids = [Int32](repeating: 0, count: b * t), mask = ids
        for (i, s) in sequences.enumerated() {
            for (j, id) in s.enumerated() { ids[i * t + j] = id; mask[i * t + j] = 1 }
        }
        return withoutGradient {
            var none: [Variable]? = nil
            let padded = lengths.allSatisfy { $0 == t } ? nil : NDArray(mask, shape: [b, t])
            let h = outputNorm(trunk(NDArray(ids, shape: [b, t]), attentionMask: padded, states: &none)).value
            var result: [[Float]] = []
            for (i, s) in sequences.enumerated() {
                var lp: [Float] = []
                lp.reserveCapacity(Swift.max(s.count - 1, 0))
                var t0 = 0
                while t0 < s.count - 1 {
                    let t1 = Swift.min(s.count - 1, t0 + Swift.max(1, chunkRows))
                    let rows = h.selected(i, axis: 0).sliced(t0..<t1, axis: 0)
                    let logProbs = output(Variable(rows)).value.logSoftmax(axis: -1)
                    logProbs.withUnsafeBufferPointer { p in
                        let v = config.vocabularySize
                        for r in 0..<(t1 - t0) { lp.append(p[r * v + Int(s[t0 + r + 1])]) }
                    }
                    t0 = t1
                }
                result.append(lp)
            }
            return result
        }
    }
}
