import ArgumentParser
import Foundation
import XCTest
@testable import MLCore
@testable import MLCoreCLI

/// `--shard`, `merge`, `--weights` and the optimizer group, without the tools.
final class ShardOptionsTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "shard-\(UUID().uuidString)/"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    /// 10 records over 4 shards: ⌊i·10/4⌋ = 0, 2, 5, 7, 10 → blocks of 2, 3, 2, 3 covering 0..<10 once.
    func testShardBlocksAreContiguousAndCoverEveryRecordOnce() throws {
        let shards = try (0..<4).map { try ShardSpec(index: $0, count: 4) }
        XCTAssertEqual(shards.map { $0.range(of: 10) }, [0..<2, 2..<5, 5..<7, 7..<10])
        XCTAssertEqual(shards.flatMap { $0.slice(Array(100..<110)) }, Array(100..<110))
        // More shards than records: some blocks are empty, none overlaps.
        XCTAssertEqual((0..<3).map { try! ShardSpec(index: $0, count: 3).range(of: 2).count }, [0, 1, 1])
        // In whole batches of 2: 9 records are 5 units; ⌊i·5/4⌋ = 0, 1, 2, 3, 5 → 2, 2, 2, 3 records.
        XCTAssertEqual(shards.map { $0.range(of: 9, alignment: 2) }, [0..<2, 2..<4, 4..<6, 6..<9])
        XCTAssertEqual(ShardHeader(shard: shards[3], records: 9, alignment: 2, job: .null).shardRecords, 3)
        XCTAssertEqual(shards.map { $0.range(of: 9, alignment: 16) }, [0..<0, 0..<0, 0..<0, 0..<9])
        XCTAssertEqual(ShardSpec(argument: "3/4"), try ShardSpec(index: 3, count: 4))
        for bad in ["4/4", "-1/4", "1/0", "1", "a/b", "1/2/3"] { XCTAssertNil(ShardSpec(argument: bad), bad) }
        XCTAssertThrowsError(try ShardOption.parse(["--shard", "2/2"]))
        XCTAssertEqual(try ShardOption.parse([]).select([1, 2, 3]), [1, 2, 3])
        XCTAssertEqual(try ShardOption.parse(["--shard", "1/2"]).select([1, 2, 3]), [2, 3])
    }

    private func writeShard(_ name: String, index: Int, count: Int, records: Int, job: JSONValue = ["k": 9], lines: [String]) throws -> String {
        let header = ShardHeader(shard: try ShardSpec(index: index, count: count), records: records, job: job)
        let path = directory + name
        try (([try header.line()] + lines).joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testJSONLinesMergeOrdersByShardAndChecksTheSet() throws {
        let a = try writeShard("a.jsonl", index: 0, count: 3, records: 5, lines: ["{\"i\":0}"])
        let b = try writeShard("b.jsonl", index: 1, count: 3, records: 5, lines: ["{\"i\":1}", "{\"i\":2}"])
        let c = try writeShard("c.jsonl", index: 2, count: 3, records: 5, lines: ["{\"i\":3}", "{\"i\":4}"])
        let merged = try ShardMerger.mergeJSONLines([c, a, b])
        XCTAssertEqual(merged.text, "{\"i\":0}\n{\"i\":1}\n{\"i\":2}\n{\"i\":3}\n{\"i\":4}\n")
        XCTAssertEqual(merged.header.records, 5)

        func message(_ files: [String]) -> String {
            do { _ = try ShardMerger.mergeJSONLines(files); return "no error" } catch { return "\(error)" }
        }
        XCTAssertTrue(message([a, c]).contains("shards 1/3 are missing"), message([a, c]))
        XCTAssertTrue(message([a, b, b, c]).contains("shard 1/3 is given twice"), message([a, b, b, c]))
        let other = try writeShard("d.jsonl", index: 1, count: 3, records: 5, job: ["k": 5], lines: ["{\"i\":1}", "{\"i\":2}"])
        XCTAssertTrue(message([a, other, c]).contains("jobs (k) differ"), message([a, other, c]))
        let short = try writeShard("e.jsonl", index: 1, count: 3, records: 5, lines: ["{\"i\":1}"])
        XCTAssertTrue(message([a, short, c]).contains("expected 2 records"), message([a, short, c]))
        let plain = directory + "plain.jsonl"
        try "{\"i\":0}\n".write(toFile: plain, atomically: true, encoding: .utf8)
        XCTAssertTrue(message([plain]).contains("not a shard output"), message([plain]))
    }

    func testHDF5MergeConcatenatesRowsAndChecksAttributes() throws {
        func shard(_ name: String, index: Int, rows: [Float], tag: String = "x") throws -> String {
            let path = directory + name
            try HDF5File.createAtomically(path) { file in
                try file.root.createDataset("values", shape: [rows.count, 2], data: rows.flatMap { [$0, -$0] })
                try file.root.createDataset("index", shape: [rows.count], data: rows.map { Int32($0) })
                try file.root.createDataset("names", strings: rows.map { "r\(Int($0))" })
                try file.root.attributes.set("tag", .string(tag))
                try ShardMerger.writeHeader(ShardHeader(shard: try ShardSpec(index: index, count: 2), records: 3, job: "j"), to: file)
            }
            return path
        }
        let a = try shard("a.h5", index: 0, rows: [0]), b = try shard("b.h5", index: 1, rows: [1, 2])
        let out = directory + "m.h5"
        let result = try ShardMerger.mergeHDF5([b, a], into: out)
        XCTAssertEqual(result.rows["/values"], 3)
        let file = try HDF5File(path: out)
        XCTAssertEqual(try file.dataset("values").read(as: Float.self), [0, -0, 1, -1, 2, -2])
        XCTAssertEqual(try file.dataset("index").read(as: Int32.self), [0, 1, 2])
        XCTAssertEqual(try file.dataset("names").readStrings(), ["r0", "r1", "r2"])
        XCTAssertEqual(try file.root.attributes.string("tag"), "x")
        XCTAssertFalse(try file.root.attributes.contains(ShardHeader.key))
        let c = try shard("c.h5", index: 1, rows: [1, 2], tag: "y")
        XCTAssertThrowsError(try ShardMerger.mergeHDF5([a, c], into: directory + "n.h5")) { error in
            XCTAssertTrue("\(error)".contains("the attributes of /"), "\(error)")
        }
        XCTAssertEqual(try ShardMerger.format(of: out), .hdf5)
    }

    enum TenSteps: OptimizerDefaults {
        static var learningRate: Double? { 0.03 }
        static var steps: Int? { 10 }
    }

    enum Everything: OptimizerDefaults {
        static var learningRate: Double? { 1e-3 }
        static var weightDecay: Double? { 0.01 }
        static var epochs: Int? { 3 }
        static var batchSize: Int? { 8 }
        static var warmup: Int? { 100 }
        static var clip: Double? { 1 }
    }

    func testOptimizerOptionsDefaultsPerCommandAndTheOldSpelling() throws {
        let defaults = try OptimizerOptions<TenSteps>.parse([])
        XCTAssertEqual(defaults.learningRate, 0.03)
        XCTAssertEqual(defaults.steps, 10)
        XCTAssertEqual(defaults.reportConfig, ["learning_rate": .double(0.03), "steps": .int(10)])
        XCTAssertEqual(try OptimizerOptions<TenSteps>.parse(["--lr", "0.5"]).learningRate, 0.5)
        XCTAssertEqual(try OptimizerOptions<TenSteps>.parse(["--learning-rate", "0.25", "--steps", "4"]).steps, 4)
        // Options the command does not offer are refused, as are bad values and both spellings at once.
        XCTAssertThrowsError(try OptimizerOptions<TenSteps>.parse(["--epochs", "2"]))
        XCTAssertThrowsError(try OptimizerOptions<TenSteps>.parse(["--learning-rate", "0"]))
        XCTAssertThrowsError(try OptimizerOptions<TenSteps>.parse(["--lr", "1", "--learning-rate", "1"]))
        XCTAssertFalse(OptimizerOptions<TenSteps>.helpMessage().contains("--epochs"))
        XCTAssertTrue(OptimizerOptions<TenSteps>.helpMessage().contains("(default: 0.03)"))
        let all = try OptimizerOptions<Everything>.parse(["--clip", "0.5", "--warmup", "7"])
        XCTAssertEqual([all.epochs, all.batchSize, all.warmup], [3, 8, 7])
        XCTAssertEqual(all.clip, 0.5)
        XCTAssertEqual(all.weightDecay, 0.01)
        XCTAssertThrowsError(try OptimizerOptions<Everything>.parse(["--steps", "5"]))
    }

    enum SomeModel: WeightsDefault { static var weights: String? { "minilm-l6" } }

    func testWeightsOptionDefaultsRequiredAndOldSpellings() throws {
        XCTAssertEqual(try ModelWeightsOption<SomeModel>.parse([]).weights, "minilm-l6")
        XCTAssertEqual(try ModelWeightsOption<SomeModel>.parse(["--weights", "a.h5"]).weights, "a.h5")
        for old in ["--model", "--pretrained", "--checkpoint"] {
            XCTAssertEqual(try WeightsOption.parse([old, "b.h5"]).weights, "b.h5", old)
        }
        XCTAssertThrowsError(try WeightsOption.parse([]))
        XCTAssertThrowsError(try WeightsOption.parse(["--weights", "a.h5", "--model", "b.h5"]))
        XCTAssertFalse(WeightsOption.helpMessage().contains("--pretrained"))
    }
}
