import XCTest
@testable import MLCore
@testable import REB

/// REB's self-supervised stage: the augmentation against PIL's conventions (checked with Pillow 11 on
/// the same 3×2 image), ColorJitter by hand, the 7-way batch layout, the head's layout, and the
/// training step on a tiny random EfficientNet-Lite: frozen steps leave the backbone untouched,
/// trained steps move it, the learning rate follows the warm-restart cosine, the loss falls.
final class DefectMakerSSLTests: XCTestCase {
    /// A 3-wide, 2-high image whose pixel (x, y) is (x, y, 7).
    let tiny = RGBImage(width: 3, height: 2, pixels: (0..<2).flatMap { y in (0..<3).flatMap { x in [UInt8(x), UInt8(y), 7] } })

    func coordinates(_ image: RGBImage) -> [[String]] {
        (0..<image.height).map { y in (0..<image.width).map { x in
            "\(image.pixels[(y * image.width + x) * 3])\(image.pixels[(y * image.width + x) * 3 + 1])"
        } }
    }

    func testOrientationsFollowPIL() {
        // Expected: PIL Image.transpose on the same image, as "xy" of each output pixel, row by row.
        let expected: [(SSLAugmentation.Orientation, [[String]])] = [
            (.identity, [["00", "10", "20"], ["01", "11", "21"]]),
            (.rotate90, [["20", "21"], ["10", "11"], ["00", "01"]]),
            (.rotate180, [["21", "11", "01"], ["20", "10", "00"]]),
            (.rotate270, [["01", "00"], ["11", "10"], ["21", "20"]]),
            (.transpose, [["00", "01"], ["10", "11"], ["20", "21"]]),
            (.transverse, [["21", "20"], ["11", "10"], ["01", "00"]]),
            (.flipLeftRight, [["20", "10", "00"], ["21", "11", "01"]]),
        ]
        for (orientation, rows) in expected {
            let out = SSLAugmentation.oriented(tiny, orientation)
            XCTAssertEqual(coordinates(out), rows, "\(orientation)")
            XCTAssertTrue(stride(from: 2, to: out.pixels.count, by: 3).allSatisfy { out.pixels[$0] == 7 })
        }
        XCTAssertEqual(SSLAugmentation.Orientation.referenceChoices.count, 9)
    }

    func testColorJitterByHand() {
        // Factors 1: unchanged. Brightness 1.1 clips 240 to 255.
        var v: [Float] = [10, 20, 30, 240, 240, 240]
        SSLAugmentation.colorJitter(&v, pixels: 2, brightness: 1, contrast: 1, saturation: 1)
        XCTAssertEqual(v, [10, 20, 30, 240, 240, 240])
        SSLAugmentation.colorJitter(&v, pixels: 2, brightness: 1.1, contrast: 1, saturation: 1)
        XCTAssertEqual(v[3], 255)
        XCTAssertEqual(v[0], 11, accuracy: 1e-4)
        // Contrast 0.5 on grey pixels 100 and 200 (mean grey 150): 125 and 175. Saturation leaves grey alone.
        var grey: [Float] = [100, 100, 100, 200, 200, 200]
        SSLAugmentation.colorJitter(&grey, pixels: 2, brightness: 1, contrast: 0.5, saturation: 0.3)
        for (a, b) in zip(grey, [125, 125, 125, 175, 175, 175] as [Float]) { XCTAssertEqual(a, b, accuracy: 1e-3) }
        // The order matters: brightness 1.1 then contrast 0.5 on grey 100 and 250 (clipped to 255, mean
        // 182.5) gives 146.25 and 218.75; contrast first (mean 175) then brightness, 151.25 and 233.75.
        var first: [Float] = [100, 100, 100, 250, 250, 250], second = first
        SSLAugmentation.colorJitter(&first, pixels: 2, brightness: 1.1, contrast: 0.5, saturation: 1)
        SSLAugmentation.colorJitter(&second, pixels: 2, brightness: 1.1, contrast: 0.5, saturation: 1,
                                    order: [.contrast, .brightness, .saturation])
        XCTAssertEqual(first[0], 146.25, accuracy: 1e-3); XCTAssertEqual(first[3], 218.75, accuracy: 1e-3)
        XCTAssertEqual(second[0], 151.25, accuracy: 1e-3); XCTAssertEqual(second[3], 233.75, accuracy: 1e-3)
        // Saturation 0 turns a colour into its grey 0.299·R + 0.587·G + 0.114·B.
        var colour: [Float] = [200, 100, 0]
        SSLAugmentation.colorJitter(&colour, pixels: 1, brightness: 1, contrast: 1, saturation: 0)
        for c in colour { XCTAssertEqual(c, 0.299 * 200 + 0.587 * 100, accuracy: 1e-3) }
    }

    func texture(seed: UInt64, size: Int = 40) -> RGBImage {
        var rng = RandomGenerator(seed: seed)
        return RGBImage(width: size, height: size, pixels: (0..<(size * size * 3)).map { _ in UInt8(60 + rng.nextInt(below: 120)) })
    }

