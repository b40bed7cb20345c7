import Foundation
import XCTest
@testable import MLCore

/// Sharded runs (`--shard i/n`) joined by `merge` equal the unsharded run: `reb score` through GNU
/// parallel, `reb eval` through its score lines and maps; the old option spellings still work.
final class ShardToolTests: XCTestCase {
    private var directory = ""
    private let small = ["--train-normals", "6", "--test-per-label", "3", "--quiet"]

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "shard-tool-\(UUID().uuidString)/"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func fit() throws -> String {
        _ = try preparedFile("data/models/efficientnet-lite0.h5")
        _ = try preparedFile("data/datasets/textile.h5")
        let bank = directory + "bank.h5"
        let result = try runTool("reb", ["fit", "--input-size", "64", "--coreset", "0.5", "--max-k", "5", "--save", bank] + small)
        XCTAssertEqual(result.status, 0, result.stderr)
        return bank
    }

    /// Runs GNU parallel (Debian `parallel`, installed by `make setup`) from the repository root.
    private func parallel(_ arguments: [String]) throws -> ToolResult {
        try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["parallel"] + arguments)
    }

    /// 9 test images (3 per label) in batches of 2, in 4 shards of whole batches (2, 2, 2, 3 images),
    /// scored by 2 parallel jobs, merged in a shuffled file order: byte-identical to the unsharded lines.
    func testShardedScoreThroughGNUParallelEqualsTheUnshardedRun() throws {
        let bank = try fit()
        let arguments = ["score", "--bank", bank, "--method", "ldknn", "--k", "3", "--batch-size", "2", "--threads", "1"] + small
        let whole = try runTool("reb", arguments)
        XCTAssertEqual(whole.status, 0, whole.stderr)
        XCTAssertEqual(whole.stdout.split(separator: "\n").count, 9)

        let reb = productsDirectory.appendingPathComponent("reb").path
        let command = ([reb] + arguments).joined(separator: " ") + " --shard {}/4 > \(directory)shard-{}.jsonl"
        let run = try parallel(["--jobs", "2", "--halt", "now,fail=1", command, ":::", "0", "1", "2", "3"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let shards = [2, 0, 3, 1].map { directory + "shard-\($0).jsonl" }
        for (i, count) in [2, 2, 2, 3].enumerated() {
            let lines = try String(contentsOfFile: directory + "shard-\(i).jsonl", encoding: .utf8).split(separator: "\n")
            XCTAssertEqual(lines.count, 1 + count)  // the header line, then the block
            XCTAssertTrue(lines[0].hasPrefix("{\"mlcore_shard\":"), String(lines[0]))
        }
        let merged = try runTool("reb", ["merge", "--quiet"] + shards)
        XCTAssertEqual(merged.status, 0, merged.stderr)
        XCTAssertEqual(merged.stdout, whole.stdout)
        // The merged lines feed the same pipeline as the unsharded ones.
        let auroc = try runTool("mlcore", ["score", "auroc"], stdin: merged.stdout)
        XCTAssertEqual(auroc.status, 0, auroc.stderr)

        // A missing shard, a shard of another job and a file that is no shard are refused (exit 65).
        let missing = try runTool("reb", ["merge"] + shards.dropLast())
        XCTAssertEqual(missing.status, 65, missing.stderr)
        XCTAssertTrue(missing.stderr.contains("shards 1/4 are missing"), missing.stderr)
        let other = try runTool("reb", ["score", "--bank", bank, "--method", "knn", "--batch-size", "2", "--shard", "1/4"] + small)
        XCTAssertEqual(other.status, 0, other.stderr)
        let otherFile = directory + "other.jsonl"
        try other.stdout.write(toFile: otherFile, atomically: true, encoding: .utf8)
        let mixed = try runTool("reb", ["merge", shards[0], shards[1], shards[2], otherFile])
        XCTAssertEqual(mixed.status, 65, mixed.stderr)
        XCTAssertTrue(mixed.stderr.contains("config.method"), mixed.stderr)
        let plain = directory + "plain.jsonl"
        try whole.stdout.write(toFile: plain, atomically: true, encoding: .utf8)
        let notShard = try runTool("reb", ["merge", plain])
        XCTAssertEqual(notShard.status, 65, notShard.stderr)
        XCTAssertTrue(notShard.stderr.contains("not a shard output"), notShard.stderr)
    }

    /// `reb eval` in 2 shards (batches of 2: 4 and 5 test images): score lines and maps merged, then `eval --scores` gives the unsharded
    /// metrics (synthetic defects included: the final step draws them with the same seed).
    func testShardedEvalEqualsTheUnshardedRun() throws {
        let bank = try fit()
        let common = ["eval", "--bank", bank, "--ks", "3,5", "--maps-per-label", "1", "--maps-k", "3", "--seed", "5", "--batch-size", "2"] + small
        let whole = try runTool("reb", common + ["--synthetic", "2", "--save-maps", directory + "maps.h5"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        var lines: [String] = [], maps: [String] = []
        for i in 0..<2 {
            let map = directory + "maps-\(i).h5"
            let shard = try runTool("reb", common + ["--shard", "\(i)/2", "--save-maps", map])
            XCTAssertEqual(shard.status, 0, shard.stderr)
            let file = directory + "scores-\(i).jsonl"
            try shard.stdout.write(toFile: file, atomically: true, encoding: .utf8)
            lines.append(file)
            maps.append(map)
        }
        let scores = directory + "scores.jsonl"
        let mergedScores = try runTool("reb", ["merge", "--quiet", "--save", scores] + lines.reversed())
        XCTAssertEqual(mergedScores.status, 0, mergedScores.stderr)
        let mergedMaps = try runTool("reb", ["merge", "--quiet", "--save", directory + "maps-merged.h5"] + maps)
        XCTAssertEqual(mergedMaps.status, 0, mergedMaps.stderr)
        let final = try runTool("reb", common + ["--synthetic", "2", "--scores", scores])
        XCTAssertEqual(final.status, 0, final.stderr)

        func metrics(_ text: String) throws -> NSDictionary {
            let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            return try XCTUnwrap(report["metrics"] as? NSDictionary)
        }
        let a = try metrics(whole.stdout), b = try metrics(final.stdout)
        XCTAssertEqual(a["methods"] as? NSDictionary, b["methods"] as? NSDictionary)
        XCTAssertEqual(a["synthetic_defects"] as? NSDictionary, b["synthetic_defects"] as? NSDictionary)
        XCTAssertNotNil((a["synthetic_defects"] as? NSDictionary)?["knn"])

        let one = try HDF5File(path: directory + "maps.h5"), two = try HDF5File(path: directory + "maps-merged.h5")
        for name in ["index", "label"] {
            XCTAssertEqual(try one.dataset(name).read(as: Int32.self), try two.dataset(name).read(as: Int32.self), name)
        }
        for name in ["maps_knn", "maps_ldknn"] {
            XCTAssertEqual(try one.dataset(name).read(as: Float.self), try two.dataset(name).read(as: Float.self), name)
        }
        XCTAssertEqual(try one.dataset("images").read(as: UInt8.self), try two.dataset("images").read(as: UInt8.self))
        XCTAssertEqual(try one.root.attributes.strings("label_names"), try two.root.attributes.strings("label_names"))
    }

    /// The old model spelling still works, with one deprecation line on stderr.
    func testOldModelSpellingIsADeprecatedAlias() throws {
        _ = try preparedFile("data/models/minilm-l6.h5")
        let new = try runTool("mlcore", ["tokenize", "--weights", "minilm-l6"], stdin: "Hello world\n")
        let old = try runTool("mlcore", ["tokenize", "--model", "minilm-l6"], stdin: "Hello world\n")
        XCTAssertEqual(new.status, 0, new.stderr)
        XCTAssertEqual(old.status, 0, old.stderr)
        XCTAssertEqual(old.stdout, new.stdout)
        XCTAssertEqual(old.stderr, "mlcore: --model is deprecated; use --weights\n")
        XCTAssertEqual(new.stderr, "")
    }
}
