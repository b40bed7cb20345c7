/// Choosing the next token from logits: greedy, or sampling with temperature, top-k and top-p
/// (nucleus; Holtzman et al. 2020, §3.1) applied in that order, with the semantics of Hugging Face
/// `generate` (transformers/generation/logits_process.py: TemperatureLogitsWarper, TopKLogitsWarper,
/// TopPLogitsWarper).
public struct SamplingOptions: Sendable, Equatable {
    /// 0 (or less): greedy (argmax, first maximum on ties; HF do_sample=False). Otherwise the logits
    /// are divided by it before sampling.
    public var temperature: Float
    /// Keep only the tokens whose logit is ≥ the k-th largest (ties kept, as HF); nil or 0: off.
    public var topK: Int?
    /// Keep the smallest set of most probable tokens whose probabilities sum to ≥ p (at least one);
    /// nil or ≥ 1: off.
    public var topP: Float?

    public init(temperature: Float = 0, topK: Int? = nil, topP: Float? = nil) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
    }

    /// Greedy decoding.
    public static let greedy = SamplingOptions()

    /// Whether the choice is deterministic (argmax).
    public var isGreedy: Bool { temperature <= 0 }

    /// Checks the settings: temperature finite and ≥ 0 (0: greedy), top-k ≥ 0, top-p in (0, 1].
    /// - Throws: `GenerationError.invalidSetting` naming the setting and its range.
    public func validate() throws {
        guard temperature.isFinite, temperature >= 0 else {
            throw GenerationError.invalidSetting("the temperature must be finite and ≥ 0 (0: greedy), got \(temperature)")
        }
        if let topK, topK < 0 { throw GenerationError.invalidSetting("top-k must be ≥ 0 (0: off), got \(topK)") }
        if let topP, !(topP > 0 && topP <= 1) { throw GenerationError.invalidSetting("top-p must be in (0, 1], got \(topP)") }
    }
}

public enum TokenSampler {
    /// The next token from one row of logits [V].
    /// - Parameter rng: drawn from once per sampled token (not at all when greedy).
    /// Temperature divides the logits' differences to the maximum, so a tiny positive temperature
    /// (even 10⁻⁴⁵, whose reciprocal overflows Float) acts as greedy instead of producing NaN.
    /// - Precondition: `logits` is non-empty and finite (`LlamaDecoder.continuation` checks);
    ///   `options.validate()` passes.
    public static func next(_ logits: UnsafeBufferPointer<Float>, options: SamplingOptions,
                            rng: inout RandomGenerator) -> Int32 {
        let n = logits.count
        require(n > 0, "TokenSampler: empty logits")
        if options.isGreedy {
            var best = 0
            for i in 1..<n where logits[i] > logits[best] { best = i }
            return Int32(best)
        }
        let temperature = options.temperature
        // Candidates sorted by logit, descending (stable: lower id first on ties).
        var order = Array(0..<n)
        var k = n
        if let topK = options.topK, topK > 0, topK < n {
            // Threshold = the k-th largest logit; everything ≥ it stays (ties included).
            order.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
            let threshold = logits[order[topK - 1]]
            k = topK
            while k < n && logits[order[k]] >= threshold { k += 1 }
            order.removeSubrange(k...)
        } else if let p = options.topP, p < 1 {
            order.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        }
        // Softmax over the candidates (temperature applied).
        let maxLogit = order.reduce(-Float.infinity) { Swift.max($0, logits[$1]) }
        var weights = order.map { expf((logits[$0] - maxLogit) / temperature) }
        if let p = options.topP, p < 1 {
            require(p > 0, "TokenSampler: top-p \(p) must be in (0, 1]")
            let total = weights.reduce(0, +)
            // Keep token i while the probability mass ranked strictly above it is < p.
            var above: Float = 0, keep = 0
            while keep < weights.count && above < p * total {
                above += weights[keep]
                keep += 1
            }
            keep = Swift.max(keep, 1)
            weights.removeSubrange(keep...)
            order.removeSubrange(keep...)
        }
        return Int32(order[rng.categorical(weights)])
    }

    /// The next token from a logits row given as an array.
    public static func next(_ logits: [Float], options: SamplingOptions, rng: inout RandomGenerator) -> Int32 {
        logits.withUnsafeBufferPointer { next($0, options: options, rng: &rng) }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
