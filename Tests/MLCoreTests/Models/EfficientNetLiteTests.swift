import XCTest
@testable import MLCore

/// EfficientNet-Lite on a tiny random configuration: the folded inference engine agrees with the
/// differentiable forward pass, training mode back-propagates to every trainable parameter and updates
/// the BatchNorm running statistics, and strict loading names missing keys.
final class EfficientNetLiteTests: XCTestCase {
    static func tinyConfig() throws -> EfficientNetLiteConfig {
        let json = """
            {"blocks": [{"expand_ratio": 1, "in_channels": 8, "kernel_size": 3, "out_channels": 4, "skip": false, "stride": 1},
                        {"expand_ratio": 3, "in_channels": 4, "kernel_size": 5, "out_channels": 6, "skip": false, "stride": 2},
                        {"expand_ratio": 3, "in_channels": 6, "kernel_size": 3, "out_channels": 6, "skip": true, "stride": 1}],
             "stem_channels": 8, "head_channels": 12, "num_classes": 5, "batch_norm_epsilon": 0.001,
             "dropout_rate": 0.2, "drop_connect_rate": 0.2, "resolution": 17, "activation": "relu6", "padding": "tf-same",
             "preprocessing": {"mean": [127, 127, 127], "std": [128, 128, 128]}}
            """
        return try EfficientNetLiteConfig(json: try JSONValue.parse(json), file: "tiny")
    }

    /// Random weights and non-trivial running statistics.
    func makeModel() throws -> EfficientNetLite {
        let model = EfficientNetLite(config: try Self.tinyConfig(), factory: ParameterFactory(seed: 3))
        var rng = RandomGenerator(seed: 4)
        for p in model.parameters where p.name.hasSuffix("running_mean") || p.name.hasSuffix("running_var") {
            let isVar = p.name.hasSuffix("running_var")
            p.value = Tensor(shape: p.shape) { _ in isVar ? rng.uniform(0.5, 2) : rng.uniform(-0.3, 0.3) }
        }
        return model
    }

    func testStageOutputsStopAtTheLastStage() throws {
        let model = try makeModel()
        let x = randomTensor([2, 3, 17, 15], seed: 6)
        let full = withoutGradient { model.forward(Variable(x), taps: [0]) }.taps[0]!.value
        let partial = withoutGradient { model.stageOutputs(Variable(x), stages: [0]) }
        XCTAssertEqual(Array(partial.keys), [0])
        assertClose(partial[0]!.value, full, rtol: 0, atol: 0, "stage 0")
        // Training mode through stage 0 only: block 0's BatchNorms count a batch, the later blocks'
        // and the head's do not.
        let before = model.bn1.runningMean.value.scalars
        _ = model.stageOutputs(Variable(x), context: ForwardContext(training: true, seed: 1), stages: [0])
        XCTAssertEqual(model.blocks[0].bn1.numBatchesTracked.value.item, 1)
        XCTAssertEqual(model.blocks[1].bn1.numBatchesTracked.value.item, 0)
        XCTAssertEqual(model.bn1.numBatchesTracked.value.item, 0)
        XCTAssertEqual(model.bn1.runningMean.value.scalars, before)
    }

    func testStagesAndInferenceEngineMatchForward() throws {
        let model = try makeModel()
        XCTAssertEqual(model.config.stageStarts, [0, 1])
        XCTAssertEqual(model.config.stageEnds, [0, 2])
        let x = randomTensor([2, 3, 17, 15], seed: 5)
        let fast = model.predict(x, taps: [0, 1])
        let slow = withoutGradient { model.forward(Variable(x), taps: [0, 1]) }
        assertClose(fast.logits, slow.logits.value, rtol: 1e-4, atol: 1e-5, "logits")
        XCTAssertEqual(fast.taps[1]?.shape, [2, 6, 5, 4])  // 17×15 → stem 9×8 → stride 2: 5×4
        for s in [0, 1] { assertClose(fast.taps[s]!, slow.taps[s]!.value, rtol: 1e-4, atol: 1e-5, "stage \(s)") }
        // Buffers are reused: a second call with another batch size still agrees.
        let x1 = randomTensor([1, 3, 17, 15], seed: 6)
        assertClose(model.predict(x1).logits, withoutGradient { model.forward(Variable(x1)).logits.value },
                    rtol: 1e-4, atol: 1e-5, "batch 1")
    }

    func testTrainingBackpropagatesAndUpdatesRunningStatistics() throws {
        let model = try makeModel()
        let before = model.bn0.runningMean.value
        let context = ForwardContext(training: true, seed: 7)
        let (logits, _) = model.forward(Variable(randomTensor([3, 3, 17, 15], seed: 8)), context: context)
        logits.logSoftmax(axis: -1).mean().backward()
        for p in model.trainableParameters { XCTAssertNotNil(p.grad, p.name) }
        XCTAssertNotEqual(model.bn0.runningMean.value, before)
        XCTAssertEqual(model.bn0.numBatchesTracked.value.item, 1)
        XCTAssertTrue(model.parameters.filter { !$0.isTrainable }.allSatisfy { $0.grad == nil })
    }

    func testWholeNetworkGradientFiniteDifferences() throws {
        let model = try makeModel()
        // Gradient with respect to the input through every layer kind (evaluation mode).
        assertGradients([randomTensor([1, 3, 9, 8], seed: 9)], epsilon: 1e-2, atol: 5e-3, rtol: 2e-2) {
            model.forward($0[0]).logits * randomTensor([1, 5], seed: 10)
        }
    }

    func testStrictLoadingListsMissingKeys() throws {
        let model = try makeModel()
        var state = model.stateDict()
        state["_blocks.1._bn0.running_var"] = nil
        let other = EfficientNetLite(config: try Self.tinyConfig(), factory: .placeholders())
        XCTAssertThrowsError(try other.load(stateDict: state)) { error in
            XCTAssertTrue("\(error)".contains("_blocks.1._bn0.running_var"), "\(error)")
        }
    }
}
