import XCTest
@testable import MLCore
@testable import SkillLocalization

/// Grafting on a tiny BERT: the two extreme masks reproduce the two models exactly, and the mask
/// trainer's update and selection follow the reference.
final class GraftingTests: XCTestCase {
    /// A full mask gives the fine-tuned model's logits bit for bit, an empty one the pre-trained
    /// model's; a partial mask changes exactly the selected entries.
    func testExtremeMasksReproduceTheModels() throws {
        let pair = try TinyPair()
        GraftSpace.assign(pair.space.finetuned, to: pair.parameters)
        let finetuned = pair.logits()
        GraftSpace.assign(pair.space.pretrained, to: pair.parameters)
        let pretrained = pair.logits()
        XCTAssertNotEqual(finetuned.scalars, pretrained.scalars)

        GraftSpace.assign(pair.space.grafted(.constant(true, over: pair.space)), to: pair.parameters)
        XCTAssertEqual(pair.logits().scalars, finetuned.scalars)
        GraftSpace.assign(pair.space.grafted(.constant(false, over: pair.space)), to: pair.parameters)
        XCTAssertEqual(pair.logits().scalars, pretrained.scalars)

        let values = pair.space.shapes.map { Tensor(shape: $0) { $0 % 3 == 0 ? 1 : 0 } }
        let grafted = pair.space.grafted(GraftMask(names: pair.space.names, values: values))
        for k in grafted.indices {
            let g = grafted[k].scalars, f = pair.space.finetuned[k].scalars, p = pair.space.pretrained[k].scalars
            for i in g.indices { XCTAssertEqual(g[i], i % 3 == 0 ? f[i] : p[i]) }
        }
    }

    /// One epoch with one batch holding every example: S₁ = S₀ − η · ∂L/∂S at θ(S₀) (the mean over
    /// one batch is the batch gradient); the model ends on the rounded graft.
    func testTrainerStepIsTheReferenceUpdate() throws {
        let pair = try TinyPair()
        var rng = RandomGenerator(seed: 9)
        let base = try BasePatch.make(delta: pair.space.delta, sparsity: 0.05, rule: .strict)
        let initial = MaskScores(basePatch: base, names: pair.space.names, sigmoidBias: 2, rng: &rng)

        GraftSpace.assign(pair.space.interpolated(initial), to: pair.parameters)
        pair.loss([0, 1, 2, 3]).backward()
        let expected = pair.parameters.indices.map {
            initial.scores[$0] - 1e3 * initial.gradient($0, parameterGradient: pair.parameters[$0].grad!, delta: pair.space.delta[$0])
        }
        for p in pair.parameters { p.zeroGradient() }

        let config = MaskTrainingConfig(epochs: 1, learningRate: 1e3, batchSize: 8, maxBatches: 128, sigmoidBias: 2)
        let result = MaskTrainer.train(space: pair.space, parameters: pair.parameters, initial: initial, config: config,
                                       trainCount: 4, rng: &rng, loss: { pair.loss($0.sorted()) },
                                       evaluate: { (0.5, 0.25) })
        for k in expected.indices {
            let a = result.scores.scores[k].scalars, e = expected[k].scalars
            for i in a.indices { XCTAssertEqual(a[i], e[i], accuracy: 1e-5 * max(1, abs(e[i]))) }
        }
        XCTAssertEqual(result.bestEpoch, 1)
        let moved = zip(expected, initial.scores).map { Double(($0 - $1).abs().max().item) }.max()!
        XCTAssertEqual(result.history[0].maxScoreChange, moved, accuracy: 1e-5 * max(1, moved))
        XCTAssertGreaterThan(moved, 0)
        XCTAssertEqual(result.mask, result.scores.rounded())
        XCTAssertEqual(pair.parameters.map(\.value), pair.space.grafted(result.mask))
    }

    /// Selection keeps an epoch only when train + dev accuracy is strictly higher than the best so far.
    func testBestOfEpochsIsStrict() throws {
        let pair = try TinyPair()
        var rng = RandomGenerator(seed: 1)
        let base = try BasePatch.make(delta: pair.space.delta, sparsity: 0.01, rule: .strict)
        let initial = MaskScores(basePatch: base, names: pair.space.names, rng: &rng)
        var scripted: [(Double, Double)] = [(0.5, 0.5), (0.6, 0.4), (0.7, 0.4), (0.2, 0.2)]
        let result = MaskTrainer.train(space: pair.space, parameters: pair.parameters, initial: initial,
                                       config: MaskTrainingConfig(epochs: 4, batchSize: 2), trainCount: 4, rng: &rng,
                                       loss: { pair.loss($0) }, evaluate: { scripted.removeFirst() })
        XCTAssertEqual(result.history.map(\.kept), [true, false, true, false])
        XCTAssertEqual(result.bestEpoch, 3)
        XCTAssertEqual(result.history.count, 4)
        XCTAssertTrue(result.history.allSatisfy { $0.loss.isFinite && $0.loss > 0 })
    }
}
