import Foundation
import XCTest
@testable import MLCore

final class TrainingLoopTests: XCTestCase {
    /// One scalar parameter w and the loss (w − a)² for a micro-batch a.
    func scalar(_ w0: Float) -> Parameter { Parameter(Tensor([w0], shape: [1]), name: "w") }
    func squaredDistance(_ w: Parameter, _ a: Float) -> StepLoss { StepLoss(((w - a) * (w - a)).sum()) }

    func testPlainSGDStepsByHand() throws {
        // f(w) = w², ∇ = 2w, w ← w − 0.1·2w = 0.8w: three steps give 0.512·w₀ with losses 1, 0.64, 0.4096.
        let w = scalar(1)
        let loop = try TrainingLoop(config: TrainingConfig(length: .steps(3)), optimizer: SGD([w], learningRate: 0.1))
        let result = try loop.run(.stream { _, _ in Float(0) }, loss: { a, _ in self.squaredDistance(w, a) })
        XCTAssertEqual(w.value.item, 0.512, accuracy: 1e-6)
        for (loss, expected) in zip(result.steps.map(\.loss), [1, 0.64, 0.4096]) { XCTAssertEqual(loss, expected, accuracy: 1e-6) }
        XCTAssertEqual(result.steps.map(\.step), [1, 2, 3])
        XCTAssertNil(w.grad, "gradients are dropped when the run ends")
    }

    func testGradientAccumulationAveragesMicroBatches() throws {
        // Micro-batches a = 1 and a = 3 at w = 0: gradients −2 and −6, mean −4; one SGD step of lr 0.1 → w = 0.4.
        // The recorded loss is the micro-batches' mean (1 + 9) / 2 = 5.
        let w = scalar(0)
        let loop = try TrainingLoop(config: TrainingConfig(length: .steps(1), gradientAccumulation: 2),
                                    optimizer: SGD([w], learningRate: 0.1))
        let result = try loop.run(.stream { i, _ in Float(2 * i + 1) }, loss: { a, _ in self.squaredDistance(w, a) })
        XCTAssertEqual(w.value.item, 0.4, accuracy: 1e-6)
        XCTAssertEqual(result.steps[0].loss, 5, accuracy: 1e-6)
    }

    func testClippingScalesTheGradient() throws {
        // At w = 0 with a = 10 the gradient is −20 (norm 20); clipped to norm 1 it is −1/(20 + 1e-6)·20 ≈ −1,
        // so SGD with lr 1 moves w to ≈ 1.
        let w = scalar(0)
        let loop = try TrainingLoop(config: TrainingConfig(length: .steps(1), clipNorm: 1), optimizer: SGD([w], learningRate: 1))
        let result = try loop.run(.stream { _, _ in Float(10) }, loss: { a, _ in self.squaredDistance(w, a) })
        XCTAssertEqual(result.steps[0].gradientNorm ?? 0, 20, accuracy: 1e-5)
        XCTAssertEqual(w.value.item, 1, accuracy: 1e-5)
    }

    func testScheduleSetsTheRateBeforeEachStep() throws {
        let w = scalar(0)
        let loop = try TrainingLoop(config: TrainingConfig(length: .steps(4), schedule: .linearWarmupDecay(warmupSteps: 2, totalSteps: 4)),
                                    optimizer: SGD([w], learningRate: 1))
        let result = try loop.run(.stream { _, _ in Float(1) }, loss: { a, _ in self.squaredDistance(w, a) })
        // steps 0..3: 0/2, 1/2, then (4 − 2)/2 = 1, (4 − 3)/2 = 0.5.
        XCTAssertEqual(result.steps.map(\.learningRate), [0, 0.5, 1, 0.5])
    }

    /// A run whose parameter after step s is s (SGD with lr 1 on the loss −w: gradient −1) and whose
    /// evaluation after step s returns scores[s − 1].
    func runWithScores(_ scores: [Double], keepBest: TrainingConfig.KeepBest, patience: Int? = nil) throws
        -> (TrainingResult, Float) {
        let w = scalar(0)
        let loop = try TrainingLoop(
            config: TrainingConfig(length: .steps(scores.count), evaluation: .everySteps(1), keepBest: keepBest,
                                   earlyStoppingPatience: patience),
            optimizer: SGD([w], learningRate: 1))
        var evaluated = 0
        let result = try loop.run(.stream { _, _ in () }, loss: { _, _ in StepLoss(w.sum() * -1) },
                                  evaluate: { evaluated += 1; return scores[evaluated - 1] })
        return (result, w.value.item)
    }

