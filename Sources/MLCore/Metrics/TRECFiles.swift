import Foundation

/// Readers of the TREC run and qrels text formats used by trec_eval (Docs/METRICS.md §3).
///
/// Fields are separated by spaces or tabs; blank lines are skipped; every other line must be complete.
/// Errors name the file (or `source` label) and the 1-based line number.
public enum TRECFiles {
    /// Parses a run: lines `query Q0 document rank score tag` (six fields; the second, rank and tag are
    /// read but not used: trec_eval ranks by score, see `Retrieval.ranking`).
    /// - Parameter source: the name used in error messages (a path, or "-" for stdin).
    /// - Returns: query id → documents in file order.
    /// - Throws: `MetricsError.malformedLine` for a line without six fields, a non-integer rank, a
    ///   score that is not a finite number, or a document repeated within a query.
    public static func parseRun(_ text: String, source: String = "run") throws -> [String: [ScoredDocument]] {
        var reader = RunReader(source: source)
        for (index, line) in lines(text) { try reader.add(Array(line.utf8)[...], line: index) }
        return reader.finish()
    }

    /// Parses qrels: lines `query iteration document relevance` (four fields, integer relevance; the
    /// iteration field is ignored, as trec_eval does).
    /// - Returns: query id → document id → relevance level.
    /// - Throws: `MetricsError.malformedLine` for a line without four fields, a non-integer relevance,
    ///   or a document judged twice for a query.
    public static func parseQrels(_ text: String, source: String = "qrels") throws -> [String: [String: Int]] {
        var reader = QrelsReader(source: source)
        for (index, line) in lines(text) { try reader.add(Array(line.utf8)[...], line: index) }
        return reader.qrels
    }

    /// A run read line by line (e.g. streamed from a file): `add` each line's bytes, then `finish`.
    /// Same rules and errors as `parseRun`; nothing but the documents is kept, and a run grouped by
    /// query (the usual layout) looks each query up once per group, not once per line.
    public struct RunReader {
        let source: String
        var run: [String: [ScoredDocument]] = [:]
        var currentQuery: String?
        var currentDocuments: [ScoredDocument] = []
        /// The current query's documents by id (duplicates are refused).
        var currentIndex = DocumentIndex()
        /// The size of the last query's group: the next index is made that large at once.
        var sizeHint = 64
        var number: [CChar] = []
        var f: [Range<Int>] = []

        /// - Parameter source: the file name used in error messages.
        public init(source: String) { self.source = source }

        /// Adds one line (its bytes, without the line ending; blank lines are skipped).
        /// - Throws: `MetricsError.malformedLine` naming `source` and `line`.
        public mutating func add(_ bytes: ArraySlice<UInt8>, line: Int) throws {
            TRECFiles.fields(bytes, into: &f)
            if f.isEmpty { return }
            guard f.count == 6 else {
                throw MetricsError.malformedLine(file: source, line: line,
                                                 expected: "6 fields 'query Q0 document rank score tag', found \(f.count)")
            }
            guard TRECFiles.isInteger(bytes[f[3]]) else {
                throw MetricsError.malformedLine(file: source, line: line,
                                                 expected: "an integer rank in field 4, found '\(String(decoding: bytes[f[3]], as: UTF8.self))'")
            }
            guard let score = TRECFiles.finiteDouble(bytes[f[4]], buffer: &number) else {
                throw MetricsError.malformedLine(file: source, line: line,
                                                 expected: "a finite score in field 5, found '\(String(decoding: bytes[f[4]], as: UTF8.self))'")
            }
            let query = bytes[f[0]]
            if currentQuery == nil || !currentQuery!.utf8.elementsEqual(query) { switchQuery(to: String(decoding: query, as: UTF8.self)) }
            let document = String(decoding: bytes[f[2]], as: UTF8.self)
            // The index is moved out while the documents are read, so that no second reference to the
            // array outlives the lookup (the append below would copy it).
            var index = DocumentIndex()
            swap(&index, &currentIndex)
            let duplicate = currentDocuments.withUnsafeBufferPointer { documents in
                index.insert(document, at: documents.count, ids: { documents[$0].id })
            }
            swap(&index, &currentIndex)
            guard duplicate == nil else {
                throw MetricsError.malformedLine(file: source, line: line,
                                                 expected: "document '\(document)' once in query '\(currentQuery!)' (duplicate)")
            }
            currentDocuments.append(ScoredDocument(id: document, score: score))
        }

