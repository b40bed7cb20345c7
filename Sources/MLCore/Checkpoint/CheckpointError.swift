/// Errors of checkpoint loading and saving. HDF5-level failures (missing file, corrupt file, wrong
/// dtype) arrive as `HDF5Error`.
public enum CheckpointError: CategorizedError, Equatable {
    /// The file is HDF5 but not an MLCore checkpoint (root attribute `format` missing or different).
    case notACheckpoint(file: String, format: String?)
    /// Strict loading found problems; every one is listed.
    case stateDictMismatch(file: String, missing: [String], unexpected: [String],
                           shapeMismatches: [ShapeMismatch])
    /// A key that is not in the checkpoint was asked for.
    case missingKey(file: String, key: String)
    /// A tensor holds NaN or infinity where the model needs finite numbers.
    case nonFinite(file: String, key: String, count: Int)
    /// The config attribute lacks a value the model family needs, or has the wrong type.
    case badConfig(file: String, key: String, expected: String)

    /// One parameter whose stored shape differs from the model's.
    public struct ShapeMismatch: Equatable, Sendable {
        public let key: String
        public let file: [Int]
        public let model: [Int]
    }

    public var category: ErrorCategory { .badData }

    public var description: String {
        switch self {
        case .notACheckpoint(let file, let format):
            return "\(file): not an MLCore checkpoint (root attribute format = \(format.map { "'\($0)'" } ?? "missing"), expected 'mlcore-checkpoint')"
        case .stateDictMismatch(let file, let missing, let unexpected, let shapes):
            var parts: [String] = []
            func list(_ keys: [String]) -> String {
                keys.count <= 8 ? keys.joined(separator: ", ") : keys.prefix(8).joined(separator: ", ") + ", ... (\(keys.count - 8) more)"
            }
            if !missing.isEmpty { parts.append("\(missing.count) missing (\(list(missing)))") }
            if !unexpected.isEmpty { parts.append("\(unexpected.count) unexpected (\(list(unexpected)))") }
            if !shapes.isEmpty {
                parts.append("\(shapes.count) shape mismatch\(shapes.count == 1 ? "" : "es") (" +
                             list(shapes.map { "\($0.key): file \($0.file), model \($0.model)" }) + ")")
            }
            return "checkpoint \(file): " + parts.joined(separator: ", ")
        case .missingKey(let file, let key): return "checkpoint \(file): no parameter '\(key)'"
        case .nonFinite(let file, let key, let count): return "checkpoint \(file): \(key) has \(count) non-finite values"
        case .badConfig(let file, let key, let expected): return "checkpoint \(file): config '\(key)' missing or not \(expected)"
        }
    }
}

extension HDF5Error: CategorizedError {
    /// Missing file (or a directory where the file should be) → missing input; invalid arguments and an existing file in createNew mode →
    /// usage; everything else (corrupt or unexpected content, HDF5 library failures) → bad data.
    public var category: ErrorCategory {
        switch self {
        case .fileNotFound, .isDirectory: return .missingInput
        case .fileExists, .invalidArgument: return .usage
        default: return .badData
        }
    }
}
