import Foundation
import MLCore

/// Reads chosen members of one-line JSON objects straight from their bytes: numbers and arrays of
/// numbers (flat, or arrays of equal-length arrays), without building a JSON tree or a String per line,
/// into buffers reused from line to line. Every other member is parsed and skipped (any JSON value,
/// nested to any depth without recursion), so a line that is not one JSON object is refused.
///
/// Numbers follow RFC 8259's grammar; the tokens `NaN`, `Infinity` and `-Infinity` (what Python's
/// `json.dumps` writes for non-finite floats) and out-of-range numbers such as `1e999` are read as
/// non-finite values, so that the caller can refuse them by name rather than as malformed JSON.
/// `true`/`false` read as 1/0 for a number member; `null` is an error for a member that is read.
/// A member given twice counts with its last value (as Python's `json.loads`).
public struct JSONLineScanner {
    /// What a member must hold.
    public enum Kind: Sendable {
        /// A number (or `true`/`false`).
        case number
        /// An array of numbers, or an array of arrays of numbers of one length (a matrix, read row-major).
        case numbers
    }

    /// The member names read, in the order given.
    public let keys: [String]
    let kinds: [Kind]
    let keyBytes: [[UInt8]]
    /// The numbers read from the last line; `ranges[i]` is member i's part (nil when absent).
    public private(set) var values: [Double] = []
    /// Member i's part of `values`, nil when the line lacks the member.
    public private(set) var ranges: [Range<Int>?]
    /// Member i's shape: [] for a number, [n] for a flat array, [rows, columns] for a matrix.
    public private(set) var shapes: [[Int]]
    private var stack: [UInt8] = []
    private var digits: [CChar] = []

    /// A scanner for the members `fields` (name and kind).
    public init(_ fields: [(String, Kind)]) {
        keys = fields.map(\.0)
        kinds = fields.map(\.1)
        keyBytes = fields.map { Array($0.0.utf8) }
        ranges = Array(repeating: nil, count: fields.count)
        shapes = Array(repeating: [], count: fields.count)
    }

    /// Why a line was refused, in words for "expected …" messages.
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    /// Reads `line`, which must be one JSON object; afterwards `ranges`, `shapes` and `values` describe
    /// the members asked for.
    /// - Throws: `Failure` saying what was expected where the line goes wrong.
    public mutating func scan(_ line: ArraySlice<UInt8>) throws {
        values.removeAll(keepingCapacity: true)
        for i in ranges.indices { ranges[i] = nil; shapes[i] = [] }
        try line.withUnsafeBufferPointer { try scanObject($0) }
    }

    private mutating func scanObject(_ b: UnsafeBufferPointer<UInt8>) throws {
        var i = 0
        skipSpace(b, &i)
        guard i < b.count, b[i] == UInt8(ascii: "{") else { throw Failure(reason: "a JSON object starting with '{'") }
        i += 1
        skipSpace(b, &i)
        if i < b.count && b[i] == UInt8(ascii: "}") {
            i += 1
        } else {
            while true {
                skipSpace(b, &i)
                let key = try string(b, &i)
                skipSpace(b, &i)
                try expect(b, &i, ":", "':' after the member name")
                skipSpace(b, &i)
                if let k = keyBytes.firstIndex(where: { $0.elementsEqual(UnsafeBufferPointer(rebasing: b[key])) }) {
                    try member(b, &i, k)
                } else {
                    try skipValue(b, &i)
                }
                skipSpace(b, &i)
                guard i < b.count else { throw Failure(reason: "',' or '}' before the end of the line") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; break }
                throw Failure(reason: "',' or '}' at byte \(i + 1)")
            }
        }
        skipSpace(b, &i)
        if i != b.count { throw Failure(reason: "nothing after the object's closing '}' (byte \(i + 1))") }
    }

