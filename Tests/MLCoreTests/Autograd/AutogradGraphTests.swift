import XCTest
@testable import MLCore

/// Semantics of the graph: accumulation, freeing, inference mode, frozen parameters, seeds.
final class AutogradGraphTests: XCTestCase {
    func testHandComputedGradientOfPolynomial() {
        // L = Σ (x² · y + x), x = [1, 2], y = [3, −1] → ∂L/∂x = 2xy + 1 = [7, −3], ∂L/∂y = x² = [1, 4].
        let x = Variable(Tensor([1, 2]), requiresGrad: true), y = Variable(Tensor([3, -1]), requiresGrad: true)
        (x * x * y + x).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [7, -3])
        XCTAssertEqual(y.grad?.scalars, [1, 4])
    }

    func testGradientsAccumulateAcrossBackwardCallsUntilZeroed() {
        let w = Parameter(Tensor([2, 3]), name: "w")
        (w * 2).sum().backward()
        (w * 3).sum().backward()
        XCTAssertEqual(w.grad?.scalars, [5, 5])
        w.zeroGradient()
        XCTAssertNil(w.grad)
    }

    func testSharedSubexpressionSumsBothPaths() {
        // y = x·x used twice: L = Σ(y + 2y) = 3Σx² → 6x.
        let x = Variable(Tensor([1, -2, 0.5]), requiresGrad: true)
        let y = x * x
        (y + y * 2).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [6, -12, 3])
    }

    func testGraphIsFreedAfterBackward() {
        let x = Variable(Tensor([1, 2]), requiresGrad: true)
        let y = x.exp()
        let loss = (y * 3).sum()
        XCTAssertNotNil(y.node)
        loss.backward()
        XCTAssertNil(loss.node)
        XCTAssertNil(y.node)
    }

    func testInferenceModeRecordsNothing() {
        let w = Parameter(Tensor([1, 2]), name: "w")
        let y = withoutGradient { (w * w).exp().sum() }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertNil(y.node)
        XCTAssertEqual(y.value.item, Float(Foundation.exp(1.0) + Foundation.exp(4.0)), accuracy: 1e-4)
        // Nested: recording on again inside.
        let z = withoutGradient { withGradient { (w * 2).sum() } }
        XCTAssertTrue(z.requiresGrad)
    }

    func testFrozenParameterGetsNoGradient() {
        let a = Parameter(Tensor([1, 2]), name: "a"), b = Parameter(Tensor([3, 4]), name: "b", trainable: false)
        (a * b).sum().backward()
        XCTAssertEqual(a.grad?.scalars, [3, 4])
        XCTAssertNil(b.grad)
        // Only frozen inputs: nothing is recorded.
        XCTAssertFalse((b * 2).requiresGrad)
    }

    func testNonScalarOutputWithUpstreamGradient() {
        // y = 3x; backward with g = [1, 10, 100] gives 3g.
        let x = Variable(Tensor([1, 2, 3]), requiresGrad: true)
        (x * 3).backward(Tensor([1, 10, 100]))
        XCTAssertEqual(x.grad?.scalars, [3, 30, 300])
    }

    func testBroadcastGradientIsSummedToInputShape() {
        // x [2,3] + b [3]: ∂/∂b = column sums of the upstream gradient (ones) = [2, 2, 2].
        let x = Variable(Tensor.zeros([2, 3]), requiresGrad: true), b = Variable(Tensor([1, 2, 3]), requiresGrad: true)
        (x + b).sum().backward()
        XCTAssertEqual(b.grad?.shape, [3])
        XCTAssertEqual(b.grad?.scalars, [2, 2, 2])
        XCTAssertEqual(x.grad?.scalars, [1, 1, 1, 1, 1, 1])
    }

    func testDetachedStopsGradient() {
        let x = Variable(Tensor([2]), requiresGrad: true)
        (x * x.detached()).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [2])  // only the live factor: ∂(x·c)/∂x = c = 2
    }

    func testGradientCheckDetectsAWrongGradient() {
        // A deliberately wrong op (forward x², backward claims x): the checker must fail it.
        let results = GradientCheck.check([Tensor([0.5, -1.5, 2])]) { v in
            Variable.record(v[0].value.square(), op: "wrong", [v[0]]) { g, _ in [g * v[0].value] }
        }
        XCTAssertEqual(results.count, 1)
        XCTAssertFalse(results[0].passed)
    }
}
