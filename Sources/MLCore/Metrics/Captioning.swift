import Foundation

/// Caption metrics as pycocoevalcap 1.2 computes them (Docs/METRICS.md §5), on tokenized captions.
///
/// Inputs are already tokenized: `candidates[i]` is the token list of image i's generated caption and
/// `references[i]` the token lists of its reference captions (pycocoevalcap scores the output of its
/// PTBTokenizer, which is not reimplemented here: tokenize the same way before calling, see
/// Docs/METRICS.md). Scores are over the whole set of images.
public enum Captioning {
    /// Corpus-level BLEU-1 … BLEU-`maxOrder` (pycocoevalcap `Bleu(4)` with `option="closest"`).
    ///
    /// Clipped n-gram matches (against the per-n-gram maximum count over references) and candidate
    /// n-gram counts are summed over the corpus; BLEU-n = (Π_{k≤n} (matches_k + 1e-15) /
    /// (count_k + 1e-9))^{1/n}; the brevity penalty exp(1 − r/c) applies when c < r, with c the total
    /// candidate length and r the sum over images of the reference length closest to the candidate's
    /// (the shorter one on a tie). Source: `bleu/bleu_scorer.py` (Papineni et al., ACL 2002).
    /// - Throws: `MetricsError.lengthMismatch` (candidates vs references), `.empty` for no image or an
    ///   image without references, `.invalidArgument` for maxOrder ≤ 0.
    public static func bleu(candidates: [[String]], references: [[[String]]], maxOrder: Int = 4) throws -> [Double] {
        let metric = "BLEU"
        try check(metric, candidates, references)
        try MetricsError.checkPositive(metric, "maxOrder", maxOrder)
        var correct = [Double](repeating: 0, count: maxOrder), guess = [Double](repeating: 0, count: maxOrder)
        var testLength = 0.0, referenceLength = 0.0
        for (candidate, refs) in zip(candidates, references) {
            var maxCounts: [String: Int] = [:]
            for ref in refs {
                for (gram, count) in ngramCounts(ref, maxOrder: maxOrder) { maxCounts[gram] = max(maxCounts[gram] ?? 0, count) }
            }
            let c = candidate.count
            testLength += Double(c)
            referenceLength += Double(refs.map(\.count).min { (abs($0 - c), $0) < (abs($1 - c), $1) }!)
            for k in 1...maxOrder { guess[k - 1] += Double(max(0, c - k + 1)) }
            for (gram, count) in ngramCounts(candidate, maxOrder: maxOrder) {
                correct[order(gram) - 1] += Double(min(maxCounts[gram] ?? 0, count))
            }
        }
        var scores: [Double] = []
        var product = 1.0
        for k in 0..<maxOrder {
            product *= (correct[k] + 1e-15) / (guess[k] + 1e-9)
            scores.append(Foundation.pow(product, 1 / Double(k + 1)))
        }
        let ratio = (testLength + 1e-15) / (referenceLength + 1e-9)
        if ratio < 1 { scores = scores.map { $0 * Foundation.exp(1 - 1 / ratio) } }
        return scores
    }

    /// ROUGE-L per image and its mean: with LCS the longest common subsequence, P = max over references
    /// of LCS/|candidate| and R = max over references of LCS/|reference| (the two maxima taken
    /// separately), F = (1 + β²)PR / (R + β²P) with β = 1.2, 0 when P or R is 0.
    /// Source: pycocoevalcap `rouge/rouge.py` (Lin, "ROUGE", 2004).
    /// - Throws: as `bleu`.
    public static func rougeL(candidates: [[String]], references: [[[String]]]) throws -> (mean: Double, perImage: [Double]) {
        try check("ROUGE-L", candidates, references)
        let beta2 = 1.2 * 1.2
        var scores: [Double] = []
        for (candidate, refs) in zip(candidates, references) {
            var precision = 0.0, recall = 0.0
            for ref in refs {
                let l = Double(lcs(candidate, ref))
                if !candidate.isEmpty { precision = max(precision, l / Double(candidate.count)) }
                if !ref.isEmpty { recall = max(recall, l / Double(ref.count)) }
            }
            scores.append(precision != 0 && recall != 0 ? (1 + beta2) * precision * recall / (recall + beta2 * precision) : 0)
        }
        return (scores.reduce(0, +) / Double(scores.count), scores)
    }

