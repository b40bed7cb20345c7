import Foundation
import MLCore
import XCTest
@testable import MLCoreCLI

/// `JSONLineScanner` and `JSONRecords`: hand-written lines with the values they hold, lines that must
/// be refused, and errors that name the file and line.
final class JSONRecordsTests: XCTestCase {
    func scan(_ line: String, _ fields: [(String, JSONLineScanner.Kind)]) throws -> JSONLineScanner {
        var s = JSONLineScanner(fields)
        try s.scan(Array(line.utf8)[...])
        return s
    }

    func values(_ s: JSONLineScanner, _ i: Int) -> [Double]? { s.ranges[i].map { Array(s.values[$0]) } }

    func testReadsNumbersArraysAndMatrices() throws {
        let s = try scan(#"{"label": 2, "x": {"deep": [1, {"a": "}\"]"}], "n": null}, "score": -1.5e-3, "probs": [0.25, 0.75], "m": [[1,2,3],[4,5,6]], "flag": true}"#,
                         [("score", .number), ("label", .number), ("probs", .numbers), ("m", .numbers), ("flag", .number), ("absent", .number)])
        XCTAssertEqual(values(s, 0), [-0.0015])
        XCTAssertEqual(values(s, 1), [2])
        XCTAssertEqual(values(s, 2), [0.25, 0.75])
        XCTAssertEqual(s.shapes[2], [2])
        XCTAssertEqual(values(s, 3), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(s.shapes[3], [2, 3])
        XCTAssertEqual(values(s, 4), [1])
        XCTAssertNil(s.ranges[5])
        // The last of a repeated member counts (Python's json.loads); empty arrays and objects.
        let t = try scan(#" {"score": 1, "e": [], "o": {}, "score": 2, "probs": []} "#, [("score", .number), ("probs", .numbers)])
        XCTAssertEqual(values(t, 0), [2])
        XCTAssertEqual(t.shapes[1], [0])
        XCTAssertEqual(try scan("{}", [("score", .number)]).ranges, [nil])
    }

    /// Python's json.dumps writes NaN and ±Infinity; 1e999 overflows to +∞: all read as non-finite values.
    func testNonFiniteTokensAreValues() throws {
        let s = try scan(#"{"a": NaN, "b": Infinity, "c": -Infinity, "d": 1e999, "e": [NaN]}"#,
                         [("a", .number), ("b", .number), ("c", .number), ("d", .number), ("e", .numbers)])
        XCTAssertTrue(s.values[s.ranges[0]!.lowerBound].isNaN)
        XCTAssertEqual(values(s, 1), [.infinity])
        XCTAssertEqual(values(s, 2), [-.infinity])
        XCTAssertEqual(values(s, 3), [.infinity])
        XCTAssertTrue(s.values[s.ranges[4]!.lowerBound].isNaN)
    }

    func testRefusesWhatIsNotOneObject() {
        let fields: [(String, JSONLineScanner.Kind)] = [("score", .number), ("probs", .numbers)]
        let bad = [
            "", "[1, 2]", "{", #"{"score": 1"#, #"{"score": 1,}"#, #"{"score" 1}"#, #"{"score": 1} x"#, #"{"score": "1"}"#,
            #"{"score": null}"#, #"{"score": 01}"#, #"{"score": 1.}"#, #"{"score": -}"#, #"{"score": 1e}"#,
            #"{"probs": [1, [2]]}"#, #"{"probs": [[1, 2], [3]]}"#, #"{"probs": [1,]}"#, #"{"x": [1, 2}"#,
            #"{"x": "a\qb"}"#, #"{"x": "\u12G4"}"#, "{\"x\": \"tab\there\"}", #"{"x": tru}"#, #"{score: 1}"#,
            String(repeating: "[", count: 100_000),
            "{\"x\": " + String(repeating: "[", count: 100_000) + "}",
        ]
        for line in bad {
            var s = JSONLineScanner(fields)
            XCTAssertThrowsError(try s.scan(Array(line.utf8)[...]), String(line.prefix(40)))
        }
        // Deep nesting in a member that is skipped is fine when it is closed.
        let deep = "{\"x\": " + String(repeating: "[", count: 50_000) + String(repeating: "]", count: 50_000) + ", \"score\": 3}"
        XCTAssertEqual(try values(scan(deep, fields), 0), [3])
    }

    func withFile(_ text: String, _ body: (String) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("records-\(UUID().uuidString).jsonl").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    /// Records stream from a file: blank lines skipped, "\r\n" accepted, and every error names the file
    /// and the 1-based line (blank lines counted).
    func testRecordsNameFileAndLine() throws {
        try withFile("{\"score\": 0.5, \"label\": 1}\r\n\n  \n{\"score\": 2, \"label\": 0}\n{\"score\": NaN, \"label\": 1}\n") { path in
            var r = try JSONRecords(path: path, lossy: false, fields: [("score", .number), ("label", .number)], expected: "a scored item")
            defer { r.close() }
            XCTAssertTrue(try r.next())
            XCTAssertEqual(try r.require(0), 0.5)
            XCTAssertEqual(r.lineNumber, 1)
            XCTAssertTrue(try r.next())
            XCTAssertEqual(r.lineNumber, 4)
            XCTAssertEqual(try r.require(1, integer: true), 0)
            XCTAssertTrue(try r.next())
            XCTAssertThrowsError(try r.require(0)) { error in
                XCTAssertEqual(error as? MetricsError,
                               .malformedLine(file: path, line: 5, expected: "a finite \"score\", found NaN (NaN and infinite values are refused)"))
            }
            XCTAssertEqual(try r.number(0, finite: false).map { $0.isNaN }, true)
            XCTAssertFalse(try r.next())
            XCTAssertEqual(r.count, 3)
        }
        try withFile("{\"score\": 1, \"label\": 0.5}\n{\"label\": 1}\n{\"score\": 1 \"label\": 1}\n") { path in
            var r = try JSONRecords(path: path, lossy: false, fields: [("score", .number), ("label", .number)], expected: "a scored item")
            XCTAssertTrue(try r.next())
            XCTAssertThrowsError(try r.require(1, integer: true)) { error in
                XCTAssertEqual("\(error)", "\(path):1: malformed line, expected an integer \"label\", found 0.5")
            }
            XCTAssertTrue(try r.next())
            XCTAssertThrowsError(try r.require(0)) { error in
                XCTAssertEqual("\(error)", "\(path):2: malformed line, expected a scored item; \"score\" is missing")
            }
            XCTAssertThrowsError(try r.next()) { error in
                XCTAssertEqual("\(error)", "\(path):3: malformed line, expected a scored item; the line needs ',' or '}' at byte 13")
                XCTAssertEqual((error as? CategorizedError)?.category.exitCode, 65)
            }
        }
        XCTAssertThrowsError(try JSONRecords(path: "/nonexistent/x.jsonl", lossy: false, fields: [], expected: "")) { error in
            XCTAssertEqual(error as? MetricsError, .unreadableFile(path: "/nonexistent/x.jsonl"))
        }
    }

    /// Lines longer than the 64 KiB read block, and a matrix member read across many lines.
    func testLongLinesAndManyRecords() throws {
        let long = "{\"pad\": \"" + String(repeating: "x", count: 200_000) + "\", \"score\": 7}"
        var text = long + "\n"
        for i in 0..<5000 { text += "{\"m\": [[\(i), 0, 1]], \"score\": \(i)}\n" }
        try withFile(text) { path in
            var r = try JSONRecords(path: path, lossy: false, fields: [("score", .number), ("m", .numbers)], expected: "")
            XCTAssertTrue(try r.next())
            XCTAssertEqual(try r.require(0), 7)
            var sum = 0.0
            while try r.next() {
                let (m, shape) = try XCTUnwrap(try r.numbers(1))
                XCTAssertEqual(shape, [1, 3])
                sum += m[m.startIndex] + (try r.require(0))
            }
            XCTAssertEqual(sum, 2 * Double(4999 * 5000 / 2))
            XCTAssertEqual(r.lineNumber, 5001)
        }
    }
}