    func testBatchHasEachNormalThenItsSixVersions() {
        var rng = RandomGenerator(seed: 1)
        let donors = [texture(seed: 4), texture(seed: 5)]
        let batch = DefectMakerSSL.makeBatch([texture(seed: 2), texture(seed: 3)], donors: donors, rng: &rng)
        XCTAssertEqual(batch.labels, [0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6])
        XCTAssertEqual(DefectMakerSSL.classNames, ["normal", "rect-cut", "rect-noise", "scar-cut", "scar-noise", "clump-cut", "clump-noise"])
        XCTAssertTrue(batch.images.allSatisfy { $0.width == 40 && $0.height == 40 })
        for group in 0..<2 {
            let normal = batch.images[group * 7]
            for v in 1...6 { XCTAssertNotEqual(batch.images[group * 7 + v], normal, "version \(v) of image \(group) has a defect") }
        }
        // Same seed, same batch.
        var again = RandomGenerator(seed: 1)
        XCTAssertEqual(DefectMakerSSL.makeBatch([texture(seed: 2), texture(seed: 3)], donors: donors, rng: &again).images, batch.images)
    }

    func testHeadLayoutFollowsTheReference() {
        let head = SSLHead(inFeatures: 10, classes: 7, factory: ParameterFactory(seed: 1))
        XCTAssertEqual(head.trainableParameters.map(\.name),
                       ["ssl_head.0.weight", "ssl_head.0.bias", "ssl_head.1.weight", "ssl_head.1.bias",
                        "ssl_head.3.weight", "ssl_head.3.bias", "ssl_head.4.weight", "ssl_head.4.bias",
                        "ssl_head.6.weight", "ssl_head.6.bias"])
        XCTAssertEqual(head.trainableParameters.map(\.shape), [[512, 10], [512], [512], [512], [256, 512], [256], [256], [256], [7, 256], [7]])
        let logits = head(Variable(Tensor(shape: [3, 10]) { Float($0 % 5) }), context: ForwardContext(training: true, seed: 0))
        XCTAssertEqual(logits.shape, [3, 7])
    }

    func tinyBackbone() throws -> EfficientNetLite {
        let json = """
            {"blocks": [{"expand_ratio": 1, "in_channels": 8, "kernel_size": 3, "out_channels": 4, "skip": false, "stride": 1},
                        {"expand_ratio": 3, "in_channels": 4, "kernel_size": 5, "out_channels": 6, "skip": false, "stride": 2},
                        {"expand_ratio": 3, "in_channels": 6, "kernel_size": 3, "out_channels": 6, "skip": true, "stride": 1}],
             "stem_channels": 8, "head_channels": 12, "num_classes": 5, "batch_norm_epsilon": 0.001,
             "dropout_rate": 0.2, "drop_connect_rate": 0, "resolution": 32, "activation": "relu6", "padding": "tf-same",
             "preprocessing": {"mean": [127, 127, 127], "std": [128, 128, 128]}}
            """
        return EfficientNetLite(config: try EfficientNetLiteConfig(json: try JSONValue.parse(json), file: "tiny"),
                                factory: ParameterFactory(seed: 3))
    }

    func testFrozenThenTrainedStepsAndSchedule() throws {
        let backbone = try tinyBackbone()
        let config = SSLTrainingConfig(steps: 4, normalsPerStep: 2, frozenSteps: 2, learningRate: 0.05, restartPeriod: 3,
                                       minimumLearningRate: 0.001, inputSize: 32)
        let trainer = try DefectMakerSSL(backbone: backbone, config: config, seed: 5)
        var rng = RandomGenerator(seed: 6)
        let batch = DefectMakerSSL.makeBatch([texture(seed: 7), texture(seed: 8)], donors: [texture(seed: 13)], rng: &rng)
        let stem = backbone.convStem.weight.value.scalars, head = trainer.head.output.weight.value.scalars
        var records: [TrainingStepRecord] = []
        var after: [(stem: [Float], head: [Float], tracked: Float)] = []
        let result = try trainer.train(.stream { _, _ in batch }, rng: &rng, prepare: { b, _ in b }) { record in
            records.append(record)
            after.append((backbone.convStem.weight.value.scalars, trainer.head.output.weight.value.scalars,
                          backbone.bn0.numBatchesTracked.value.item))
        }
        let afterFirst = after.first
        XCTAssertEqual(result.steps.count, 4)
        XCTAssertEqual(records.map { trainer.isFrozen(step: $0.step) }, [true, true, false, false])
        XCTAssertEqual(afterFirst?.stem, stem, "frozen: the backbone does not move")
        XCTAssertNotEqual(afterFirst?.head, head, "the head trains while the backbone is frozen")
        XCTAssertEqual(afterFirst?.tracked, 0, "frozen: evaluation mode, no running-statistics update")
        // What each step did to the backbone: unchanged with counters at 0 through step 2 (frozen), moved
        // with one more tracked batch at each of steps 3 and 4.
        XCTAssertEqual(after.map { $0.stem == stem }, [true, true, false, false])
        XCTAssertEqual(after.map(\.tracked), [0, 0, 1, 2])
        XCTAssertNotEqual(after[1].head, after[0].head, "the head trains in the second frozen step too")
        XCTAssertNotEqual(backbone.convStem.weight.value.scalars, stem, "trained: the backbone moves")
        XCTAssertEqual(backbone.bn0.numBatchesTracked.value.item, 2, "trained: training-mode BatchNorm")
        // η_min + (η − η_min)·½(1 + cos(π t / 3)) for t = 0, 1, 2, then a restart.
        let expected: [Float] = [0.05, 0.001 + 0.049 * 0.75, 0.001 + 0.049 * 0.25, 0.05]
        for (r, e) in zip(records, expected) { XCTAssertEqual(r.learningRate, e, accuracy: 1e-6) }
        XCTAssertEqual(config.effectiveFrozenSteps, 2)
        XCTAssertEqual(SSLTrainingConfig(steps: 300).effectiveFrozenSteps, 39, "the reference's 39 of 300 (epo < 40, from 1)")
        XCTAssertEqual(SSLTrainingConfig(steps: 300).effectiveRestartPeriod, 330, "the reference's T0 for 300 steps")
        XCTAssertThrowsError(try SSLTrainingConfig(steps: 3, frozenSteps: 4).validate())
    }

