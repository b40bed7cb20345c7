import Foundation
import MLCore
import XCTest
@testable import PROP

final class PretrainingTests: XCTestCase {
    /// The brief's vector: s = (2, 0.5) → p₊ − p₋ = tanh(0.75) = 0.635149, L = 0.364851; a pair the
    /// wrong way round, s = (0, 3): L = 1 + tanh(1.5) = 1.905148; the mean over both pairs.
    func testROPLossVector() {
        XCTAssertEqual(Double(ropLoss(Variable(Tensor([2, 0.5], shape: [2]))).value.item), 0.364851, accuracy: 1e-6)
        XCTAssertEqual(Double(ropLoss(Variable(Tensor([2, 0.5, 0, 3], shape: [4]))).value.item),
                       (0.364851 + 1 + tanh(1.5)) / 2, accuracy: 1e-6)
    }

    /// The analytic gradient d L/d s₊ = −(1 − tanh²((s₊ − s₋)/2))/2 (per pair, then the mean).
    func testROPLossGradient() throws {
        let s = Variable(Tensor([0.3, -0.2, 1.1, 1.4], shape: [4]), requiresGrad: true)
        ropLoss(s).backward()
        let g = s.grad!.scalars
        let t = tanh((0.3 - -0.2) / 2.0)
        XCTAssertEqual(Double(g[0]), -(1 - t * t) / 2 / 2, accuracy: 1e-5)  // mean over 2 pairs
        XCTAssertEqual(Double(g[1]), (1 - t * t) / 2 / 2, accuracy: 1e-5)
    }

    /// Whole words: a word and its ## continuations are masked together; n = 10 tokens, p = 0.15 →
    /// round(1.5) = 2 predictions (banker's rounding as Python's round); labels are the originals.
    func testWholeWordMasking() {
        let ids: [Int32] = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
        let continuation = [false, true, false, false, true, true, false, false, true, false]
        for seed in 0..<50 {
            var rng = RandomGenerator(seed: UInt64(seed))
            let m = wholeWordMask(ids, isContinuation: continuation, probability: 0.15, maxPredictions: 60, maskId: 103,
                                  vocabularySize: 1000, rng: &rng)
            XCTAssertEqual(m.positions.count, 2, "seed \(seed)")  // a 2-token word or two 1-token words
            XCTAssertEqual(m.labels, m.positions.map { ids[$0] })
            let words: [[Int]] = [[0, 1], [2], [3, 4, 5], [6], [7, 8], [9]]
            for w in words { XCTAssertTrue(Set(w).isSubset(of: m.positions) || Set(w).isDisjoint(with: m.positions)) }
            for i in ids.indices where !m.positions.contains(i) { XCTAssertEqual(m.ids[i], ids[i]) }
        }
        // 80% [MASK]: over many draws of 100 one-token words with p = 0.5 (50 masked each time).
        var rng = RandomGenerator(seed: 9)
        var masks = 0, kept = 0, total = 0
        let long = [Int32](repeating: 5, count: 100)
        for _ in 0..<40 {
            let m = wholeWordMask(long, isContinuation: [Bool](repeating: false, count: 100), probability: 0.5, maxPredictions: 60,
                                  maskId: 103, vocabularySize: 1000, rng: &rng)
            XCTAssertEqual(m.positions.count, 50)
            for p in m.positions { total += 1; if m.ids[p] == 103 { masks += 1 } else if m.ids[p] == 5 { kept += 1 } }
        }
        XCTAssertEqual(Double(masks) / Double(total), 0.8, accuracy: 0.03)
        XCTAssertEqual(Double(kept) / Double(total), 0.1, accuracy: 0.03)
    }

    /// The cap of 60 predictions.
    func testMaskingCap() {
        var rng = RandomGenerator(seed: 1)
        let m = wholeWordMask([Int32](repeating: 7, count: 1000), isContinuation: [Bool](repeating: false, count: 1000), probability: 0.15,
                              maxPredictions: 60, maskId: 103, vocabularySize: 1000, rng: &rng)
        XCTAssertEqual(m.positions.count, 60)
    }

    func testPairTruncationIsLongestFirst() {
        let (a, b) = PairInputs.truncated([1, 2, 3], [4, 5, 6, 7, 8, 9], maxLength: 9)
        XCTAssertEqual(a, [1, 2, 3])
        XCTAssertEqual(b, [4, 5, 6])
        let (c, d) = PairInputs.truncated([1, 2, 3, 4, 5], [6, 7, 8, 9, 10], maxLength: 9)
        XCTAssertEqual(c, [1, 2, 3])
        XCTAssertEqual(d, [6, 7, 8])
    }

    func testInstancesTakeTheHigherScoredSetAsPositive() {
        let doc = DocumentWordSets(documentIndex: 4, documentId: "bg-4",
                                   pairs: [WordSetPair(sets: [["a"], ["b"]], scores: [-1, -3]), WordSetPair(sets: [["c"], ["d"]], scores: [-2, -2])],
                                   skipped: false)
        XCTAssertEqual(PretrainingInstance.from([doc]), [PretrainingInstance(document: 4, positive: ["a"], negative: ["b"]),
                                                         PretrainingInstance(document: 4, positive: ["d"], negative: ["c"])])
    }

    func testMergedRunKeepsTheTailBelowTheReranked() {
        let ranked = (0..<5).map { ScoredDocument(id: "d\($0)", score: Double(10 - $0)) }
        let merged = Reranking.merged(ranked, depth: 3, scores: [0.1, 0.9, -0.5])
        XCTAssertEqual(try Retrieval.ranking(merged), ["d1", "d0", "d2", "d3", "d4"])
    }

    func testBadSettings() {
        XCTAssertThrowsError(try PretrainingConfig(steps: 0).validate())
        XCTAssertThrowsError(try PretrainingConfig(maskProbability: 0).validate())
        XCTAssertThrowsError(try RerankConfig(negatives: 0).validate())
    }
}
