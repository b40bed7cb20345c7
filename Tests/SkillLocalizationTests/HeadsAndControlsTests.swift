import Foundation
import XCTest
@testable import MLCore
@testable import SkillLocalization

/// The verbaliser head, the fine-tuning tie rule, the scaled η, the power check and the graft
/// controls (Docs/graft.md), on hand-made values.
final class HeadsAndControlsTests: XCTestCase {
    /// logits = scale · cos(pooled, row): pooled (3, 4) → (0.6, 0.8); rows (2, 0) and (0, 3)
    /// normalise to the axes, so with scale 20 the logits are (12, 16); (−1, 0) gives (−20, 0).
    func testVerbaliserLogitsOnAHandMadeEmbedding() {
        let head = Linear("classifier", inFeatures: 2, outFeatures: 2, factory: ParameterFactory(seed: 3))
        Verbaliser.install(on: head, embeddings: Tensor([2, 0, 0, 3], shape: [2, 2]), scale: 20)
        XCTAssertEqual(head.weight.value.scalars, [20, 0, 0, 20])
        XCTAssertEqual(head.bias?.value.scalars, [0, 0])
        let logits = withoutGradient { Verbaliser.logits(pooled: Variable(Tensor([3, 4, -1, 0], shape: [2, 2])), head: head).value }
        let expected: [Float] = [12, 16, -20, 0]
        for (a, e) in zip(logits.scalars, expected) { XCTAssertEqual(a, e, accuracy: 1e-5) }
        // Scaling the embedding does not change the logits (a cosine).
        let scaled = withoutGradient { Verbaliser.logits(pooled: Variable(Tensor([30, 40], shape: [1, 2])), head: head).value }
        XCTAssertEqual(scaled.scalars[0], 12, accuracy: 1e-5)
        XCTAssertEqual(Verbaliser.sentences(for: .polarity), ["This tweet is negative.", "This tweet is positive."])
        XCTAssertTrue(HeadKind.verbaliser.normalizesFeatures && !HeadKind.probe.normalizesFeatures)
        XCTAssertTrue(HeadKind.linear.trainedWithEncoder && !HeadKind.verbaliser.trainedWithEncoder)
    }

