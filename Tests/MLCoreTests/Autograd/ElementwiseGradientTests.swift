import XCTest
@testable import MLCore

/// Finite-difference checks of every differentiable element-wise op (one test each).
final class ElementwiseGradientTests: XCTestCase {
    /// Values in ±[0.2, 1.2): away from the kinks of abs/relu at 0 by more than ε.
    private func offZero(_ shape: [Int], seed: UInt64) -> Tensor {
        randomTensor(shape, seed: seed).scalars.map { $0 + ($0 < 0 ? -0.2 : 0.2) }.withShape(shape)
    }
    private let a = randomTensor([3, 4], seed: 1)
    private let b = randomTensor([3, 4], seed: 2)
    private let row = randomTensor([4], seed: 3)
    private let positive = randomTensor([3, 4], seed: 4, low: 0.5, high: 2)

    func testAdd() { assertGradients([a, row]) { $0[0] + $0[1] } }
    func testSubtract() { assertGradients([a, row]) { $0[0] - $0[1] } }
    func testMultiply() { assertGradients([a, b]) { $0[0] * $0[1] } }
    func testMultiplyBroadcast() { assertGradients([a, randomTensor([3, 1], seed: 9)]) { $0[0] * $0[1] } }
    func testDivide() { assertGradients([a, positive]) { $0[0] / $0[1] } }
    func testNegate() { assertGradients([a]) { -$0[0] } }
    func testScalarOperations() {
        assertGradients([positive]) { v in ((v[0] + 1) * 3 - 2) / 4 + (2 - v[0]) + 5 / v[0] }
    }
    func testMaximum() { assertGradients([a, b]) { Variable.maximum($0[0], $0[1]) } }
    func testMinimum() { assertGradients([a, row]) { Variable.minimum($0[0], $0[1]) } }
    func testPow() { assertGradients([positive]) { $0[0].pow(2.5) } }
    func testPowBothOperands() { assertGradients([positive, b]) { Variable.pow($0[0], $0[1]) } }
    func testExp() { assertGradients([a]) { $0[0].exp() } }
    func testLog() { assertGradients([positive]) { $0[0].log() } }
    func testSqrt() { assertGradients([positive]) { $0[0].sqrt() } }
    func testRsqrt() { assertGradients([positive]) { $0[0].rsqrt() } }
    func testSquare() { assertGradients([a]) { $0[0].square() } }
    func testReciprocal() { assertGradients([positive]) { $0[0].reciprocal() } }
    func testAbs() { assertGradients([offZero([3, 4], seed: 5)]) { $0[0].abs() } }
    func testTanh() { assertGradients([a * 2]) { $0[0].tanh() } }
    func testErf() { assertGradients([a * 2]) { $0[0].erf() } }
    func testSigmoid() { assertGradients([a * 3]) { $0[0].sigmoid() } }
    func testGELU() { assertGradients([a * 3]) { $0[0].gelu() } }
    func testGELUTanh() { assertGradients([a * 3]) { $0[0].geluTanh() } }
    func testSiLU() { assertGradients([a * 3]) { $0[0].silu() } }
    func testReLU() { assertGradients([offZero([3, 4], seed: 6)]) { $0[0].relu() } }
    func testReLU6() {
        // Values on both sides of 0 and 6, away from the kinks.
        let x = Tensor([-1, -0.3, 0.4, 2, 5.5, 5.8, 6.3, 8], shape: [2, 4])
        assertGradients([x]) { $0[0].relu6() }
    }
    func testClamped() {
        let x = Tensor([-2, -0.7, -0.2, 0.1, 0.6, 0.9, 1.5, 3], shape: [8])
        assertGradients([x]) { $0[0].clamped(-0.5, 0.75) }
    }
    func testWhere() {
        let condition = Tensor([1, 0, 0, 1], shape: [4])
        assertGradients([a, row]) { Variable.select(condition, $0[0], $0[1]) }
    }
    func testMaskedFill() {
        let mask = Tensor([0, 1, 0, 0], shape: [1, 4])
        assertGradients([a]) { $0[0].maskedFill(mask, with: -1e4) }
    }
}

extension Array where Element == Float {
    func withShape(_ shape: [Int]) -> Tensor { Tensor(self, shape: shape) }
}
