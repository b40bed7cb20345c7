import Foundation
import XCTest
@testable import MLCore

/// `pfami` end to end on the prepared digits in small settings: train (VAE and the KDE control) →
/// features (whole and in two shards joined by `pfami merge`, which must give the same file) → attack
/// | JSON lines; and one-line errors with their exit codes for bad inputs.
final class PFAMIToolTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "pfami-tool-\(UUID().uuidString)/"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    private func train(_ model: String, _ role: String, _ extra: [String] = []) throws -> (path: String, report: [String: Any]) {
        _ = try preparedFile("data/datasets/digits.h5")
        let path = directory + "\(model)-\(role).h5"
        let result = try runTool("pfami", ["train", "--model", model, "--role", role, "--members", "12", "--holdout", "12", "--quiet",
                                           "--save", path] + extra)
        XCTAssertEqual(result.status, 0, result.stderr)
        return (path, try json(result.stdout))
    }

    func testVAEPipelineShardsAndControl() throws {
        let vae = ["--width", "4", "--latent", "4", "--steps", "20", "--batch-size", "12", "--groups", "4"]
        let (target, report) = try train("vae", "target", vae)
        let gap = try XCTUnwrap((report["metrics"] as? [String: Any])?["gap"] as? [String: Any])
        XCTAssertNotNil(gap["measurable"] as? Bool)
        XCTAssertEqual(((report["inputs"] as? [String: Any])?["split_sizes"] as? [String: Int])?["members"], 12)
        let (reference, _) = try train("vae", "reference", vae)
        let features = directory + "features.h5"
        let common = ["features", "--target", target, "--reference", reference, "--probes", "0,1", "--neighbours", "3", "--batch-size", "5",
                      "--quiet"]
        let whole = try runTool("pfami", common + ["--save", features])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let metrics = try XCTUnwrap(try json(whole.stdout)["metrics"] as? [String: Any])
        XCTAssertEqual(metrics["records"] as? Int, 24)
        XCTAssertEqual(metrics["queries_per_record"] as? Int, (1 + 3) * 2 * 2)
        // Two shards of whole batches (5 records each) and the merge reproduce the unsharded file.
        let shards = (0..<2).map { directory + "f-\($0).h5" }
        for (i, shard) in shards.enumerated() {
            let r = try runTool("pfami", common + ["--shard", "\(i)/2", "--save", shard])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let merged = directory + "merged.h5"
        let merge = try runTool("pfami", ["merge", "--quiet", "--save", merged] + shards.reversed())
        XCTAssertEqual(merge.status, 0, merge.stderr)
        for name in ["fluctuation", "target_neighbours", "reference_original", "row", "label"] {
            let a = try HDF5File(path: features).dataset(name), b = try HDF5File(path: merged).dataset(name)
            XCTAssertEqual(a.shape, b.shape, name)
            XCTAssertEqual(try a.read(as: Double.self), try b.read(as: Double.self), name)
        }
        // A shard alone is refused by attack (65).
        let shardAttack = try runTool("pfami", ["attack", "--features", shards[0]])
        XCTAssertEqual(shardAttack.status, 65, shardAttack.stderr)
        XCTAssertTrue(shardAttack.stderr.contains("pfami merge"), shardAttack.stderr)

        // The control: KDE models, AUC 1 on members vs hold-out.
        let (kdeTarget, _) = try train("kde", "target")
        let (kdeReference, _) = try train("kde", "reference")
        let control = directory + "control.h5"
        let c = try runTool("pfami", ["features", "--target", kdeTarget, "--reference", kdeReference, "--save", control, "--quiet"])
        XCTAssertEqual(c.status, 0, c.stderr)
        let output = directory + "attack.json"
        let attack = try runTool("pfami", ["attack", "--features", merged, "--method", "met", "--k", "2", "--control", control, "-o", output, "--quiet"])
        XCTAssertEqual(attack.status, 0, attack.stderr)
        let lines = attack.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 24)
        XCTAssertEqual(try json(String(lines[0]))["label"] as? Int, 1)
        let attackMetrics = try XCTUnwrap(try json(String(decoding: try Data(contentsOf: URL(fileURLWithPath: output)), as: UTF8.self))["metrics"] as? [String: Any])
        XCTAssertEqual(attackMetrics["control_auc"] as? Double, 1)
        XCTAssertEqual(attackMetrics["members"] as? Int, 12)
        // ASR on the full curve and by the reference's rule on the thinned curve, both rates.
        for key in ["asr", "asr_reference"] {
            let v = try XCTUnwrap(attackMetrics[key] as? Double, key)
            XCTAssertTrue((0...1).contains(v), key)
        }
        let auc = try XCTUnwrap(attackMetrics["auc"] as? Double)
        // The same scores through `mlcore score auroc` give the report's AUC.
        let pipe = try runTool("mlcore", ["score", "auroc"], stdin: attack.stdout)
        XCTAssertEqual(pipe.status, 0, pipe.stderr)
        XCTAssertEqual(try XCTUnwrap((try json(pipe.stdout)["metrics"] as? [String: Any])?["auroc"] as? Double), auc, accuracy: 1e-12)

        // Bad inputs: a k* outside the neighbours (64), a model pair of one role (64), a shard out of range (64).
        let badK = try runTool("pfami", ["attack", "--features", merged, "--k", "3"])
        XCTAssertEqual(badK.status, 64, badK.stderr)
        let sortWithoutNNs = try runTool("pfami", ["attack", "--features", merged, "--method", "met", "--nn-sort-probes"])
        XCTAssertEqual(sortWithoutNNs.status, 64, sortWithoutNNs.stderr)
        // PFAMI_NNs trained on the attacked model's own records (its labels) is refused (65).
        let leak = try runTool("pfami", ["attack", "--features", merged, "--method", "nns", "--shadow", features])
        XCTAssertEqual(leak.status, 65, leak.stderr)
        XCTAssertTrue(leak.stderr.contains("shadow"), leak.stderr)
        let sameRole = try runTool("pfami", ["features", "--target", target, "--reference", target, "--save", directory + "x.h5"])
        XCTAssertEqual(sameRole.status, 64, sameRole.stderr)
        XCTAssertEqual(sameRole.stderr.split(separator: "\n").count, 1)
        let shard = try runTool("pfami", common + ["--shard", "2/2", "--save", directory + "y.h5"])
        XCTAssertEqual(shard.status, 64, shard.stderr)
        // A model of another image size than the records: a 16×16 reference VAE for the 32×32 target's records.
        let (small, _) = try train("vae", "shadow", vae + ["--size", "16"])
        let size = try runTool("pfami", ["features", "--target", target, "--reference", small, "--save", directory + "z.h5"])
        XCTAssertEqual(size.status, 64, size.stderr)
    }

    func testEmptyAndOversizedSplitsAreRefused() throws {
        _ = try preparedFile("data/datasets/digits.h5")
        let empty = try runTool("pfami", ["train", "--model", "kde", "--members", "0", "--save", directory + "m.h5"])
        XCTAssertEqual(empty.status, 64, empty.stderr)
        XCTAssertTrue(empty.stderr.contains("member set is empty"), empty.stderr)
        let big = try runTool("pfami", ["train", "--model", "kde", "--members", "600", "--holdout", "600", "--save", directory + "m.h5"])
        XCTAssertEqual(big.status, 64, big.stderr)
        XCTAssertTrue(big.stderr.contains("3600"), big.stderr)
    }
}
