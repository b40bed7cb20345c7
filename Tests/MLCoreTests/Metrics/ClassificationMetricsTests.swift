import XCTest
@testable import MLCore

final class ClassificationMetricsTests: XCTestCase {
    /// scikit-learn fixtures: accuracy, binary and macro P/R/F1, confusion matrix, log loss, Brier, ECE.
    func testAgreesWithScikitLearnFixtures() throws {
        var checks = 0
        for c in try MetricsFixture.cases("metrics_classification.json") {
            let name = c["name"] as! String
            let labels = MetricsFixture.ints(c["labels"]), predictions = MetricsFixture.ints(c["predictions"])
            let probabilities = MetricsFixture.matrix(c["probabilities"])
            let classes = (c["classes"] as! NSNumber).intValue
            checkFixture(c["accuracy"], "\(name) accuracy", counter: &checks) {
                try Classification.accuracy(predictions: predictions, labels: labels)
            }
            for (key, average) in [("binary", false), ("macro", true)] {
                for (k, part) in ["precision", "recall", "f1"].enumerated() {
                    let expected: Any? = MetricsFixture.isError(c[key]) ? "error" : (c[key] as! [Any])[k]
                    checkFixture(expected, "\(name) \(key) \(part)", counter: &checks) {
                        let s = average ? try Classification.macro(predictions: predictions, labels: labels)
                            : try Classification.binary(predictions: predictions, labels: labels)
                        return [s.precision, s.recall, s.f1][k]
                    }
                }
            }
            let confusion = try Classification.confusionMatrix(predictions: predictions, labels: labels, classCount: classes)
            XCTAssertEqual(confusion, (c["confusion"] as! [[NSNumber]]).map { $0.map(\.intValue) }, name)
            checkFixture(c["log_loss"], "\(name) log loss", counter: &checks) {
                try Calibration.logLoss(probabilities: probabilities, labels: labels)
            }
            checkFixture(c["brier"], "\(name) Brier", counter: &checks) {
                try Calibration.brierScore(probabilities: probabilities, labels: labels)
            }
            let binaryLabels = labels.map { $0 == 1 ? 1 : 0 }
            let p1 = MetricsFixture.doubles(c["binary_probabilities"])
            checkFixture(c["binary_log_loss"], "\(name) binary log loss", counter: &checks) {
                try Calibration.logLoss(probabilities: p1, labels: binaryLabels)
            }
            checkFixture(c["binary_brier"], "\(name) binary Brier", counter: &checks) {
                try Calibration.brierScore(probabilities: p1, labels: binaryLabels)
            }
            checkFixture(c["ece"], "\(name) ECE", counter: &checks) {
                try Calibration.expectedCalibrationError(probabilities: probabilities, labels: labels).expectedCalibrationError
            }
            if !MetricsFixture.isError(c["ece"]) {
                let bins = try Calibration.expectedCalibrationError(probabilities: probabilities, labels: labels).bins
                let expected = MetricsFixture.matrix(c["bins"])
                XCTAssertEqual(bins.map(\.count), expected.map { Int($0[0]) }, "\(name) bin counts")
                assertNear(bins.map(\.meanConfidence), expected.map { $0[1] }, "\(name) bin confidence")
                assertNear(bins.map(\.accuracy), expected.map { $0[2] }, "\(name) bin accuracy")
            }
        }
        XCTAssertGreaterThan(checks, 60 * 10)
    }

