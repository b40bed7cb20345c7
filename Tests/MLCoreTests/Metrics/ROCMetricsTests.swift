import XCTest
@testable import MLCore

final class ROCMetricsTests: XCTestCase {
    /// scikit-learn fixtures (roc_curve, roc_auc_score, average_precision_score) and numpy
    /// definitions of the operating points.
    func testAgreesWithScikitLearnFixtures() throws {
        var checks = 0
        for c in try MetricsFixture.cases("metrics_roc.json") {
            let name = c["name"] as! String
            let labels = MetricsFixture.ints(c["labels"]), scores = MetricsFixture.doubles(c["scores"])
            checkFixture(c["auroc"], "\(name) AUROC", counter: &checks) { try ROC.auroc(scores: scores, labels: labels) }
            checkFixture(c["average_precision"], "\(name) AP", counter: &checks) {
                try ROC.averagePrecision(scores: scores, labels: labels)
            }
            checkFixture(c["max_balanced_accuracy"], "\(name) balanced accuracy", counter: &checks) {
                try ROC.maxBalancedAccuracy(scores: scores, labels: labels)
            }
            let eer = c["eer"] as Any
            checkFixture(MetricsFixture.isError(eer) ? "error" : (eer as! [Any])[0], "\(name) EER", counter: &checks) {
                try ROC.equalErrorRate(scores: scores, labels: labels).equalErrorRate
            }
            if MetricsFixture.isError(c["fpr"]) {
                XCTAssertThrowsError(try ROC.curve(scores: scores, labels: labels), name)
                XCTAssertThrowsError(try ROC.truePositiveRate(atFalsePositiveRate: 0.1, scores: scores, labels: labels), name)
                continue
            }
            let curve = try ROC.curve(scores: scores, labels: labels)
            assertNear(curve.falsePositiveRates, MetricsFixture.doubles(c["fpr"]), "\(name) fpr")
            assertNear(curve.truePositiveRates, MetricsFixture.doubles(c["tpr"]), "\(name) tpr")
            assertNear(curve.thresholds, MetricsFixture.doubles(c["thresholds"]), "\(name) thresholds")
            XCTAssertEqual(try ROC.equalErrorRate(scores: scores, labels: labels).threshold,
                           MetricsFixture.double((eer as! [Any])[1]), name)
            let xs = MetricsFixture.doubles(c["fpr_points"])
            let tprAt = MetricsFixture.doubles(c["tpr_at_fpr"]), interp = MetricsFixture.doubles(c["tpr_at_fpr_interp"])
            for (k, x) in xs.enumerated() {
                checks += 2
                assertNear(try ROC.truePositiveRate(atFalsePositiveRate: x, scores: scores, labels: labels), tprAt[k], "\(name) TPR@\(x)")
                assertNear(try ROC.interpolatedTruePositiveRate(atFalsePositiveRate: x, scores: scores, labels: labels),
                           interp[k], "\(name) interpolated TPR@\(x)")
            }
        }
        XCTAssertGreaterThan(checks, 70 * 5)
    }

    /// scores [0.9, 0.8, 0.8, 0.3], labels [1, 0, 1, 0]. Pairs (pos, neg): (0.9, 0.8) 1, (0.9, 0.3) 1,
    /// (0.8, 0.8) ½, (0.8, 0.3) 1 → AUROC = 3.5 / 4 = 0.875.
    /// Curve: +∞ (0, 0); 0.9 (0, ½); 0.8 (½, 1); 0.3 (1, 1).
    /// AP: at 0.9 recall ½ precision 1; at 0.8 recall 1 precision 2/3 → ½·1 + ½·2/3 = 5/6.
    /// TPR at FPR ≤ 0.25 = ½ (the point (0, ½)); interpolated at 0.25: ½ + (1 − ½)·0.25/0.5 = 0.75.
    /// Balanced accuracy: max((½ + 1)/2, (1 + ½)/2) = 0.75. EER: |FNR − FPR| = 1, ½, ½, 1 → first
    /// minimum at 0.9: EER = (0 + ½)/2 = 0.25, ASR = 0.75.
    func testHandComputedTiesAndOperatingPoints() throws {
        let s = [0.9, 0.8, 0.8, 0.3], y = [1, 0, 1, 0]
        XCTAssertEqual(try ROC.auroc(scores: s, labels: y), 0.875, accuracy: 1e-15)
        let curve = try ROC.curve(scores: s, labels: y)
        XCTAssertEqual(curve.falsePositiveRates, [0, 0, 0.5, 1])
        XCTAssertEqual(curve.truePositiveRates, [0, 0.5, 1, 1])
        XCTAssertEqual(curve.thresholds, [.infinity, 0.9, 0.8, 0.3])
        XCTAssertEqual(try ROC.averagePrecision(scores: s, labels: y), 5.0 / 6, accuracy: 1e-15)
        XCTAssertEqual(try ROC.truePositiveRate(atFalsePositiveRate: 0.25, scores: s, labels: y), 0.5)
        XCTAssertEqual(try ROC.interpolatedTruePositiveRate(atFalsePositiveRate: 0.25, scores: s, labels: y), 0.75, accuracy: 1e-15)
        XCTAssertEqual(try ROC.maxBalancedAccuracy(scores: s, labels: y), 0.75)
        let eer = try ROC.equalErrorRate(scores: s, labels: y)
        XCTAssertEqual(eer.equalErrorRate, 0.25)
        XCTAssertEqual(eer.truePositiveRate, 0.75)
        XCTAssertEqual(eer.threshold, 0.9)
        // RelaImpr: (0.75 − 0.5) / (0.7 − 0.5) − 1 = 0.25.
        XCTAssertEqual(try ROC.relativeImprovement(auc: 0.75, baseAUC: 0.7), 0.25, accuracy: 1e-12)
        XCTAssertThrowsError(try ROC.relativeImprovement(auc: 0.75, baseAUC: 0.5))
        // Float32 scores give the same values.
        let f: [Float] = [0.9, 0.8, 0.8, 0.3]
        XCTAssertEqual(try ROC.auroc(scores: f, labels: y), 0.875, accuracy: 1e-15)
        XCTAssertEqual(try ROC.averagePrecision(scores: f, labels: y), 5.0 / 6, accuracy: 1e-15)
        XCTAssertEqual(try ROC.curve(scores: f, labels: y).truePositiveRates, [0, 0.5, 1, 1])
    }

    func testDegenerateAndBadInput() {
        XCTAssertThrowsError(try ROC.auroc(scores: [0.1, 0.2], labels: [1, 1])) { error in
            guard case .undefined = error as? MetricsError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try ROC.auroc(scores: [0.1, .nan], labels: [1, 0]))
        XCTAssertThrowsError(try ROC.auroc(scores: [0.1, 0.2], labels: [1, 2]))
        XCTAssertThrowsError(try ROC.auroc(scores: [0.1], labels: [1, 0]))
        XCTAssertThrowsError(try ROC.averagePrecision(scores: [Double](), labels: []))
        XCTAssertThrowsError(try ROC.truePositiveRate(atFalsePositiveRate: 1.5, scores: [0, 1], labels: [0, 1])) { error in
            XCTAssertEqual((error as? MetricsError)?.category, .usage)
        }
    }
}