    func testKeepBestTieRules() throws {
        let scores = [0.5, 0.7, 0.7, 0.6]
        let (later, wLater) = try runWithScores(scores, keepBest: .init(.maximize, ties: .keepLater))
        XCTAssertEqual(later.best?.step, 3, ">= keeps the later of two equal scores")
        XCTAssertEqual(wLater, 3, "the best evaluation's parameters are restored")
        XCTAssertEqual(later.evaluations.map(\.isBest), [true, true, true, false])
        let (earlier, wEarlier) = try runWithScores(scores, keepBest: .init(.maximize, ties: .keepEarlier))
        XCTAssertEqual(earlier.best?.step, 2)
        XCTAssertEqual(wEarlier, 2)
        let (minimum, wMinimum) = try runWithScores([3, 1, 2, 1], keepBest: .init(.minimize, ties: .keepEarlier))
        XCTAssertEqual(minimum.best?.step, 2)
        XCTAssertEqual(wMinimum, 2)
        let (withNaN, _) = try runWithScores([.nan, 0.1], keepBest: .init(.maximize))
        XCTAssertEqual(withNaN.best?.step, 2, "a NaN score is never the best")
    }

    func testEarlyStoppingCountsEvaluationsWithoutStrictImprovement() throws {
        // Best 0.9 at step 2; 0.9 (a tie: kept, but no improvement) and 0.8 exhaust a patience of 2 at step 4.
        let (result, w) = try runWithScores([0.5, 0.9, 0.9, 0.8, 1.0, 1.0], keepBest: .init(.maximize), patience: 2)
        XCTAssertTrue(result.stoppedEarly)
        XCTAssertEqual(result.steps.count, 4)
        XCTAssertEqual(result.best?.step, 3)
        XCTAssertEqual(w, 3)
    }

    func testEpochsEvaluationEveryEpochAndAccumulationAtEpochEnds() throws {
        // 5 items in batches of 2 → 3 batches an epoch; accumulation 2 → steps of 2 and 1 micro-batches.
        let w = scalar(0)
        let loop = try TrainingLoop(config: TrainingConfig(length: .epochs(2), gradientAccumulation: 2, evaluation: .everyEpoch),
                                    optimizer: SGD([w], learningRate: 0.01))
        var rng = RandomGenerator(seed: 3)
        var seen: [[Int]] = []
        let result = try loop.run(.epochs { _, rng in rng.shuffledBatches(count: 5, batchSize: 2) }, rng: &rng,
                                  loss: { batch, _ in seen.append(batch); return self.squaredDistance(w, Float(batch.count)) },
                                  evaluate: { 0 })
        XCTAssertEqual(result.steps.count, 4)
        XCTAssertEqual(result.steps.map(\.epoch), [0, 0, 1, 1])
        XCTAssertEqual(result.evaluations.map(\.step), [2, 4])
        XCTAssertEqual(seen.count, 6)
        XCTAssertEqual(Set(seen[0..<3].flatMap { $0 }), Set(0..<5), "each epoch covers the data once")
        // The same draws as the loader itself.
        var check = RandomGenerator(seed: 3)
        XCTAssertEqual(Array(seen[0..<3]), check.shuffledBatches(count: 5, batchSize: 2))
        XCTAssertEqual(Array(seen[3..<6]), check.shuffledBatches(count: 5, batchSize: 2))
        XCTAssertEqual(rng.state, check.state, "no epoch is drawn beyond the last")
    }

