import Foundation
import XCTest
@testable import MLCore

final class ReportTests: XCTestCase {
    func testReportHasTheDocumentedShapeWithSortedKeys() throws {
        var report = Report(tool: "graft", command: "eval")
        report.paper = "Panigrahi et al., ICML 2023"
        report.inputs = ["dataset": "tweets"]
        report.config = ["seed": 42, "k": 16]
        report.metrics = ["accuracy": 0.75, "ece": JSONValue(Float(0.125))]
        report.units = ["accuracy": "fraction", "ece": "fraction"]
        report.timing = ["wall_s": 1.5]
        let text = try report.encoded()
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["schema", "tool", "command", "version", "paper", "inputs", "config",
                                          "metrics", "units", "timing", "environment"])
        XCTAssertEqual(object["schema"] as? String, "mlcore-report/1")
        XCTAssertEqual((object["metrics"] as? [String: Any])?["ece"] as? Double, 0.125)
        let environment = try XCTUnwrap(object["environment"] as? [String: Any])
        for key in ["threads", "cpu", "blas", "hdf5", "swift"] { XCTAssertNotNil(environment[key], key) }
        // Sorted keys: top-level keys appear in alphabetical order in the text.
        let order = ["command", "config", "environment", "inputs", "metrics", "paper", "schema", "timing", "tool", "units", "version"]
        let positions = order.map { text.range(of: "\"\($0)\" :")?.lowerBound ?? text.range(of: "\"\($0)\":")!.lowerBound }
        XCTAssertEqual(positions, positions.sorted())
    }

    func testNonFiniteMetricsAreRefusedWithTheirKey() {
        var report = Report(tool: "t", command: "c")
        report.metrics = ["auroc": .double(.nan)]
        XCTAssertThrowsError(try report.encoded()) { error in
            XCTAssertEqual("\(error)", "report: metrics.auroc is nan; refusing to write a non-finite number")
            XCTAssertEqual((error as? CategorizedError)?.category.exitCode, 65)
        }
    }

    func testJSONValueParsesConfigs() throws {
        let v = try JSONValue.parse(#"{"a": 1, "b": 2.5, "c": [true, null, "x"]}"#)
        XCTAssertEqual(v["a"], .int(1))
        XCTAssertEqual(v["b"], .double(2.5))
        XCTAssertEqual(v["c"], .array([.bool(true), .null, .string("x")]))
        XCTAssertThrowsError(try JSONValue.parse("{bad"))
    }

    func testPhaseTimerAccumulates() {
        var timer = PhaseTimer()
        timer.measure("load") { usleep(2000) }
        timer.measure("load") { usleep(2000) }
        XCTAssertGreaterThanOrEqual(timer.report["load_s"] ?? 0, 0.004)
        XCTAssertGreaterThanOrEqual(timer.report["wall_s"] ?? 0, timer.report["load_s"] ?? 0)
    }
}

final class JSONValueEdgeTests: XCTestCase {
    func testIntValueIsNilWhenNotExact() throws {
        XCTAssertNil(try JSONValue.parse("1e20").intValue)
        XCTAssertNil(JSONValue.double(.infinity).intValue)
        XCTAssertNil(JSONValue.double(2.5).intValue)
        XCTAssertEqual(JSONValue.double(3).intValue, 3)
        XCTAssertEqual(JSONValue(Float(0.1)), .double(0.1), "a Float keeps its short decimal form")
    }
}
