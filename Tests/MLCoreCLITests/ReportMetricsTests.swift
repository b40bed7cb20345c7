import Foundation
import XCTest
@testable import MLCore
@testable import MLCoreCLI

/// `Report.setMetrics` and `JSONValue(encoding:)`: metrics as `Encodable` structs, snake_case keys,
/// non-finite numbers refused naming their key (Docs/REPORT_FORMAT.md).
final class ReportMetricsTests: XCTestCase {
    struct Pair: Encodable {
        var sizeA: Int
        var overlapCoefficient: Double
        var perLayer: [String: Int]
    }
    struct Metrics: Encodable {
        var top1Accuracy: Double
        var peakRssMb: Double
        var meanRhoK9: Float
        var accuracyAAfterB: Double
        var note = "fixed"
        var absent: Int?
        var file: JSONValue
        var pairs: [Pair]
    }

    func testEncodableMetricsHaveSnakeCaseKeysAndKeepDictionaryKeys() throws {
        var report = Report(tool: "t", command: "c")
        try report.setMetrics(Metrics(top1Accuracy: 0.75, peakRssMb: 12.5, meanRhoK9: 0.1, accuracyAAfterB: 0.5, absent: nil,
                                      file: ["path": "a.h5", "sha256": "00"],
                                      pairs: [Pair(sizeA: 3, overlapCoefficient: 0.25, perLayer: ["-1": 1, "layerTwo": 2])]))
        // Float 0.1 is reported as 0.1 (its shortest decimal form), as JSONValue(Float) does; an absent
        // optional is left out; JSONValue and dictionary keys are kept as they are.
        let expected: [String: JSONValue] = [
            "top1_accuracy": .double(0.75), "peak_rss_mb": .double(12.5), "mean_rho_k9": .double(0.1),
            "accuracy_a_after_b": .double(0.5), "note": "fixed", "file": ["path": "a.h5", "sha256": "00"],
            "pairs": [["size_a": 3, "overlap_coefficient": .double(0.25), "per_layer": ["-1": 1, "layerTwo": 2]]],
        ]
        XCTAssertEqual(report.metrics, expected)
        XCTAssertEqual(report.metrics["mean_rho_k9"], JSONValue(Float(0.1)))
        XCTAssertTrue(try report.encoded().contains("\"overlap_coefficient\" : 0.25"))
    }

    func testNonFiniteMetricIsRefusedNamingItsKey() throws {
        for (value, check) in [(Double.nan, { (d: Double) in d.isNaN }), (.infinity, { $0 == .infinity }), (-.infinity, { $0 == -.infinity })] {
            var report = Report(tool: "t", command: "c")
            try report.setMetrics(Metrics(top1Accuracy: 1, peakRssMb: 1, meanRhoK9: 1, accuracyAAfterB: 1, file: nil,
                                          pairs: [Pair(sizeA: 0, overlapCoefficient: value, perLayer: [:])]))
            XCTAssertThrowsError(try report.encoded()) { error in
                guard case ReportError.nonFiniteNumber(let path, let v) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(path, "metrics.pairs[0].overlap_coefficient")
                XCTAssertTrue(check(v), "\(v)")
            }
        }
        // A Float NaN too.
        var report = Report(tool: "t", command: "c")
        try report.setMetrics(Metrics(top1Accuracy: 1, peakRssMb: 1, meanRhoK9: .nan, accuracyAAfterB: 1, file: nil, pairs: []))
        XCTAssertThrowsError(try report.encoded()) { error in
            guard case ReportError.nonFiniteNumber(let path, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "metrics.mean_rho_k9")
        }
    }

    func testMetricsMustBeAnObject() {
        var report = Report(tool: "t", command: "c")
        XCTAssertThrowsError(try report.setMetrics([1.0, 2.0])) { error in
            guard case ReportError.invalidJSON = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(report.metrics, [:])
    }

    func testNullWhenAbsentWritesNullInsteadOfLeavingTheKeyOut() throws {
        struct M: Encodable {
            @NullWhenAbsent var heldOutLoss: Double?
            var leftOut: Double?
            var perClass: [String: Double?]
        }
        XCTAssertEqual(try JSONValue(encoding: M(heldOutLoss: nil, leftOut: nil, perClass: ["a": nil, "b": 0.5])),
                       ["held_out_loss": nil, "per_class": ["a": nil, "b": .double(0.5)]])
        XCTAssertEqual(try JSONValue(encoding: M(heldOutLoss: 2, leftOut: 1, perClass: [:])),
                       ["held_out_loss": 2, "left_out": 1, "per_class": [:]])
    }

    func testJSONValueEncodesAsItself() throws {
        let value: JSONValue = ["camelKey": [1, 2.5, "s", true, nil], "n": .double(-0.5)]
        XCTAssertEqual(try JSONValue(encoding: value), value)
    }
}
