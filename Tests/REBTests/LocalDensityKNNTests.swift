import XCTest
import MLCore
@testable import REB

/// Hand-computed LDKNN and AUROC vectors (LDKNN as in Docs/reb.md).
final class LocalDensityKNNTests: XCTestCase {
    /// 1-D bank {0, 1, 2, 10, 14, 18}, K = 2, squared distances:
    /// ρ(0) = (1 + 4)/2 = 2.5 (neighbours 1, 2); ρ(1) = (1 + 1)/2 = 1; ρ(2) = (1 + 4)/2 = 2.5;
    /// ρ(10) = (16 + 64)/2 = 40 (14, 18); ρ(14) = (16 + 16)/2 = 16; ρ(18) = (16 + 64)/2 = 40.
    /// Query 3: nearest 2 at d² = 1, s = 1 − 2.5 = −1.5; query 15: nearest 14 at d² = 1, s = 1 − 16 = −15.
    func testBriefVector() throws {
        let index = try FlatL2Index(vectors: [0, 1, 2, 10, 14, 18], dimension: 1)
        let neighbors = try index.selfNeighbors(k: 2)
        let rho = try LocalDensityKNN.densities(neighborDistances: neighbors.distances, stored: 2, k: 2)
        XCTAssertEqual(rho, [2.5, 1, 2.5, 40, 16, 40])
        let nearest = try index.search([3, 15], k: 1)
        XCTAssertEqual(nearest.distances, [1, 1])  // kNN (k = 1) cannot tell them apart
        XCTAssertEqual(nearest.indices, [2, 4])
        let s = LocalDensityKNN.scores(distances: nearest.distances, nearest: nearest.indices, densities: rho, lambda: 1)
        XCTAssertEqual(s, [-1.5, -15])
        XCTAssertGreaterThan(s[0], s[1])  // q = 3 ranks as more anomalous
    }

    /// ρ uses the first K of the stored distances; K beyond what is stored is an error.
    func testDensitiesUseFirstKAndRejectLargeK() throws {
        let stored: [Float] = [1, 2, 3, 10, 20, 30]  // two features, three neighbours each
        XCTAssertEqual(try LocalDensityKNN.densities(neighborDistances: stored, stored: 3, k: 1), [1, 10])
        XCTAssertEqual(try LocalDensityKNN.densities(neighborDistances: stored, stored: 3, k: 3), [2, 20])
        XCTAssertThrowsError(try LocalDensityKNN.densities(neighborDistances: stored, stored: 3, k: 4)) {
            XCTAssertEqual(($0 as? REBError)?.category, .usage)
        }
    }

    /// AUROC of scores [.1, .4, .35, .8] with labels [0, 0, 1, 1]: of the 4 (positive, negative) pairs,
    /// .35 beats .1 but not .4, .8 beats both → 3/4.
    func testBriefAUROCVector() throws {
        XCTAssertEqual(try ROC.auroc(scores: [0.1, 0.4, 0.35, 0.8], labels: [0, 0, 1, 1]), 0.75)
    }
}
