import XCTest
@testable import MLCore

final class RandomGeneratorTests: XCTestCase {
    /// The reference output of pcg32-demo (O'Neill's PCG C library): pcg32_srandom_r(&rng, 42, 54),
    /// then six calls of pcg32_random_r.
    func testMatchesPCG32ReferenceSequence() {
        var g = RandomGenerator(seed: 42, stream: 54)
        let first6 = (0..<6).map { _ in g.nextUInt32() }
        XCTAssertEqual(first6, [0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e])
    }

    /// Fixed values of the derived samplers, so a change to any of them is caught on every machine.
    func testFixedDerivedValues() {
        var g = RandomGenerator(seed: 42, stream: 54)
        // uniform = (0xa15c02b7 >> 8) · 2^-24 = 0xa15c02 / 2^24.
        XCTAssertEqual(g.uniform(), Float(0xa15c02) / 16_777_216)
        // next() pairs two outputs, high word first.
        XCTAssertEqual(g.next(), 0x7b47f409_ba1d3330)
        var h = RandomGenerator(seed: 7)
        let perm = h.permutation(10)
        XCTAssertEqual(perm.sorted(), Array(0..<10))
        var h2 = RandomGenerator(seed: 7)
        XCTAssertEqual(h2.permutation(10), perm, "same seed, same permutation")
        var other = RandomGenerator(seed: 7, stream: 1)
        XCTAssertNotEqual(other.permutation(10), perm, "another stream gives another sequence")
    }

    func testUniformRangeExcludesItsUpperBound() {
        // u = 1 − 2⁻²⁴ (the largest draw): 0.9 + 0.2·u rounds to 1.1 in Float, as 0.5 + 0.5·u to 1 and
        // 0.2 + 0.3·u to 0.5 (checked with numpy float32); the result stays below the bound.
        let u: Float = 1 - 0x1p-24
        for (low, high) in [(Float(0.9), Float(1.1)), (0.5, 1), (0.2, 0.5), (-1, 1), (50, 190)] {
            let v = RandomGenerator.scaled(u, low, high)
            XCTAssertLessThan(v, high, "[\(low), \(high))")
            XCTAssertGreaterThan(v, high - 1e-4 * (high - low) - 1e-5, "[\(low), \(high))")
        }
        XCTAssertEqual(RandomGenerator.scaled(0, 0.9, 1.1), 0.9)
        XCTAssertEqual(RandomGenerator.scaled(0.5, 2, 2), 2, "an empty range gives its bound")
    }

    func testBoundedIntegersAreInRangeAndCoverIt() {
        var g = RandomGenerator(seed: 1)
        var seen = Set<Int>()
        for _ in 0..<2000 {
            let v = g.nextInt(below: 7)
            XCTAssert((0..<7).contains(v))
            seen.insert(v)
        }
        XCTAssertEqual(seen.count, 7)
        XCTAssertEqual(g.nextInt(below: 1), 0)
    }

    func testMomentsOfUniformAndNormal() {
        var g = RandomGenerator(seed: 2026)
        let n = 200_000
        let u = Tensor.uniform([n], low: -1, high: 3, using: &g)
        XCTAssertEqual(u.mean().item, 1, accuracy: 0.01)              // (−1 + 3) / 2
        XCTAssertEqual(u.variance().item, 16.0 / 12.0, accuracy: 0.01)  // (b − a)² / 12
        XCTAssertGreaterThanOrEqual(u.min().item, -1)
        XCTAssertLessThan(u.max().item, 3)
        let z = Tensor.normal([n], mean: 2, std: 0.5, using: &g)
        XCTAssertEqual(z.mean().item, 2, accuracy: 0.005)
        XCTAssertEqual(z.variance().item, 0.25, accuracy: 0.005)
    }

    func testBernoulliAndCategoricalFrequencies() {
        var g = RandomGenerator(seed: 3)
        let n = 100_000
        let hits = (0..<n).filter { _ in g.bernoulli(0.3) }.count
        XCTAssertEqual(Double(hits) / Double(n), 0.3, accuracy: 0.01)
        var counts = [0, 0, 0, 0]
        for _ in 0..<n { counts[g.categorical([1, 0, 2, 1])] += 1 }
        XCTAssertEqual(counts[1], 0, "a zero weight is never drawn")
        XCTAssertEqual(Double(counts[2]) / Double(n), 0.5, accuracy: 0.01)
        XCTAssertEqual(Double(counts[0]) / Double(n), 0.25, accuracy: 0.01)
    }

    func testShuffledBatchesPartitionTheIndices() {
        var g = RandomGenerator(seed: 4)
        let batches = g.shuffledBatches(count: 10, batchSize: 4)
        XCTAssertEqual(batches.map(\.count), [4, 4, 2])
        XCTAssertEqual(batches.flatMap { $0 }.sorted(), Array(0..<10))
        var g2 = RandomGenerator(seed: 4)
        XCTAssertEqual(g2.shuffledBatches(count: 10, batchSize: 4, dropLast: true).map(\.count), [4, 4])
    }
}
