import Foundation
import XCTest

/// End-to-end runs of `mlcore generate` and `mlcore score` on the real SmolLM2 checkpoint (`make data`).
final class GenerateToolTests: XCTestCase {
    func testGreedyGenerationKnowsTheCapitalOfFrance() throws {
        _ = try preparedFile("data/models/smollm2.h5")
        let result = try runTool("mlcore", ["generate", "--weights", "smollm2", "--prompt", "The capital of France is",
                                            "--max-tokens", "6", "--threads", "2"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.hasPrefix(" Paris"), result.stdout)
        XCTAssertTrue(result.stderr.contains("5 prompt tokens"), result.stderr)
    }

    func testSampledChatIsReproducibleAndStopsAtTheEndOfTurn() throws {
        _ = try preparedFile("data/models/smollm2.h5")
        let arguments = ["generate", "--weights", "smollm2", "--chat", "--prompt", "Say hello.", "--max-tokens", "40",
                         "--temperature", "0.8", "--top-k", "40", "--top-p", "0.9", "--seed", "7", "--quiet"]
        let first = try runTool("mlcore", arguments)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(first.stderr, "")
        XCTAssertFalse(first.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        XCTAssertFalse(first.stdout.contains("<|im_end|>"), first.stdout)
        XCTAssertFalse(first.stdout.contains("<|im_start|>"), first.stdout)
        let second = try runTool("mlcore", arguments)
        XCTAssertEqual(second.stdout, first.stdout, "same seed, same text")
    }

    func testScoreWritesPerTokenLogProbabilities() throws {
        _ = try preparedFile("data/models/smollm2.h5")
        let result = try runTool("mlcore", ["score", "--weights", "smollm2", "--batch", "2"],
                                 stdin: "The capital of France is Paris.\nThe capital of France is a banana.\nHi\n")
        XCTAssertEqual(result.status, 0, result.stderr)
        let rows = try result.stdout.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        XCTAssertEqual(rows.count, 3)
        for (i, row) in rows.enumerated() {
            XCTAssertEqual(row["line"] as? Int, i + 1)
            let ids = try XCTUnwrap(row["ids"] as? [Int]), lp = try XCTUnwrap(row["log_probs"] as? [Double])
            XCTAssertEqual(lp.count, ids.count - 1)
            XCTAssertEqual(row["count"] as? Int, lp.count)
            XCTAssertEqual(try XCTUnwrap(row["total"] as? Double), lp.reduce(0, +), accuracy: 1e-3)
            XCTAssertTrue(lp.allSatisfy { $0 <= 0 })
        }
        // The sentences share their first six tokens; " Paris" is far likelier than " a" after them.
        let paris = try XCTUnwrap(rows[0]["log_probs"] as? [Double]), banana = try XCTUnwrap(rows[1]["log_probs"] as? [Double])
        for t in 0..<4 { XCTAssertEqual(paris[t], banana[t], accuracy: 1e-3) }
        XCTAssertGreaterThan(paris[4], banana[4] + 2)
    }

    func testGenerateUsageErrorsAreOneLine() throws {
        for arguments in [["generate", "--weights", "smollm2"], ["generate", "--weights", "smollm2", "--prompt", "x", "--top-p", "0"],
                          ["generate", "--weights", "smollm2", "--prompt", "x", "--temperature", "-1"]] {
            let result = try runTool("mlcore", arguments)
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "\(arguments): \(result.stderr)")
        }
    }
}
