import XCTest
@testable import MLCore
@testable import SkillLocalization

/// The mask parametrisation of Docs/graft.md and its gradient: hand-computed vectors and a central
/// finite-difference check on a tiny BERT.
final class MaskScoresTests: XCTestCase {
    /// σ(0 − 10) = 1/(1 + e^10) = 4.5398e-5 and σ(1 − 10) = 1/(1 + e^9) = 1.2339e-4: the range of γ
    /// at initialisation (S ∈ [0, 1)); with γ_base = 1 the mask is 1 − σ.
    func testSigmoidValuesAtInitialisation() {
        let m = MaskScores(names: ["w"], scores: [Tensor([0, 1, 0, 1])], basePatch: [Tensor([0, 0, 1, 1])], sigmoidBias: 10)
        let g = m.gamma(0).scalars
        XCTAssertEqual(g[0], 4.5398e-5, accuracy: 1e-9)
        XCTAssertEqual(g[1], 1.2339e-4, accuracy: 1e-8)
        XCTAssertEqual(g[2], 1 - 4.5398e-5, accuracy: 1e-7)
        XCTAssertEqual(g[3], 1 - 1.2339e-4, accuracy: 1e-7)
        XCTAssertEqual(m.rounded().values[0].scalars, [0, 0, 1, 1], "round(γ) = γ_base at the start")
    }

    /// L = (θ − 1)², θ_pre = 0, θ_ft = 1 (Δ = 1), γ_base = 0, S = 0, b = 0: γ = σ(0) = 0.5, θ = 0.5,
    /// ∂L/∂θ = 2(θ − 1) = −1, ∂γ/∂S = σ(1 − σ) = 0.25, so ∂L/∂S = −1 · 1 · 0.25 = −0.25; a step with
    /// η = 2 moves S to 0 − 2 · (−0.25) = 0.5. With γ_base = 1 the sign flips (1 − 2γ_base = −1).
    func testHandGradientAndStep() {
        var m = MaskScores(names: ["w"], scores: [Tensor([0])], basePatch: [Tensor([0])], sigmoidBias: 0)
        let theta = 0 + m.gamma(0).item * 1
        XCTAssertEqual(theta, 0.5)
        let g = Tensor([2 * (theta - 1)])
        XCTAssertEqual(m.gradient(0, parameterGradient: g, delta: Tensor([1])).item, -0.25)
        m.step(meanGradient: [g], delta: [Tensor([1])], learningRate: 2)
        XCTAssertEqual(m.scores[0].item, 0.5)
        let flipped = MaskScores(names: ["w"], scores: [Tensor([0])], basePatch: [Tensor([1])], sigmoidBias: 0)
        XCTAssertEqual(flipped.gradient(0, parameterGradient: g, delta: Tensor([1])).item, 0.25)
    }

    /// torch.round rounds half to even: γ = 0.5 (S = b) rounds to 0.
    func testRoundingHalfToZero() {
        let m = MaskScores(names: ["w"], scores: [Tensor([10, 10.001, 9.999])], basePatch: [Tensor([0, 0, 0])], sigmoidBias: 10)
        XCTAssertEqual(m.rounded().values[0].scalars, [0, 1, 0])
    }

    /// ∂L/∂S from one backward pass (MaskScores.gradient of ∂L/∂θ at θ(S)) against central differences
    /// of L(S) = CE(model with θ_pre + γ(S) ⊙ Δ), on several entries of every tensor, with a base
    /// patch that holds ones (so the (1 − 2γ_base) sign is exercised). b = 0 keeps σ' large enough
    /// for Float32 differences.
    func testMaskGradientMatchesFiniteDifferences() throws {
        let pair = try TinyPair()
        var rng = RandomGenerator(seed: 5)
        let base = pair.space.shapes.map { shape in Tensor(shape: shape) { _ in rng.bernoulli(0.3) ? 1 : 0 } }
        let scores = MaskScores(names: pair.space.names,
                                scores: pair.space.shapes.map { Tensor.normal($0, std: 1, using: &rng) },
                                basePatch: base, sigmoidBias: 0)
        let rows = [0, 1, 2, 3]
        func lossAt(_ s: MaskScores) -> Double {
            GraftSpace.assign(pair.space.interpolated(s), to: pair.parameters)
            return Double(withoutGradient { pair.loss(rows) }.value.item)
        }
        GraftSpace.assign(pair.space.interpolated(scores), to: pair.parameters)
        for p in pair.parameters { p.zeroGradient() }
        pair.loss(rows).backward()
        let analytic = pair.parameters.indices.map {
            scores.gradient($0, parameterGradient: pair.parameters[$0].grad!, delta: pair.space.delta[$0]).scalars
        }
        let h: Float = 5e-2
        var checked = 0, largest = 0.0
        for k in pair.parameters.indices {
            let n = scores.scores[k].count
            for i in Set([0, n / 3, n / 2, n - 1]) {
                var plus = scores, minus = scores
                var sp = plus.scores[k].scalars, sm = minus.scores[k].scalars
                sp[i] += h; sm[i] -= h
                plus.scores[k] = Tensor(sp, shape: scores.scores[k].shape)
                minus.scores[k] = Tensor(sm, shape: scores.scores[k].shape)
                let numeric = (lossAt(plus) - lossAt(minus)) / (2 * Double(h))
                let a = Double(analytic[k][i])
                largest = max(largest, abs(numeric))
                XCTAssertEqual(a, numeric, accuracy: 2e-4 + 3e-2 * abs(numeric), "\(pair.space.names[k])[\(i)]")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 50)
        XCTAssertGreaterThan(largest, 1e-3, "the check must see non-trivial gradients")
    }
}
