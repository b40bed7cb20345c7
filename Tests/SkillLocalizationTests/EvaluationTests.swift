import Foundation
import XCTest
@testable import MLCore
@testable import SkillLocalization

final class EvaluationTests: XCTestCase {
    /// Confidences [.95, .85, .75, .65, .55] with correctness [1, 0, 1, 1, 0]: one item per bin,
    /// |acc − conf| = .05, .85, .25, .35, .55 → ECE = 2.05 / 5 = 0.41. Logits [0, log(p/(1−p))]
    /// give softmax max p on class 1; a correct item has label 1.
    func testECEHandVector() throws {
        let confidences = [0.95, 0.85, 0.75, 0.65, 0.55], correct = [true, false, true, true, false]
        let logits = Tensor(confidences.flatMap { [0, Float(Foundation.log($0 / (1 - $0)))] }, shape: [5, 2])
        let e = try ClassifierEvaluation(logits: logits, labels: correct.map { $0 ? 1 : 0 })
        XCTAssertEqual(e.expectedCalibrationError, 0.41, accuracy: 1e-6)
        XCTAssertEqual(e.accuracy, 0.6)
        XCTAssertEqual(e.reliability.filter { $0.count == 1 }.count, 5)
        // NLL = −mean log p(true): correct items log p, wrong ones log(1 − p).
        let nll = -zip(confidences, correct).map { Foundation.log($1 ? $0 : 1 - $0) }.reduce(0, +) / 5
        XCTAssertEqual(e.negativeLogLikelihood, nll, accuracy: 1e-6)
        XCTAssertThrowsError(try ClassifierEvaluation(logits: Tensor(shape: [0, 2], repeating: 0), labels: []))
    }
}
