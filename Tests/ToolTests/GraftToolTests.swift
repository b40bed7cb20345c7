import Foundation
import XCTest
@testable import MLCore

/// `graft` end to end on the real MiniLM-L6 and tweets, in small settings (k = 4 per class, a few
/// steps and epochs, small dev/test splits), and its errors for bad inputs.
final class GraftToolTests: XCTestCase {
    private var directory = ""
    /// Small fixed splits so each run takes seconds.
    private let small = ["--test-per-class", "8", "--dev-per-class", "4", "--quiet"]

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "graft-tool-\(UUID().uuidString)/"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    private func finetune(_ task: String, seed: String = "13") throws -> String {
        let ft = directory + "ft-\(task).h5"
        let result = try runTool("graft", ["finetune", "--task", task, "--k", "4", "--data-seed", seed, "--steps", "4",
                                           "--eval-every", "2", "--probe-steps", "20", "--save", ft] + small)
        XCTAssertEqual(result.status, 0, result.stderr)
        let report = try json(result.stdout)
        XCTAssertEqual(report["command"] as? String, "finetune")
        let metrics = try XCTUnwrap(report["metrics"] as? [String: Any])
        XCTAssertEqual(metrics["best_step"] as? Int == 2 || metrics["best_step"] as? Int == 4, true)
        XCTAssertEqual((metrics["history"] as? [Any])?.count, 2)
        XCTAssertGreaterThan(metrics["seconds_per_step"] as? Double ?? 0, 0)
        return ft
    }

