import Foundation
import XCTest
@testable import MLCore

/// EfficientNet-Lite0 on the real prepared checkpoint: logits parity with PyTorch on 4 real images
/// (Tests/Fixtures/efficientnet_lite0_parity.h5, Tools/reference/make_efficientnet_fixture.py), JPEG
/// preprocessing against Pillow's, and `mlcore classify-image` end to end.
final class EfficientNetTests: XCTestCase {
    static let fixture = repositoryRoot.appendingPathComponent("Tests/Fixtures/efficientnet_lite0_parity.h5").path

    /// (images uint8 [4, 224, 224, 3], logits [4, 1000], top5 [4][5], stage means [4, 7]).
    func loadFixture() throws -> ([RGBImage], Tensor, [[Int]], Tensor) {
        let file = try HDF5File(path: Self.fixture, mode: .readOnly)
        let images = try file.dataset("/images")
        let pixels = try images.read(as: UInt8.self)
        let n = images.shape[0], side = images.shape[1]
        let list = (0..<n).map { i in
            RGBImage(width: side, height: side, pixels: Array(pixels[(i * side * side * 3)..<((i + 1) * side * side * 3)]))
        }
        let logits = try file.dataset("/logits")
        let top5 = try file.dataset("/top5").read(as: Int64.self).map(Int.init)
        let means = try file.dataset("/stage_means")
        return (list, Tensor(try logits.read(as: Float.self), shape: logits.shape),
                (0..<n).map { Array(top5[($0 * 5)..<($0 * 5 + 5)]) }, Tensor(try means.read(as: Float.self), shape: means.shape))
    }

    func top5(_ logits: Tensor) -> [[Int]] {
        (0..<logits.shape[0]).map { r in
            let row = logits.selected(r).scalars
            return Array(row.indices.sorted { row[$0] > row[$1] }.prefix(5))
        }
    }

    func testLogitsMatchPyTorchOnRealImages() throws {
        let model = try EfficientNetLite.load(path: try preparedFile("data/models/efficientnet-lite0.h5"))
        let (images, expected, expectedTop5, stageMeans) = try loadFixture()
        // The fixture images are already cropped and resized to 224 (by Pillow): only normalise them.
        let x = model.normalize(images)
        let stages = Set(0..<model.stageCount)
        let fast = model.predict(x, taps: stages)
        let slow = withoutGradient { model.forward(Variable(x), taps: stages) }
        for (name, logits) in [("predict", fast.logits), ("forward", slow.logits.value)] {
            let diff = (logits - expected).abs().max().item
            print("EfficientNet-Lite0 parity (\(name)): max |Δlogit| = \(diff), top-5 \(top5(logits))")
            XCTAssertLessThanOrEqual(diff, 1e-3, name)
            XCTAssertEqual(top5(logits), expectedTop5, name)
        }
        XCTAssertEqual(expectedTop5[0][0], 698)  // china.jpg: palace
        XCTAssertEqual(expectedTop5[1][0], 985)  // flower.jpg: daisy
        // Stage taps: shapes of Lite0's 7 stages at 224² and their means against PyTorch.
        let shapes = (0..<7).map { fast.taps[$0]!.shape }
        XCTAssertEqual(shapes, [[4, 16, 112, 112], [4, 24, 56, 56], [4, 40, 28, 28], [4, 80, 14, 14],
                                [4, 112, 14, 14], [4, 192, 7, 7], [4, 320, 7, 7]])
        for s in 0..<7 {
            assertClose(fast.taps[s]!.mean(axes: [1, 2, 3]), stageMeans.sliced(s..<(s + 1), axis: 1).reshaped([4]), 1e-4,
                        "stage \(s) (predict)")
            assertClose(slow.taps[s]!.value.mean(axes: [1, 2, 3]), stageMeans.sliced(s..<(s + 1), axis: 1).reshaped([4]), 1e-4,
                        "stage \(s) (forward)")
        }
    }

    func assertClose(_ a: Tensor, _ b: Tensor, _ tolerance: Float, _ message: String) {
        XCTAssertEqual(a.shape, b.shape, message)
        XCTAssertLessThanOrEqual((a - b).abs().max().item, tolerance, message)
    }

    static func fixturePath(_ name: String) -> String { repositoryRoot.appendingPathComponent("Tests/Fixtures/\(name)").path }

    /// Largest and mean absolute pixel difference.
    func pixelDifference(_ a: RGBImage, _ b: RGBImage) -> (Int, Double) {
        XCTAssertEqual([a.width, a.height], [b.width, b.height])
        let diffs = zip(a.pixels, b.pixels).map { abs(Int($0) - Int($1)) }
        return (diffs.max() ?? 0, Double(diffs.reduce(0, +)) / Double(max(diffs.count, 1)))
    }

