import ArgumentParser
import Foundation
import MLCore

/// Why shard outputs cannot be merged. Each case names the file and what was expected.
public enum MergeError: CategorizedError {
    /// No files were given.
    case noInputs
    /// A file is not a shard output (no header, unreadable header, unknown format).
    case notAShard(file: String, reason: String)
    /// Two shards disagree on the job (count, records, settings, inputs, attributes, datasets).
    case mismatch(file: String, other: String, what: String)
    /// A shard number appears twice or is missing.
    case shardSet(reason: String)
    /// A JSON-lines shard holds a different number of records than its header says.
    case recordCount(file: String, expected: Int, found: Int)

    public var category: ErrorCategory {
        switch self {
        case .noInputs: return .usage
        case .notAShard, .mismatch, .shardSet, .recordCount: return .badData
        }
    }

    public var description: String {
        switch self {
        case .noInputs: return "merge: no shard files given"
        case .notAShard(let file, let reason): return "\(file): not a shard output: \(reason)"
        case .mismatch(let file, let other, let what): return "\(file) and \(other) are not shards of one job: \(what) differ"
        case .shardSet(let reason): return "merge: \(reason)"
        case .recordCount(let file, let expected, let found): return "\(file): expected \(expected) records (its header), found \(found)"
        }
    }
}

/// Joins the outputs of the n shards of one job (`--shard i/n`) into the output the unsharded run
/// writes: JSON lines concatenated in shard order without their header lines; HDF5 files with every
/// dataset concatenated along its first (row) dimension in shard order, scalar datasets and all
/// attributes (except the shard header) required equal. The files may be given in any order; every
/// shard 0..<n must be present exactly once, with one header job (Docs/reb.md, "Sharding").
public enum ShardMerger {
    /// The file formats `merge` joins.
    public enum Format: String, Sendable { case jsonLines = "json-lines", hdf5 }