    func testNonFiniteLossThrowsBeforeTheUpdate() throws {
        let w = scalar(1)
        let loop = try TrainingLoop(config: TrainingConfig(length: .steps(3)), optimizer: SGD([w], learningRate: 0.1))
        XCTAssertThrowsError(try loop.run(.stream { i, _ in i }, loss: { i, _ in
            StepLoss(i == 1 ? (w * Float.nan).sum() : (w * w).sum())
        })) { error in
            guard case .nonFiniteLoss(let step, let loss)? = error as? TrainingError else { return XCTFail("\(error)") }
            XCTAssertEqual(step, 2)
            XCTAssertTrue(loss.isNaN)
            XCTAssertEqual((error as? TrainingError)?.category, .badData)
        }
        XCTAssertEqual(w.value.item, 0.8, accuracy: 1e-6, "the NaN step is not applied")
    }

    func testInvalidSettings() {
        let w = scalar(0)
        for config in [TrainingConfig(length: .steps(0)), TrainingConfig(length: .epochs(0)),
                       TrainingConfig(length: .steps(1), gradientAccumulation: 0), TrainingConfig(length: .steps(1), clipNorm: 0),
                       TrainingConfig(length: .steps(1), evaluation: .everySteps(0)),
                       TrainingConfig(length: .steps(1), evaluation: .everySteps(1), earlyStoppingPatience: 1)] {
            XCTAssertThrowsError(try TrainingLoop(config: config, optimizer: SGD([w], learningRate: 1)), "\(config)")
        }
        let loop = try! TrainingLoop(config: TrainingConfig(length: .epochs(1)), optimizer: SGD([w], learningRate: 1))
        XCTAssertThrowsError(try loop.run(.stream { _, _ in () }, loss: { _, _ in StepLoss(w.sum()) }), "epochs need epoch data")
        let evaluating = try! TrainingLoop(config: TrainingConfig(length: .steps(1), evaluation: .everySteps(1)),
                                           optimizer: SGD([w], learningRate: 1))
        XCTAssertThrowsError(try evaluating.run(.stream { _, _ in () }, loss: { _, _ in StepLoss(w.sum()) }), "no evaluation given")
    }

