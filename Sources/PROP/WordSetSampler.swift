import Foundation
import MLCore

/// A pair of word sets sampled from one document's language model (PROP, Ma et al. WSDM 2021 §3.2;
/// prop/multiprocessing_generate_word_sets.py).
public struct WordSetPair: Sendable, Equatable {
    /// The two sets, in drawing order (words may repeat).
    public var sets: [[String]]
    /// Their log-likelihoods Σ log P(w|d) under the smoothed, un-renormalised document model.
    public var scores: [Double]

    public init(sets: [[String]], scores: [Double]) {
        self.sets = sets
        self.scores = scores
    }

    /// Index (0 or 1) of the positive set: the higher score; on a tie the second set (the reference's
    /// pair order).
    public var positive: Int { scores[0] > scores[1] ? 0 : 1 }
}

/// Word-set pairs of one document.
public struct DocumentWordSets: Sendable, Equatable {
    /// The document's index in the corpus and its identifier.
    public var documentIndex: Int
    public var documentId: String
    /// The pairs (empty when the document was skipped).
    public var pairs: [WordSetPair]
    /// Whether the short-document rule skipped it.
    public var skipped: Bool
}

/// PROP's representative-word-set sampler (Docs/prop.md, "Word-set sampling"), as the reference
/// `generate_word_sets_from_document` does it:
///
/// - background P(w|C) = df(w) / Σ_v df(v) over all words, kept only for words with corpus tf ≥ 10
///   (`normalized_df`: df-based, the denominator over the whole vocabulary);
/// - document model with Dirichlet smoothing, μ = avgdl: P(w|d) = (tf(w,d) + μ·P(w|C)) / (|d| + μ);
/// - sampling vocabulary: the document's words that have a background probability, plus words drawn
///   i.i.d. from the background (K − |doc vocab| draws, or |doc vocab| + 100 draws when the document
///   has ≥ K = 500 words), without the document's words and without repeats; P renormalised over it;
/// - documents with fewer than 100 tokens are skipped with probability 0.8;
/// - per pair, l ~ Poisson(λ) redrawn until l > 0; each set draws words from the renormalised P until
///   l are accepted, a word w being accepted with probability √(t/f) + t/f (t = 1e-4, f = corpus tf /
///   total terms; word2vec's sub-sampling, ≥ 1 means always);
/// - set score = Σ log P(w|d) (un-renormalised).
///
/// Unlike the reference, the keep probability is defined for every word: the reference builds it only
/// for words with corpus tf ≥ 100, so a drawn word with corpus tf 10–99 raises a KeyError that the
/// worker pool swallows, and the rest of that worker's documents are silently lost.
///
/// Randomness: document i uses its own generator (`seed`, stream i), so the output of a document does
/// not depend on which other documents are sampled (sharding gives the unsharded output).
public struct WordSetSampler: Sendable {
    /// The corpus statistics.
    public let index: CorpusIndex
    /// P(w|C) per term id (0 for words with corpus tf < `minimumCorpusFrequency`).
    public let background: [Double]
    /// The acceptance probability per term id.
    public let keepProbability: [Double]
    /// μ of the Dirichlet smoothing (the reference: avgdl).
    public let mu: Double
    /// K, the sampling vocabulary size (500).
    public let vocabularySize: Int
    /// λ of the set-length Poisson (3).
    public let lambda: Double
    /// Pairs per document (the reference's `rop_num_per_doc`, 10 in the paper's runs).
    public let pairsPerDocument: Int
    /// Documents shorter than this (in the lengths given to `sample`) are skipped with probability
    /// `shortSkipProbability`.
    public let shortLength: Int
    public let shortSkipProbability: Double
    /// Term ids with a background probability, and their cumulative distribution (for drawing).
    let backgroundTerms: [Int32]
    let backgroundCDF: [Double]

    /// - Parameters: see the properties; `subsampling` is word2vec's t (1e-4), `minimumCorpusFrequency`
    ///   the background's threshold (10).
    /// - Throws: `PROPError.invalidSetting` for λ ≤ 0, K < 1, negative pairs or probabilities outside
    ///   [0, 1]; `.emptyCorpus` when no word reaches the background threshold.
    public init(index: CorpusIndex, vocabularySize: Int = 500, lambda: Double = 3, pairsPerDocument: Int = 10,
                subsampling: Double = 1e-4, minimumCorpusFrequency: Int = 10, shortLength: Int = 100,
                shortSkipProbability: Double = 0.8, mu: Double? = nil) throws {
        guard lambda > 0, lambda.isFinite else { throw PROPError.invalidSetting("the Poisson λ must be > 0, got \(lambda)") }
        guard vocabularySize >= 1 else { throw PROPError.invalidSetting("the sampling vocabulary needs ≥ 1 word, got \(vocabularySize)") }
        guard pairsPerDocument >= 0 else { throw PROPError.invalidSetting("pairs per document must be ≥ 0, got \(pairsPerDocument)") }
        guard (0...1).contains(shortSkipProbability) else {
            throw PROPError.invalidSetting("the short-document skip probability must be in [0, 1], got \(shortSkipProbability)")
        }
        guard subsampling > 0 else { throw PROPError.invalidSetting("the sub-sampling t must be > 0, got \(subsampling)") }
        self.index = index
        self.vocabularySize = vocabularySize
        self.lambda = lambda
        self.pairsPerDocument = pairsPerDocument
        self.shortLength = shortLength
        self.shortSkipProbability = shortSkipProbability
        self.mu = mu ?? index.averageLength
        let totalDF = Double(index.documentFrequency.reduce(0, +))
        let total = Double(index.totalTerms)
        var background = [Double](repeating: 0, count: index.vocabulary.count)
        var terms: [Int32] = [], cdf: [Double] = []
        var running = 0.0
        for t in index.vocabulary.indices where index.collectionFrequency[t] >= minimumCorpusFrequency {
            let p = Double(index.documentFrequency[t]) / totalDF
            background[t] = p
            running += p
            terms.append(Int32(t))
            cdf.append(running)
        }
        guard !terms.isEmpty else {
            throw PROPError.emptyCorpus(what: "the background model (no word occurs \(minimumCorpusFrequency) or more times)")
        }
        self.background = background
        self.backgroundTerms = terms
        self.backgroundCDF = cdf
        keepProbability = index.collectionFrequency.map { cf in
            let f = Double(cf) / total
            return WordSetSampler.keepProbability(frequency: f, t: subsampling)
        }
    }

