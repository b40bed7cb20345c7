import ArgumentParser
import Foundation
import MLCore

/// One shard of a job split over records: shard `index` of `count` (`--shard i/n`, 0 ≤ i < n).
///
/// Records are split in contiguous blocks of whole units (`alignment` records each, the command's
/// batch; the last unit may be shorter): of U units, shard i takes units [⌊i·U/n⌋, ⌊(i+1)·U/n⌋), so
/// block sizes differ by at most one unit, every record is processed in the same batch as in the
/// unsharded run (matrix products sum in an order that depends on the batch), and the shards'
/// outputs concatenated in shard order are the unsharded output, record for record
/// (Docs/reb.md, "Sharding").
public struct ShardSpec: Sendable, Hashable, Codable, CustomStringConvertible, ExpressibleByArgument {
    /// 0-based shard number, < `count`.
    public let index: Int
    /// Number of shards, ≥ 1.
    public let count: Int

    /// - Throws: `ValidationError` unless 0 ≤ index < count.
    public init(index: Int, count: Int) throws {
        guard count >= 1, index >= 0, index < count else {
            throw ValidationError("a shard is i/n with 0 ≤ i < n, got \(index)/\(count)")
        }
        self.index = index
        self.count = count
    }

    /// Parses "i/n", e.g. "0/4".
    public init?(argument: String) {
        let parts = argument.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), let spec = try? ShardSpec(index: i, count: n) else {
            return nil
        }
        self = spec
    }

    public var description: String { "\(index)/\(count)" }

    /// This shard's contiguous block of `records` records in units of `alignment` (possibly empty
    /// when there are fewer units than shards).
    public func range(of records: Int, alignment: Int = 1) -> Range<Int> {
        let unit = Swift.max(1, alignment), units = (records + unit - 1) / unit
        return Swift.min(records, index * units / count * unit)..<Swift.min(records, (index + 1) * units / count * unit)
    }

    /// This shard's block of `items` (its elements in their order), in units of `alignment`.
    public func slice<T>(_ items: [T], alignment: Int = 1) -> [T] {
        Array(items[range(of: items.count, alignment: alignment)])
    }
}

/// `--shard i/n`: run only the i-th of n contiguous blocks of a command's records; `merge` joins the
/// outputs (Docs/reb.md, "Sharding").
public struct ShardOption: ParsableArguments {
    @Option(help: ArgumentHelp("Process only block i of n of the records (0-based, contiguous blocks of whole batches); join the outputs with `merge`.",
                               valueName: "i/n"))
    public var shard: ShardSpec?

    public init() {}

    /// The records this run processes: all of them without `--shard`, else the shard's block of
    /// whole units of `alignment` records (the batch size).
    public func select<T>(_ records: [T], alignment: Int = 1) -> [T] { shard.map { $0.slice(records, alignment: alignment) } ?? records }

    /// Report config keys that may differ between the shards of one job (left out of a header's job).
    public static let perShardKeys: Set<String> = ["shard", "output", "threads", "quiet", "save_maps"]

    /// The report config of `command` (`OptionReflection`) with `derived` entries added or replaced,
    /// without the keys that may differ between shards: what a shard header's job compares.
    public static func jobConfig(of command: Any, derived: [String: JSONValue] = [:]) -> JSONValue {
        .object(OptionReflection.config(of: command).merging(derived) { $1 }.filter { !perShardKeys.contains($0.key) })
    }
}

/// What a shard output file starts with (JSON lines: one first line `{"mlcore_shard": {...}}`; HDF5:
/// the root attribute `mlcore_shard` holding the same JSON), so `merge` can check that the files are
/// the n shards of one job, each present once, and order them. Unsharded runs write no header.
public struct ShardHeader: Sendable, Equatable {
    /// The key of the header object (JSON lines) and the name of the root attribute (HDF5).
    public static let key = "mlcore_shard"

    /// Which shard this file is.
    public var shard: ShardSpec
    /// Records of the whole job (all shards).
    public var records: Int
    /// Records in this file (the size of the shard's block).
    public var shardRecords: Int
    /// What must be identical across the shards: tool, command, settings and inputs (with their
    /// SHA-256), as the command chooses (never the shard or output paths).
    public var job: JSONValue

    /// - Parameters: `alignment`: the unit of the split (`ShardSpec.range(of:alignment:)`).
    public init(shard: ShardSpec, records: Int, alignment: Int = 1, job: JSONValue) {
        self.shard = shard
        self.records = records
        self.shardRecords = shard.range(of: records, alignment: alignment).count
        self.job = job
    }

    /// The header as a JSON value `{"index", "count", "records", "shard_records", "job"}`.
    public var json: JSONValue {
        ["index": .int(shard.index), "count": .int(shard.count), "records": .int(records),
         "shard_records": .int(shardRecords), "job": job]
    }

    /// The JSON-lines header line (without the newline).
    /// - Throws: `ReportError.nonFiniteNumber` for a non-finite number in `job`.
    public func line() throws -> String { try JSONValue.object([Self.key: json]).jsonText() }

    /// Reads a header from its JSON value; nil when `value` is not one.
    public init?(json value: JSONValue) {
        guard let i = value["index"]?.intValue, let n = value["count"]?.intValue, let spec = try? ShardSpec(index: i, count: n),
              let records = value["records"]?.intValue, let shardRecords = value["shard_records"]?.intValue,
              let job = value["job"] else { return nil }
        self.shard = spec
        self.records = records
        self.shardRecords = shardRecords
        self.job = job
    }
}