    func testOptimizerStateRoundTrip() throws {
        // Adam restored from its state dict continues exactly as the original.
        func makeParameters() -> [Parameter] {
            [Parameter(Tensor([0.5, -1, 2], shape: [3]), name: "a"), Parameter(Tensor([1, 2], shape: [2, 1]), name: "b")]
        }
        func step(_ optimizer: Adam, _ ps: [Parameter]) {
            optimizer.zeroGradients()
            ((ps[0] * ps[0]).sum() + (ps[1] * 3).sum()).backward()
            optimizer.step()
        }
        let original = makeParameters(), adam = Adam(original, learningRate: 0.1, amsgrad: true)
        step(adam, original); step(adam, original)
        let saved = adam.stateDict()
        XCTAssertEqual(Set(saved.keys), ["a", "b"])
        XCTAssertEqual(saved["a"]?.step, 2)
        XCTAssertEqual(Set(saved["a"]!.buffers.keys), ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"])
        let copy = makeParameters()
        for (c, o) in zip(copy, original) { c.value = o.value.contiguous() }
        let restored = Adam(copy, learningRate: 0.1, amsgrad: true)
        try restored.loadStateDict(saved)
        step(adam, original); step(restored, copy)
        for (c, o) in zip(copy, original) { XCTAssertEqual(c.value.scalars, o.value.scalars) }
        // Mismatches are listed.
        XCTAssertThrowsError(try Adam(makeParameters(), learningRate: 0.1).loadStateDict(saved)) { error in
            XCTAssertTrue("\(error)".contains("max_exp_avg_sq"), "\(error)")
        }
        XCTAssertThrowsError(try SGD([Parameter(Tensor([1], shape: [1]), name: "c")], learningRate: 1, momentum: 0.9)
            .loadStateDict(["c": OptimizerParameterState(step: 1, buffers: ["momentum_buffer": Tensor([1, 2], shape: [2])])]))
    }

    func testRandomGeneratorStateResumesTheSequence() {
        var a = RandomGenerator(seed: 42, stream: 7)
        _ = a.normal()  // leaves a spare normal pending
        var b = RandomGenerator(state: a.state)
        XCTAssertEqual((0..<5).map { _ in a.normal() }, (0..<5).map { _ in b.normal() })
        XCTAssertEqual(a.next(), b.next())
    }

    /// A two-layer network with dropout trained by Adam on shuffled epochs of a small regression set.
    final class Run {
        let first: Linear, second: Linear, context: ForwardContext, optimizer: Adam, parameters: [Parameter]
        let x = Tensor(shape: [10, 3]) { i in Float((i * 7) % 11) / 11 - 0.5 }
        let y = Tensor(shape: [10, 1]) { i in Float(i % 3) - 1 }

        init() {
            let factory = ParameterFactory(seed: 11)
            first = Linear("first", inFeatures: 3, outFeatures: 8, factory: factory)
            second = Linear("second", inFeatures: 8, outFeatures: 1, factory: factory)
            context = ForwardContext(training: true, seed: 5)
            parameters = first.parameters + second.parameters
            optimizer = Adam(parameters, learningRate: 0.05)
        }

        func loop(steps: Int, checkpoint: String?) throws -> TrainingLoop {
            try TrainingLoop(config: TrainingConfig(length: .steps(steps), gradientAccumulation: 2, clipNorm: 1,
                                                    schedule: .linearWarmupDecay(warmupSteps: 2, totalSteps: 9),
                                                    evaluation: .everySteps(2), keepBest: .init(.minimize),
                                                    checkpointing: checkpoint.map { .init(path: $0, everySteps: 2) }),
                             optimizer: optimizer, parameters: parameters, context: context)
        }

        struct Interrupted: Error {}

        /// Trains; with `failAt`, the loss of that step throws (a crash in the middle of the run).
        func run(_ loop: TrainingLoop, rng: inout RandomGenerator, failAt: Int? = nil) throws -> TrainingResult {
            try loop.run(.epochs { _, rng in rng.shuffledBatches(count: 10, batchSize: 3) }, rng: &rng, loss: { rows, position in
                if position.step == failAt { throw Interrupted() }
                let h = self.first(Variable(self.x.indexSelect(rows, axis: 0))).relu().dropout(0.3, context: self.context)
                let d = self.second(h) - Variable(self.y.indexSelect(rows, axis: 0))
                return StepLoss((d * d).mean())
            }, evaluate: {
                withoutGradient { Double(((self.second(self.first(Variable(self.x)).relu()) - Variable(self.y)).square()).mean().value.item) }
            })
        }
    }

    func testResumeGivesTheUninterruptedRunBitForBit() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mlcore-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("state.h5").path

        let whole = Run()
        var rngWhole = RandomGenerator(seed: 21)
        let expected = try whole.run(try whole.loop(steps: 9, checkpoint: nil), rng: &rngWhole)

        // A run saved every 2 steps that fails in step 5 (the file holds step 4), then a fresh start that resumes.
        let part = Run()
        var rngPart = RandomGenerator(seed: 21)
        XCTAssertThrowsError(try part.run(try part.loop(steps: 9, checkpoint: path), rng: &rngPart, failAt: 5))
        let resumed = Run()
        for p in resumed.parameters { p.value = Tensor.zeros(p.value.shape) }  // nothing survives but the file
        let loop = try resumed.loop(steps: 9, checkpoint: nil)
        try loop.resume(from: path)
        XCTAssertEqual(loop.stepsCompleted, 4)
        var rngResumed = RandomGenerator(seed: 999)  // replaced by the saved generator
        let result = try resumed.run(loop, rng: &rngResumed)

        XCTAssertEqual(result.steps.map(\.loss), expected.steps.map(\.loss))
        XCTAssertEqual(result.evaluations, expected.evaluations)
        XCTAssertEqual(result.best, expected.best)
        for (r, w) in zip(resumed.parameters, whole.parameters) { XCTAssertEqual(r.value.scalars, w.value.scalars, r.name) }
        XCTAssertEqual(rngResumed.state, rngWhole.state)
        XCTAssertEqual(resumed.context.rng.state, whole.context.rng.state)

        // A state of another model is refused with every problem listed.
        let other = try TrainingLoop(config: TrainingConfig(length: .steps(1)),
                                     optimizer: SGD([Parameter(Tensor([1], shape: [1]), name: "first.weight")], learningRate: 1))
        XCTAssertThrowsError(try other.resume(from: path)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("first.weight has shape") && text.contains("unexpected second.bias"), text)
        }
    }
}
