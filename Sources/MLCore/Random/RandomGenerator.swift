import Foundation

/// A seeded pseudo-random generator, passed explicitly wherever randomness is needed, so that the
/// same seed gives the same numbers on every machine and thread count.
///
/// The core is PCG32 (M. E. O'Neill, "PCG: A Family of Simple Fast Space-Efficient Statistically Good
/// Algorithms for Random Number Generation", 2014; pcg32_srandom_r / pcg32_random_r of the reference
/// C implementation): 64-bit LCG state, XSH-RR output. `stream` selects one of 2^63 independent
/// sequences for the same seed (e.g. one per worker or per shard).
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var stateBits: UInt64 = 0
    private let increment: UInt64
    /// A spare standard normal from the last Box–Muller pair.
    private var spareNormal: Double?

    static let multiplier: UInt64 = 6_364_136_223_846_793_005

    /// A generator for `seed` on `stream` (pcg32_srandom_r(seed, stream)).
    public init(seed: UInt64, stream: UInt64 = 54) {
        increment = (stream << 1) | 1
        _ = nextUInt32()
        stateBits &+= seed
        _ = nextUInt32()
    }

    /// Everything that determines the generator's future output: the PCG32 state, its stream
    /// increment and the spare Box–Muller normal. Saved with a training run so that a resumed run
    /// draws what the uninterrupted run would have drawn (`TrainingLoop`).
    public struct State: Codable, Sendable, Equatable {
        /// The 64-bit LCG state.
        public var state: UInt64
        /// The LCG increment (2·stream + 1).
        public var increment: UInt64
        /// The spare normal of the last Box–Muller pair, if one is pending.
        public var spareNormal: Double?

        public init(state: UInt64, increment: UInt64, spareNormal: Double?) {
            self.state = state
            self.increment = increment
            self.spareNormal = spareNormal
        }

        enum CodingKeys: String, CodingKey { case state, increment, spareNormal = "spare_normal" }

        // The 64-bit words are written as decimal strings: JSON readers (and JSONValue) hold numbers
        // as Double or Int, which cannot carry every UInt64.
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            func word(_ key: CodingKeys) throws -> UInt64 {
                let text = try c.decode(String.self, forKey: key)
                guard let value = UInt64(text) else {
                    throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "'\(text)' is not a 64-bit unsigned integer")
                }
                return value
            }
            state = try word(.state)
            increment = try word(.increment)
            spareNormal = try c.decodeIfPresent(Double.self, forKey: .spareNormal)
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(String(state), forKey: .state)
            try c.encode(String(increment), forKey: .increment)
            try c.encodeIfPresent(spareNormal, forKey: .spareNormal)
        }
    }

    /// The generator's current state (see `init(state:)`).
    public var state: State {
        State(state: stateBits, increment: increment, spareNormal: spareNormal)
    }

    /// A generator that continues exactly where the one that produced `state` was.
    public init(state: State) {
        stateBits = state.state
        increment = state.increment
        spareNormal = state.spareNormal
    }

    /// The next 32 uniformly distributed bits.
    public mutating func nextUInt32() -> UInt32 {
        let old = stateBits
        stateBits = old &* RandomGenerator.multiplier &+ increment
        let xorShifted = UInt32(truncatingIfNeeded: ((old >> 18) ^ old) >> 27)
        let rotation = UInt32(truncatingIfNeeded: old >> 59)
        return (xorShifted >> rotation) | (xorShifted << ((~rotation &+ 1) & 31))
    }

    /// 64 bits: two consecutive 32-bit outputs, high word first.
    public mutating func next() -> UInt64 {
        let high = UInt64(nextUInt32())
        return (high << 32) | UInt64(nextUInt32())
    }

    /// A uniform integer in `0..<bound` without modulo bias (Lemire's multiply-and-reject on 32 bits).
    /// - Precondition: `0 < bound ≤ 2^32`.
    public mutating func nextInt(below bound: Int) -> Int {
        require(bound > 0 && UInt64(bound) <= 1 << 32, "nextInt(below:): bound \(bound) outside 1...2^32")
        let b = UInt64(bound)
        var m = UInt64(nextUInt32()) * b
        if (m & 0xFFFF_FFFF) < b {
            let threshold = (1 << 32 - b) % b
            while (m & 0xFFFF_FFFF) < threshold { m = UInt64(nextUInt32()) * b }
        }
        return Int(m >> 32)
    }

    /// A uniform Float in [0, 1) with 24 random bits (every representable multiple of 2^-24).
    public mutating func uniform() -> Float { Float(nextUInt32() >> 8) * 0x1p-24 }

    /// A uniform Float in [low, high) (for low < high; low when they are equal).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { Self.scaled(uniform(), low, high) }

    /// low + (high − low)·u for u in [0, 1), kept below `high`: rounding can otherwise give exactly
    /// `high` for u close to 1 (e.g. u = 1 − 2⁻²⁴ in [0.9, 1.1)); such a value becomes the largest
    /// Float below `high`.
    static func scaled(_ u: Float, _ low: Float, _ high: Float) -> Float {
        let v = low + (high - low) * u
        return v < high || low >= high ? v : Swift.max(low, high.nextDown)
    }

    /// A uniform Double in [0, 1) with 53 random bits.
    public mutating func uniformDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A standard normal sample (Box–Muller in Double; pairs are used in order).
    public mutating func normal() -> Float {
        if let spare = spareNormal {
            spareNormal = nil
            return Float(spare)
        }
        var u1 = uniformDouble()
        while u1 == 0 { u1 = uniformDouble() }
        let u2 = uniformDouble()
        let radius = (-2 * Foundation.log(u1)).squareRoot()
        spareNormal = radius * Foundation.sin(2 * Double.pi * u2)
        return Float(radius * Foundation.cos(2 * Double.pi * u2))
    }

    /// A normal sample with the given mean and standard deviation.
    public mutating func normal(mean: Float, std: Float) -> Float { mean + std * normal() }

    /// True with probability `p`.
    /// - Precondition: 0 ≤ p ≤ 1.
    public mutating func bernoulli(_ p: Float) -> Bool {
        require(p >= 0 && p <= 1, "bernoulli: probability \(p) outside [0, 1]")
        return uniform() < p
    }

    /// An index drawn with probability proportional to `weights` (non-negative, not all zero;
    /// need not sum to 1), by inverse CDF on a Double running sum.
    /// - Precondition: weights non-empty, finite, non-negative, with a positive sum.
    public mutating func categorical(_ weights: [Float]) -> Int {
        var total = 0.0
        for w in weights {
            require(w >= 0 && w.isFinite, "categorical: weight \(w) is negative or not finite")
            total += Double(w)
        }
        require(total > 0, "categorical: weights \(weights.prefix(8)) sum to zero")
        let target = uniformDouble() * total
        var running = 0.0
        for (i, w) in weights.enumerated() {
            running += Double(w)
            if target < running { return i }
        }
        return weights.lastIndex { $0 > 0 }!
    }

    /// A uniformly random permutation of `0..<n` (Fisher–Yates, drawing from the end).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        shuffle(&p)
        return p
    }

    /// Shuffles `array` in place (Fisher–Yates with `nextInt(below:)`).
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, nextInt(below: i + 1))
        }
    }

    /// The indices `0..<n` shuffled and cut into batches of `batchSize` (the last one shorter unless
    /// `dropLast`), one epoch of a data loader.
    /// - Precondition: batchSize > 0.
    public mutating func shuffledBatches(count n: Int, batchSize: Int, dropLast: Bool = false) -> [[Int]] {
        require(batchSize > 0, "shuffledBatches: batch size \(batchSize) must be positive")
        let order = permutation(n)
        var batches: [[Int]] = []
        var start = 0
        while start < n {
            let end = Swift.min(start + batchSize, n)
            if end - start == batchSize || !dropLast { batches.append(Array(order[start..<end])) }
            start = end
        }
        return batches
    }
}

extension Tensor {
    /// Uniform samples in [low, high) of `shape`, drawn in row-major order.
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1,
                               using generator: inout RandomGenerator) -> Tensor {
        Tensor(shape: shape) { _ in generator.uniform(low, high) }
    }

    /// Normal samples of `shape`, drawn in row-major order.
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1,
                              using generator: inout RandomGenerator) -> Tensor {
        Tensor(shape: shape) { _ in generator.normal(mean: mean, std: std) }
    }
}
