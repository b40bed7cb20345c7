import Foundation
import XCTest
@testable import MLCore

/// Reading metrics fixtures (Tests/Fixtures/metrics_*.json, made by Tools/reference/make_metrics_fixtures.py).
enum MetricsFixture {
    static func cases(_ file: String) throws -> [[String: Any]] {
        let root = try Fixtures.json(file)
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]], "\(file): no cases")
        XCTAssertGreaterThanOrEqual(cases.count, 20, "\(file): too few cases")
        return cases
    }

    static func doubles(_ value: Any?) -> [Double] {
        (value as? [Any] ?? []).map(double)
    }

    static func double(_ value: Any) -> Double {
        switch value {
        case let s as String where s == "inf": return .infinity
        case let s as String where s == "-inf": return -.infinity
        case let s as String where s == "nan": return .nan
        case let n as NSNumber: return n.doubleValue
        default: fatalError("fixture value \(value) is not a number")
        }
    }

    static func ints(_ value: Any?) -> [Int] { (value as? [NSNumber] ?? []).map { $0.intValue } }

    static func matrix(_ value: Any?) -> [[Double]] { (value as? [Any] ?? []).map { doubles($0) } }

    static func isError(_ value: Any?) -> Bool { (value as? String) == "error" }
}

/// |actual − expected| ≤ tolerance (default 1e-6, the agreement bound), infinities exactly.
func assertNear(_ actual: Double, _ expected: Double, tolerance: Double = 1e-6, _ message: @autoclosure () -> String = "",
                file: StaticString = #filePath, line: UInt = #line) {
    if expected.isInfinite || expected.isNaN {
        XCTAssert(actual == expected || (actual.isNaN && expected.isNaN), "\(message()): \(actual) != \(expected)", file: file, line: line)
    } else {
        XCTAssert(abs(actual - expected) <= tolerance, "\(message()): \(actual) != expected \(expected)", file: file, line: line)
    }
}

func assertNear(_ actual: [Double], _ expected: [Double], tolerance: Double = 1e-6, _ message: @autoclosure () -> String = "",
                file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("\(message()): \(actual.count) values, expected \(expected.count)", file: file, line: line)
        return
    }
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        assertNear(a, e, tolerance: tolerance, "\(message())[\(i)]", file: file, line: line)
    }
}

/// Checks `body` against a fixture expectation: a number (agreement to 1e-6) or "error" (must throw a
/// MetricsError). Counts the checks made so a test can assert it really compared something.
func checkFixture(_ expected: Any?, _ message: String, counter: inout Int,
                  file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Double) {
    counter += 1
    if MetricsFixture.isError(expected) {
        XCTAssertThrowsError(try body(), "\(message): expected an error", file: file, line: line) { error in
            XCTAssert(error is MetricsError, "\(message): \(error) is not a MetricsError", file: file, line: line)
        }
        return
    }
    guard let e = expected else { XCTFail("\(message): no expectation", file: file, line: line); return }
    do {
        assertNear(try body(), MetricsFixture.double(e), message, file: file, line: line)
    } catch {
        XCTFail("\(message): threw \(error)", file: file, line: line)
    }
}
