import Foundation
import XCTest
@testable import MLCore

/// `prop` end to end on the prepared Lee corpus and MiniLM in small settings, and its errors for bad
/// inputs.
final class PROPToolTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "prop-tool-\(UUID().uuidString)/"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        _ = try preparedFile("data/datasets/gensim-corpora.h5")
        _ = try preparedFile("data/models/minilm-l6.h5")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// index → bm25 (run file read back by MLCore's reader, BM25 above the random ordering) →
    /// sample-sets (two shards merged = the unsharded lines) → pretrain 2 steps → rerank 2 folds.
    func testPipelineOnLee() throws {
        let qrels = directory + "lee.qrels", run = directory + "bm25.run"
        let index = try runTool("prop", ["index", "--save-qrels", qrels, "--quiet"])
        XCTAssertEqual(index.status, 0, index.stderr)
        let stats = try XCTUnwrap(try json(index.stdout)["metrics"] as? [String: Any])
        XCTAssertEqual(stats["documents"] as? Int, 50)
        XCTAssertEqual(stats["queries"] as? Int, 48)
        XCTAssertEqual(try TRECFiles.readQrels(path: qrels).count, 48)

        let bm25 = try runTool("prop", ["bm25", "--save-run", run, "--random-permutations", "20", "--quiet"])
        XCTAssertEqual(bm25.status, 0, bm25.stderr)
        let metrics = try XCTUnwrap(try json(bm25.stdout)["metrics"] as? [String: Any])
        let mean = try XCTUnwrap((metrics["bm25"] as? [String: Any])?["mean"] as? [String: Double])
        let random = try XCTUnwrap(metrics["random"] as? [String: Double])
        XCTAssertEqual(mean["map"]!, 0.5424016109412394, accuracy: 1e-9)  // rank-bm25 + pytrec_eval (BM25Tests)
        XCTAssertGreaterThan(mean["map"]!, 2 * random["map"]!)
        let parsed = try TRECFiles.readRun(path: run)
        XCTAssertEqual(parsed.count, 48)
        XCTAssertEqual(parsed["lee-00"]?.count, 49)  // the query's own document is not ranked
        XCTAssertEqual(try Retrieval.evaluate(.averagePrecision, run: parsed, qrels: try TRECFiles.readQrels(path: qrels)).mean,
                       mean["map"]!, accuracy: 1e-12)

        let whole = try runTool("prop", ["sample-sets", "--pairs", "2", "--seed", "4"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        XCTAssertEqual(whole.stdout.split(separator: "\n").count, 300)
        var shards: [String] = []
        for i in 0..<3 {
            let shard = try runTool("prop", ["sample-sets", "--pairs", "2", "--seed", "4", "--shard", "\(i)/3"])
            XCTAssertEqual(shard.status, 0, shard.stderr)
            shards.append(directory + "sets-\(i).jsonl")
            try shard.stdout.write(toFile: shards[i], atomically: true, encoding: .utf8)
        }
        let merged = try runTool("prop", ["merge"] + shards.reversed())
        XCTAssertEqual(merged.status, 0, merged.stderr)
        XCTAssertEqual(merged.stdout, whole.stdout)
        let sets = directory + "sets.jsonl"
        try whole.stdout.write(toFile: sets, atomically: true, encoding: .utf8)

        let model = directory + "prop.h5"
        let pretrain = try runTool("prop", ["pretrain", "--sets", sets, "--steps", "2", "--pairs-per-step", "1", "--max-length", "64",
                                            "--learning-rate", "1e-4", "--save", model, "--quiet"])
        XCTAssertEqual(pretrain.status, 0, pretrain.stderr)
        let p = try XCTUnwrap(try json(pretrain.stdout)["metrics"] as? [String: Any])
        XCTAssertEqual(p["steps"] as? Int, 2)
        XCTAssertNotNil(p["rop_loss"])

        let reranked = directory + "prop.run"
        let rerank = try runTool("prop", ["rerank", "--weights", model, "--bm25-run", run, "--folds", "2", "--steps", "1",
                                          "--depth", "5", "--max-length", "64", "--save-run", reranked, "--quiet"])
        XCTAssertEqual(rerank.status, 0, rerank.stderr)
        let r = try XCTUnwrap(try json(rerank.stdout)["metrics"] as? [String: Any])
        XCTAssertEqual(r["queries"] as? Int, 48)
        let out = try TRECFiles.readRun(path: reranked)
        XCTAssertEqual(out["lee-00"]?.count, 49)
        // Below the re-ranked top 5 the BM25 order is kept.
        XCTAssertEqual(Array(try Retrieval.ranking(out["lee-00"]!).dropFirst(5)), Array(try Retrieval.ranking(parsed["lee-00"]!).dropFirst(5)))
    }

    /// Bad inputs: a malformed run line is reported with its file and line (exit 65); a shard header
    /// in the word-set file is refused; an unknown collection is a usage error.
    func testBadInputs() throws {
        let bad = directory + "bad.run"
        try "lee-00 Q0 lee-01 1 2.5 t\nlee-00 Q0 lee-02 2 t\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let rerank = try runTool("prop", ["rerank", "--bm25-run", bad, "--quiet"])
        XCTAssertEqual(rerank.status, 65, rerank.stderr)
        XCTAssertTrue(rerank.stderr.contains("\(bad):2:"), rerank.stderr)

        let shard = try runTool("prop", ["sample-sets", "--pairs", "1", "--shard", "0/2"])
        let sets = directory + "shard.jsonl"
        try shard.stdout.write(toFile: sets, atomically: true, encoding: .utf8)
        let pretrain = try runTool("prop", ["pretrain", "--sets", sets, "--steps", "1", "--quiet"])
        XCTAssertEqual(pretrain.status, 65, pretrain.stderr)
        XCTAssertTrue(pretrain.stderr.contains("line 1") && pretrain.stderr.contains("prop merge"), pretrain.stderr)

        let unknown = try runTool("prop", ["index", "--collection", "trec"])
        XCTAssertEqual(unknown.status, 64, unknown.stderr)
        let missing = try runTool("prop", ["pretrain", "--sets", directory + "none.jsonl", "--quiet"])
        XCTAssertEqual(missing.status, 66, missing.stderr)
    }
}