    private mutating func member(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, _ k: Int) throws {
        let name = "\"\(keys[k])\""
        let start = values.count
        switch kinds[k] {
        case .number:
            guard let v = try scalar(b, &i) else { throw Failure(reason: "a number for \(name)") }
            values.append(v)
            shapes[k] = []
        case .numbers:
            guard i < b.count, b[i] == UInt8(ascii: "[") else { throw Failure(reason: "an array of numbers for \(name)") }
            i += 1
            var rows = 0, columns = -1
            skipSpace(b, &i)
            if i < b.count && b[i] == UInt8(ascii: "]") {
                i += 1
                shapes[k] = [0]
            } else {
                while true {
                    skipSpace(b, &i)
                    if i < b.count && b[i] == UInt8(ascii: "[") {
                        guard columns != -2 else { throw Failure(reason: "\(name) to hold numbers or arrays, not both") }
                        i += 1
                        let rowStart = values.count
                        skipSpace(b, &i)
                        if i < b.count && b[i] == UInt8(ascii: "]") {
                            i += 1
                        } else {
                            while true {
                                skipSpace(b, &i)
                                guard let v = try scalar(b, &i) else { throw Failure(reason: "numbers in the rows of \(name)") }
                                values.append(v)
                                skipSpace(b, &i)
                                guard i < b.count else { throw Failure(reason: "']' closing a row of \(name)") }
                                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                                if b[i] == UInt8(ascii: "]") { i += 1; break }
                                throw Failure(reason: "',' or ']' in a row of \(name) at byte \(i + 1)")
                            }
                        }
                        let width = values.count - rowStart
                        if columns >= 0 && width != columns {
                            throw Failure(reason: "rows of one length in \(name) (row \(rows + 1) has \(width), row 1 has \(columns))")
                        }
                        columns = width
                    } else {
                        guard columns < 0 else { throw Failure(reason: "\(name) to hold numbers or arrays, not both") }
                        columns = -2
                        guard let v = try scalar(b, &i) else { throw Failure(reason: "numbers in \(name)") }
                        values.append(v)
                    }
                    rows += 1
                    skipSpace(b, &i)
                    guard i < b.count else { throw Failure(reason: "']' closing \(name)") }
                    if b[i] == UInt8(ascii: ",") { i += 1; continue }
                    if b[i] == UInt8(ascii: "]") { i += 1; break }
                    throw Failure(reason: "',' or ']' in \(name) at byte \(i + 1)")
                }
                shapes[k] = columns == -2 ? [rows] : [rows, columns]
            }
        }
        ranges[k] = start..<values.count
    }

    /// A number, `true`/`false` (1/0), `NaN`/`Infinity`/`-Infinity`; nil (nothing consumed) for anything else.
    private mutating func scalar(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) throws -> Double? {
        if literal(b, &i, "true") { return 1 }
        if literal(b, &i, "false") { return 0 }
        if literal(b, &i, "NaN") { return .nan }
        if literal(b, &i, "Infinity") { return .infinity }
        if literal(b, &i, "-Infinity") { return -.infinity }
        let start = i
        guard try number(b, &i) else { return nil }
        digits.removeAll(keepingCapacity: true)
        for j in start..<i { digits.append(CChar(bitPattern: b[j])) }
        digits.append(0)
        return digits.withUnsafeBufferPointer { strtod($0.baseAddress!, nil) }
    }

    /// Consumes an RFC 8259 number; false (nothing consumed) when none starts at `i`.
    private func number(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) throws -> Bool {
        var j = i
        func isDigit(_ j: Int) -> Bool { j < b.count && b[j] >= 48 && b[j] <= 57 }
        if j < b.count && b[j] == UInt8(ascii: "-") { j += 1 }
        guard isDigit(j) else {
            if j > i { throw Failure(reason: "a digit after '-' at byte \(j + 1)") }
            return false
        }
        if b[j] == 48 { j += 1 } else { while isDigit(j) { j += 1 } }
        if j < b.count && b[j] == UInt8(ascii: ".") {
            j += 1
            guard isDigit(j) else { throw Failure(reason: "a digit after '.' at byte \(j + 1)") }
            while isDigit(j) { j += 1 }
        }
        if j < b.count && (b[j] == UInt8(ascii: "e") || b[j] == UInt8(ascii: "E")) {
            j += 1
            if j < b.count && (b[j] == UInt8(ascii: "+") || b[j] == UInt8(ascii: "-")) { j += 1 }
            guard isDigit(j) else { throw Failure(reason: "a digit in the exponent at byte \(j + 1)") }
            while isDigit(j) { j += 1 }
        }
        i = j
        return true
    }

    private func literal(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, _ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard b.count - i >= n else { return false }
        let p = word.utf8Start
        for k in 0..<n where b[i + k] != p[k] { return false }
        i += n
        return true
    }