    func testLossFallsOnAFixedBatch() throws {
        let trainer = try DefectMakerSSL(backbone: try tinyBackbone(),
                                         config: SSLTrainingConfig(steps: 30, frozenSteps: 0, learningRate: 0.05, inputSize: 32), seed: 9)
        var rng = RandomGenerator(seed: 10)
        let batch = DefectMakerSSL.makeBatch([texture(seed: 11), texture(seed: 12)], donors: [texture(seed: 14)], rng: &rng)
        let losses = try trainer.train(.stream { _, _ in batch }, rng: &rng, prepare: { b, _ in b }).steps.map(\.loss)
        XCTAssertTrue(losses.allSatisfy(\.isFinite))
        XCTAssertLessThan(losses.suffix(5).reduce(0, +) / 5, 0.6 * losses.prefix(3).reduce(0, +) / 3, "\(losses)")
        // The evaluation path runs in evaluation mode and reports one prediction per image.
        let (loss, predictions) = trainer.evaluate(batch)
        XCTAssertTrue(loss.isFinite)
        XCTAssertEqual(predictions.count, 14)
        let (overall, perClass) = DefectMakerSSL.accuracy(predictions: [0, 1, 1, 3], labels: [0, 1, 2, 2])
        XCTAssertEqual(overall, 0.5)
        XCTAssertEqual(perClass[0], 1); XCTAssertEqual(perClass[2], 0); XCTAssertTrue(perClass[4].isNaN)
    }

    /// The reference's noise-only variant (`set_dm3_noise`): each normal image then its rect, scar and
    /// clump noise versions, a 4-way head, a 4-way loss that falls; an empty or repeated kind list is refused.
    func testNoiseOnlyFourWayTask() throws {
        XCTAssertEqual(SSLTrainingConfig.noiseKinds.map(\.description), ["rect-noise", "scar-noise", "clump-noise"])
        var rng = RandomGenerator(seed: 1)
        let batch = DefectMakerSSL.makeBatch([texture(seed: 2), texture(seed: 3)], donors: [texture(seed: 4)],
                                             kinds: SSLTrainingConfig.noiseKinds, rng: &rng)
        XCTAssertEqual(batch.labels, [0, 1, 2, 3, 0, 1, 2, 3])
        for v in 1...3 { XCTAssertNotEqual(batch.images[v], batch.images[0]) }
        let config = SSLTrainingConfig(steps: 30, frozenSteps: 0, learningRate: 0.05, inputSize: 32, kinds: SSLTrainingConfig.noiseKinds)
        let trainer = try DefectMakerSSL(backbone: try tinyBackbone(), config: config, seed: 9)
        XCTAssertEqual(trainer.classNames, ["normal", "rect-noise", "scar-noise", "clump-noise"])
        XCTAssertEqual(trainer.head.output.weight.shape, [4, 256])
        let losses = try trainer.train(.stream { _, _ in batch }, rng: &rng, prepare: { b, _ in b }).steps.map(\.loss)
        XCTAssertLessThan(losses.suffix(5).reduce(0, +) / 5, 0.6 * losses.prefix(3).reduce(0, +) / 3, "\(losses)")
        XCTAssertEqual(trainer.evaluate(batch).predictions.count, 8)
        XCTAssertEqual(DefectMakerSSL.oneHot([3, 0], classes: 4).scalars, [0, 0, 0, 1, 1, 0, 0, 0])
        XCTAssertThrowsError(try SSLTrainingConfig(kinds: []).validate()) { XCTAssertEqual(($0 as? REBError)?.category, .usage) }
        XCTAssertThrowsError(try SSLTrainingConfig(kinds: [DefectKind.all[0], DefectKind.all[0]]).validate())
    }
}
