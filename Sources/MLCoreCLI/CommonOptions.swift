import ArgumentParser
import Foundation
import MLCore

/// The one parse of `--threads` for every command: an integer ≥ 1, a negative value taken as the
/// option's value (`--threads -1` and `--threads=-1` alike), one message for every bad value.
/// - Throws: `ValidationError` (shown as "The value '-1' is invalid for '--threads <threads>':
///   expected an integer ≥ 1"), exit 64.
public func parseThreadCount(_ text: String) throws -> Int {
    guard let n = Int(text), n >= 1 else { throw ValidationError("expected an integer ≥ 1") }
    return n
}

/// The one parse of every seed option (`--seed`, `--data-seed`, ...): an integer in 0...2⁶⁴−1, one
/// message for every bad value.
/// - Throws: `ValidationError` (shown as "The value '-1' is invalid for '--seed <seed>': expected an
///   integer in 0...18446744073709551615"), exit 64.
public func parseSeed(_ text: String) throws -> UInt64 {
    guard let n = UInt64(text) else { throw ValidationError("expected an integer in 0...\(UInt64.max)") }
    return n
}

/// The one check of `--output FILE` before any work: not a directory (Docs/REPORT_FORMAT.md,
/// "Output files"; what the path names is respected when the report is written, `OutputFile`).
/// - Throws: `ValidationError` ("--output results is a directory; expected a file path"), exit 64.
public func checkOutputPath(_ output: String?) throws {
    guard let output, output != "-" else { return }
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory), isDirectory.boolValue {
        throw ValidationError("--output \(output) is a directory; expected a file path")
    }
}

/// `--threads N` alone, for commands that write no report (`mlcore tokenize`, `embed`, ...); the
/// same parse and message as `CommonOptions`.
public struct ThreadsOption: ParsableArguments {
    @Option(parsing: .unconditional, help: "Threads for kernels and matrix products (default: all cores).",
            transform: parseThreadCount)
    public var threads: Int?

    public init() {}

    /// Sets `Threading.count` when `--threads` was given.
    public func apply() {
        if let threads { Threading.count = threads }
    }
}

/// `-o/--output FILE` alone, for commands that write a report without the other common options
/// (`mlcore score auroc`); the same check as `CommonOptions`.
public struct OutputOption: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("Write the JSON report to this file ('-' for stdout).", valueName: "file"))
    public var output: String?

    public init() {}

    public func validate() throws { try checkOutputPath(output) }
}

/// Options every tool command takes: where the report goes, the seed, threads and verbosity.
public struct CommonOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("Write the JSON report to this file ('-' for stdout).", valueName: "file"))
    public var output: String?

    @Option(parsing: .unconditional, help: "Seed of the random generator (same seed, same result).", transform: parseSeed)
    public var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "Threads for kernels and matrix products (default: all cores).",
            transform: parseThreadCount)
    public var threads: Int?

    @Flag(name: .shortAndLong, help: "No progress or log lines on stderr.")
    public var quiet = false

    public init() {}

    public func validate() throws {
        try checkOutputPath(output)
    }

    /// The options as report config entries.
    public var reportConfig: [String: JSONValue] {
        ["seed": Int(exactly: seed).map(JSONValue.int) ?? .string("\(seed)"), "threads": .int(threads ?? Threading.count), "output": output.map(JSONValue.string) ?? .null]
    }
}

/// A command's default model for `--weights` (nil: the option is required). Option groups cannot
/// take arguments in ArgumentParser, so a command picks its default through a type:
/// `@OptionGroup var weights: ModelWeightsOption<MiniLMWeights>`.
public protocol WeightsDefault {
    /// The datasets.toml name or path used when `--weights` is not given.
    static var weights: String? { get }
    /// Whether parsing fails without a model (default: when there is no default). A command whose
    /// subcommands need no model (`mlcore score auroc`) checks `value` itself.
    static var isRequired: Bool { get }
}

extension WeightsDefault {
    public static var isRequired: Bool { weights == nil }
}

/// `--weights` without a default: it must be given.
public enum RequiredWeights: WeightsDefault {
    public static var weights: String? { nil }
}

/// Prints the one deprecation line of an old option spelling on stderr: `tool: --old is deprecated; use --new`.
public func warnDeprecated(_ old: String, use new: String) {
    let tool = URL(fileURLWithPath: CommandLine.arguments.first ?? "tool").lastPathComponent
    FileHandle.standardError.write(Data("\(tool): --\(old) is deprecated; use --\(new)\n".utf8))
}

/// `--weights NAME|FILE`: a model from datasets.toml by name, or an HDF5 checkpoint path; the one
/// spelling of every tool's model input. The old spellings `--model`, `--pretrained` and
/// `--checkpoint` are hidden aliases that print one deprecation line.
public struct ModelWeightsOption<Default: WeightsDefault>: ParsableArguments {
    @Option(name: .customLong("weights"),
            help: ArgumentHelp("Model checkpoint: a datasets.toml model name or an .h5 path" + (Default.weights.map { " (default: \($0))" } ?? "") + ".",
                               valueName: "name|file"))
    var given: String?

    @Option(name: .customLong("model"), help: .private) var legacyModel: String?
    @Option(name: .customLong("pretrained"), help: .private) var legacyPretrained: String?
    @Option(name: .customLong("checkpoint"), help: .private) var legacyCheckpoint: String?

    public init() {}

    var aliases: [(String, String?)] { [("model", legacyModel), ("pretrained", legacyPretrained), ("checkpoint", legacyCheckpoint)] }

    public func validate() throws {
        let used = aliases.filter { $0.1 != nil }
        if used.count + (given == nil ? 0 : 1) > 1 { throw ValidationError("give the model once, as --weights") }
        if value == nil && Default.isRequired { throw ValidationError("Missing expected argument '--weights <name|file>'") }
        for (name, _) in used { warnDeprecated(name, use: "weights") }
    }

    /// The value given (under any spelling), else the command's default; nil when neither.
    public var value: String? { given ?? aliases.lazy.compactMap(\.1).first ?? Default.weights }

    /// The value given or the default ("" only for an optional model that was not given).
    public var weights: String { value ?? "" }

    /// The checkpoint file. - Throws: `DatasetError` for an unknown or unprepared name.
    public func resolve() throws -> String { try resolveNameOrPath(weights) }
}

/// `--weights` required (no default model).
public typealias WeightsOption = ModelWeightsOption<RequiredWeights>

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
