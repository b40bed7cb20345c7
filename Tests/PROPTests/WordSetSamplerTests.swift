import Foundation
import MLCore
import XCTest
@testable import PROP

final class WordSetSamplerTests: XCTestCase {
    /// The brief's vectors: tf = {a: 3, b: 1}, |d| = 4, μ = 2, P(·|C) = {a: .5, b: .25, c: .25} →
    /// P(a|d) = (3 + 1)/6, P(b|d) = (1 + .5)/6, P(c|d) = .5/6; score({a, c}) = ln(2/3) + ln(1/12).
    func testDirichletSmoothingAndSetScore() {
        let a = WordSetSampler.smoothed(tf: 3, length: 4, mu: 2, background: 0.5)
        let b = WordSetSampler.smoothed(tf: 1, length: 4, mu: 2, background: 0.25)
        let c = WordSetSampler.smoothed(tf: 0, length: 4, mu: 2, background: 0.25)
        XCTAssertEqual(a, 0.666667, accuracy: 1e-6)
        XCTAssertEqual(b, 0.25, accuracy: 1e-12)
        XCTAssertEqual(c, 0.083333, accuracy: 1e-6)
        XCTAssertEqual(log(a) + log(c), -2.890372, accuracy: 1e-6)
    }

    /// √(1e-4/1e-3) + 1e-4/1e-3 = 0.316228 + 0.1.
    func testKeepProbability() {
        XCTAssertEqual(WordSetSampler.keepProbability(frequency: 1e-3), 0.416228, accuracy: 1e-6)
        XCTAssertGreaterThan(WordSetSampler.keepProbability(frequency: 1e-5), 1)
    }

    /// A synthetic corpus: 30 documents of 120 terms over 40 words (word k of document d is
    /// w((d·7 + k·k) mod 40)), plus one rare word in document 0 (corpus tf 1 < 10: no background).
    func corpus() throws -> CorpusIndex {
        var terms: [[String]] = []
        for d in 0..<30 {
            var doc = (0..<120).map { k in "w\((d * 7 + k * k) % 40)" }
            if d == 0 { doc.append("rare") }
            if d == 1 { doc.removeLast(60) }  // a short document (60 terms)
            terms.append(doc)
        }
        return try CorpusIndex(ids: (0..<30).map { "d\($0)" }, terms: terms)
    }

    func testSameSeedSameSetsAndPerDocumentStreams() throws {
        let sampler = try WordSetSampler(index: try corpus(), vocabularySize: 20, pairsPerDocument: 5)
        let a = (0..<30).map { sampler.sample(document: $0, length: 200, seed: 7) }
        let b = (0..<30).reversed().map { sampler.sample(document: $0, length: 200, seed: 7) }.reversed()
        XCTAssertEqual(a, Array(b))  // order of sampling does not matter (shards = blocks of the unsharded output)
        XCTAssertNotEqual(a, (0..<30).map { sampler.sample(document: $0, length: 200, seed: 8) })
    }

    func testSetsFollowTheReferenceRules() throws {
        let index = try corpus()
        let sampler = try WordSetSampler(index: index, vocabularySize: 500, pairsPerDocument: 10)
        XCTAssertEqual(sampler.mu, index.averageLength)
        XCTAssertEqual(sampler.background[Int(index.termIds["rare"]!)], 0)  // corpus tf 1 < 10
        let totalDF = Double(index.documentFrequency.reduce(0, +))
        let w0 = Int(index.termIds["w0"]!)
        XCTAssertEqual(sampler.background[w0], Double(index.documentFrequency[w0]) / totalDF, accuracy: 1e-15)
        var lengths: [Int] = []
        for d in 0..<30 {
            let result = sampler.sample(document: d, length: 200, seed: 1)
            XCTAssertFalse(result.skipped)
            XCTAssertEqual(result.pairs.count, 10)
            for pair in result.pairs {
                XCTAssertEqual(pair.sets[0].count, pair.sets[1].count)
                XCTAssertGreaterThan(pair.sets[0].count, 0)
                lengths.append(pair.sets[0].count)
                for (set, score) in zip(pair.sets, pair.scores) {
                    XCTAssertFalse(set.contains("rare"))
                    // score = Σ log P(w|d) under the un-renormalised smoothed model.
                    let expected = set.reduce(0.0) { sum, w in
                        let t = Int(index.termIds[w]!)
                        let tf = index.documentTerms[d].first { $0.term == Int32(t) }?.count ?? 0
                        return sum + log(WordSetSampler.smoothed(tf: tf, length: index.lengths[d], mu: sampler.mu,
                                                                 background: sampler.background[t]))
                    }
                    XCTAssertEqual(score, expected, accuracy: 1e-9)
                }
                XCTAssertEqual(pair.positive, pair.scores[0] > pair.scores[1] ? 0 : 1)
            }
        }
        // Poisson(3) conditioned on > 0 has mean 3/(1 − e^−3) = 3.1572; 300 draws: standard error ≈ 0.1.
        let mean = Double(lengths.reduce(0, +)) / Double(lengths.count)
        XCTAssertEqual(mean, 3 / (1 - exp(-3)), accuracy: 0.4)
    }

    /// Documents shorter than 100 (given) tokens are skipped with probability 0.8: of 400 short
    /// documents' draws about 320 skip (binomial sd 8).
    func testShortDocumentsSkippedWithProbabilityPointEight() throws {
        let sampler = try WordSetSampler(index: try corpus(), pairsPerDocument: 1)
        var skipped = 0
        for seed in 0..<400 { if sampler.sample(document: 1, length: 60, seed: UInt64(seed)).skipped { skipped += 1 } }
        XCTAssertEqual(Double(skipped), 320, accuracy: 40)
        XCTAssertFalse(sampler.sample(document: 1, length: 100, seed: 0).skipped)
    }

    /// Ties: the second set is the positive.
    func testTieMakesTheSecondSetPositive() {
        XCTAssertEqual(WordSetPair(sets: [["a"], ["b"]], scores: [-1, -1]).positive, 1)
        XCTAssertEqual(WordSetPair(sets: [["a"], ["b"]], scores: [-1, -2]).positive, 0)
    }

    func testBadSettings() throws {
        let index = try corpus()
        XCTAssertThrowsError(try WordSetSampler(index: index, lambda: 0))
        XCTAssertThrowsError(try WordSetSampler(index: index, vocabularySize: 0))
        XCTAssertThrowsError(try WordSetSampler(index: try CorpusIndex(ids: ["a"], terms: [["x", "y"]]))) {
            XCTAssertEqual(($0 as? PROPError)?.category, .badData)
        }
    }
}