    /// finetune → localize → eval → overlap: the reports carry the method's numbers, the mask file
    /// its provenance, and an empty mask evaluates as the pre-trained model.
    func testPipelineOnRealData() throws {
        _ = try preparedFile("data/models/minilm-l6.h5")
        _ = try preparedFile("data/datasets/tweets.h5")
        _ = try preparedFile("data/datasets/gensim-corpora.h5")
        let ft = try finetune("polarity")

        let mask = directory + "mask.h5", empty = directory + "empty.h5"
        // Four SGD steps do not learn the task: the power check refuses to localize (exit 65) ...
        let refused = try runTool("graft", ["localize", "--finetuned", ft, "--sparsity", "1e-4", "--epochs", "2",
                                            "--save-mask", mask] + small)
        XCTAssertEqual(refused.status, 65, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("fine-tuning did not learn the task"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: mask))
        // ... unless forced, and the report records the failed check.
        let localize = try runTool("graft", ["localize", "--finetuned", ft, "--sparsity", "1e-4", "--epochs", "2",
                                             "--force", "--save-mask", mask] + small)
        XCTAssertEqual(localize.status, 0, localize.stderr)
        let metrics = try XCTUnwrap(try json(localize.stdout)["metrics"] as? [String: Any])
        let n = try XCTUnwrap(metrics["graftable_parameters"] as? Int)
        XCTAssertEqual(n, 6 * (4 * (384 * 384 + 384) + 2 * 2 * 384 + 384 * 1536 + 1536 + 1536 * 384 + 384), "encoder.layer.* only")
        XCTAssertLessThan(try XCTUnwrap(metrics["base_patch_selected"] as? Int), 1064, "strict: fewer than s = int(1e-4 N) = 1064")
        XCTAssertEqual((metrics["history"] as? [Any])?.count, 2)
        XCTAssertEqual(metrics["non_graftable_max_abs_delta"] as? Double, 0)
        XCTAssertEqual((metrics["power_check"] as? [String: Any])?["passed"] as? Bool, false)
        XCTAssertEqual(metrics["head"] as? String, "verbaliser")
        XCTAssertEqual((metrics["flipped_per_epoch"] as? [Int])?.count, 2)
        XCTAssertEqual((metrics["base_patch_diagnostics"] as? [String: Any])?["selected"] as? Int, metrics["base_patch_selected"] as? Int)
        let file = try HDF5File(path: mask)
        XCTAssertEqual(try file.root.attributes.string("format"), "mlcore-graft-mask")
        XCTAssertEqual(try file.root.attributes.string("task"), "polarity")
        XCTAssertEqual(try file.root.attributes.int("selected"), metrics["selected"] as? Int)
        XCTAssertEqual(try file.dataset("/mask/encoder/layer/0/attention/self/query/weight").shape, [384, 384])

        let zero = try runTool("graft", ["localize", "--finetuned", ft, "--sparsity", "0", "--epochs", "0", "--force",
                                         "--save-mask", empty] + small)
        XCTAssertEqual(zero.status, 0, zero.stderr)

        let eval = try runTool("graft", ["eval", "--finetuned", ft, "--mask", mask, "--mask", empty] + small)
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let e = try XCTUnwrap(try json(eval.stdout)["metrics"] as? [String: Any])
        let pre = try XCTUnwrap(e["pretrained"] as? [String: Any]), grafts = try XCTUnwrap(e["grafts"] as? [[String: Any]])
        XCTAssertEqual(grafts.count, 2)
        let preTest = try XCTUnwrap(pre["test"] as? [String: Any]), preOOD = try XCTUnwrap(pre["ood"] as? [String: Any])
        XCTAssertEqual(preTest["count"] as? Int, 16)
        XCTAssertEqual(preOOD["count"] as? Int, 200)
        XCTAssertEqual((preTest["reliability"] as? [Any])?.count, 10)
        // The empty mask is the pre-trained model: identical numbers.
        let emptyTest = try XCTUnwrap(grafts[1]["test"] as? [String: Any])
        XCTAssertEqual(emptyTest["nll"] as? Double, preTest["nll"] as? Double)
        XCTAssertEqual(emptyTest["ece"] as? Double, preTest["ece"] as? Double)
        XCTAssertEqual(grafts[1]["selected"] as? Int, 0)
        XCTAssertNotNil(grafts[0]["graft_ft_accuracy_ratio"] as? Double)
        // Controls beside every graft: the base patch alone and a random mask of the graft's size.
        let controls = try XCTUnwrap(grafts[0]["controls"] as? [String: Any])
        XCTAssertEqual((controls["random"] as? [String: Any])?["selected"] as? Int, grafts[0]["selected"] as? Int)
        XCTAssertEqual((controls["base_patch"] as? [String: Any])?["selected"] as? Int, metrics["base_patch_selected"] as? Int)
        let gain = try XCTUnwrap(e["finetuning_gain"] as? [String: Any])
        XCTAssertNotNil(gain["mcnemar_p"] as? Double)
        XCTAssertEqual(e["head"] as? String, "verbaliser")

        let overlap = try runTool("graft", ["overlap", mask, empty, "--quiet"])
        XCTAssertEqual(overlap.status, 0, overlap.stderr)
        let pairs = try XCTUnwrap(try json(overlap.stdout)["metrics"] as? [String: Any])["pairs"] as? [[String: Any]]
        let total = try XCTUnwrap(pairs?.first?["total"] as? [String: Any])
        XCTAssertEqual(total["intersection"] as? Int, 0)
        XCTAssertEqual(total["jaccard"] as? Double, 0)
        XCTAssertEqual((pairs?.first?["per_layer"] as? [String: Any])?.count, 6)
    }

