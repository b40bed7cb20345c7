import MLCore

/// Errors of the PFAMI method library (Docs/pfami.md). Each description is one line: what, where
/// (file, key), what was expected.
public enum PFAMIError: CategorizedError, Equatable {
    /// The images of a dataset are not a uint8 array [N, H, W, C] with C = 1 or 3.
    case badImages(file: String, reason: String)
    /// A model made for other images than the records (size or channels).
    case inputSizeMismatch(model: String, expected: String, found: String)
    /// A member, hold-out or record set has no element.
    case emptySet(what: String, reason: String)
    /// The splits need more images than the dataset has.
    case notEnoughImages(file: String, needed: Int, available: Int)
    /// A checkpoint that is not a PFAMI model, or whose config cannot be read.
    case badModel(file: String, reason: String)
    /// Two models that cannot be used together (another dataset, split, role or image size).
    case modelMismatch(String)
    /// A feature file that is malformed, truncated or from other settings.
    case badFeatures(file: String, reason: String)
    /// An invalid setting (a probe outside the schedule, k* outside the neighbours, ...).
    case invalidArgument(String)

    /// `.badData` for files, `.usage` for settings and sets chosen by options.
    public var category: ErrorCategory {
        switch self {
        case .invalidArgument, .emptySet, .notEnoughImages, .modelMismatch, .inputSizeMismatch: return .usage
        case .badImages, .badModel, .badFeatures: return .badData
        }
    }

    public var description: String {
        switch self {
        case .badImages(let file, let reason): return "\(file): images \(reason), expected a uint8 array [N, H, W, C] with C = 1 or 3"
        case .inputSizeMismatch(let model, let expected, let found):
            return "\(model): the model takes \(expected) images, the records are \(found)"
        case .emptySet(let what, let reason): return "\(what) is empty: \(reason)"
        case .notEnoughImages(let file, let needed, let available):
            return "\(file): the splits need \(needed) images, the dataset has \(available)"
        case .badModel(let file, let reason): return "\(file): not a PFAMI model: \(reason)"
        case .modelMismatch(let message): return message
        case .badFeatures(let file, let reason): return "\(file): bad PFAMI feature file: \(reason)"
        case .invalidArgument(let message): return message
        }
    }
}