    /// The format of `path`, from its first bytes (the HDF5 signature, else JSON lines).
    /// - Throws: `MergeError.notAShard` when it cannot be read.
    public static func format(of path: String) throws -> Format {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw MergeError.notAShard(file: path, reason: "cannot be opened") }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 8)) ?? Data()
        return head.elementsEqual([0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]) ? .hdf5 : .jsonLines
    }

    /// Checks that `headers` (one per file, in file order) are the shards 0..<n of one job and returns
    /// the file indices in shard order.
    /// - Throws: `MergeError.mismatch`, `.shardSet`.
    public static func order(_ headers: [ShardHeader], files: [String]) throws -> [Int] {
        guard let first = headers.first else { throw MergeError.noInputs }
        for (h, file) in zip(headers, files).dropFirst() {
            if h.shard.count != first.shard.count { throw MergeError.mismatch(file: file, other: files[0], what: "shard counts (\(h.shard.count) vs \(first.shard.count))") }
            if h.records != first.records { throw MergeError.mismatch(file: file, other: files[0], what: "record counts (\(h.records) vs \(first.records))") }
            if h.job != first.job { throw MergeError.mismatch(file: file, other: files[0], what: "jobs (\(differingKeys(h.job, first.job)))") }
        }
        var position = [Int?](repeating: nil, count: first.shard.count)
        for (i, h) in headers.enumerated() {
            if let j = position[h.shard.index] {
                throw MergeError.shardSet(reason: "shard \(h.shard) is given twice (\(files[j]), \(files[i]))")
            }
            position[h.shard.index] = i
        }
        let missing = position.indices.filter { position[$0] == nil }
        if !missing.isEmpty {
            throw MergeError.shardSet(reason: "shards \(missing.map { "\($0)/\(first.shard.count)" }.joined(separator: ", ")) are missing")
        }
        return position.map { $0! }
    }

    /// The keys whose values differ between two job objects (dotted paths), for error messages.
    static func differingKeys(_ a: JSONValue, _ b: JSONValue, prefix: String = "") -> String {
        if case .object(let x) = a, case .object(let y) = b {
            let keys = Set(x.keys).union(y.keys).sorted().filter { x[$0] != y[$0] }
            return keys.map { key in
                let path = prefix.isEmpty ? key : prefix + "." + key
                if let u = x[key], let v = y[key], case .object = u, case .object = v { return differingKeys(u, v, prefix: path) }
                return path
            }.joined(separator: ", ")
        }
        return prefix.isEmpty ? "values" : prefix
    }

    /// Reads a JSON-lines shard: its header and its record lines (without newlines).
    /// - Throws: `MergeError.notAShard`, `.recordCount`.
    public static func readJSONLines(_ path: String) throws -> (ShardHeader, [Substring]) {
        guard let data = FileManager.default.contents(atPath: path) else { throw MergeError.notAShard(file: path, reason: "cannot be read") }
        let text = String(decoding: data, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        guard let first = lines.first, let value = try? JSONValue.parse(String(first)), let h = value[ShardHeader.key],
              let header = ShardHeader(json: h) else {
            throw MergeError.notAShard(file: path, reason: "line 1 is not a {\"\(ShardHeader.key)\": ...} header (was it written with --shard?)")
        }
        let records = lines.dropFirst()
        guard records.count == header.shardRecords else {
            throw MergeError.recordCount(file: path, expected: header.shardRecords, found: records.count)
        }
        return (header, Array(records))
    }

    /// Merges JSON-lines shards; returns the merged text (records in shard order, newline-terminated)
    /// and the job's header of shard 0.
    /// - Throws: `MergeError`.
    public static func mergeJSONLines(_ files: [String]) throws -> (text: String, header: ShardHeader) {
        let shards = try files.map(readJSONLines)
        let order = try order(shards.map(\.0), files: files)
        var text = ""
        for i in order { for line in shards[i].1 { text += line; text += "\n" } }
        return (text, shards[order[0]].0)
    }

    /// Reads an HDF5 shard's header (root attribute `mlcore_shard`).
    /// - Throws: `MergeError.notAShard`, HDF5 errors.
    public static func hdf5Header(_ file: HDF5File) throws -> ShardHeader {
        guard try file.root.attributes.contains(ShardHeader.key), let value = try? JSONValue.parse(try file.root.attributes.string(ShardHeader.key)),
              let header = ShardHeader(json: value) else {
            throw MergeError.notAShard(file: file.path, reason: "no root attribute \(ShardHeader.key) (was it written with --shard?)")
        }
        return header
    }

    /// Writes the header into an HDF5 shard output's root attributes.
    /// - Throws: HDF5 errors, `ReportError.nonFiniteNumber`.
    public static func writeHeader(_ header: ShardHeader, to file: HDF5File) throws {
        try file.root.attributes.set(ShardHeader.key, .string(try header.json.jsonText()))
    }

    /// Merges HDF5 shards into `output` (written atomically); returns shard 0's header and the merged
    /// row count of each dataset.
    /// - Throws: `MergeError`, HDF5 errors.
    @discardableResult
    public static func mergeHDF5(_ files: [String], into output: String) throws -> (header: ShardHeader, rows: [String: Int]) {
        let opened = try files.map { try HDF5File(path: $0) }
        let order = try order(try opened.map(hdf5Header), files: files)
        let shards = order.map { opened[$0] }
        let first = shards[0]
        let entries = try first.root.walk()
        let datasets = entries.filter { $0.kind == .dataset }.map(\.path)
        for shard in shards.dropFirst() {
            let other = try shard.root.walk()
            if other.map(\.path) != entries.map(\.path) {
                throw MergeError.mismatch(file: shard.path, other: first.path, what: "their groups and datasets")
            }
            for path in ["/"] + datasets {
                if try attributes(of: first, at: path) != attributes(of: shard, at: path) {
                    throw MergeError.mismatch(file: shard.path, other: first.path, what: "the attributes of \(path)")
                }
            }
        }
        var rows: [String: Int] = [:]
        try HDF5File.createAtomically(output) { out in
            for entry in entries where entry.kind == .group { try out.root.createGroup(entry.path) }
            for path in datasets {
                let parts = try shards.map { try $0.dataset(path) }
                rows[path] = try concatenate(parts, at: path, into: out.root)
                for (name, value) in try attributes(of: first, at: path) { try out.dataset(path).attributes.set(name, value) }
            }
            for (name, value) in try attributes(of: first, at: "/") { try out.root.attributes.set(name, value) }
        }
        return (try hdf5Header(first), rows)
    }

    /// The attributes of the object at `path` (the shard header left out), by name.
    static func attributes(of file: HDF5File, at path: String) throws -> [String: HDF5AttributeValue] {
        let attributes = path == "/" ? file.root.attributes : try file.dataset(path).attributes
        var result: [String: HDF5AttributeValue] = [:]
        for (name, value) in try attributes.all() where name != ShardHeader.key { result[name] = value }
        return result
    }

    /// Writes the concatenation of `parts` along dimension 0 at `path`; scalar datasets must be equal.
    /// Returns the merged row count.
    static func concatenate(_ parts: [HDF5Dataset], at path: String, into root: HDF5Group) throws -> Int {
        let first = parts[0]
        for part in parts.dropFirst() {
            guard part.elementType == first.elementType, part.rank == first.rank, part.shape.dropFirst() == first.shape.dropFirst() else {
                throw MergeError.mismatch(file: part.file.path, other: first.file.path,
                                          what: "\(path)'s types or row shapes (\(part.elementType) \(part.shape) vs \(first.elementType) \(first.shape))")
            }
        }
        if first.rank == 0 {
            let values = try parts.map { try $0.read(as: Double.self) }
            if let bad = parts.indices.first(where: { values[$0] != values[0] }) {
                throw MergeError.mismatch(file: parts[bad].file.path, other: first.file.path, what: "the scalar \(path)")
            }
        }
        let rows = first.rank == 0 ? 1 : parts.reduce(0) { $0 + $1.rowCount }
        let shape = first.rank == 0 ? [] : [rows] + first.shape.dropFirst()
        func join<T: HDF5Scalar>(_ type: T.Type) throws {
            let data = first.rank == 0 ? try first.read(as: T.self) : try parts.flatMap { try $0.read(as: T.self) }
            try root.createDataset(path, shape: shape, data: data, storedAs: first.elementType)
        }
        switch first.elementType {
        case .float16, .float32: try join(Float.self)
        case .float64: try join(Double.self)
        case .int8: try join(Int8.self)
        case .int16: try join(Int16.self)
        case .int32: try join(Int32.self)
        case .int64: try join(Int64.self)
        case .uint8: try join(UInt8.self)
        case .uint16: try join(UInt16.self)
        case .uint32: try join(UInt32.self)
        case .uint64: try join(UInt64.self)
        case .string:
            let data = first.rank == 0 ? try first.readStrings() : try parts.flatMap { try $0.readStrings() }
            try root.createDataset(path, strings: data, shape: shape)
        case .other(let kind):
            throw MergeError.notAShard(file: first.file.path, reason: "\(path) has a type merge does not handle (\(kind))")
        }
        return rows
    }
}

