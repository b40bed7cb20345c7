import Foundation
import MLCore
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

    /// Every generation option is checked before the model loads: exit 64 and one line, never a trap.
    func testEveryBadGenerationOptionIsAUsageError() throws {
        let base = ["generate", "--weights", "smollm2", "--prompt", "x"]
        for extra in [["--max-tokens", "0"], ["--max-tokens", "-3"], ["--temperature", "nan"], ["--temperature", "inf"],
                      ["--temperature", "-inf"], ["--top-p", "nan"], ["--top-p", "1.5"], ["--top-k", "-1"], ["--threads", "0"]] {
            let result = try runTool("mlcore", base + extra)
            XCTAssertEqual(result.status, 64, "\(extra): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "\(extra): \(result.stderr)")
            XCTAssertEqual(result.stdout, "", "\(extra)")
        }
    }

    /// More new tokens than the model's 8192 positions leave: a usage error naming the limit; a
    /// temperature whose reciprocal overflows (10⁻⁴⁵) decodes like greedy.
    func testContextLimitAndTinyTemperature() throws {
        _ = try preparedFile("data/models/smollm2.h5")
        let long = try runTool("mlcore", ["generate", "--weights", "smollm2", "--prompt", "The capital of France is", "--max-tokens", "8188"])
        XCTAssertEqual(long.status, 64, long.stderr)
        XCTAssertTrue(long.stderr.contains("8192 positions"), long.stderr)
        XCTAssertTrue(long.stderr.contains("at most 8187"), long.stderr)
        let tiny = try runTool("mlcore", ["generate", "--weights", "smollm2", "--prompt", "The capital of France is",
                                          "--max-tokens", "3", "--temperature", "1e-45", "--quiet"])
        XCTAssertEqual(tiny.status, 0, tiny.stderr)
        XCTAssertTrue(tiny.stdout.hasPrefix(" Paris"), tiny.stdout)
    }

    /// A checkpoint whose logits are NaN (a tiny random Llama with SmolLM2's tokenizer and a NaN final
    /// norm): greedy and sampled generation exit 65 naming the first step, with no text.
    func testNonFiniteLogitsExit65NamingTheStep() throws {
        let source = try HDF5File(path: try preparedFile("data/models/smollm2.h5"))
        let tokenizer = try source.group("tokenizer")
        let config = LlamaConfig(vocabularySize: 49152, hiddenSize: 8, intermediateSize: 8, layerCount: 1, headCount: 2,
                                 keyValueHeadCount: 1, ropeLayout: .adjacentPairs, maximumPositions: 64)
        let model = LlamaDecoder(config: config, factory: ParameterFactory(seed: 1))
        var state = model.stateDict()
        state["output_norm.weight"] = Tensor(shape: [8], repeating: .nan)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mlcore-nan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("nan-llama.h5").path
        let json: JSONValue = ["vocab_size": 49152, "hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 1,
                               "num_attention_heads": 2, "num_key_value_heads": 1, "rope_layout": "adjacent-pairs",
                               "max_position_embeddings": 64]
        try CheckpointWriter.save(state, to: path, architecture: "llama", config: json)
        do {
            let file = try HDF5File(path: path, mode: .readWrite)
            let group = try file.root.createGroup("tokenizer")
            for (name, value) in try tokenizer.attributes.all() { try group.attributes.set(name, value) }
            for name in ["vocab", "merges"] { _ = try group.createDataset(name, strings: try tokenizer.dataset(name).readStrings()) }
            let types = try tokenizer.dataset("token_type").read(as: Int32.self)
            _ = try group.createDataset("token_type", shape: [types.count], data: types)
            try file.close()
        }
        for extra in [[String](), ["--temperature", "0.8", "--top-p", "0.9"]] {
            let result = try runTool("mlcore", ["generate", "--weights", path, "--prompt", "Hello there", "--max-tokens", "4"] + extra)
            XCTAssertEqual(result.status, 65, "\(extra): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("new token 1 (position "), result.stderr)
            XCTAssertEqual(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "", "\(extra)")
        }
    }
}