    /// CIDEr-D per image and its mean (pycocoevalcap `Cider`, which is CIDEr-D): for n = 1…4, TF-IDF
    /// vectors of n-gram counts with idf = log(#images) − log(max(1, df)), df counted over the images'
    /// reference sets (the evaluated corpus, not a fixed one); per reference, Σ_g min(h_g, r_g)·r_g /
    /// (‖h‖‖r‖) times the Gaussian penalty exp(−δ²/(2σ²)), σ = 6, δ = difference of the number of
    /// bigrams (pycocoevalcap's "length", i.e. tokens − 1 for non-empty captions); averaged over n and
    /// over references, ×10. Source: `cider/cider_scorer.py` (Vedantam et al., CVPR 2015, §3 and §5).
    /// - Throws: as `bleu`.
    public static func ciderD(candidates: [[String]], references: [[[String]]], sigma: Double = 6) throws -> (mean: Double, perImage: [Double]) {
        try check("CIDEr-D", candidates, references)
        let n = 4
        var documentFrequency: [String: Int] = [:]
        let referenceCounts = references.map { $0.map { ngramCounts($0, maxOrder: n) } }
        for refs in referenceCounts {
            var grams = Set<String>()
            for counts in refs { grams.formUnion(counts.keys) }
            for g in grams { documentFrequency[g, default: 0] += 1 }
        }
        let logImages = Foundation.log(Double(candidates.count))
        func vector(_ counts: [String: Int]) -> (vec: [[String: Double]], norm: [Double], length: Int) {
            var vec = [[String: Double]](repeating: [:], count: n), norm = [Double](repeating: 0, count: n), length = 0
            for (gram, tf) in counts {
                let k = order(gram) - 1
                let w = Double(tf) * (logImages - Foundation.log(max(1, Double(documentFrequency[gram] ?? 0))))
                vec[k][gram] = w
                norm[k] += w * w
                if k == 1 { length += tf }
            }
            return (vec, norm.map { $0.squareRoot() }, length)
        }
        var scores: [Double] = []
        for (candidate, refs) in zip(candidates, referenceCounts) {
            let h = vector(ngramCounts(candidate, maxOrder: n))
            var total = [Double](repeating: 0, count: n)
            for refCounts in refs {
                let r = vector(refCounts)
                let delta = Double(h.length - r.length)
                for k in 0..<n {
                    var value = 0.0
                    for (gram, w) in h.vec[k] {
                        let rw = r.vec[k][gram] ?? 0
                        value += min(w, rw) * rw
                    }
                    if h.norm[k] != 0 && r.norm[k] != 0 { value /= h.norm[k] * r.norm[k] }
                    total[k] += value * Foundation.exp(-(delta * delta) / (2 * sigma * sigma))
                }
            }
            scores.append(total.reduce(0, +) / Double(n) / Double(refs.count) * 10)
        }
        return (scores.reduce(0, +) / Double(scores.count), scores)
    }

    /// n-gram (n = 1…maxOrder) counts keyed by the tokens joined with U+0001.
    static func ngramCounts(_ tokens: [String], maxOrder: Int) -> [String: Int] {
        var counts: [String: Int] = [:]
        for k in 1...maxOrder where tokens.count >= k {
            for i in 0...(tokens.count - k) { counts[tokens[i..<(i + k)].joined(separator: "\u{1}"), default: 0] += 1 }
        }
        return counts
    }

    static func order(_ gram: String) -> Int { gram.utf8.reduce(1) { $0 + ($1 == 1 ? 1 : 0) } }

    static func lcs(_ a: [String], _ b: [String]) -> Int {
        guard !a.isEmpty && !b.isEmpty else { return 0 }
        var previous = [Int](repeating: 0, count: b.count + 1), current = previous
        for x in a {
            for (j, y) in b.enumerated() { current[j + 1] = x == y ? previous[j] + 1 : max(previous[j + 1], current[j]) }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    static func check(_ metric: String, _ candidates: [[String]], _ references: [[[String]]]) throws {
        try MetricsError.checkSameCount(metric, "references", references.count, expected: candidates.count)
        try MetricsError.checkNonEmpty(metric, "candidates", candidates.count)
        for (i, refs) in references.enumerated() { try MetricsError.checkNonEmpty(metric, "references[\(i)]", refs.count) }
    }
}