        mutating func switchQuery(to query: String?) {
            if let q = currentQuery {
                sizeHint = max(64, currentDocuments.count)
                run[q] = currentDocuments
            }
            currentQuery = query
            currentDocuments = query.flatMap { run.removeValue(forKey: $0) } ?? []
            // A query seen before (the run is not grouped by query): index its earlier documents again.
            currentIndex.reset(capacity: max(currentDocuments.count, sizeHint))
            let documents = currentDocuments
            for (j, d) in documents.enumerated() { _ = currentIndex.insert(d.id, at: j, ids: { documents[$0].id }) }
        }

        /// The run: query id → documents in file order.
        public mutating func finish() -> [String: [ScoredDocument]] {
            switchQuery(to: nil)
            return run
        }
    }

    /// Qrels read line by line: `add` each line's bytes, then read `qrels`. Same rules and errors as
    /// `parseQrels`.
    public struct QrelsReader {
        let source: String
        /// Query id → document id → relevance level, for the lines added so far.
        public private(set) var qrels: [String: [String: Int]] = [:]

        /// - Parameter source: the file name used in error messages.
        public init(source: String) { self.source = source }

        /// Adds one line (its bytes, without the line ending; blank lines are skipped).
        /// - Throws: `MetricsError.malformedLine` naming `source` and `line`.
        public mutating func add(_ bytes: ArraySlice<UInt8>, line: Int) throws {
            var f: [Range<Int>] = []
            TRECFiles.fields(bytes, into: &f)
            if f.isEmpty { return }
            guard f.count == 4 else {
                throw MetricsError.malformedLine(file: source, line: line,
                                                 expected: "4 fields 'query iteration document relevance', found \(f.count)")
            }
            let text = String(decoding: bytes[f[3]], as: UTF8.self)
            guard TRECFiles.isInteger(bytes[f[3]]), let level = Int(text) else {
                throw MetricsError.malformedLine(file: source, line: line, expected: "an integer relevance in field 4, found '\(text)'")
            }
            let query = String(decoding: bytes[f[0]], as: UTF8.self), document = String(decoding: bytes[f[2]], as: UTF8.self)
            guard qrels[query, default: [:]].updateValue(level, forKey: document) == nil else {
                throw MetricsError.malformedLine(file: source, line: line,
                                                 expected: "document '\(document)' judged once for query '\(query)' (duplicate)")
            }
        }
    }

    /// The ranges of the space/tab-separated fields of a line (a final "\r" is a separator) into `f`
    /// (emptied first, so a reader reuses one array); stops after 7 fields (enough to tell a wrong count).
    static func fields(_ bytes: ArraySlice<UInt8>, into f: inout [Range<Int>]) {
        f.removeAll(keepingCapacity: true)
        let base = bytes.startIndex
        bytes.withUnsafeBufferPointer { p in
            var i = 0
            let n = p.count
            while i < n && f.count < 7 {
                while i < n && (p[i] == 32 || p[i] == 9 || p[i] == 13) { i += 1 }
                if i == n { break }
                let start = i
                while i < n && !(p[i] == 32 || p[i] == 9 || p[i] == 13) { i += 1 }
                f.append((base + start)..<(base + i))
            }
        }
    }

