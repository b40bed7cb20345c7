import Foundation
/// Errors thrown by the metrics in `MLCore/Metrics` (Docs/METRICS.md). Every description is one line:
/// what, where (argument, index, file and line), what was expected.
public enum MetricsError: CategorizedError, Equatable {
    /// Two inputs that must pair element by element have different lengths.
    case lengthMismatch(metric: String, what: String, expected: Int, actual: Int)
    /// An input that must have at least one element is empty.
    case empty(metric: String, what: String)
    /// A value is NaN or infinite.
    case notFinite(metric: String, what: String, index: Int)
    /// A value lies outside its allowed range (a probability above 1, a negative count, a label
    /// outside `0..<classCount`).
    case outOfRange(metric: String, what: String, index: Int, value: Double, expected: String)
    /// The metric is mathematically undefined for this input (AUROC with one class present).
    case undefined(metric: String, reason: String)
    /// An identifier occurs twice where it must be unique (a document in one query of a run).
    case duplicate(metric: String, what: String, id: String)
    /// A malformed line of a text input (TREC run or qrels), with its 1-based line number.
    case malformedLine(file: String, line: Int, expected: String)
    /// A file that does not exist or cannot be read as UTF-8 text.
    case unreadableFile(path: String)
    /// An argument that is not data: k ≤ 0, a confidence level outside (0, 1), a bin count ≤ 0.
    case invalidArgument(metric: String, reason: String)

    /// `.usage` for invalid arguments, `.missingInput` for unreadable files, `.badData` for everything
    /// about the data.
    public var category: ErrorCategory {
        switch self {
        case .invalidArgument: return .usage
        case .unreadableFile: return .missingInput
        default: return .badData
        }
    }

    public var description: String {
        switch self {
        case .lengthMismatch(let metric, let what, let expected, let actual):
            return "\(metric): \(what) has \(actual) elements, expected \(expected)"
        case .empty(let metric, let what):
            return "\(metric): \(what) is empty, expected at least one element"
        case .notFinite(let metric, let what, let index):
            return "\(metric): \(what)[\(index)] is not finite, expected a finite number"
        case .outOfRange(let metric, let what, let index, let value, let expected):
            return "\(metric): \(what)[\(index)] = \(value), expected \(expected)"
        case .undefined(let metric, let reason):
            return "\(metric): undefined: \(reason)"
        case .duplicate(let metric, let what, let id):
            return "\(metric): duplicate \(what) '\(id)', expected each once"
        case .malformedLine(let file, let line, let expected):
            return "\(file):\(line): malformed line, expected \(expected)"
        case .unreadableFile(let path):
            // Said when the error is shown: a missing file is the common case and deserves its own words.
            return FileManager.default.fileExists(atPath: path) ? "\(path): cannot open the file for reading"
                                                                : "\(path): no such file"
        case .invalidArgument(let metric, let reason):
            return "\(metric): invalid argument: \(reason)"
        }
    }
}

// MARK: - Validation shared by the metrics

extension MetricsError {
    static func checkSameCount(_ metric: String, _ what: String, _ count: Int, expected: Int) throws {
        if count != expected { throw MetricsError.lengthMismatch(metric: metric, what: what, expected: expected, actual: count) }
    }

    static func checkNonEmpty(_ metric: String, _ what: String, _ count: Int) throws {
        if count == 0 { throw MetricsError.empty(metric: metric, what: what) }
    }

    static func checkFinite(_ metric: String, _ what: String, _ values: [Double]) throws {
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            throw MetricsError.notFinite(metric: metric, what: what, index: i)
        }
    }

    static func checkProbabilities(_ metric: String, _ what: String, _ values: [Double]) throws {
        try checkFinite(metric, what, values)
        if let i = values.firstIndex(where: { $0 < 0 || $0 > 1 }) {
            throw MetricsError.outOfRange(metric: metric, what: what, index: i, value: values[i], expected: "a probability in [0, 1]")
        }
    }

    static func checkBinary(_ metric: String, _ what: String, _ labels: [Int]) throws {
        if let i = labels.firstIndex(where: { $0 != 0 && $0 != 1 }) {
            throw MetricsError.outOfRange(metric: metric, what: what, index: i, value: Double(labels[i]), expected: "0 or 1")
        }
    }

    static func checkClasses(_ metric: String, _ what: String, _ labels: [Int], classCount: Int) throws {
        if let i = labels.firstIndex(where: { $0 < 0 || $0 >= classCount }) {
            throw MetricsError.outOfRange(metric: metric, what: what, index: i, value: Double(labels[i]),
                                          expected: "a class in 0..<\(classCount)")
        }
    }

    static func checkPositive(_ metric: String, _ what: String, _ k: Int) throws {
        if k <= 0 { throw MetricsError.invalidArgument(metric: metric, reason: "\(what) = \(k), expected > 0") }
    }
}
