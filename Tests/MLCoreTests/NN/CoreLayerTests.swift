import XCTest
@testable import MLCore

/// Linear, Embedding, LayerNorm, RMSNorm, Dropout: values against hand computations and
/// gradients against finite differences.
final class CoreLayerTests: XCTestCase {
    func testLayerNormValuesMatchDefinition() {
        // Row [1, 2, 3, 4]: μ = 2.5, σ² = 1.25 → x̂ = (x − 2.5)/√1.25; γ = [1, 2, 1, 1], β = [0, 0, 1, 0].
        let x = Variable(Tensor([1, 2, 3, 4], shape: [1, 4]))
        let y = Variable.layerNorm(x, weight: Variable(Tensor([1, 2, 1, 1])), bias: Variable(Tensor([0, 0, 1, 0])), epsilon: 0)
        let s = Float(1.25).squareRoot()
        assertClose(y.value, Tensor([-1.5 / s, -1 / s, 0.5 / s + 1, 1.5 / s], shape: [1, 4]), rtol: 1e-6, atol: 1e-6)
    }

    /// Rows of 8 lanes plus a tail (D = 21), far from zero mean (x ≈ 1000 ± 1: a one-pass
    /// Σx² − (Σx)² in float would lose every digit), against the definition in float64.
    func testLayerNormVectorRowsAndTailMatchFloat64Definition() {
        let d = 21
        let x = randomTensor([3, d], seed: 7) + 1000, w = randomTensor([d], seed: 8), b = randomTensor([d], seed: 9)
        let y = Variable.layerNorm(Variable(x), weight: Variable(w), bias: Variable(b), epsilon: 1e-5).value
        let px = x.scalars, pw = w.scalars, pb = b.scalars
        let expected = Tensor(shape: [3, d]) { idx in
            let row = (idx / d) * d
            let values = (0..<d).map { Double(px[row + $0]) }
            let mu = values.reduce(0, +) / Double(d)
            let variance = values.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(d)
            let i = idx % d
            return Float((values[i] - mu) / (variance + 1e-5).squareRoot() * Double(pw[i]) + Double(pb[i]))
        }
        assertClose(y, expected, rtol: 1e-3, atol: 1e-3)
    }

    func testLayerNormGradients() {
        let x = randomTensor([2, 3, 5], seed: 1) * 3
        assertGradients([x, randomTensor([5], seed: 2), randomTensor([5], seed: 3)]) {
            Variable.layerNorm($0[0], weight: $0[1], bias: $0[2], epsilon: 1e-5)
        }
        assertGradients([x]) { Variable.layerNorm($0[0], weight: nil, bias: nil, epsilon: 1e-5) }
    }

    func testRMSNormValuesAndGradients() {
        // Row [3, 4]: mean(x²) = 12.5 → y = x/√12.5 · γ.
        let y = Variable.rmsNorm(Variable(Tensor([3, 4], shape: [1, 2])), weight: Variable(Tensor([1, 2])), epsilon: 0)
        let r = Float(12.5).squareRoot()
        assertClose(y.value, Tensor([3 / r, 8 / r], shape: [1, 2]), rtol: 1e-6, atol: 1e-6)
        assertGradients([randomTensor([3, 6], seed: 4), randomTensor([6], seed: 5)]) {
            Variable.rmsNorm($0[0], weight: $0[1], epsilon: 1e-6)
        }
    }

    func testLinearLayerAndInitialisationBounds() {
        let factory = ParameterFactory(seed: 1)
        let layer = Linear("fc", inFeatures: 16, outFeatures: 3, factory: factory)
        XCTAssertEqual(layer.parameters.map(\.name), ["fc.weight", "fc.bias"])
        XCTAssertLessThanOrEqual(layer.weight.value.abs().max().item, 0.25)  // 1/√16
        let x = randomTensor([2, 16], seed: 2)
        let expected = Tensor.matmul(x, layer.weight.value, transposeB: true) + layer.bias!.value
        assertClose(layer(Variable(x)).value, expected, rtol: 1e-6, atol: 1e-6)
    }

    func testEmbeddingGradientAccumulatesRepeatedIds() {
        let factory = ParameterFactory(seed: 3)
        let table = Embedding(name: "emb", count: 4, dimension: 2, factory: factory)
        let out = table(NDArray<Int32>([1, 3, 1], shape: [3]))
        XCTAssertEqual(out.shape, [3, 2])
        out.sum().backward()
        XCTAssertEqual(table.weight.grad?.scalars, [0, 0, 2, 2, 0, 0, 1, 1])
    }

    func testDropoutScalesSurvivorsAndIsIdentityInInference() {
        let x = Variable(Tensor.ones([1000]))
        XCTAssertEqual(x.dropout(0.3, context: nil).value.scalars, x.value.scalars)
        let context = ForwardContext(training: true, seed: 5)
        let y = x.dropout(0.25, context: context).value.scalars
        XCTAssertTrue(y.allSatisfy { $0 == 0 || Swift.abs($0 - 4 / 3) < 1e-6 })
        let kept = y.filter { $0 != 0 }.count
        XCTAssertEqual(Double(kept) / 1000, 0.75, accuracy: 0.05)
    }

    func testDropoutGradientWithAFixedMask() {
        // A fresh context with the same seed draws the same mask on every evaluation.
        assertGradients([randomTensor([4, 5], seed: 8)]) { $0[0].dropout(0.4, context: ForwardContext(training: true, seed: 9)) }
    }

    func testPlaceholdersLoadStrictlyFromAStateDict() throws {
        let layer = Linear("fc", inFeatures: 2, outFeatures: 2, factory: .placeholders())
        XCTAssertEqual(layer.weight.shape, [2, 2])
        XCTAssertThrowsError(try layer.load(stateDict: ["fc.weight": Tensor.zeros([2, 3])])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("fc.bias") && text.contains("fc.weight"), text)
        }
        try layer.load(stateDict: ["fc.weight": Tensor([1, 2, 3, 4], shape: [2, 2]), "fc.bias": Tensor([0, 1])])
        XCTAssertEqual(layer(Variable(Tensor([1, 1], shape: [1, 2]))).value.scalars, [3, 8])
    }
}
