import MLCore
import XCTest

@testable import PFAMI

final class ControlTests: XCTestCase {
    /// The analytic positive control through the features/attack path: KDE "generators" (h = 0.1) over
    /// their members; members sit on kernel peaks, so D > 0 for every member and the AUC is 1.
    func testKDEToyGivesPositiveFluctuationForMembers() throws {
        var rng = RandomGenerator(seed: 3)
        let all = Tensor(shape: [60, 1, 16, 16]) { _ in rng.uniform() }
        let images = ImageSet(images: all)
        let targetMembers = Array(0..<20), holdout = Array(20..<40), referenceMembers = Array(40..<60)
        let target = KDEModel(points: images.batch(targetMembers), bandwidth: 0.1)
        let reference = KDEModel(points: images.batch(referenceMembers), bandwidth: 0.1)
        let config = FeatureConfig(probes: [0], neighbourhood: try Neighbourhood(), commonRandomNumbers: false, seed: 1, batchSize: 8)
        let block = try FluctuationFeatures.compute(target: target, reference: reference, images: images, rows: targetMembers + holdout,
                                                    labels: Array(repeating: 1, count: 20) + Array(repeating: 0, count: 20), config: config)
        let scores = try AttackMethod.met(neighbour: 5).scores(block)
        XCTAssertTrue(scores.prefix(20).allSatisfy { $0 > 0 }, "members' D")
        XCTAssertEqual(try AttackMetrics(scores: scores, labels: block.labels).auc, 1)
        XCTAssertEqual(try AttackMetrics(scores: try AttackMethod.met(neighbour: nil).scores(block), labels: block.labels).auc, 1)
    }

    /// L(x) = −h²·log((1/n) Σ exp(−‖x − xᵢ‖²/2h²)) by hand for one point: n = 1 gives ½‖x − x₁‖².
    func testKDELossByHand() {
        let p = Tensor([0, 0, 0, 0], shape: [1, 1, 2, 2])
        let kde = KDEModel(points: p, bandwidth: 0.5)
        let x = Tensor([1, 0, 0, 1], shape: [1, 1, 2, 2])
        XCTAssertEqual(kde.losses(x, probe: 0, noiseSeeds: [0])[0], 1, accuracy: 1e-6)  // ½·2
        // Two points at distances² 2 and 0 from x: −h²·log(½(e^{−2/(2·0.25)} + 1)) = −0.25·log(½(e^{−4} + 1)).
        let two = KDEModel(points: Tensor([0, 0, 0, 0, 1, 0, 0, 1], shape: [2, 1, 2, 2]), bandwidth: 0.5)
        XCTAssertEqual(Double(two.losses(x, probe: 0, noiseSeeds: [0])[0]), -0.25 * log(0.5 * (exp(-4) + 1)), accuracy: 1e-6)
    }
}
