import MLCore
import XCTest

@testable import PFAMI

final class MetricTests: XCTestCase {
    /// The brief's vector: members [0.9, 0.8, 0.7, 0.3], non-members [0.6, 0.4, 0.2, 0.1].
    /// Ranked: .9M .8M .7M .6N .4N .3M .2N .1N. AUC: member pairs above = 4 + 4 + 4 + 2 = 14 of 16 → 0.875.
    /// ROC points (FPR, TPR): (0,0) (0,¼) (0,½) (0,¾) (¼,¾) (½,¾) (½,1) (¾,1) (1,1); |TPR − (1 − FPR)| is 0
    /// at (¼, ¾) → ASR 0.75; balanced accuracy max (¾ + ¾)/2 = (1 + ½)/2 = 0.875; TPR at FPR ≤ 1% = ¾.
    func testBriefVector() throws {
        let scores = [0.9, 0.8, 0.7, 0.3, 0.6, 0.4, 0.2, 0.1]
        let labels = [1, 1, 1, 1, 0, 0, 0, 0]
        let m = try AttackMetrics(scores: scores, labels: labels)
        XCTAssertEqual(m.auc, 0.875, accuracy: 1e-12)
        XCTAssertEqual(m.asr, 0.75, accuracy: 1e-12)
        XCTAssertEqual(m.maxBalancedAccuracy, 0.875, accuracy: 1e-12)
        XCTAssertEqual(m.tprAt1Fpr, 0.75, accuracy: 1e-12)
        // scikit-learn's thinned curve keeps (0,0) (0,¼) (0,¾) (½,¾) (½,1) (1,1): the second differences
        // of the FP and TP counts vanish at (0,½), (¼,¾) and (¾,1). Its first point nearest FPR 0.01 is
        // (0, 0), so the reference's variant reads TPR 0 here.
        let thin = try ROC.thinnedCurve(scores: scores, labels: labels)
        XCTAssertEqual(thin.falsePositiveRates, [0, 0, 0, 0.5, 0.5, 1])
        XCTAssertEqual(thin.truePositiveRates, [0, 0.25, 0.75, 0.75, 1, 1])
        XCTAssertEqual(m.tprAt1FprReference, 0)
        // The reference's ASR: non-members positive, scores negated. Ranked by −s: .1N .2N .3M .4N .6N .7M .8M .9M,
        // TP counts 1 2 2 3 4 4 4 4, FP counts 0 0 1 1 1 2 3 4; thinning drops (¼,¾), (½,1), (¾,1), leaving
        // (0,0) (0,¼) (0,½) (¼,½) (¼,1) (1,1) with |TPR − (1 − FPR)| = 1, ¾, ½, ¼, ¼, 1: the first minimum (¼, ½)
        // → 0.5, though the dropped (¼, ¾) is an exact equal-error point (TPR = TNR = 0.75).
        XCTAssertEqual(m.asrReference, 0.5, accuracy: 1e-12)
        XCTAssertEqual(m.members, 4)
        XCTAssertEqual(m.nonMembers, 4)
    }

    /// A vector whose equal-error point lies inside a vertical run, which scikit-learn's thinning drops:
    /// members [0.9, 0.6, 0.5, 0.4], non-members [0.8, 0.7, 0.3, 0.2]. Ranked .9M .8N .7N .6M .5M .4M .3N .2N:
    /// full curve (0,0) (0,¼) (¼,¼) (½,¼) (½,½) (½,¾) (½,1) (¾,1) (1,1), |TPR − (1 − FPR)| = 0 at (½,½) → ASR ½.
    /// Members positive, FP counts 0 1 2 2 2 2 3 4, TP counts 1 1 1 2 3 4 4 4: second differences of both
    /// vanish at (¼,¼), (½,½), (½,¾), (¾,1), so the thinned curve is (0,0) (0,¼) (½,¼) (½,1) (1,1) with gaps
    /// 1, ¾, ¼, ½, 1 → TPR ¼ at (½,¼). The reference's polarity (non-members positive, −s): ranked .2N .3N .4M
    /// .5M .6M .7N .8N .9M, TP 1 2 2 2 2 3 4 4, FP 0 0 1 2 3 3 3 4; kept (0,0) (0,¼) (0,½) (¾,½) (¾,1) (1,1),
    /// gaps 1, ¾, ½, ¼, ¾, 1 → its ASR is ½ (the same corner, read as the non-members' rate).
    func testReferenceASRDiffersOnThinnedCurve() throws {
        let scores = [0.9, 0.6, 0.5, 0.4, 0.8, 0.7, 0.3, 0.2]
        let labels = [1, 1, 1, 1, 0, 0, 0, 0]
        let thin = try ROC.thinnedCurve(scores: scores, labels: labels)
        XCTAssertEqual(thin.falsePositiveRates, [0, 0, 0.5, 0.5, 1])
        XCTAssertEqual(thin.truePositiveRates, [0, 0.25, 0.25, 1, 1])
        let flipped = try ROC.thinnedCurve(scores: scores.map { -$0 }, labels: labels.map { 1 - $0 })
        XCTAssertEqual(flipped.falsePositiveRates, [0, 0, 0, 0.75, 0.75, 1])
        XCTAssertEqual(flipped.truePositiveRates, [0, 0.25, 0.5, 0.5, 1, 1])
        let m = try AttackMetrics(scores: scores, labels: labels)
        XCTAssertEqual(m.asr, 0.5, accuracy: 1e-12)
        XCTAssertEqual(m.asrReference, 0.5, accuracy: 1e-12)
    }

    /// Scores of each method on a hand-made block: J = 1, K = 2, two records.
    func testMethodScores() throws {
        // Record 0: θ 1 → neighbours 2, 3 (relative +1, +2); φ 2 → 2, 2 (0, 0): D = [1, 2].
        // Record 1: θ 4 → 4, 2 (0, −½); φ 1 → 2, 1 (1, 0): D = [−1, −½].
        let block = FeatureBlock(rows: [10, 11], labels: [1, 0], probeCount: 1, neighbourCount: 2,
                                 targetOriginal: [1, 4], targetNeighbours: [2, 3, 4, 2],
                                 referenceOriginal: [2, 1], referenceNeighbours: [2, 2, 2, 1])
        XCTAssertEqual(block.fluctuation(), [1, 2, -1, -0.5])
        XCTAssertEqual(try AttackMethod.met(neighbour: 1).scores(block), [2, -0.5])
        XCTAssertEqual(try AttackMethod.met(neighbour: nil).scores(block), [1.5, -0.75])
        XCTAssertEqual(try AttackMethod.metUncalibrated(neighbour: nil).scores(block), [1.5, -0.25])
        XCTAssertEqual(try AttackMethod.loss.scores(block), [-1, -4])
        XCTAssertEqual(try AttackMethod.lira.scores(block), [1, -3])
        XCTAssertThrowsError(try AttackMethod.met(neighbour: 2).scores(block))
        XCTAssertEqual(AttackMethod.met(neighbour: 5).queries(probes: 10, neighbours: 10), 220)
        // 0/0 → 0 as the reference's NaN → 0.
        let zero = FeatureBlock(rows: [0], labels: [1], probeCount: 1, neighbourCount: 1, targetOriginal: [0], targetNeighbours: [0],
                                referenceOriginal: [1], referenceNeighbours: [1])
        XCTAssertEqual(zero.fluctuation(), [0])
    }
}
