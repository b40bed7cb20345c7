/// What kind of failure an error is, which decides a tool's exit code (README.md, sysexits.h).
public enum ErrorCategory: Sendable {
    /// Bad command-line usage (64, EX_USAGE): unknown dataset name, invalid option value.
    case usage
    /// Input that exists but is malformed (65, EX_DATAERR): corrupt HDF5, wrong shape, NaN.
    case badData
    /// An input that does not exist (66, EX_NOINPUT): missing file, unprepared dataset.
    case missingInput
    /// A bug or an environment failure (70, EX_SOFTWARE).
    case `internal`

    /// The process exit code for this category.
    public var exitCode: Int32 {
        switch self {
        case .usage: return 64
        case .badData: return 65
        case .missingInput: return 66
        case .internal: return 70
        }
    }
}

/// An error that knows its category; errors without one count as `.internal`.
public protocol CategorizedError: Error, CustomStringConvertible {
    var category: ErrorCategory { get }
}

extension ReportError: CategorizedError {
    public var category: ErrorCategory {
        switch self {
        case .nonFiniteNumber, .invalidJSON: return .badData
        case .cannotWrite: return .internal
        }
    }
}
