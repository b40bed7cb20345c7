import XCTest
@testable import MLCore

/// Finite-difference checks of reductions, (log-)softmax and matrix products.
final class ReductionGradientTests: XCTestCase {
    private let x = randomTensor([2, 3, 4], seed: 11)

    func testSumAll() { assertGradients([x]) { $0[0].sum() } }
    func testSumAxes() { assertGradients([x]) { $0[0].sum(axes: [0, 2], keepingDimensions: false) } }
    func testMean() { assertGradients([x]) { $0[0].mean(axis: 1, keepingDimensions: true) } }
    func testVariance() { assertGradients([x]) { $0[0].variance(axes: [2], correction: 1) } }
    /// Distinct values 0.1 apart (a permutation), so no ε-step changes which element is extreme.
    private var separated: Tensor {
        var rng = RandomGenerator(seed: 12)
        return rng.permutation(24).map { Float($0) * 0.1 }.withShape([2, 3, 4])
    }
    func testMax() { assertGradients([separated]) { $0[0].max(axis: 1) } }
    func testMin() { assertGradients([separated]) { $0[0].min(axis: -1, keepingDimensions: true) } }
    func testMaxSplitsTiesEvenly() {
        let v = Variable(Tensor([1, 3, 3]), requiresGrad: true)
        v.max(axis: 0).backward()
        XCTAssertEqual(v.grad?.scalars, [0, 0.5, 0.5])
    }
    func testLogSumExp() { assertGradients([x * 3]) { $0[0].logSumExp(axis: 1) } }
    func testSoftmaxLastAxis() { assertGradients([x * 3]) { $0[0].softmax() } }
    func testSoftmaxMiddleAxis() { assertGradients([x * 3]) { $0[0].softmax(axis: 1) } }
    func testLogSoftmax() { assertGradients([x * 3]) { $0[0].logSoftmax(axis: -1) } }
    func testLogSoftmaxFirstAxis() { assertGradients([x * 3]) { $0[0].logSoftmax(axis: 0) } }

    func testMatmul() {
        assertGradients([randomTensor([3, 4], seed: 1), randomTensor([4, 5], seed: 2)]) { Variable.matmul($0[0], $0[1]) }
    }
    func testMatmulTransposeFlags() {
        for (tA, tB) in [(true, false), (false, true), (true, true)] {
            let a = randomTensor(tA ? [4, 3] : [3, 4], seed: 3), b = randomTensor(tB ? [5, 4] : [4, 5], seed: 4)
            assertGradients([a, b]) { Variable.matmul($0[0], $0[1], transposeA: tA, transposeB: tB) }
        }
    }
    func testMatmulBatchedWithSharedWeight() {
        for tB in [false, true] {
            let a = randomTensor([2, 3, 4], seed: 5), b = randomTensor(tB ? [5, 4] : [4, 5], seed: 6)
            assertGradients([a, b]) { Variable.matmul($0[0], $0[1], transposeB: tB) }
        }
    }
    func testMatmulBatchBroadcast() {
        let a = randomTensor([2, 1, 3, 4], seed: 7), b = randomTensor([3, 4, 2], seed: 8)
        assertGradients([a, b]) { Variable.matmul($0[0], $0[1]) }
    }
    func testMatmulTransposedBatched() {
        // Attention-style: Q [B,H,T,D] · Kᵀ.
        let q = randomTensor([2, 2, 3, 4], seed: 9), k = randomTensor([2, 2, 3, 4], seed: 10)
        assertGradients([q, k]) { Variable.matmul($0[0], $0[1], transposeB: true) }
    }
    func testMatmulVectors() {
        assertGradients([randomTensor([4], seed: 1), randomTensor([4, 3], seed: 2)]) { Variable.matmul($0[0], $0[1]) }
        assertGradients([randomTensor([3, 4], seed: 3), randomTensor([4], seed: 4)]) { Variable.matmul($0[0], $0[1]) }
    }
    func testLinear() {
        let input = randomTensor([2, 3, 4], seed: 12), w = randomTensor([5, 4], seed: 13), b = randomTensor([5], seed: 14)
        assertGradients([input, w, b]) { Variable.linear($0[0], weight: $0[1], bias: $0[2]) }
        assertGradients([input, w]) { Variable.linear($0[0], weight: $0[1]) }
    }
}