/// `<tool> merge`: joins the outputs of a job run in shards (`--shard i/n`), one command type shared
/// by every tool (Docs/reb.md, "Sharding").
public struct MergeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the outputs of a job run with --shard i/n into the unsharded output.",
        discussion: """
            Example:
              parallel reb score --shard {}/4 '>' scores-{}.jsonl ::: 0 1 2 3
              reb merge scores-*.jsonl > scores.jsonl
            JSON-lines shards (each starts with a {"mlcore_shard": ...} header line) are concatenated in \
            shard order without their headers, to stdout or --save. HDF5 shards (root attribute \
            mlcore_shard) are joined dataset by dataset along the first (row) dimension into --save; \
            their other attributes must agree. The files may come in any order; every shard 0..<n of \
            one job (same settings and inputs) must be present exactly once.
            """)

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the JSON report to this file (nothing when omitted).", valueName: "file"))
    public var output: String?

    @Option(help: ArgumentHelp("Write the merged output here (JSON lines: default stdout; HDF5: required).", valueName: "file"))
    public var save: String?

    @Flag(name: .shortAndLong, help: "No summary line on stderr.")
    public var quiet = false

    @Argument(help: ArgumentHelp("The shard output files (all JSON lines or all HDF5).", valueName: "file"))
    public var files: [String] = []

    public init() {}

    public func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give the shard output files to merge") }
    }

    /// The tool name for reports and errors: the executable's name.
    static var toolName: String { URL(fileURLWithPath: CommandLine.arguments.first ?? "mlcore").lastPathComponent }

    public func run() throws {
        var options = try CommonOptions.parse([])
        options.output = output ?? "/dev/null"
        options.quiet = quiet
        try ToolRunner.run(tool: Self.toolName, command: "merge", options: options) { context in
            for file in files where !FileManager.default.fileExists(atPath: file) {
                throw MergeError.notAShard(file: file, reason: "no such file")
            }
            let formats = try files.map(ShardMerger.format)
            guard Set(formats).count == 1 else {
                throw MergeError.mismatch(file: files[formats.firstIndex(of: formats.last!)!], other: files[0], what: "file formats")
            }
            var report = Report(tool: Self.toolName, command: "merge")
            let header: ShardHeader
            switch formats[0] {
            case .jsonLines:
                let (text, h) = try context.timer.measure("merge") { try ShardMerger.mergeJSONLines(files) }
                header = h
                if let save, save != "-" {
                    try OutputFile.write(Data(text.utf8), to: save)
                } else {
                    FileHandle.standardOutput.write(Data(text.utf8))
                }
            case .hdf5:
                guard let save, save != "-" else { throw ValidationError("merging HDF5 shards needs --save FILE") }
                let (h, rows) = try context.timer.measure("merge") { try ShardMerger.mergeHDF5(files, into: save) }
                header = h
                report.metrics["rows"] = .object(rows.mapValues(JSONValue.int))
            }
            log("\(Self.toolName) merge: \(header.shard.count) shards, \(header.records) records", quiet: quiet)
            report.inputs = ["shards": .array(try files.map(fileInput))]
            report.config = ["save": save.map(JSONValue.string) ?? .null, "format": .string(formats[0].rawValue)]
            report.metrics["shards"] = .int(header.shard.count)
            report.metrics["records"] = .int(header.records)
            report.metrics["job"] = header.job
            return report
        }
    }
}