    /// Consumes a string; returns the range of its raw bytes between the quotes (escapes not decoded:
    /// a member name written with escapes does not match a plain one).
    private func string(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) throws -> Range<Int> {
        guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw Failure(reason: "a quoted member name at byte \(i + 1)") }
        let start = i + 1
        var j = start
        while j < b.count {
            let c = b[j]
            if c == UInt8(ascii: "\"") {
                i = j + 1
                return start..<j
            }
            if c < 0x20 { throw Failure(reason: "no control character inside a string (byte \(j + 1))") }
            if c == UInt8(ascii: "\\") {
                guard j + 1 < b.count else { break }
                let e = b[j + 1]
                if e == UInt8(ascii: "u") {
                    guard j + 5 < b.count, (2...5).allSatisfy({ isHex(b[j + $0]) }) else {
                        throw Failure(reason: "four hex digits after \\u at byte \(j + 1)")
                    }
                    j += 6
                    continue
                }
                guard "\"\\/bfnrt".utf8.contains(e) else { throw Failure(reason: "a valid escape at byte \(j + 1)") }
                j += 2
                continue
            }
            j += 1
        }
        throw Failure(reason: "a closing '\"' before the end of the line")
    }

    private func isHex(_ c: UInt8) -> Bool { (48...57).contains(c) || (65...70).contains(c) || (97...102).contains(c) }

    /// Consumes any JSON value (iteratively, so deep nesting cannot overflow the stack).
    private mutating func skipValue(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) throws {
        stack.removeAll(keepingCapacity: true)
        while true {
            // A value starts here.
            skipSpace(b, &i)
            guard i < b.count else { throw Failure(reason: "a value before the end of the line") }
            switch b[i] {
            case UInt8(ascii: "{"):
                i += 1
                skipSpace(b, &i)
                if i < b.count && b[i] == UInt8(ascii: "}") {
                    i += 1
                } else {
                    stack.append(UInt8(ascii: "}"))
                    _ = try string(b, &i)
                    skipSpace(b, &i)
                    try expect(b, &i, ":", "':' after a member name")
                    continue
                }
            case UInt8(ascii: "["):
                i += 1
                skipSpace(b, &i)
                if i < b.count && b[i] == UInt8(ascii: "]") {
                    i += 1
                } else {
                    stack.append(UInt8(ascii: "]"))
                    continue
                }
            case UInt8(ascii: "\""):
                _ = try string(b, &i)
            default:
                if literal(b, &i, "null") { break }
                guard try scalar(b, &i) != nil else { throw Failure(reason: "a JSON value at byte \(i + 1)") }
            }
            // After a value: close containers or move to the next element.
            while true {
                guard let top = stack.last else { return }
                skipSpace(b, &i)
                guard i < b.count else { throw Failure(reason: "'\(Character(Unicode.Scalar(top)))' before the end of the line") }
                if b[i] == top {
                    i += 1
                    stack.removeLast()
                    continue
                }
                guard b[i] == UInt8(ascii: ",") else { throw Failure(reason: "',' or '\(Character(Unicode.Scalar(top)))' at byte \(i + 1)") }
                i += 1
                if top == UInt8(ascii: "}") {
                    skipSpace(b, &i)
                    _ = try string(b, &i)
                    skipSpace(b, &i)
                    try expect(b, &i, ":", "':' after a member name")
                }
                break
            }
        }
    }

    private func skipSpace(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) {
        while i < b.count, b[i] == 32 || b[i] == 9 || b[i] == 13 || b[i] == 10 { i += 1 }
    }

    private func expect(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, _ c: Unicode.Scalar, _ what: String) throws {
        guard i < b.count, b[i] == UInt8(ascii: c) else { throw Failure(reason: "\(what) at byte \(i + 1)") }
        i += 1
    }
}

/// JSON-lines records from a file or standard input, one object per line, read as a stream: the
/// members asked for are scanned from each line's bytes (`JSONLineScanner`) and nothing is kept from
/// line to line, so a caller holds only the values it appends. Blank lines are skipped. Every error
/// names the file ("stdin" for `-`) and the 1-based line number (`MetricsError.malformedLine`, exit 65;
/// invalid UTF-8: `InvalidUTF8Error`, unless lossy).
public struct JSONRecords {
    var lines: TextLines
    /// The scanner holding the current record's members.
    public private(set) var scanner: JSONLineScanner
    /// What a line must be, for messages ("a JSON object with a numeric "score" and …").
    public let expected: String
    /// Records read so far.
    public private(set) var count = 0