    /// A tiny sentence classifier over a 13-token WordPiece vocabulary.
    private func tinyClassifier(normalizes: Bool) throws -> SentenceClassifier {
        let vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "bad", "movie", "great", "awful", "is", "this", "the"]
        let encoder = BertEncoder(config: TinyPair.config, factory: ParameterFactory(seed: 21))
        let model = BertClassifier(encoder: encoder, labels: 2, input: .mean, factory: ParameterFactory(seed: 22))
        return SentenceClassifier(model: model, tokenizer: try WordPieceTokenizer(vocabulary: vocabulary), maxLength: 8,
                                  normalizesFeatures: normalizes)
    }

    /// The reference's `>=`: with a learning rate too small to change any prediction every dev
    /// evaluation ties, and the kept one is the last (step 6 of evaluations at 2, 4, 6), not the first.
    /// The verbaliser head stays fixed; a linear head is trained with the layers.
    func testFineTuningKeepsTheLaterOfTiedEvaluations() throws {
        let data = LabelledTexts(texts: ["good movie", "bad movie", "great", "awful", "this is good", "the bad"],
                                 labels: [1, 0, 1, 0, 1, 0])
        for head in [HeadKind.verbaliser, .linear] {
            let classifier = try tinyClassifier(normalizes: head.normalizesFeatures)
            if head == .verbaliser {
                Verbaliser.install(on: classifier.model.classifier, embeddings: classifier.features(["bad", "good"]))
            }
            let headBefore = classifier.model.classifier.weight.value
            var rng = RandomGenerator(seed: 4)
            let result = try FineTuner.run(classifier, train: data, dev: data,
                                           config: FineTuningConfig(steps: 6, learningRate: 1e-9, batchSize: 2, evalEvery: 2,
                                                                    dropout: false, clipNorm: 1, optimizer: .sgd,
                                                                    trainHead: head.trainedWithEncoder),
                                           rng: &rng)
            XCTAssertEqual(result.history.map(\.devAccuracy).count, 3)
            XCTAssertEqual(Set(result.history.map(\.devAccuracy)).count, 1, "every evaluation ties")
            XCTAssertEqual(result.best?.step, 6, "\(head): the later of equal dev accuracies is kept")
            XCTAssertTrue(result.history.allSatisfy { ($0.gradientNorm ?? 0) > 0 }, "norms are reported when clipping")
            let headMoved = (classifier.model.classifier.weight.value - headBefore).abs().max().item
            if head.trainedWithEncoder { XCTAssertGreaterThan(headMoved, 0) } else { XCTAssertEqual(headMoved, 0) }
        }
    }

    /// The scaled rule sets η so that the first epoch's largest score change is the target: here the
    /// hand rule η = target / max|∂L/∂S| is recomputed from the gradient and checked against the
    /// trainer's η and its recorded max |ΔS|; the fixed rule keeps the given η.
    func testScaledStepMovesTheLargestScoreByTheTarget() throws {
        XCTAssertEqual(MaskStepRule.scaled(target: 10).learningRate(maxScoreGradient: 4e-6, fixedRate: 1e7), 2.5e6, accuracy: 1e-3)
        XCTAssertEqual(MaskStepRule.fixed.learningRate(maxScoreGradient: 4e-6, fixedRate: 1e7), 1e7)
        XCTAssertEqual(MaskStepRule.scaled(target: 10).learningRate(maxScoreGradient: 0, fixedRate: 1e7), 1e7)

        let pair = try TinyPair()
        var rng = RandomGenerator(seed: 7)
        let base = try BasePatch.make(delta: pair.space.delta, sparsity: 0.05, rule: .strict)
        let initial = MaskScores(basePatch: base, names: pair.space.names, sigmoidBias: 10, rng: &rng)
        GraftSpace.assign(pair.space.interpolated(initial), to: pair.parameters)
        pair.loss([0, 1, 2, 3]).backward()
        let largest = pair.parameters.indices.map {
            initial.gradient($0, parameterGradient: pair.parameters[$0].grad!, delta: pair.space.delta[$0]).abs().max().item
        }.max()!
        for p in pair.parameters { p.zeroGradient() }
        XCTAssertGreaterThan(largest, 0)

        let result = MaskTrainer.train(space: pair.space, parameters: pair.parameters, initial: initial,
                                       config: MaskTrainingConfig(epochs: 2, batchSize: 8, stepRule: .scaled(target: 10)),
                                       trainCount: 4, rng: &rng, loss: { pair.loss($0.sorted()) }, evaluate: { (0.5, 0.5) })
        XCTAssertEqual(result.learningRate, 10 / largest, accuracy: 1e-4 * 10 / largest)
        XCTAssertEqual(result.history[0].maxScoreChange, 10, accuracy: 1e-3)
        // Epoch 1's flips are counted against the base patch, so both counts agree there; the last
        // evaluated mask (left in the parameters) differs from the base patch by `changedFromBase`.
        XCTAssertEqual(result.history[0].changedFromBase, result.history[0].flipped)
        let last = GraftMask(names: pair.space.names, values: zip(pair.parameters, zip(pair.space.pretrained, pair.space.finetuned)).map { p, v in
            (p.value - v.0).abs().greater(0) * (v.1 - v.0).abs().greater(0)
        })
        XCTAssertEqual(last.differences(from: GraftMask(names: pair.space.names, values: base)), result.history.last!.changedFromBase)
    }

    /// Train accuracy of a large split is measured on a strided sample: 10 items, limit 4 → stride
    /// ⌈10/4⌉ = 3 → items 0, 3, 6, 9; a split within the limit is kept whole.
    func testEvaluationSampleIsStrided() {
        let split = LabelledTexts(texts: (0..<10).map { "t\($0)" }, labels: (0..<10).map { $0 % 2 })
        XCTAssertEqual(split.evaluationSample(limit: 4).texts, ["t0", "t3", "t6", "t9"])
        XCTAssertEqual(split.evaluationSample(limit: 10), split)
    }

    /// The power check: a 2-point dev gain is refused (exit category 65) unless forced; 5 points pass.
    func testPowerCheckRefusesAModelThatDidNotLearn() throws {
        let weak = PowerCheck(pretrainedDevAccuracy: 0.70, finetunedDevAccuracy: 0.72)
        XCTAssertFalse(weak.passed)
        XCTAssertEqual(weak.gain, 0.02, accuracy: 1e-12)
        XCTAssertThrowsError(try weak.enforce(force: false)) { error in
            XCTAssertEqual(error as? SkillLocalizationError, .fineTuningDidNotLearn(pretrained: 0.70, finetuned: 0.72, required: 0.05))
            XCTAssertEqual((error as? SkillLocalizationError)?.category, .badData)
        }
        XCTAssertNoThrow(try weak.enforce(force: true))
        XCTAssertTrue(PowerCheck(pretrainedDevAccuracy: 0.70, finetunedDevAccuracy: 0.75).passed, "exactly 5 points pass")
        XCTAssertFalse(PowerCheck(pretrainedDevAccuracy: 0.80, finetunedDevAccuracy: 0.70).passed)
    }

    /// Paired statistics by hand: 10 items, pre right on 5, FT on 8 (FT alone right on 4, pre alone on
    /// 1): gain 0.3, McNemar p = 2·(1 + 5)/32 = 0.375; a graft right on 7 keeps (0.7 − 0.5)/(0.8 − 0.5) = 2/3.
    func testPairedGainAndGainKeptByHand() throws {
        let pre = [true, true, true, true, true, false, false, false, false, false]
        let ft = [true, true, true, true, false, true, true, true, true, false]
        let graft = [true, true, true, true, true, true, true, false, false, false]
        let c = try PairedComparison(a: pre, b: ft, resamples: 200, seed: 1)
        XCTAssertEqual(c.gain, 0.3, accuracy: 1e-12)
        XCTAssertEqual(c.onlyB, 4)
        XCTAssertEqual(c.onlyA, 1)
        XCTAssertEqual(c.mcnemarP, 0.375, accuracy: 1e-12)
        XCTAssertLessThanOrEqual(c.gainLower, c.gain)
        XCTAssertGreaterThanOrEqual(c.gainUpper, c.gain)
        let kept = try GainKept(pretrained: pre, finetuned: ft, grafted: graft, resamples: 200, seed: 1)
        XCTAssertEqual(try XCTUnwrap(kept.estimate), 2.0 / 3, accuracy: 1e-12)
        XCTAssertNil(try GainKept(pretrained: pre, finetuned: pre, grafted: graft).estimate, "no gain: undefined")
    }

    /// Controls: the random mask has exactly the graft's size (also above N/2, drawn as a complement)
    /// and differs between seeds; the base patch diagnostics count the patch and see a patch of the
    /// largest |θ_pre| as fully overlapping them.
    func testControlsHaveTheGraftsSparsity() throws {
        let pair = try TinyPair()
        let names = pair.space.names, shapes = pair.space.shapes, n = pair.space.parameterCount
        for count in [0, 1, 17, n / 2 + 3, n] {
            var rng = RandomGenerator(seed: 9)
            let mask = try GraftMask.random(count: count, names: names, shapes: shapes, rng: &rng)
            XCTAssertEqual(mask.selectedCount, count)
            XCTAssertEqual(mask.shapes, shapes)
        }
        var a = RandomGenerator(seed: 1), b = RandomGenerator(seed: 2)
        let m1 = try GraftMask.random(count: 40, names: names, shapes: shapes, rng: &a)
        let m2 = try GraftMask.random(count: 40, names: names, shapes: shapes, rng: &b)
        XCTAssertGreaterThan(m1.differences(from: m2), 0)
        XCTAssertEqual(m1.differences(from: m1), 0)
        XCTAssertThrowsError(try GraftMask.random(count: n + 1, names: names, shapes: shapes, rng: &a))

        let patch = GraftMask(names: names, values: try BasePatch.make(delta: pair.space.delta, sparsity: 0.05, rule: .topS))
        let d = try BasePatchDiagnostics(space: pair.space, patch: patch)
        XCTAssertEqual(d.selected, patch.selectedCount)
        XCTAssertEqual(d.selected, Int(0.05 * Double(n)))
        let largestPre = GraftMask(names: names, values: try BasePatch.make(delta: pair.space.pretrained, sparsity: 0.05, rule: .topS))
        XCTAssertEqual(try BasePatchDiagnostics(space: pair.space, patch: largestPre).overlapWithLargestPretrained, 1)
    }
}
