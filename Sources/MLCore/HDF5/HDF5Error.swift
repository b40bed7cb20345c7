/// A failure of the HDF5 layer. Every case names the file (as the caller spelled its path) and,
/// where there is one, the object path inside it, so that the one-line `description` says what went
/// wrong and where, e.g.
/// `HDF5 error in data/x.h5 at /params/a/weight: cannot open dataset: object 'weight' doesn't exist`.
///
/// Failures inside the HDF5 C library become `.library`, carrying the innermost description from
/// HDF5's error stack (HDF5's own automatic error printing is turned off).
public enum HDF5Error: Error, CustomStringConvertible, Equatable, Sendable {
    /// No file or directory exists at `file` (checked before HDF5 is asked to open it).
    case fileNotFound(file: String)
    /// `file` is a directory, not a file.
    case isDirectory(file: String)
    /// `file` exists but does not carry the HDF5 signature (`H5Fis_hdf5` is false): a text file,
    /// an empty file, another format.
    case notHDF5(file: String)
    /// `HDF5File.Mode.createNew` was asked for and a file already exists at `file`.
    case fileExists(file: String)
    /// The file was closed (`HDF5File.close()`) before this object was used.
    case fileClosed(file: String)
    /// No object (group or dataset) exists at `path`, or a link on the way to it is missing or dangling.
    case objectNotFound(file: String, path: String)
    /// An object already exists at `path` where a new dataset was to be created.
    case objectExists(file: String, path: String)
    /// The object at `path` is not of the kind asked for (e.g. `dataset(_:)` on a group).
    case wrongObjectKind(file: String, path: String, expected: HDF5ObjectKind, found: HDF5ObjectKind)
    /// The object at `path` has no attribute `name`.
    case attributeNotFound(file: String, path: String, name: String)
    /// The stored element type cannot be read or written as requested (strings as numbers, numbers as
    /// strings, floating point as integers, an attribute of another kind). `expected` and `found`
    /// are human-readable type descriptions, e.g. "a numeric type (reading as float32)", "string
    /// (variable length)".
    case typeMismatch(file: String, path: String, expected: String, found: String)
    /// The dataset's rank (number of dimensions) is not the one required; `expected` is e.g. "2" or
    /// "at least 1".
    case rankMismatch(file: String, path: String, expected: String, found: Int)
    /// The dataset's shape is not the one required.
    case shapeMismatch(file: String, path: String, expected: [Int], found: [Int])
    /// A caller's buffer or array holds `found` elements where `expected` are needed.
    case countMismatch(file: String, path: String, expected: Int, found: Int)
    /// Rows `requested` (along dimension 0) are not within `0..<rowCount`.
    case rowsOutOfRange(file: String, path: String, requested: Range<Int>, rowCount: Int)
    /// An argument is invalid (bad chunk shape, deflate level, path, string contents...).
    case invalidArgument(file: String, path: String, message: String)
    /// The HDF5 library failed while doing `operation`; `message` is the innermost description on
    /// HDF5's error stack.
    case library(file: String, path: String, operation: String, message: String)

    /// The file path the error refers to, as the caller gave it.
    public var file: String {
        switch self {
        case .fileNotFound(let file), .isDirectory(let file), .notHDF5(let file), .fileExists(let file), .fileClosed(let file),
             .objectNotFound(let file, _), .objectExists(let file, _), .wrongObjectKind(let file, _, _, _),
             .attributeNotFound(let file, _, _), .typeMismatch(let file, _, _, _), .rankMismatch(let file, _, _, _),
             .shapeMismatch(let file, _, _, _), .countMismatch(let file, _, _, _), .rowsOutOfRange(let file, _, _, _),
             .invalidArgument(let file, _, _), .library(let file, _, _, _):
            return file
        }
    }

    /// The object path inside the file ("/" for the root), or nil for errors about the file itself.
    public var path: String? {
        switch self {
        case .fileNotFound, .isDirectory, .notHDF5, .fileExists, .fileClosed:
            return nil
        case .objectNotFound(_, let path), .objectExists(_, let path), .wrongObjectKind(_, let path, _, _),
             .attributeNotFound(_, let path, _), .typeMismatch(_, let path, _, _), .rankMismatch(_, let path, _, _),
             .shapeMismatch(_, let path, _, _), .countMismatch(_, let path, _, _), .rowsOutOfRange(_, let path, _, _),
             .invalidArgument(_, let path, _), .library(_, let path, _, _):
            return path
        }
    }

    /// What went wrong, without the location.
    public var reason: String {
        switch self {
        case .fileNotFound: return "file not found"
        case .isDirectory: return "is a directory, not an HDF5 file"
        case .notHDF5: return "not an HDF5 file (no HDF5 signature)"
        case .fileExists: return "file already exists (mode createNew)"
        case .fileClosed: return "file is closed"
        case .objectNotFound: return "no such object"
        case .objectExists: return "an object already exists here"
        case .wrongObjectKind(_, _, let expected, let found): return "expected a \(expected), found a \(found)"
        case .attributeNotFound(_, _, let name): return "no attribute '\(name)'"
        case .typeMismatch(_, _, let expected, let found): return "type mismatch: expected \(expected), found \(found)"
        case .rankMismatch(_, _, let expected, let found): return "rank mismatch: expected rank \(expected), found rank \(found)"
        case .shapeMismatch(_, _, let expected, let found): return "shape mismatch: expected \(expected), found \(found)"
        case .countMismatch(_, _, let expected, let found):
            return "element count mismatch: expected \(expected) elements, got \(found)"
        case .rowsOutOfRange(_, _, let requested, let rowCount):
            return "rows \(requested.lowerBound)..<\(requested.upperBound) out of range: the dataset has \(rowCount) rows"
        case .invalidArgument(_, _, let message): return message
        case .library(_, _, let operation, let message): return "\(operation): \(message)"
        }
    }

    /// One line: `HDF5 error in <file> at <path>: <reason>` (no ` at <path>` for file-level errors).
    public var description: String {
        if let path { return "HDF5 error in \(file) at \(path): \(reason)" }
        return "HDF5 error in \(file): \(reason)"
    }
}
