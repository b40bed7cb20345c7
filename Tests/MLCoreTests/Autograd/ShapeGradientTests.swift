import XCTest
@testable import MLCore

/// Finite-difference checks of the shape ops (one test each).
final class ShapeGradientTests: XCTestCase {
    private let x = randomTensor([2, 3, 4], seed: 21)

    func testReshape() { assertGradients([x]) { $0[0].reshaped([4, -1]) * $0[0].reshaped([4, 6]).exp() } }
    func testFlatten() { assertGradients([x]) { $0[0].flattened(from: 1).square() } }
    func testUnsqueezeSqueeze() { assertGradients([x]) { $0[0].unsqueezed(1).square().squeezed(1) } }
    func testPermute() { assertGradients([x]) { $0[0].permuted([2, 0, 1]) * Variable(Tensor.arange(3)) } }
    func testTranspose() { assertGradients([x]) { $0[0].transposed(0, 2).contiguous().square() } }
    func testExpand() {
        assertGradients([randomTensor([3, 1], seed: 3)]) { $0[0].expanded(to: [2, 3, 4]) * Variable(x) }
    }
    func testSlice() { assertGradients([x]) { $0[0].sliced(1..<3, axis: 1).square() } }
    func testSelect() { assertGradients([x]) { $0[0].selected(-1, axis: 2).square() } }
    func testConcatenate() {
        assertGradients([x, randomTensor([2, 1, 4], seed: 4)]) { Variable.concatenate([$0[0], $0[1]], axis: 1).square() }
    }
    func testStack() {
        assertGradients([x, randomTensor([2, 3, 4], seed: 5)]) { Variable.stack([$0[0], $0[1]], axis: 3).square() }
    }
    func testIndexSelectWithRepeats() {
        assertGradients([x]) { $0[0].indexSelect([2, 0, 2, 1], axis: 1).square() }
        assertGradients([randomTensor([5, 3], seed: 6)]) { $0[0].indexSelect([4, 4, 0], axis: 0).square() }
    }
    func testGather() {
        let index = NDArray<Int32>([2, 0, 1, 1, 0, 0], shape: [2, 3, 1])
        assertGradients([x]) { $0[0].gather(index, axis: 2).square() }
    }
}
