import Foundation
import XCTest
@testable import MLCore

/// `reb` end to end on the real EfficientNet-Lite0 and textile images in small settings (6 training
/// images, 3 test images per label, 64² input), and its errors for bad inputs.
final class REBToolTests: XCTestCase {
    private var directory = ""
    private let small = ["--train-normals", "6", "--test-per-label", "3", "--quiet"]

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "reb-tool-\(UUID().uuidString)/"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// fit → eval → score | mlcore score auroc on the real data.
    private func fit(_ extra: [String] = []) throws -> String {
        _ = try preparedFile("data/models/efficientnet-lite0.h5")
        _ = try preparedFile("data/datasets/textile.h5")
        let bank = directory + "bank.h5"
        let result = try runTool("reb", ["fit", "--input-size", "64", "--coreset", "0.5", "--max-k", "5", "--save", bank] + small + extra)
        XCTAssertEqual(result.status, 0, result.stderr)
        let metrics = try XCTUnwrap(try json(result.stdout)["metrics"] as? [String: Any])
        // 64² input: stride-8 grid 8×8 = 64 patches per image, 6 images, half kept.
        XCTAssertEqual(metrics["patches_per_image"] as? Int, 64)
        XCTAssertEqual(metrics["total_patches"] as? Int, 6 * 64)
        XCTAssertEqual(metrics["bank_size"] as? Int, 6 * 64 / 2)
        return bank
    }

