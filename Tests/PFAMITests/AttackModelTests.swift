import Foundation
import MLCore
import XCTest

@testable import PFAMI

final class AttackModelTests: XCTestCase {
    /// SecMI with ε_θ ≡ c (conv_out's kernel zero, bias c): each DDIM step is x' = √ᾱ'·(x − √(1−ᾱ)c)/√ᾱ + √(1−ᾱ')c,
    /// recomputed here in Double from t = 0 by 10 to 90, up to 100 and back.
    func testSecMIWithConstantNoisePrediction() {
        let unet = DiffusionUNet(config: DDPMConfig(channels: 1, size: 4, width: 4, groups: 2), factory: ParameterFactory(seed: 1))
        let c = 0.3
        unet.convOut.weight.value = Tensor(shape: unet.convOut.weight.value.shape, repeating: 0)
        unet.convOut.bias!.value = Tensor([Float(c)])
        let pixels: [Float] = (0..<16).map { Float($0) / 15 }
        let images = Tensor(pixels + pixels.reversed(), shape: [2, 1, 4, 4])
        let ab = unet.config.schedule.alphaBar
        func step(_ x: Double, _ t: Int, _ u: Int) -> Double {
            (ab[u]).squareRoot() * (x - (1 - ab[t]).squareRoot() * c) / ab[t].squareRoot() + (1 - ab[u]).squareRoot() * c
        }
        let got = unet.secmiLoss(images)
        for i in 0..<2 {
            var expected = 0.0
            for p in 0..<16 {
                var x = 2 * Double(images.scalars[i * 16 + p]) - 1, t = 0
                for u in stride(from: 10, to: 100, by: 10) { x = step(x, t, u); t = u }
                let back = step(step(x, 90, 100), 100, 90)
                expected += (back - x) * (back - x)
            }
            XCTAssertEqual(Double(got[i]), expected, accuracy: 1e-5 + 1e-3 * expected)
        }
    }

    /// PFAMI_NNs learns a sign rule on D: members' D > 0, hold-out's D < 0 (with noise), and ranks a
    /// fresh block perfectly.
    func testClassifierLearnsTheSignOfD() throws {
        var rng = RandomGenerator(seed: 11)
        func block(_ n: Int) -> FeatureBlock {
            let j = 3, k = 4
            var to = [Float](), tn = [Float](), labels = [Int]()
            for i in 0..<n {
                let member = i % 2 == 0
                labels.append(member ? 1 : 0)
                for _ in 0..<j { to.append(1) }
                for _ in 0..<(k * j) { tn.append(1 + (member ? 0.5 : -0.5) + 0.2 * rng.normal()) }
            }
            return FeatureBlock(rows: Array(0..<n), labels: labels, probeCount: j, neighbourCount: k, targetOriginal: to, targetNeighbours: tn,
                                referenceOriginal: to, referenceNeighbours: [Float](repeating: 1, count: n * k * j))
        }
        let classifier = FluctuationClassifier(factory: ParameterFactory(seed: 2))
        _ = try classifier.train(shadow: block(40), steps: 150)
        let test = block(30)
        XCTAssertEqual(try AttackMetrics(scores: classifier.scores(test), labels: test.labels).auc, 1)
        var oneClass = block(4)
        oneClass.labels = [1, 1, 1, 1]
        XCTAssertThrowsError(try classifier.train(shadow: oneClass, steps: 1))
    }

    /// With sortProbes each neighbour's column of D is sorted over the probes: J = 3, K = 2, one record,
    /// D by hand (θ original 1, neighbours as below; φ flat so D = θ's relative change).
    func testSortedProbesInput() {
        // targetNeighbours [K, J]: k = 0 → 4, 2, 3 (D 3, 1, 2); k = 1 → 1, 0.5, 2 (D 0, −0.5, 1).
        let block = FeatureBlock(rows: [0], labels: [1], probeCount: 3, neighbourCount: 2, targetOriginal: [1, 1, 1],
                                 targetNeighbours: [4, 2, 3, 1, 0.5, 2], referenceOriginal: [1, 1, 1], referenceNeighbours: [1, 1, 1, 1, 1, 1])
        // D [J, K] row-major: (3, 0), (1, −0.5), (2, 1).
        XCTAssertEqual(FluctuationClassifier(factory: ParameterFactory(seed: 1)).features(block), [3, 0, 1, -0.5, 2, 1])
        XCTAssertEqual(FluctuationClassifier(sortProbes: true, factory: ParameterFactory(seed: 1)).features(block), [1, -0.5, 2, 0, 3, 1])
    }
}
