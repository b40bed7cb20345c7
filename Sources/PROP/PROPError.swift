import MLCore

/// Errors of the PROP method library, in its own words (no command-line option names).
public enum PROPError: CategorizedError, Equatable {
    /// A corpus or collection without documents.
    case emptyCorpus(what: String)
    /// A file or data set that does not hold what was expected (`file`, `detail`).
    case malformedData(file: String, detail: String)
    /// A setting outside its valid range.
    case invalidSetting(String)

    public var category: ErrorCategory {
        switch self {
        case .emptyCorpus, .malformedData: return .badData
        case .invalidSetting: return .usage
        }
    }

    public var description: String {
        switch self {
        case .emptyCorpus(let what): return "\(what) has no documents; expected at least one"
        case .malformedData(let file, let detail): return "\(file): \(detail)"
        case .invalidSetting(let detail): return detail
        }
    }
}
