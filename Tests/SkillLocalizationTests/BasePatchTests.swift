import XCTest
@testable import MLCore
@testable import SkillLocalization

final class BasePatchTests: XCTestCase {
    /// |Δ| = [.5, .1, .9, .3], s = 2 (sparsity 0.5 of N = 4): τ = .5 (the smaller of the top two);
    /// the strict rule keeps |Δ| > τ, only .9 (1 entry); true top-s keeps .9 and .5 (2 entries).
    func testStrictAndTrueTopS() throws {
        let delta = [Tensor([-0.5, 0.1, 0.9, -0.3])]
        let strict = try BasePatch.make(delta: delta, sparsity: 0.5, rule: .strict)
        XCTAssertEqual(strict[0].scalars, [0, 0, 1, 0])
        let top = try BasePatch.make(delta: delta, sparsity: 0.5, rule: .topS)
        XCTAssertEqual(top[0].scalars, [1, 0, 1, 0])
    }

    /// Ties at τ across tensors: Δ = [.5, .2] and [.5, .5]; s = 2 → τ = .5; strict keeps none,
    /// top-s the first two .5's in parameter order.
    func testTiesAcrossTensors() throws {
        let delta = [Tensor([0.5, 0.2]), Tensor([0.5, -0.5])]
        XCTAssertEqual(try BasePatch.make(delta: delta, sparsity: 0.5, rule: .strict).map(\.scalars), [[0, 0], [0, 0]])
        XCTAssertEqual(try BasePatch.make(delta: delta, sparsity: 0.5, rule: .topS).map(\.scalars), [[1, 0], [1, 0]])
    }

    /// s = int(sparsity · N) as Python truncates: 0.29 · 100 = 28.999999999999996 → 28; s = 0 gives
    /// an empty patch; a sparsity outside [0, 1] is a usage error.
    func testSelectionSizeAndEdges() throws {
        XCTAssertEqual(try BasePatch.selectionSize(sparsity: 0.29, parameterCount: 100), 28)
        XCTAssertEqual(try BasePatch.selectionSize(sparsity: 1e-5, parameterCount: 10_621_440), 106)
        XCTAssertEqual(try BasePatch.make(delta: [Tensor([1, 2, 3])], sparsity: 0.2, rule: .topS)[0].scalars, [0, 0, 0])
        XCTAssertEqual(try BasePatch.make(delta: [Tensor([1, 2, 3])], sparsity: 1, rule: .topS)[0].scalars, [1, 1, 1])
        XCTAssertThrowsError(try BasePatch.make(delta: [Tensor([1])], sparsity: 1.5, rule: .strict)) {
            XCTAssertEqual(($0 as? SkillLocalizationError)?.category, .usage)
        }
        XCTAssertThrowsError(try BasePatch.selectionSize(sparsity: .nan, parameterCount: 3))
    }

    /// Quickselect gives the same threshold as a full sort, with many ties and random values; the
    /// top-s count is exact.
    func testThresholdAgainstSort() throws {
        var rng = RandomGenerator(seed: 3)
        for trial in 0..<20 {
            let n = 1 + rng.nextInt(below: 3000)
            let values = (0..<n).map { _ in trial % 2 == 0 ? Float(rng.nextInt(below: 7)) : rng.normal() }
            let s = 1 + rng.nextInt(below: n)
            let sorted = values.map(abs).sorted(by: >)
            XCTAssertEqual(BasePatch.threshold([Tensor(values).abs()], s: s), sorted[s - 1])
            let patch = try BasePatch.make(delta: [Tensor(values)], sparsity: Double(s) / Double(n) + 1e-12, rule: .topS)
            XCTAssertEqual(GraftMask.ones(in: patch[0]), s)
        }
    }
}
