import Foundation

/// Errors in building or writing a report.
public enum ReportError: Error, CustomStringConvertible {
    /// A metric or config value is NaN or infinite; JSON cannot hold it and a tool must not publish it.
    case nonFiniteNumber(path: String, value: Double)
    /// Text that should be JSON is not.
    case invalidJSON(String)
    /// The report file cannot be written.
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .nonFiniteNumber(let path, let value): return "report: \(path) is \(value); refusing to write a non-finite number"
        case .invalidJSON(let message): return "invalid JSON: \(message)"
        case .cannotWrite(let path, let reason): return "cannot write report \(path): \(reason)"
        }
    }
}

/// One run's JSON report (Docs/REPORT_FORMAT.md): what ran, on what, with which settings, what it
/// measured and how long it took. Encoded with sorted keys; `metrics` values carry their units in
/// `units` under the same key.
public struct Report: Sendable {
    /// Format identifier, bumped on incompatible changes.
    public static let schema = "mlcore-report/1"

    public var tool: String
    /// The subcommand (e.g. "inspect", "localize").
    public var command: String
    /// The toolkit version (`MLCoreVersion.string`).
    public var version: String = MLCoreVersion.string
    /// The paper reproduced (citation), empty for utilities.
    public var paper: String = ""
    /// Input files (path, sha256), dataset names, split sizes.
    public var inputs: [String: JSONValue] = [:]
    /// Every option of the run, seed included.
    public var config: [String: JSONValue] = [:]
    /// The measured values.
    public var metrics: [String: JSONValue] = [:]
    /// Unit of each metric, by metric key ("fraction", "s", "GB/s", ...).
    public var units: [String: String] = [:]
    /// Wall-clock seconds, total and per phase.
    public var timing: [String: Double] = [:]
    /// Threads, BLAS, HDF5 and Swift versions, CPU.
    public var environment: [String: JSONValue] = Report.currentEnvironment()

    public init(tool: String, command: String) {
        self.tool = tool
        self.command = command
    }

    /// The report as one JSON object with sorted keys.
    /// - Throws: `ReportError.nonFiniteNumber` if any number is NaN or infinite.
    public func json() throws -> JSONValue {
        .object([
            "schema": .string(Report.schema), "tool": .string(tool), "command": .string(command),
            "version": .string(version), "paper": .string(paper), "inputs": .object(inputs),
            "config": .object(config), "metrics": .object(metrics),
            "units": .object(units.mapValues(JSONValue.string)),
            "timing": .object(timing.mapValues(JSONValue.double)), "environment": .object(environment),
        ])
    }

    /// Pretty-printed JSON text with sorted keys and a final newline.
    public func encoded() throws -> String {
        let object = try json().foundationObject(path: "")
        let data = try JSONSerialization.data(withJSONObject: object,
                                              options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Writes the report to `path`, or to standard output for nil or "-". A regular file is replaced
    /// atomically; devices, FIFOs, `/dev/stdout` and `/dev/fd/N` are written directly and a symbolic
    /// link's target is written (`OutputFile`).
    /// - Throws: `ReportError.nonFiniteNumber`; `OutputError` (a directory: exit 64; unwritable: 66).
    public func write(to path: String?) throws {
        let text = try encoded()
        guard let path, path != "-" else {
            FileHandle.standardOutput.write(Data(text.utf8))
            return
        }
        try OutputFile.write(Data(text.utf8), to: path)
    }

    /// Facts about the machine and libraries that a benchmark or result depends on.
    public static func currentEnvironment() -> [String: JSONValue] {
        let env = ProcessInfo.processInfo.environment
        return [
            "threads": .int(Threading.count),
            "cpu": .string(cpuModel()),
            "cores": .int(ProcessInfo.processInfo.activeProcessorCount),
            "blas": .string(blasDescription),
            "openblas_coretype": env["OPENBLAS_CORETYPE"].map(JSONValue.string) ?? .null,
            "hdf5": .string(HDF5File.libraryVersion),
            "swift": .string(swiftVersion),
            "os": .string(ProcessInfo.processInfo.operatingSystemVersionString),
        ]
    }

    static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown"
    }

    static var swiftVersion: String {
        #if swift(>=6.3)
        return "6.3+"
        #elseif swift(>=6.2)
        return "6.2"
        #elseif swift(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }
}

/// The toolkit's version, reported by every tool.
public enum MLCoreVersion {
    public static let string = "0.1.0"
}

/// Wall-clock timing of named phases, for a report's `timing` section.
public struct PhaseTimer: Sendable {
    private let start = DispatchTime.now().uptimeNanoseconds
    /// Seconds per phase, by phase name.
    public private(set) var phases: [String: Double] = [:]

    public init() {}

    /// Runs `body`, adding its wall time to phase `name`.
    @discardableResult
    public mutating func measure<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer { phases[name, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 }
        return try body()
    }

    /// Seconds since this timer was created.
    public var elapsed: Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

    /// Phases plus `wall_s`, the total.
    public var report: [String: Double] {
        var out = phases.mapKeys { "\($0)_s" }
        out["wall_s"] = elapsed
        return out
    }
}

extension Dictionary {
    func mapKeys<K: Hashable>(_ transform: (Key) -> K) -> [K: Value] {
        Dictionary<K, Value>(uniqueKeysWithValues: map { (transform($0.key), $0.value) })
    }
}