    /// An optional sign and at least one decimal digit (what `Int(_:)` accepts, any length).
    static func isInteger(_ bytes: ArraySlice<UInt8>) -> Bool {
        var digits = bytes
        if let c = digits.first, c == UInt8(ascii: "-") || c == UInt8(ascii: "+") { digits = digits.dropFirst() }
        return !digits.isEmpty && digits.allSatisfy { $0 >= 48 && $0 <= 57 }
    }

    /// The field as a finite Double (what Swift's `Double(_:)` accepts: decimal and hexadecimal
    /// floats; "nan", "inf" and overflowing values are refused), nil otherwise.
    static func finiteDouble(_ bytes: ArraySlice<UInt8>, buffer: inout [CChar]) -> Double? {
        if let v = plainDecimal(bytes) { return v }
        guard bytes.count < 400 else { return Double(String(decoding: bytes, as: UTF8.self)).flatMap { $0.isFinite ? $0 : nil } }
        buffer.removeAll(keepingCapacity: true)
        for b in bytes {
            // strtod skips leading space and accepts forms Double(_:) does not ("0x", "nan(...)").
            guard b > 32 else { return nil }
            buffer.append(CChar(bitPattern: b))
        }
        buffer.append(0)
        var value = 0.0
        let consumed = buffer.withUnsafeBufferPointer { p -> Bool in
            var end: UnsafeMutablePointer<CChar>?
            value = strtod(p.baseAddress!, &end)
            return end.map { $0 - UnsafeMutablePointer(mutating: p.baseAddress!) == bytes.count } ?? false
        }
        return consumed && value.isFinite ? value : nil
    }

    static let powersOfTen: [Double] = (0...22).map { Foundation.pow(10, Double($0)) }

    /// `[+-]digits[.digits]` with a mantissa below 2⁵³ and at most 22 decimals, as a Double: Clinger's
    /// fast path (both the integer mantissa and 10^decimals are exact Doubles, so one correctly
    /// rounded division gives the correctly rounded value, what strtod returns); nil for anything
    /// else, which goes to strtod.
    static func plainDecimal(_ bytes: ArraySlice<UInt8>) -> Double? {
        bytes.withUnsafeBufferPointer { p -> Double? in
            var i = 0
            guard !p.isEmpty else { return nil }
            let negative = p[0] == UInt8(ascii: "-")
            if negative || p[0] == UInt8(ascii: "+") { i = 1 }
            var mantissa: UInt64 = 0, digits = 0, decimals = 0, dot = false
            while i < p.count {
                let c = p[i]
                if c >= 48 && c <= 57 {
                    guard digits < 18 else { return nil }
                    mantissa = mantissa * 10 + UInt64(c - 48)
                    digits += 1
                    if dot { decimals += 1 }
                } else if c == UInt8(ascii: ".") && !dot {
                    dot = true
                } else {
                    return nil
                }
                i += 1
            }
            guard digits > 0, mantissa < (1 << 53), decimals <= 22 else { return nil }
            let v = Double(mantissa) / powersOfTen[decimals]
            return negative ? -v : v
        }
    }

    /// Reads and parses a run file (see `parseRun`).
    /// - Throws: `MetricsError.unreadableFile` when the file cannot be read as UTF-8, and the parse errors.
    public static func readRun(path: String) throws -> [String: [ScoredDocument]] {
        try parseRun(read(path), source: path)
    }

    /// Reads and parses a qrels file (see `parseQrels`).
    /// - Throws: `MetricsError.unreadableFile` when the file cannot be read as UTF-8, and the parse errors.
    public static func readQrels(path: String) throws -> [String: [String: Int]] {
        try parseQrels(read(path), source: path)
    }

    static func read(_ path: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw MetricsError.unreadableFile(path: path)
        }
    }

    /// Lines with 1-based numbers; "\r\n" endings are accepted.
    static func lines(_ text: String) -> [(Int, Substring)] {
        text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated().map { ($0.offset + 1, $0.element) }
    }
}