    /// word2vec's keep probability √(t/f) + t/f (word2vec.c, sub-sampling of frequent words); values
    /// ≥ 1 mean the word is always kept.
    public static func keepProbability(frequency f: Double, t: Double = 1e-4) -> Double {
        (t / f).squareRoot() + t / f
    }

    /// Dirichlet-smoothed P(w|d) = (tf + μ·P(w|C)) / (|d| + μ) (Zhai & Lafferty 2001).
    public static func smoothed(tf: Int, length: Int, mu: Double, background: Double) -> Double {
        (Double(tf) + mu * background) / (Double(length) + mu)
    }

    /// A Poisson(λ) draw by Knuth's multiplication method (λ small).
    public static func poisson(_ lambda: Double, rng: inout RandomGenerator) -> Int {
        let limit = exp(-lambda)
        var k = 0, p = 1.0
        repeat {
            k += 1
            p *= rng.uniformDouble()
        } while p > limit
        return k - 1
    }

    /// Index of the first cumulative value > u·total (inverse-CDF draw).
    static func draw(_ cdf: [Double], rng: inout RandomGenerator) -> Int {
        let u = rng.uniformDouble() * cdf[cdf.count - 1]
        var lo = 0, hi = cdf.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cdf[mid] > u { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }

    /// Samples the pairs of document `document`.
    /// - Parameters: `length`: the document's length for the short-document rule (the reference uses
    ///   its BERT token count); `seed`: the run's seed.
    public func sample(document: Int, length: Int, seed: UInt64) -> DocumentWordSets {
        var rng = RandomGenerator(seed: seed, stream: UInt64(document))
        let id = index.documentIds[document]
        var lengths: [Int] = []
        for _ in 0..<pairsPerDocument {
            var l = 0
            while l == 0 { l = Self.poisson(lambda, rng: &rng) }
            lengths.append(l)
        }
        if length < shortLength, rng.uniformDouble() < shortSkipProbability {
            return DocumentWordSets(documentIndex: document, documentId: id, pairs: [], skipped: true)
        }
        let dl = index.lengths[document]
        // Sampling vocabulary: document words with a background probability, then background draws.
        var vocabulary: [Int32] = []
        var score: [Double] = []
        var inVocabulary = Set<Int32>()
        for (t, tf) in index.documentTerms[document] where background[Int(t)] > 0 {
            vocabulary.append(t)
            score.append(Self.smoothed(tf: tf, length: dl, mu: mu, background: background[Int(t)]))
            inVocabulary.insert(t)
        }
        let documentWords = vocabulary.count
        let draws = vocabularySize > documentWords ? vocabularySize - documentWords : documentWords + 100
        for _ in 0..<draws {
            let t = backgroundTerms[Self.draw(backgroundCDF, rng: &rng)]
            if inVocabulary.insert(t).inserted {
                vocabulary.append(t)
                score.append(Self.smoothed(tf: 0, length: dl, mu: mu, background: background[Int(t)]))
            }
        }
        var cdf = [Double](repeating: 0, count: score.count)
        var running = 0.0
        for (i, s) in score.enumerated() { running += s; cdf[i] = running }
        var pairs: [WordSetPair] = []
        for l in lengths {
            var sets: [[String]] = [], scores: [Double] = []
            for _ in 0..<2 {
                var words: [String] = []
                var logLikelihood = 0.0
                while words.count < l {
                    let k = Self.draw(cdf, rng: &rng)
                    let t = Int(vocabulary[k])
                    if keepProbability[t] < rng.uniformDouble() { continue }
                    words.append(index.vocabulary[t])
                    logLikelihood += log(score[k])
                }
                sets.append(words)
                scores.append(logLikelihood)
            }
            pairs.append(WordSetPair(sets: sets, scores: scores))
        }
        return DocumentWordSets(documentIndex: document, documentId: id, pairs: pairs, skipped: false)
    }
}
