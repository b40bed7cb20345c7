import Foundation
import XCTest
@testable import MLCore

/// `pregated-moe` end to end on the real SmolLM2 and tweets/gensim text in small settings, and its
/// errors for bad inputs (exit codes 64/65/66).
final class PregatedMoEToolTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "pregated-moe-tool-\(UUID().uuidString)/"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    private func metrics(_ result: ToolResult) throws -> [String: Any] {
        XCTAssertEqual(result.status, 0, result.stderr)
        return try XCTUnwrap(try json(result.stdout)["metrics"] as? [String: Any])
    }

    /// moefy → train-gates → run (all policies, trace) → simulate on the trace, on real weights and text.
    func testPipelineOnRealModel() throws {
        _ = try preparedFile("data/models/smollm2.h5")
        _ = try preparedFile("data/datasets/tweets.h5")
        _ = try preparedFile("data/datasets/gensim-corpora.h5")
        let moe = directory + "moe.h5", routers = directory + "routers.h5", trace = directory + "trace.h5"
        let moefy = try metrics(try runTool("pregated-moe", ["moefy", "--weights", "smollm2", "--experts", "8", "--iterations", "3",
                                                             "--calibration-sequences", "8", "--tweet-count", "50", "--max-tokens", "16",
                                                             "--save", moe, "--quiet"]))
        XCTAssertEqual(moefy["layers"] as? Int, 30)
        XCTAssertEqual(moefy["expert_width"] as? Int, 192)
        XCTAssertEqual(moefy["expert_bytes"] as? Int, 3 * 192 * 576 * 4)
        XCTAssertLessThan(try XCTUnwrap(moefy["max_recovery_error"] as? Double), 1e-4, "all experts = the dense FFN")
        let file = try HDF5File(path: moe)
        XCTAssertEqual(try file.dataset("/experts/29/7").storageInfo().chunkShape, [3, 192, 576])
        XCTAssertEqual(try file.root.attributes.string("architecture"), "llama-moe")

        let gates = try metrics(try runTool("pregated-moe", ["train-gates", "--weights", moe, "--train-sequences", "6",
                                                             "--eval-sequences", "3", "--tweet-count", "50", "--steps", "10",
                                                             "--ks", "1,8", "--max-tokens", "16", "--save", routers, "--quiet"]))
        let perplexity = try XCTUnwrap(gates["perplexity"] as? [String: Double])
        let dense = try XCTUnwrap(perplexity["dense"])
        XCTAssertGreaterThan(dense, 1)
        // k = E is the dense model with unweighted experts (the oracle); gated experts are weighted by k·p̂.
        XCTAssertEqual(try XCTUnwrap(perplexity["oracle_k8"]), dense, accuracy: 1e-6 * dense, "k = E is the dense model")
        XCTAssertGreaterThan(try XCTUnwrap(perplexity["gate_k1_trained"]), dense)
        let recall = try XCTUnwrap(gates["pregate_recall_of_gate"] as? [String: Double])
        XCTAssertEqual(recall["k8"], 1)
        XCTAssertGreaterThan(try XCTUnwrap(recall["k1"]), 0.125, "better than chance")
        XCTAssertEqual((gates["per_layer"] as? [Any])?.count, 30)

        let run = try metrics(try runTool("pregated-moe", ["run", "--weights", moe, "--routers", routers, "--prompts", "1",
                                                           "--prompt-tokens", "8", "--max-new-tokens", "4", "--score", "--threads", "1",
                                                           "--save-trace", trace, "--quiet"]))
        XCTAssertEqual(run["identical_outputs"] as? Bool, true)
        let policies = try XCTUnwrap(run["policies"] as? [String: [String: Any]])
        XCTAssertEqual(Set(policies.keys), ["gpu-only", "on-demand", "prefetch-all", "pregated"])
        XCTAssertEqual(policies["gpu-only"]?["bytes_migrated"] as? Int, 0)
        XCTAssertEqual(policies["gpu-only"]?["preload_bytes"] as? Int, 30 * 8 * 3 * 192 * 576 * 4)
        let onDemand = try XCTUnwrap(policies["on-demand"]?["bytes_migrated"] as? Int)
        let prefetch = try XCTUnwrap(policies["prefetch-all"]?["bytes_migrated"] as? Int)
        XCTAssertGreaterThan(prefetch, onDemand)
        XCTAssertLessThanOrEqual(try XCTUnwrap(policies["pregated"]?["peak_fast_tier_bytes"] as? Int), 2 * 8 * 3 * 192 * 576 * 4)
        XCTAssertEqual(try HDF5File(path: trace).dataset("routes").shape, [5, 30, 8], "prefill + 3 decode steps + the scoring pass")

        let small = try runTool("pregated-moe", ["run", "--weights", moe, "--policy", "pregated", "--fast-tier-mib", "1", "--quiet"])
        XCTAssertEqual(small.status, 64, small.stderr)
        XCTAssertTrue(small.stderr.contains("smaller than one block's 8 experts"), small.stderr)

        let simulate = try metrics(try runTool("pregated-moe", ["simulate", "--model", "base-8", "--trace", trace, "--quiet"]))
        let rows = try XCTUnwrap(simulate["simulations"] as? [[String: Any]])
        XCTAssertEqual(rows.count, 1)
        XCTAssertEqual(rows[0]["steps"] as? Int, 5)
    }

    /// Pre-gate training for any Llama-architecture checkpoint: a tiny random Llama (3 layers, width 16,
    /// FFN 32, SmolLM2's vocabulary, no tokenizer of its own) moefied with SmolLM2's tokenizer into 4
    /// experts by co-activation, its routers trained on real text; with k = E the oracle is the dense
    /// model and the pre-gate recalls every expert; `evaluate` reads the routers file.
    func testTrainGatesOnTinyRandomLlama() throws {
        let smollm2 = try preparedFile("data/models/smollm2.h5")
        _ = try preparedFile("data/datasets/tweets.h5")
        _ = try preparedFile("data/datasets/gensim-corpora.h5")
        let config = LlamaConfig(vocabularySize: 49_152, hiddenSize: 16, intermediateSize: 32, layerCount: 3, headCount: 2,
                                 keyValueHeadCount: 1, headDimension: nil, rmsNormEpsilon: 1e-5, ropeTheta: 10_000,
                                 ropeLayout: .adjacentPairs, tiesWordEmbeddings: true, maximumPositions: 64)
        let tiny = LlamaDecoder(config: config, factory: ParameterFactory(seed: 3))
        let dense = directory + "tiny-llama.h5", moe = directory + "tiny-moe.h5", routers = directory + "tiny-routers.h5"
        let json: JSONValue = ["vocab_size": 49_152, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 3,
                               "num_attention_heads": 2, "num_key_value_heads": 1, "rope_layout": "adjacent-pairs",
                               "max_position_embeddings": 64]
        try CheckpointWriter.save(tiny.stateDict(), to: dense, architecture: "llama", config: json)
        let text = ["--tweet-count", "40", "--max-tokens", "12"]
        let moefy = try metrics(try runTool("pregated-moe", ["moefy", "--weights", dense, "--tokenizer", smollm2, "--experts", "4",
                                                             "--calibration-sequences", "6", "--save", moe, "--quiet"] + text))
        XCTAssertEqual(moefy["layers"] as? Int, 3)
        XCTAssertEqual(moefy["expert_width"] as? Int, 8)
        XCTAssertLessThan(try XCTUnwrap(moefy["max_recovery_error"] as? Double), 1e-4)
        let gates = try metrics(try runTool("pregated-moe", ["train-gates", "--weights", moe, "--train-sequences", "6", "--eval-sequences", "3",
                                                             "--steps", "20", "--k", "2", "--ks", "2,4", "--save", routers, "--quiet"] + text))
        let perplexity = try XCTUnwrap(gates["perplexity"] as? [String: Double])
        let densePerplexity = try XCTUnwrap(perplexity["dense"])
        XCTAssertGreaterThan(densePerplexity, 1000, "a random model over 49,152 tokens")
        XCTAssertEqual(try XCTUnwrap(perplexity["oracle_k4"]), densePerplexity, accuracy: 1e-6 * densePerplexity)
        XCTAssertNotNil(perplexity["pregate_k2_trained"])
        XCTAssertEqual((gates["pregate_recall_of_gate"] as? [String: Double])?["k4"], 1)
        XCTAssertNotNil((gates["accuracy"] as? [String: Double])?["gate_k2_trained"])
        let evaluate = try metrics(try runTool("pregated-moe", ["evaluate", "--weights", moe, "--routers", routers, "--routings", "dense,oracle,pregate",
                                                                "--ks", "4", "--train-sequences", "6", "--eval-sequences", "3", "--quiet"] + text))
        let results = try XCTUnwrap(evaluate["results"] as? [String: [String: Any]])
        XCTAssertEqual(results["dense"]?["perplexity"] as? Double ?? 0, densePerplexity, accuracy: 1e-6 * densePerplexity, "the same held-out split")
        XCTAssertEqual(results["oracle_k4"]?["perplexity_over_dense"] as? Double ?? 0, 1, accuracy: 1e-6)
        XCTAssertEqual((evaluate["oracle_residual"] as? [String: [Double]])?["oracle_k4"]?.max() ?? 1, 0, accuracy: 1e-9)
    }

    /// The DES vector of Docs/pregated-moe.md through the CLI.
    func testSimulateVector() throws {
        let m = try metrics(try runTool("pregated-moe", ["simulate", "--model", "base-8", "--compute-ms", "1", "--fetch-ms", "0.75",
                                                         "--steps", "1", "--quiet"]))
        let policies = try XCTUnwrap((m["simulations"] as? [[String: Any]])?.first?["policies"] as? [String: [String: Any]])
        XCTAssertEqual(policies["gpu-only"]?["ms_per_block"] as? Double ?? 0, 1.0, accuracy: 1e-9)
        XCTAssertEqual(policies["on-demand"]?["ms_per_block"] as? Double ?? 0, 1.75, accuracy: 1e-9)
        XCTAssertEqual(policies["pregated"]?["ms_per_block"] as? Double ?? 0, 1.125, accuracy: 1e-9)
        XCTAssertEqual(policies["prefetch-all"]?["ms_per_block"] as? Double ?? 0, 37.0 / 6, accuracy: 1e-9)
        XCTAssertEqual(policies["gpu-only"]?["paper_ms_per_block"] as? Double, 0.95)
    }

    /// Bad inputs: one line on stderr, the right exit code, no stack trace.
    func testBadInputs() throws {
        let cases: [([String], Int32, String)] = [
            (["moefy", "--weights", "smollm2", "--experts", "7", "--save", directory + "x.h5"], 64, "7 experts do not divide the FFN width 1536"),
            (["run", "--weights", "data/models/smollm2.h5", "--quiet"], 65, "not a MoE checkpoint"),
            (["run", "--weights", directory + "missing.h5"], 66, "does not exist"),
            (["simulate", "--model", "base-9"], 64, "--model"),
            (["simulate", "--batch", "0"], 64, "--batch"),
            (["run", "--weights", "x.h5", "--policy", "sometimes"], 64, "--policy"),
        ]
        for (arguments, code, message) in cases {
            let result = try runTool("pregated-moe", arguments)
            XCTAssertEqual(result.status, code, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "x.h5"))
    }
}