    /// continual: both protocols report accuracies whose differences are the forgetting, and the
    /// two regions' sizes.
    func testContinualReportsForgetting() throws {
        _ = try preparedFile("data/models/minilm-l6.h5")
        let result = try runTool("graft", ["continual", "--k", "4", "--steps", "4", "--eval-every", "2", "--probe-steps", "20",
                                           "--epochs", "1"] + small)
        XCTAssertEqual(result.status, 0, result.stderr)
        let metrics = try XCTUnwrap(try json(result.stdout)["metrics"] as? [String: Any])
        let sequential = try XCTUnwrap(metrics["sequential"] as? [String: Double])
        let grafted = try XCTUnwrap(metrics["grafted"] as? [String: Any])
        XCTAssertEqual(sequential["forgetting_a"]!, sequential["accuracy_a_after_a"]! - sequential["accuracy_a_after_b"]!, accuracy: 1e-12)
        let alone = try XCTUnwrap(grafted["accuracy_a_region_a_alone"] as? Double), after = try XCTUnwrap(grafted["accuracy_a"] as? Double)
        XCTAssertEqual(try XCTUnwrap(grafted["forgetting_a"] as? Double), alone - after, accuracy: 1e-12)
        XCTAssertEqual(grafted["selected_a"] as? Int ?? 0, 1064, accuracy: 8, "about s = int(1e-4 N)")
    }

    /// Bad inputs: one line on stderr and the category's exit code.
    func testBadInputsAreClearErrors() throws {
        _ = try preparedFile("data/models/minilm-l6.h5")
        let unknown = try runTool("graft", ["finetune", "--task", "sst2", "--save", directory + "x.h5", "--quiet"])
        XCTAssertEqual(unknown.status, 64, unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains("unknown task 'sst2'"), unknown.stderr)

        // A "fine-tuned" checkpoint of another architecture (a tiny BERT, width 8).
        let c = BertConfig(vocabularySize: 13, hiddenSize: 8, layers: 2, heads: 2, intermediateSize: 12, maxPositions: 8)
        let encoder = BertEncoder(config: c, factory: ParameterFactory(seed: 1))
        var state = encoder.stateDict()
        state["classifier.weight"] = Tensor(shape: [2, 8], repeating: 0)
        state["classifier.bias"] = Tensor(shape: [2], repeating: 0)
        let other = directory + "other.h5"
        try CheckpointWriter.save(state, to: other, architecture: "bert", config: [
            "vocab_size": 13, "hidden_size": 8, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 12,
            "max_position_embeddings": 8, "graft": ["task": "polarity", "k": 4, "data_seed": 13,
                                                   "pretrained": ["path": "x", "sha256": "0"]]])
        let mismatch = try runTool("graft", ["localize", "--finetuned", other, "--save-mask", directory + "m.h5", "--quiet"])
        XCTAssertEqual(mismatch.status, 65, mismatch.stderr)
        XCTAssertTrue(mismatch.stderr.contains("is not a fine-tuned version of"), mismatch.stderr)
        XCTAssertEqual(mismatch.stderr.split(separator: "\n").count, 1)

        let missing = try runTool("graft", ["eval", "--finetuned", directory + "absent.h5", "--quiet"])
        XCTAssertEqual(missing.status, 66, missing.stderr)

        let ft = try finetune("subjectivity")
        // A mask for another model: one parameter that MiniLM does not have.
        let foreign = directory + "foreign.h5"
        let file = try HDF5File(path: foreign, mode: .create)
        try file.root.attributes.set("format", "mlcore-graft-mask")
        try file.root.attributes.set("names", .strings(["encoder.layer.0.x.weight"]))
        try file.root.createDataset("mask/encoder/layer/0/x/weight", shape: [2], data: [UInt8(1), 0])
        try file.close()
        let wrongMask = try runTool("graft", ["eval", "--finetuned", ft, "--mask", foreign] + small)
        XCTAssertEqual(wrongMask.status, 65, wrongMask.stderr)
        XCTAssertTrue(wrongMask.stderr.contains("does not fit"), wrongMask.stderr)

        let empty = try runTool("graft", ["eval", "--finetuned", ft, "--test-per-class", "0", "--dev-per-class", "4", "--quiet"])
        XCTAssertEqual(empty.status, 65, empty.stderr)
        XCTAssertTrue(empty.stderr.contains("split is empty"), empty.stderr)

        let badSparsity = try runTool("graft", ["localize", "--finetuned", ft, "--sparsity", "2", "--save-mask", foreign])
        XCTAssertEqual(badSparsity.status, 64, badSparsity.stderr)
    }
}
