import ArgumentParser
import MLCore

/// Options every tool command takes: where the report goes, the seed, threads and verbosity.
public struct CommonOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("Write the JSON report to this file ('-' for stdout).", valueName: "file"))
    public var output: String?

    @Option(help: "Seed of the random generator (same seed, same result).")
    public var seed: UInt64 = 0

    @Option(help: "Threads for kernels and matrix products (default: all cores).")
    public var threads: Int?

    @Flag(name: .shortAndLong, help: "No progress or log lines on stderr.")
    public var quiet = false

    public init() {}

    public func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    /// The options as report config entries.
    public var reportConfig: [String: JSONValue] {
        ["seed": Int(exactly: seed).map(JSONValue.int) ?? .string("\(seed)"), "threads": .int(threads ?? Threading.count), "output": output.map(JSONValue.string) ?? .null]
    }
}

/// `--weights NAME|FILE`: a model from datasets.toml by name, or an HDF5 checkpoint path.
public struct WeightsOption: ParsableArguments {
    @Option(help: ArgumentHelp("Model checkpoint: a datasets.toml model name or an .h5 path.", valueName: "name|file"))
    public var weights: String

    public init() {}

    /// The checkpoint file. - Throws: `DatasetError` for an unknown or unprepared name.
    public func resolve() throws -> String { try resolveNameOrPath(weights) }
}

/// `--dataset NAME|FILE`: a dataset from datasets.toml by name, or an HDF5 path.
public struct DatasetOption: ParsableArguments {
    @Option(help: ArgumentHelp("Dataset: a datasets.toml name or an .h5 path.", valueName: "name|file"))
    public var dataset: String

    public init() {}

    /// The dataset file. - Throws: `DatasetError` for an unknown or unprepared name.
    public func resolve() throws -> String { try resolveNameOrPath(dataset) }
}

/// Resolves a `--weights` / `--dataset` style value: one containing a '/' or a '.' is a path
/// (returned as is; datasets.toml names have neither); anything else is a datasets.toml name.
/// - Throws: `DatasetError.unknownName` (exit 64) or `.notPrepared` (exit 66) for names.
public func resolveNameOrPath(_ value: String) throws -> String {
    if value.contains("/") || value.contains(".") { return value }
    return try DatasetRegistry.locate().resolve(value).path
}
