import XCTest
@testable import MLCore

/// Deterministic test inputs: values in [low, high) from a seeded generator.
func randomTensor(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return Tensor(shape: shape) { _ in rng.uniform(low, high) }
}

/// Asserts that the analytic gradients of `function` match central finite differences for every
/// input (or those in `checking`).
func assertGradients(_ inputs: [Tensor], epsilon: Float = 1e-2, atol: Float = 2e-3, rtol: Float = 1e-2,
                     checking: [Int]? = nil, file: StaticString = #filePath, line: UInt = #line,
                     _ function: ([Variable]) -> Variable) {
    let results = GradientCheck.check(inputs, epsilon: epsilon, absoluteTolerance: atol, relativeTolerance: rtol,
                                      checking: checking, function)
    XCTAssertFalse(results.isEmpty, file: file, line: line)
    for r in results { XCTAssertTrue(r.passed, r.description, file: file, line: line) }
}
