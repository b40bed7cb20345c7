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
        var run: [String: [ScoredDocument]] = [:]
        var seen: [String: Set<String>] = [:]
        for (index, line) in lines(text) {
            let f = fields(line)
            if f.isEmpty { continue }
            guard f.count == 6 else {
                throw MetricsError.malformedLine(file: source, line: index,
                                                 expected: "6 fields 'query Q0 document rank score tag', found \(f.count)")
            }
            guard Int(f[3]) != nil else {
                throw MetricsError.malformedLine(file: source, line: index, expected: "an integer rank in field 4, found '\(f[3])'")
            }
            guard let score = Double(f[4]), score.isFinite else {
                throw MetricsError.malformedLine(file: source, line: index, expected: "a finite score in field 5, found '\(f[4])'")
            }
            guard seen[f[0], default: []].insert(f[2]).inserted else {
                throw MetricsError.malformedLine(file: source, line: index,
                                                 expected: "document '\(f[2])' once in query '\(f[0])' (duplicate)")
            }
            run[f[0], default: []].append(ScoredDocument(id: f[2], score: score))
        }
        return run
    }

    /// Parses qrels: lines `query iteration document relevance` (four fields, integer relevance; the
    /// iteration field is ignored, as trec_eval does).
    /// - Returns: query id → document id → relevance level.
    /// - Throws: `MetricsError.malformedLine` for a line without four fields, a non-integer relevance,
    ///   or a document judged twice for a query.
    public static func parseQrels(_ text: String, source: String = "qrels") throws -> [String: [String: Int]] {
        var qrels: [String: [String: Int]] = [:]
        for (index, line) in lines(text) {
            let f = fields(line)
            if f.isEmpty { continue }
            guard f.count == 4 else {
                throw MetricsError.malformedLine(file: source, line: index,
                                                 expected: "4 fields 'query iteration document relevance', found \(f.count)")
            }
            guard let level = Int(f[3]) else {
                throw MetricsError.malformedLine(file: source, line: index, expected: "an integer relevance in field 4, found '\(f[3])'")
            }
            guard qrels[f[0], default: [:]].updateValue(level, forKey: f[2]) == nil else {
                throw MetricsError.malformedLine(file: source, line: index,
                                                 expected: "document '\(f[2])' judged once for query '\(f[0])' (duplicate)")
            }
        }
        return qrels
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

    static func fields(_ line: Substring) -> [String] {
        line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
    }
}
