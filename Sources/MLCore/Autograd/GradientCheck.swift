/// Central finite-difference gradient checking, for tests of every differentiable op and layer
/// (including the method libraries' own).
public enum GradientCheck {
    /// The result of comparing analytic and numerical gradients of one input.
    public struct Result: CustomStringConvertible {
        /// Index of the input.
        public let input: Int
        /// Largest |analytic − numeric| over the input's elements.
        public let maxAbsoluteError: Float
        /// Largest |analytic − numeric| / max(|numeric|, 1e-2 · scale) (scale = largest |numeric|).
        public let maxRelativeError: Float
        /// Whether every element is within `absoluteTolerance + relativeTolerance · |numeric|`.
        public let passed: Bool
        public var description: String {
            "input \(input): max abs error \(maxAbsoluteError), max rel error \(maxRelativeError) → \(passed ? "ok" : "FAILED")"
        }
    }

    /// Compares the gradients from `backward()` of L = Σ w ⊙ f(inputs) (w fixed random weights in
    /// [−1, 1], so every output element matters) with central differences
    /// (L(x + εeᵢ) − L(x − εeᵢ)) / 2ε, evaluated in Double from Float32 forward passes.
    ///
    /// - Parameters:
    ///   - inputs: the points at which to check; each becomes a trainable leaf.
    ///   - epsilon: the step ε (Float32 forward passes need ~1e-2…1e-3).
    ///   - checking: indices of the inputs to check (default all).
    ///   - function: the op under test.
    /// - Returns: one result per checked input.
    public static func check(_ inputs: [Tensor], epsilon: Float = 1e-2, absoluteTolerance: Float = 1e-3,
                             relativeTolerance: Float = 1e-2, checking: [Int]? = nil, seed: UInt64 = 7,
                             _ function: ([Variable]) -> Variable) -> [Result] {
        var rng = RandomGenerator(seed: seed)
        let leaves = inputs.map { Variable($0, requiresGrad: true) }
        let out = withGradient { function(leaves) }
        let weights = Tensor(shape: out.shape) { _ in rng.uniform(-1, 1) }
        withGradient { (out * weights).sum() }.backward()
        var results: [Result] = []
        for k in checking ?? Array(inputs.indices) {
            let analytic = leaves[k].grad?.scalars ?? [Float](repeating: 0, count: inputs[k].count)
            var numeric = [Float](repeating: 0, count: inputs[k].count)
            var xs = inputs.map { $0.contiguous() }
            for i in 0..<inputs[k].count {
                let original = xs[k].withUnsafeBufferPointer { $0[i] }
                xs[k].withUnsafeMutableBufferPointer { $0[i] = original + epsilon }
                let plus = weightedSum(function, xs, weights)
                xs[k].withUnsafeMutableBufferPointer { $0[i] = original - epsilon }
                let minus = weightedSum(function, xs, weights)
                xs[k].withUnsafeMutableBufferPointer { $0[i] = original }
                numeric[i] = Float((plus - minus) / (2 * Double(epsilon)))
            }
            let scale = numeric.map { Swift.abs($0) }.max() ?? 0
            var maxAbs: Float = 0, maxRel: Float = 0, passed = true
            for (a, n) in zip(analytic, numeric) {
                let err = Swift.abs(a - n)
                maxAbs = Swift.max(maxAbs, err)
                maxRel = Swift.max(maxRel, err / Swift.max(Swift.abs(n), 1e-2 * Swift.max(scale, 1e-6)))
                if !(err <= absoluteTolerance + relativeTolerance * Swift.abs(n)) { passed = false }
            }
            results.append(Result(input: k, maxAbsoluteError: maxAbs, maxRelativeError: maxRel, passed: passed))
        }
        return results
    }

    /// Σ w ⊙ f(xs) in Double, without recording.
    private static func weightedSum(_ function: ([Variable]) -> Variable, _ xs: [Tensor], _ weights: Tensor) -> Double {
        let y = withoutGradient { function(xs.map { Variable($0) }) }.value
        return (y * weights).scalars.reduce(0.0) { $0 + Double($1) }
    }
}