    /// Opens `path` ("-": stdin) for records with the members `fields`.
    /// - Throws: `MetricsError.unreadableFile` (exit 66).
    public init(path: String, lossy: Bool, fields: [(String, JSONLineScanner.Kind)], expected: String) throws {
        lines = try TextLines.open(path: path, lossy: lossy)
        scanner = JSONLineScanner(fields)
        self.expected = expected
    }

    /// The file name used in messages.
    public var source: String { lines.source }
    /// The current line's number.
    public var lineNumber: Int { lines.lineNumber }

    /// Moves to the next non-blank line and scans it; false at the end of the input.
    /// - Throws: `MetricsError.malformedLine` for a line that is not a JSON object; `InvalidUTF8Error`.
    public mutating func next() throws -> Bool {
        // The scanner is moved out while `lines` is borrowed (one access to self at a time).
        var scanner = JSONLineScanner([])
        swap(&scanner, &self.scanner)
        defer { swap(&scanner, &self.scanner) }
        while true {
            var blank = false
            let result: Result<Void, JSONLineScanner.Failure>? = try lines.nextBytes { bytes, _ in
                if bytes.allSatisfy({ $0 == 32 || $0 == 9 }) { blank = true; return .success(()) }
                do { try scanner.scan(bytes); return .success(()) } catch let f as JSONLineScanner.Failure { return .failure(f) }
            }
            guard let result else { return false }
            if blank { continue }
            if case .failure(let f) = result { throw error("\(expected); the line needs \(f.reason)") }
            count += 1
            return true
        }
    }

    /// Closes the file.
    public func close() { lines.close() }

    /// A `malformedLine` error at the current line.
    public func error(_ expected: String) -> MetricsError {
        .malformedLine(file: source, line: lineNumber, expected: expected)
    }

    /// Member `index` as a number, nil when absent.
    /// - Throws: `MetricsError.malformedLine` when `finite` and the value is NaN or infinite (refused,
    ///   as scikit-learn refuses them), or when `integer` and it is not a whole number.
    public func number(_ index: Int, finite: Bool = true, integer: Bool = false) throws -> Double? {
        guard let r = scanner.ranges[index] else { return nil }
        let v = scanner.values[r.lowerBound]
        let name = scanner.keys[index]
        if finite && !v.isFinite {
            throw error("a finite \"\(name)\", found \(Self.spelling(v)) (NaN and infinite values are refused)")
        }
        if integer && (v.rounded() != v || abs(v) > 9.0e15) { throw error("an integer \"\(name)\", found \(v)") }
        return v
    }

    /// JSON's spelling of a non-finite value (as Python writes it).
    static func spelling(_ v: Double) -> String { v.isNaN ? "NaN" : v.isInfinite ? (v > 0 ? "Infinity" : "-Infinity") : "\(v)" }

    /// Member `index` as a number; a missing member is an error naming it.
    /// - Throws: as `number`, and `MetricsError.malformedLine` when the member is absent.
    public func require(_ index: Int, finite: Bool = true, integer: Bool = false) throws -> Double {
        guard let v = try number(index, finite: finite, integer: integer) else { throw error("\(expected); \"\(scanner.keys[index])\" is missing") }
        return v
    }

    /// Member `index`'s numbers (row-major for a matrix) and shape, nil when absent.
    /// - Throws: `MetricsError.malformedLine` when `finite` and a value is NaN or infinite.
    public func numbers(_ index: Int, finite: Bool = true) throws -> (values: ArraySlice<Double>, shape: [Int])? {
        guard let r = scanner.ranges[index] else { return nil }
        let slice = scanner.values[r]
        if finite, let bad = slice.firstIndex(where: { !$0.isFinite }) {
            throw error("finite numbers in \"\(scanner.keys[index])\", found \(Self.spelling(slice[bad])) at position \(bad - r.lowerBound + 1)")
        }
        return (slice, scanner.shapes[index])
    }
}
