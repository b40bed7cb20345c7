import MLCore

/// Errors of the REB method library: bad images, splits, memory banks and settings. Each description
/// is one line: what, where (file, key), what was expected.
public enum REBError: CategorizedError, Equatable {
    /// The images of a dataset are not [N, H, W, 3] uint8.
    case badImages(file: String, reason: String)
    /// Images of another size than the memory bank was built from.
    case imageSizeMismatch(file: String, expected: String, found: String)
    /// A dataset key is missing or malformed (labels, label names).
    case badDataset(file: String, key: String, expected: String)
    /// A split or a training set has no image.
    case emptySet(what: String, reason: String)
    /// A memory bank file is malformed (missing key, wrong shape, unknown format).
    case badBank(file: String, key: String, expected: String)
    /// A memory bank built with other features than the ones asked for (another backbone, stages or
    /// feature size).
    case bankMismatch(file: String, key: String, bank: String, requested: String)
    /// An invalid setting (K larger than the bank, a ratio outside (0, 1], an unknown stage).
    case invalidArgument(String)

    /// `.badData` for files, `.usage` for settings and empty sets chosen by options.
    public var category: ErrorCategory {
        switch self {
        case .invalidArgument, .emptySet, .bankMismatch: return .usage
        default: return .badData
        }
    }

    public var description: String {
        switch self {
        case .badImages(let file, let reason): return "\(file): images \(reason), expected a uint8 array [N, H, W, 3] (RGB)"
        case .imageSizeMismatch(let file, let expected, let found):
            return "\(file): images are \(found), but the memory bank was built from \(expected) images"
        case .badDataset(let file, let key, let expected): return "\(file): '\(key)' is missing or malformed, expected \(expected)"
        case .emptySet(let what, let reason): return "\(what) is empty: \(reason)"
        case .badBank(let file, let key, let expected): return "\(file): memory bank '\(key)' is missing or malformed, expected \(expected)"
        case .bankMismatch(let file, let key, let bank, let requested):
            return "\(file): the memory bank was built with \(key) \(bank), but \(requested) was requested (refit with `reb fit`)"
        case .invalidArgument(let message): return message
        }
    }
}
