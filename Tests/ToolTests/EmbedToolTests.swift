import Foundation
import XCTest

/// `mlcore embed` end to end on the real MiniLM checkpoint, checked against the transformers
/// reference embeddings of Tests/Fixtures/bert_minilm.json.
final class EmbedToolTests: XCTestCase {
    private func fixtureSentences() throws -> [[String: Any]] {
        let url = repositoryRoot.appendingPathComponent("Tests/Fixtures/bert_minilm.json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        return try XCTUnwrap(object?["sentences"] as? [[String: Any]])
    }

    func testEmbedMatchesReferenceAndKeepsInputOrder() throws {
        _ = try preparedFile("data/models/minilm-l6.h5")
        let sentences = Array(try fixtureSentences().prefix(3))
        // Texts are single lines; an empty line in the middle must still give one output line.
        let texts = [sentences[0]["text"] as! String, "", sentences[1]["text"] as! String, sentences[2]["text"] as! String]
        let result = try runTool("mlcore", ["embed", "--weights", "minilm-l6", "--batch-size", "2", "--quiet"],
                                 stdin: texts.joined(separator: "\n") + "\n")
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        XCTAssertEqual(lines.count, 4)
        for (k, line) in lines.enumerated() {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertEqual(object["text"] as? String, texts[k])
            let embedding = try XCTUnwrap(object["embedding"] as? [Double])
            XCTAssertEqual(embedding.count, 384)
            XCTAssertEqual(embedding.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-5, "unit norm")
            if k != 1 {
                let reference = sentences[k == 0 ? 0 : k - 1]["embedding"] as! [Double]
                let diff = zip(embedding, reference).map { Swift.abs($0 - $1) }.max()!
                XCTAssertLessThanOrEqual(diff, 1e-4, "line \(k)")
            }
        }
    }

    func testEmbedRejectsANonBertModelAndBadOptions() throws {
        _ = try preparedFile("data/models/efficientnet-lite0.h5")
        let wrong = try runTool("mlcore", ["embed", "--weights", "efficientnet-lite0"], stdin: "x\n")
        XCTAssertEqual(wrong.status, 65, wrong.stderr)
        XCTAssertTrue(wrong.stderr.contains("architecture"), wrong.stderr)
        let usage = try runTool("mlcore", ["embed", "--pooling", "max"], stdin: "")
        XCTAssertEqual(usage.status, 64, usage.stderr)
        XCTAssertEqual(usage.stderr.split(separator: "\n").count, 1, usage.stderr)
    }
}
