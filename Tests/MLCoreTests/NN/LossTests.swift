import XCTest
@testable import MLCore

/// Losses: values and gradients against PyTorch fixtures (Tests/Fixtures/losses_optim.json, made by
/// Tools/reference/make_loss_optim_fixtures.py), hand-computed cases, and finite-difference gradient
/// checks for every loss and every option that changes the gradient.
final class LossTests: XCTestCase {
    // MARK: PyTorch fixtures

    func testEveryLossMatchesPyTorch() throws {
        let cases = try XCTUnwrap(try Fixtures.json("losses_optim.json")["losses"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(cases.count, 50)
        var kinds = Set<String>()
        for c in cases {
            let name = c["name"] as! String, kind = c["loss"] as! String
            kinds.insert(kind)
            let options = c["options"] as! [String: Any]
            let inputs = (c["inputs"] as! [String: Any]).mapValues(Fixtures.tensor)
            let reduction = LossReduction(rawValue: options["reduction"] as! String)!
            let grads = (c["grads"] as! [String: Any]).mapValues(Fixtures.tensor)
            // Leaves for the inputs torch differentiated; constants for the rest.
            var leaves: [String: Variable] = [:]
            for (k, v) in inputs { leaves[k] = Variable(v, requiresGrad: grads[k] != nil) }
            let out: Variable
            switch kind {
            case "cross_entropy":
                let t = c["targets"] as! [String: Any]
                let targets = NDArray((t["data"] as! [NSNumber]).map { Int32($0.intValue) },
                                      shape: (t["shape"] as! [NSNumber]).map(\.intValue))
                out = Variable.crossEntropy(leaves["logits"]!, targets: targets, classWeights: inputs["class_weights"],
                                            sampleWeights: inputs["sample_weights"],
                                            ignoreIndex: Int32((options["ignore_index"] as! NSNumber).intValue),
                                            labelSmoothing: (options["label_smoothing"] as! NSNumber).floatValue,
                                            reduction: reduction, classAxis: (options["class_axis"] as! NSNumber).intValue)
            case "bce_with_logits":
                out = Variable.binaryCrossEntropyWithLogits(leaves["input"]!, targets: leaves["target"]!,
                                                            weight: inputs["weight"], positiveWeight: inputs["pos_weight"],
                                                            reduction: reduction)
            case "mse": out = Variable.meanSquaredError(leaves["input"]!, leaves["target"]!, reduction: reduction)
            case "l1": out = Variable.l1Loss(leaves["input"]!, leaves["target"]!, reduction: reduction)
            case "smooth_l1":
                out = Variable.smoothL1Loss(leaves["input"]!, leaves["target"]!,
                                            beta: (options["beta"] as! NSNumber).floatValue, reduction: reduction)
            case "margin_ranking":
                out = Variable.marginRankingLoss(leaves["input1"]!, leaves["input2"]!, target: inputs["target"]!,
                                                 margin: (options["margin"] as! NSNumber).floatValue, reduction: reduction)
            case "hinge_embedding":
                out = Variable.hingeEmbeddingLoss(leaves["input"]!, target: inputs["target"]!,
                                                  margin: (options["margin"] as! NSNumber).floatValue, reduction: reduction)
            default:
                XCTFail("\(name): unknown loss \(kind)"); continue
            }
            assertClose(out.value, Fixtures.tensor(c["expected"]!), rtol: 1e-5, atol: 1e-6, "\(name) value")
            let upstream = Fixtures.tensor(c["upstream"]!)
            out.backward(out.value.rank == 0 ? nil : upstream)
            for (k, expected) in grads {
                guard let actual = leaves[k]?.grad else { XCTFail("\(name): no gradient for \(k)"); continue }
                assertClose(actual, expected, rtol: 1e-5, atol: 1e-6, "\(name) ∂/∂\(k)")
            }
        }
        XCTAssertEqual(kinds, ["cross_entropy", "bce_with_logits", "mse", "l1", "smooth_l1", "margin_ranking", "hinge_embedding"])
    }

    // MARK: Hand-computed

    func testCrossEntropyByHand() {
        // Row [0, ln 3] (p = [1/4, 3/4]), target 1: ℓ = −ln(3/4). Row 2 ignored. Smoothing ε = 0.5, C = 2:
        // ℓ = ½·(−ln ¾) + ¼·(−ln ¼ − ln ¾) = ½ ln(4/3) + ¼ ln(16/3).
        let z = Variable(Tensor([0, Float(log(3.0)), 5, 1], shape: [2, 2]))
        let targets = NDArray<Int32>([1, -100], shape: [2])
        XCTAssertEqual(Variable.crossEntropy(z, targets: targets).value.item, Float(log(4.0 / 3)), accuracy: 1e-6)
        XCTAssertEqual(Variable.crossEntropy(z, targets: targets, labelSmoothing: 0.5).value.item,
                       Float(0.5 * log(4.0 / 3) + 0.25 * log(16.0 / 3)), accuracy: 1e-6)
        // Every target ignored: 0/0 = NaN for the mean (torch), 0 for the sum.
        let none = NDArray<Int32>([-100, -100], shape: [2])
        XCTAssertTrue(Variable.crossEntropy(z, targets: none).value.item.isNaN)
        XCTAssertEqual(Variable.crossEntropy(z, targets: none, reduction: .sum).value.item, 0)
        // No rows at all: the same (torch gives NaN and 0).
        let empty = Variable(Tensor.zeros([0, 3]), requiresGrad: true)
        XCTAssertTrue(Variable.crossEntropy(empty, targets: NDArray<Int32>([], shape: [0])).value.item.isNaN)
        let emptySum = Variable.crossEntropy(empty, targets: NDArray<Int32>([], shape: [0]), reduction: .sum)
        XCTAssertEqual(emptySum.value.item, 0)
        emptySum.backward()
        XCTAssertEqual(empty.grad?.shape, [0, 3])
    }

    func testOtherLossesByHand() {
        let x = Variable(Tensor([0.5, -2, 3])), y = Variable(Tensor([1, 1, 1]))
        // d = [−0.5, −3, 2]: MSE (0.25 + 9 + 4)/3; L1 5.5/3; smooth L1 (β = 1): 0.125 + 2.5 + 1.5.
        XCTAssertEqual(Variable.meanSquaredError(x, y).value.item, 13.25 / 3, accuracy: 1e-6)
        XCTAssertEqual(Variable.l1Loss(x, y).value.item, 5.5 / 3, accuracy: 1e-6)
        XCTAssertEqual(Variable.smoothL1Loss(x, y, reduction: .sum).value.item, 4.125, accuracy: 1e-6)
        // BCE at x = 0: ln 2 per element whatever y.
        XCTAssertEqual(Variable.binaryCrossEntropyWithLogits(Variable(Tensor.zeros([4])), targets: Variable(Tensor([0, 1, 0.3, 1]))).value.item,
                       Float(log(2.0)), accuracy: 1e-6)
        // Margin ranking, margin 1: y = 1, x₁ − x₂ = 0.5 → 0.5; y = −1, x₁ − x₂ = −2 → 0.
        XCTAssertEqual(Variable.marginRankingLoss(Variable(Tensor([1, 0])), Variable(Tensor([0.5, 2])), target: Tensor([1, -1]),
                                                  margin: 1, reduction: .none).value.scalars, [0.5, 0])
        // Hinge embedding, margin 1: y = 1 → x; y = −1 → max(0, 1 − x).
        XCTAssertEqual(Variable.hingeEmbeddingLoss(Variable(Tensor([0.3, 0.3, 2])), target: Tensor([1, -1, -1]),
                                                   reduction: .none).value.scalars, [0.3, 0.7, 0])
    }

    func testCrossEntropyIsStableForHugeLogits() {
        let z = Variable(Tensor([1000, -1000, 0, 500], shape: [2, 2]), requiresGrad: true)
        let loss = Variable.crossEntropy(z, targets: NDArray<Int32>([1, 0], shape: [2]), reduction: .none)
        XCTAssertEqual(loss.value.scalars, [2000, 500])
        loss.sum().backward()
        XCTAssertEqual(z.grad?.scalars, [1, -1, -1, 1])
    }

    // MARK: Finite differences

    func testCrossEntropyGradients() {
        let logits = randomTensor([5, 4], seed: 11) * 2
        let targets = NDArray<Int32>([0, 3, -100, 1, 2], shape: [5])
        let classWeights = Tensor([0.5, 2, 1, 1.5]), samples = Tensor([1, 0.5, 2, 0.25, 1.5])
        for reduction in LossReduction.allCases {
            assertGradients([logits]) { Variable.crossEntropy($0[0], targets: targets, reduction: reduction) }
        }
        assertGradients([logits]) {
            Variable.crossEntropy($0[0], targets: NDArray<Int32>([0, 3, 2, 1, 3], shape: [5]), ignoreIndex: 3)
        }
        assertGradients([logits]) { Variable.crossEntropy($0[0], targets: targets, labelSmoothing: 0.3) }
        assertGradients([logits]) { Variable.crossEntropy($0[0], targets: targets, classWeights: classWeights) }
        assertGradients([logits]) { Variable.crossEntropy($0[0], targets: targets, sampleWeights: samples) }
        assertGradients([logits]) {
            Variable.crossEntropy($0[0], targets: targets, classWeights: classWeights, sampleWeights: samples,
                                  labelSmoothing: 0.2, reduction: .none)
        }
        // Classes on axis 1 of [N, C, d] and classes last of [B, T, C] (with more than 8 classes for the SIMD path).
        let spatial = randomTensor([2, 3, 4], seed: 12) * 2
        assertGradients([spatial]) {
            Variable.crossEntropy($0[0], targets: NDArray<Int32>([0, 2, 1, 1, 2, 0, -100, 1], shape: [2, 4]), labelSmoothing: 0.1)
        }
        let wide = randomTensor([2, 2, 11], seed: 13) * 2
        assertGradients([wide]) {
            Variable.crossEntropy($0[0], targets: NDArray<Int32>([10, 0, 5, 7], shape: [2, 2]), labelSmoothing: 0.1,
                                  classAxis: -1)
        }
    }

    func testBinaryCrossEntropyGradients() {
        let x = randomTensor([3, 4], seed: 21) * 4, y = randomTensor([3, 4], seed: 22, low: 0, high: 1)
        for reduction in LossReduction.allCases {
            assertGradients([x, y]) { Variable.binaryCrossEntropyWithLogits($0[0], targets: $0[1], reduction: reduction) }
        }
        assertGradients([x, y]) {
            Variable.binaryCrossEntropyWithLogits($0[0], targets: $0[1], weight: Tensor([1, 0.5, 2, 1]),
                                                  positiveWeight: Tensor([3, 1, 0.5, 2]))
        }
    }

    func testRegressionLossGradients() {
        let x = randomTensor([3, 5], seed: 31) * 2, y = randomTensor([3, 5], seed: 32) * 2
        for reduction in LossReduction.allCases {
            assertGradients([x, y]) { Variable.meanSquaredError($0[0], $0[1], reduction: reduction) }
            assertGradients([x, y], epsilon: 1e-3) { Variable.l1Loss($0[0], $0[1], reduction: reduction) }
        }
        for beta: Float in [1, 0.3, 0] {
            assertGradients([x, y], epsilon: 1e-3) { Variable.smoothL1Loss($0[0], $0[1], beta: beta) }
        }
    }

    func testRankingAndHingeGradients() {
        let x1 = randomTensor([12], seed: 41) * 2, x2 = randomTensor([12], seed: 42) * 2
        let y = Tensor(shape: [12]) { $0 % 3 == 0 ? -1 : 1 }
        for margin: Float in [0, 0.5] {
            assertGradients([x1, x2], epsilon: 1e-3) { Variable.marginRankingLoss($0[0], $0[1], target: y, margin: margin) }
            assertGradients([x1], epsilon: 1e-3) {
                Variable.hingeEmbeddingLoss($0[0], target: y, margin: margin + 1, reduction: .sum)
            }
        }
    }
}