    /// labels [0, 1, 1, 0, 1], predictions [0, 1, 0, 1, 1]: TP = 2 (items 1, 4), FP = 1 (item 3),
    /// FN = 1 (item 2), TN = 1 → accuracy 3/5, P = 2/3, R = 2/3, F1 = 4/6. Class 0 alone: TP = 1, FP = 1,
    /// FN = 1 → P = R = F1 = 1/2, so macro = (1/2 + 2/3) / 2 = 7/12 for all three.
    func testHandComputedBinaryAndMacro() throws {
        let y = [0, 1, 1, 0, 1], p = [0, 1, 0, 1, 1]
        XCTAssertEqual(try Classification.accuracy(predictions: p, labels: y), 0.6, accuracy: 1e-15)
        let b = try Classification.binary(predictions: p, labels: y)
        XCTAssertEqual(b.precision, 2.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(b.recall, 2.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(b.f1, 2.0 / 3, accuracy: 1e-15)
        let m = try Classification.macro(predictions: p, labels: y)
        XCTAssertEqual(m.f1, 7.0 / 12, accuracy: 1e-15)
        XCTAssertEqual(try Classification.confusionMatrix(predictions: p, labels: y, classCount: 3),
                       [[1, 1, 0], [1, 2, 0], [0, 0, 0]])
        // No positive predicted nor present: every ratio is 0 (scikit-learn zero_division=0).
        XCTAssertEqual(try Classification.binary(predictions: [0, 0], labels: [0, 0]), .init(precision: 0, recall: 0, f1: 0))
    }

    /// Confidences 0.05 (correct), 0.1 (wrong), 0.35 (correct), 0.4 (correct), 0.95 (wrong), 1.0 (correct):
    /// 0.1 sits on the edge of bin 0 = (0, 0.1] (upper edge inclusive), 0.4 in bin 3 = (0.3, 0.4].
    /// bin 0: conf mean 0.075, acc 1/2 → |0.5 − 0.075| = 0.425, weight 2/6
    /// bin 3: {0.35, 0.4}: mean 0.375, acc 1 → 0.625, weight 2/6
    /// bin 9: {0.95, 1.0}: mean 0.975, acc 1/2 → 0.475, weight 2/6
    /// ECE = (0.425 + 0.625 + 0.475) / 3 = 0.508333…
    func testHandComputedECEWithBinEdges() throws {
        let r = try Calibration.expectedCalibrationError(confidences: [0.05, 0.1, 0.35, 0.4, 0.95, 1.0],
                                                         correct: [true, false, true, true, false, true])
        XCTAssertEqual(r.bins.map(\.count), [2, 0, 0, 2, 0, 0, 0, 0, 0, 2])
        XCTAssertEqual(r.expectedCalibrationError, 1.525 / 3, accuracy: 1e-15)
        XCTAssertEqual(r.bins[3].lower, 0.3)
        XCTAssertEqual(r.bins[3].upper, 0.4)
        // Confidence 0 lands in bin 0.
        XCTAssertEqual(try Calibration.expectedCalibrationError(confidences: [0], correct: [false]).bins[0].count, 1)
    }

    /// Log loss of p = 1 for the wrong class: clipped to ε = 2⁻⁵², loss −log(2⁻⁵²) = 52·ln 2 ≈ 36.04.
    /// Brier of p = [0.8, 0.3] for labels [1, 0]: ((0.2)² + (0.3)²) / 2 = 0.065.
    func testHandComputedLogLossAndBrier() throws {
        XCTAssertEqual(try Calibration.logLoss(probabilities: [1.0], labels: [0]), 52 * log(2.0), accuracy: 1e-12)
        XCTAssertEqual(try Calibration.logLoss(probabilities: [[0.25, 0.75]], labels: [1]), -log(0.75), accuracy: 1e-15)
        XCTAssertEqual(try Calibration.brierScore(probabilities: [0.8, 0.3], labels: [1, 0]), 0.065, accuracy: 1e-15)
        // Three classes: (0.5² + 0.5² + 0) = 0.5, not halved.
        XCTAssertEqual(try Calibration.brierScore(probabilities: [[0.5, 0.5, 0]], labels: [0]), 0.5, accuracy: 1e-15)
    }

    func testBadInputThrowsClearErrors() {
        XCTAssertThrowsError(try Classification.accuracy(predictions: [0, 1], labels: [0])) { error in
            XCTAssertEqual(error as? MetricsError, .lengthMismatch(metric: "accuracy", what: "predictions", expected: 1, actual: 2))
            XCTAssertEqual((error as? MetricsError)?.category, .badData)
            XCTAssertEqual("\(error)", "accuracy: predictions has 2 elements, expected 1")
        }
        XCTAssertThrowsError(try Calibration.logLoss(probabilities: [.nan], labels: [1])) { error in
            XCTAssertEqual(error as? MetricsError, .notFinite(metric: "log loss", what: "probabilities", index: 0))
        }
        XCTAssertThrowsError(try Calibration.brierScore(probabilities: [1.5], labels: [1]))
        XCTAssertThrowsError(try Calibration.brierScore(probabilities: [[0.5, 0.5], [1]], labels: [0, 1]))
        XCTAssertThrowsError(try Classification.confusionMatrix(predictions: [3], labels: [0], classCount: 3))
        XCTAssertThrowsError(try Calibration.expectedCalibrationError(confidences: [0.5], correct: [true], binCount: 0)) { error in
            XCTAssertEqual((error as? MetricsError)?.category, .usage)
        }
    }
}