    func testPipelineOnRealData() throws {
        let bank = try fit()
        let maps = directory + "maps.h5"
        let eval = try runTool("reb", ["eval", "--bank", bank, "--ks", "3,5", "--save-maps", maps, "--maps-per-label", "1", "--maps-k", "3",
                                        "--synthetic", "2"] + small)
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let report = try json(eval.stdout)
        let methods = try XCTUnwrap((report["metrics"] as? [String: Any])?["methods"] as? [String: [String: Any]])
        XCTAssertEqual(Set(methods.keys), ["knn", "ldknn_k3", "ldknn_k5"])
        for (_, m) in methods {
            let auroc = try XCTUnwrap(m["image_auroc"] as? Double)
            XCTAssertTrue((0...1).contains(auroc))
            XCTAssertEqual((m["image_auroc_per_type"] as? [String: Double]).map { Set($0.keys) }, ["local defect", "global defect"])
        }
        let synthetic = try XCTUnwrap((report["metrics"] as? [String: Any])?["synthetic_defects"] as? [String: Any])
        XCTAssertEqual(synthetic["images"] as? Int, 2)
        for name in ["knn", "ldknn_k3"] {
            let pixel = try XCTUnwrap((synthetic[name] as? [String: Any])?["pixel_auroc"] as? Double)
            XCTAssertTrue((0...1).contains(pixel))
            // Two defects: the first two kinds in turn, each with its own pixel and image AUROCs.
            let perKind = try XCTUnwrap((synthetic[name] as? [String: Any])?["per_kind"] as? [String: [String: Double]])
            XCTAssertEqual(Set(perKind.keys), ["rect-cut", "rect-noise"])
            XCTAssertNotNil(perKind["rect-noise"]?["image_auroc_plain_max_vs_held_out_normals"])
        }
        let file = try HDF5File(path: maps)
        XCTAssertEqual(try file.dataset("images").shape, [3, 64, 64, 3])  // one image of each of the three labels
        XCTAssertEqual(try file.dataset("maps_ldknn").shape, [3, 64, 64])

        // score's JSON lines, piped into mlcore score auroc, give eval's LDKNN K = 5 AUROC.
        let scored = try runTool("reb", ["score", "--bank", bank, "--method", "ldknn", "--k", "5"] + small)
        XCTAssertEqual(scored.status, 0, scored.stderr)
        let lines = scored.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 9)
        let first = try json(String(lines[0]))
        XCTAssertNotNil(first["score"] as? Double)
        XCTAssertNotNil(first["label_name"] as? String)
        let auroc = try runTool("mlcore", ["score", "auroc"], stdin: scored.stdout)
        XCTAssertEqual(auroc.status, 0, auroc.stderr)
        let piped = try XCTUnwrap((try json(auroc.stdout)["metrics"] as? [String: Any])?["auroc"] as? Double)
        XCTAssertEqual(piped, try XCTUnwrap(methods["ldknn_k5"]?["image_auroc"] as? Double), accuracy: 1e-12)
    }

    /// ssl-train → a backbone checkpoint that fit takes and labels as DefectMaker-SSL features.
    func testSSLTrainWritesABackboneFitTakes() throws {
        _ = try preparedFile("data/models/efficientnet-lite0.h5")
        _ = try preparedFile("data/datasets/textile.h5")
        let weights = directory + "ssl.h5"
        let trained = try runTool("reb", ["ssl-train", "--steps", "3", "--normals-per-step", "1", "--frozen-steps", "1",
                                          "--input-size", "64", "--eval-normals", "2", "--save", weights] + small)
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let report = try json(trained.stdout)
        let metrics = try XCTUnwrap(report["metrics"] as? [String: Any])
        let accuracy = try XCTUnwrap(metrics["held_out_accuracy"] as? Double)
        XCTAssertTrue((0...1).contains(accuracy))
        XCTAssertEqual(((metrics["curve"] as? [String: Any])?["loss"] as? [Double])?.count, 3)
        XCTAssertEqual((report["config"] as? [String: Any])?["batch_images"] as? Int, 7)
        let checkpoint = try Checkpoint(path: weights)
        XCTAssertEqual(checkpoint.architecture, "efficientnet-lite")
        XCTAssertEqual(checkpoint.config["reb_ssl"]?["steps"], .int(3))
        // The stem moved (two trained steps); the checkpoint loads strictly as a backbone.
        let base = try EfficientNetLite.load(path: "data/models/efficientnet-lite0.h5"), tuned = try EfficientNetLite.load(path: weights)
        XCTAssertNotEqual(base.convStem.weight.value.scalars, tuned.convStem.weight.value.scalars)
        let fit = try runTool("reb", ["fit", "--weights", weights, "--input-size", "64", "--coreset", "0.5", "--max-k", "5",
                                      "--save", directory + "bank-ssl.h5"] + small)
        XCTAssertEqual(fit.status, 0, fit.stderr)
        XCTAssertEqual((try json(fit.stdout)["config"] as? [String: Any])?["features"] as? String, "DefectMaker-SSL")
        // Bad settings are usage errors.
        let bad = try runTool("reb", ["ssl-train", "--steps", "2", "--frozen-steps", "5", "--save", weights] + small)
        XCTAssertEqual(bad.status, 64, bad.stderr)
    }

    /// defectmaker: 7 versions per image with masks; the normal version has an empty mask, each defect a non-empty one.
    func testDefectMakerWritesVersionsAndSheet() throws {
        _ = try preparedFile("data/datasets/textile.h5")
        let out = directory + "defects.h5", sheet = directory + "sheet.png"
        let result = try runTool("reb", ["defectmaker", "--count", "2", "--train-normals", "6", "--save", out, "--sheet", sheet, "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let file = try HDF5File(path: out)
        XCTAssertEqual(try file.dataset("images").shape, [2, 7, 250, 250, 3])
        let masks = try file.dataset("masks").read(as: UInt8.self)
        let plane = 250 * 250
        for n in 0..<2 {
            for v in 0..<7 {
                let area = masks[((n * 7 + v) * plane)..<((n * 7 + v + 1) * plane)].reduce(0) { $0 + Int($1) }
                if v == 0 { XCTAssertEqual(area, 0) } else { XCTAssertGreaterThan(area, 0, "image \(n) version \(v)") }
            }
        }
        let png = try RGBImage.read(path: sheet)
        XCTAssertEqual(png.width, 7 * 254 - 4)
        XCTAssertEqual(png.height, 2 * 254 - 4)
    }

    /// `reb baseline` on the real textile images: both statistics per defect type, per-image lines;
    /// `reb split` gives the rows `fit` trains on; `reb features` writes maps and patch features.
    func testBaselineSplitAndFeatures() throws {
        _ = try preparedFile("data/datasets/textile.h5")
        let lines = directory + "baseline.jsonl"
        let result = try runTool("reb", ["baseline", "--scores", lines] + small)
        XCTAssertEqual(result.status, 0, result.stderr)
        let stats = try XCTUnwrap((try json(result.stdout)["metrics"] as? [String: Any])?["statistics"] as? [String: Any])
        let laplacian = try XCTUnwrap(stats["laplacian_block_ratio"] as? [String: Any])
        let perType = try XCTUnwrap(laplacian["image_auroc_per_type"] as? [String: Double])
        // 3 normals vs 3 local defects: the Laplacian ratio separates them completely.
        XCTAssertEqual(perType["local defect"], 1)
        XCTAssertNotNil((stats["horizontal_gradient"] as? [String: Any])?["image_auroc"] as? Double)
        let scoreLines = try String(contentsOfFile: lines, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(scoreLines.count, 9)
        XCTAssertTrue(scoreLines[0].contains("\"laplacian_block_ratio\""), String(scoreLines[0]))

        let split = try runTool("reb", ["split", "--train-normals", "6", "--test-per-label", "3"])
        XCTAssertEqual(split.status, 0, split.stderr)
        let indices = try json(split.stdout)
        XCTAssertEqual((indices["train"] as? [Int])?.count, 6)
        XCTAssertEqual((indices["test"] as? [Int])?.count, 9)

        _ = try preparedFile("data/models/efficientnet-lite0.h5")
        let out = directory + "features.h5"
        let features = try runTool("reb", ["features", "--rows", "0,1500", "--input-size", "64", "--stages", "1,2", "--save", out, "--quiet"])
        XCTAssertEqual(features.status, 0, features.stderr)
        let file = try HDF5File(path: out)
        XCTAssertEqual(try file.dataset("input").shape, [2, 3, 64, 64])
        XCTAssertEqual(try file.dataset("stage1").shape, [2, 24, 16, 16])
        XCTAssertEqual(try file.dataset("stage2").shape, [2, 40, 8, 8])
        XCTAssertEqual(try file.dataset("patch_features").shape, [2 * 16 * 16, 512])
    }

    /// Bad inputs: one line on stderr and the category's exit code.
    func testBadInputsAreClearErrors() throws {
        let bank = try fit()
        // K larger than the bank's stored neighbours / than the bank.
        let bigK = try runTool("reb", ["eval", "--bank", bank, "--ks", "9"] + small)
        XCTAssertEqual(bigK.status, 64, bigK.stderr)
        XCTAssertTrue(bigK.stderr.contains("K = 9"), bigK.stderr)
        let bigMaxK = try runTool("reb", ["fit", "--input-size", "64", "--coreset", "0.01", "--max-k", "50", "--density-from", "bank",
                                          "--save", directory + "b2.h5"] + small)
        XCTAssertEqual(bigMaxK.status, 64, bigMaxK.stderr)
        XCTAssertTrue(bigMaxK.stderr.contains("--max-k 50"), bigMaxK.stderr)
        // Another split than the bank's would test training images.
        let split = try runTool("reb", ["eval", "--bank", bank, "--train-normals", "7", "--quiet"])
        XCTAssertEqual(split.status, 64, split.stderr)
        XCTAssertTrue(split.stderr.contains("built with the training split --train-normals 6 --split-seed 0"), split.stderr)
        // An empty training set.
        let empty = try runTool("reb", ["fit", "--train-normals", "0", "--save", directory + "b3.h5", "--quiet"])
        XCTAssertEqual(empty.status, 64, empty.stderr)
        XCTAssertTrue(empty.stderr.contains("training set is empty"), empty.stderr)

        // A bank built with another backbone (its recorded checkpoint hash differs).
        let foreign = directory + "foreign.h5"
        try FileManager.default.copyItem(atPath: bank, toPath: foreign)
        let file = try HDF5File(path: foreign, mode: .readWrite)
        try file.root.attributes.set("backbone_sha256", .string("0123456789abcdef"))
        try file.close()
        let mismatch = try runTool("reb", ["eval", "--bank", foreign] + small)
        XCTAssertEqual(mismatch.status, 64, mismatch.stderr)
        XCTAssertTrue(mismatch.stderr.contains("built with backbone"), mismatch.stderr)
        XCTAssertEqual(mismatch.stderr.split(separator: "\n").count, 1)
        // A bank whose features do not have its recorded feature size.
        let wrongWidth = directory + "width.h5"
        try FileManager.default.copyItem(atPath: bank, toPath: wrongWidth)
        let w = try HDF5File(path: wrongWidth, mode: .readWrite)
        try w.root.attributes.set("dimension", .int(256))
        try w.close()
        let width = try runTool("reb", ["eval", "--bank", wrongWidth] + small)
        XCTAssertEqual(width.status, 65, width.stderr)
        XCTAssertTrue(width.stderr.contains("[M ≥ 2, 256]"), width.stderr)

        // Images of the wrong size, then of the wrong channel count.
        func dataset(_ name: String, shape: [Int]) throws -> String {
            let path = directory + name
            let f = try HDF5File(path: path, mode: .create)
            try f.root.createDataset("images", shape: shape, data: [UInt8](repeating: 128, count: shape.reduce(1, *)))
            try f.root.createDataset("label", shape: [shape[0]], data: (0..<shape[0]).map { Int32($0 % 2) })
            try f.close()
            return path
        }
        let small32 = try dataset("small.h5", shape: [20, 32, 32, 3])
        let size = try runTool("reb", ["eval", "--bank", bank, "--dataset", small32, "--train-normals", "6", "--quiet"])
        XCTAssertEqual(size.status, 65, size.stderr)
        XCTAssertTrue(size.stderr.contains("images are 32×32, but the memory bank was built from 250×250"), size.stderr)
        let gray = try dataset("gray.h5", shape: [20, 32, 32, 1])
        let channels = try runTool("reb", ["fit", "--dataset", gray, "--train-normals", "6", "--save", directory + "g.h5", "--quiet"])
        XCTAssertEqual(channels.status, 65, channels.stderr)
        XCTAssertTrue(channels.stderr.contains("have 1 channels"), channels.stderr)

        // The new options' bad values: --density-from, more stored neighbours than training patches
        // (6 images × 64 patches, densities from all of them), --block, --stages of `reb features`.
        let density = try runTool("reb", ["fit", "--density-from", "nearby", "--save", directory + "b4.h5", "--quiet"])
        XCTAssertEqual(density.status, 64, density.stderr)
        XCTAssertTrue(density.stderr.contains("--density-from must be all or bank"), density.stderr)
        let allK = try runTool("reb", ["fit", "--input-size", "64", "--coreset", "0.01", "--max-k", "384", "--save", directory + "b5.h5"] + small)
        XCTAssertEqual(allK.status, 64, allK.stderr)
        XCTAssertTrue(allK.stderr.contains("must be in 1..<384"), allK.stderr)
        let block = try runTool("reb", ["baseline", "--block", "0"] + small)
        XCTAssertEqual(block.status, 64, block.stderr)
        XCTAssertTrue(block.stderr.contains("--block must be at least 1"), block.stderr)
        let hugeBlock = try runTool("reb", ["baseline", "--block", "400"] + small)
        XCTAssertEqual(hugeBlock.status, 64, hugeBlock.stderr)
        XCTAssertTrue(hugeBlock.stderr.contains("block side 400"), hugeBlock.stderr)
        let fills = try runTool("reb", ["ssl-train", "--fills", "wood", "--save", directory + "s.h5", "--quiet"])
        XCTAssertEqual(fills.status, 64, fills.stderr)
        XCTAssertTrue(fills.stderr.contains("--fills must be cut, noise or cut,noise"), fills.stderr)
        let stages = try runTool("reb", ["features", "--stages", "2,9", "--save", directory + "f.h5", "--quiet"])
        XCTAssertEqual(stages.status, 64, stages.stderr)
        let rows = try runTool("reb", ["features", "--rows", "5000", "--save", directory + "f.h5", "--quiet"])
        XCTAssertEqual(rows.status, 64, rows.stderr)

        let missing = try runTool("reb", ["eval", "--bank", directory + "absent.h5", "--quiet"])
        XCTAssertEqual(missing.status, 66, missing.stderr)
        let badLine = try runTool("mlcore", ["score", "auroc"], stdin: "{\"score\": 1}\n")
        XCTAssertEqual(badLine.status, 65, badLine.stderr)
    }
}