    func testDecodersAndPreprocessingAgreeWithPillow() throws {
        let (images, _, _, _) = try loadFixture()
        // PNG (libpng): the textile image written by Pillow decodes to the same pixels.
        XCTAssertEqual(try RGBImage.read(path: Self.fixturePath("textile_nominal_224.png")), images[2])
        // JPEG (libjpeg-turbo): the original textile JPEG decodes to the pixels Pillow gave the converter.
        let jpeg = try RGBImage.read(path: Self.fixturePath("textile_nominal_0001.jpg"))
        let textile = try HDF5File(path: try preparedFile("data/datasets/textile.h5"), mode: .readOnly).dataset("/images")
        XCTAssertEqual(jpeg, RGBImage(width: 250, height: 250, pixels: try textile.readRows(0..<1, as: UInt8.self)))
        // Centre crop + bicubic upscaling (219 → 224) and downscaling (250 → 100) against Pillow's.
        let model = try EfficientNetLite.load(path: try preparedFile("data/models/efficientnet-lite0.h5"))
        let up = pixelDifference(jpeg.centerCropped(fraction: model.config.cropFraction).resized(width: 224, height: 224), images[2])
        let file = try HDF5File(path: Self.fixture, mode: .readOnly)
        let pillowDown = RGBImage(width: 100, height: 100, pixels: try file.dataset("/textile_down_100").read(as: UInt8.self))
        let down = pixelDifference(jpeg.resized(width: 100, height: 100), pillowDown)
        print("preprocessing vs Pillow: crop + resize up max |Δ| \(up.0), mean \(up.1); resize down max |Δ| \(down.0), mean \(down.1)")
        XCTAssertLessThanOrEqual(up.0, 1)
        XCTAssertLessThanOrEqual(down.0, 1)
        XCTAssertLessThan(up.1 + down.1, 0.01)
    }

    func testClassifyImageEndToEnd() throws {
        let checkpoint = try preparedFile("data/models/efficientnet-lite0.h5")
        let jpeg = Self.fixturePath("textile_nominal_0001.jpg"), png = Self.fixturePath("textile_nominal_224.png")
        let result = try runTool("mlcore", ["classify-image", "--weights", "efficientnet-lite0", jpeg, png])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 12, result.stdout)
        XCTAssertEqual(lines[0], jpeg)
        XCTAssertEqual(lines[6], png)
        // The printed classes and probabilities are those of the library on the same files.
        let model = try EfficientNetLite.load(path: checkpoint)
        let names = try XCTUnwrap(try Checkpoint(path: checkpoint).classNames())
        XCTAssertEqual(names.count, 1000)
        XCTAssertEqual(Array(names[0..<2]), ["tench", "goldfish"])
        let probabilities = model.predict(model.preprocess([try RGBImage.read(path: jpeg)])).logits.softmax(axis: -1).scalars
        let best = probabilities.indices.max { probabilities[$0] < probabilities[$1] }!
        XCTAssertEqual(lines[1], String(format: "  1  %.4f  %4d  %@", probabilities[best], best, names[best] as NSString))

        let json = try runTool("mlcore", ["classify-image", "--weights", checkpoint, "--json", "--top", "2", jpeg])
        XCTAssertEqual(json.status, 0, json.stderr)
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let top = try XCTUnwrap(doc["top"] as? [[String: Any]])
        XCTAssertEqual(top.count, 2)
        XCTAssertEqual(top[0]["class"] as? Int, best)
        XCTAssertEqual(top[0]["name"] as? String, names[best])
        XCTAssertEqual((top[0]["probability"] as? Double) ?? 0, Double(probabilities[best]), accuracy: 1e-6)

        let missing = try runTool("mlcore", ["classify-image", "--weights", "efficientnet-lite0", "/nonexistent/x.jpg"])
        XCTAssertEqual(missing.status, 66)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)
        let notImage = try runTool("mlcore", ["classify-image", "--weights", "efficientnet-lite0", Self.fixture])
        XCTAssertEqual(notImage.status, 65)
        XCTAssertTrue(notImage.stderr.contains("not a JPEG or PNG"), notImage.stderr)
        let wrongModel = try runTool("mlcore", ["classify-image", "--weights", "minilm-l6", png])
        XCTAssertEqual(wrongModel.status, 65, wrongModel.stderr)
        XCTAssertEqual(wrongModel.stderr.split(separator: "\n").count, 1, wrongModel.stderr)
        let usage = try runTool("mlcore", ["classify-image", "--weights", "efficientnet-lite0"])
        XCTAssertEqual(usage.status, 64, usage.stderr)
    }
}
