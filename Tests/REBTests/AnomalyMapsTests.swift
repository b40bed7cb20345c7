import Foundation
import XCTest
import MLCore
@testable import REB

/// Image-score pooling on hand-made maps and the Gaussian of the pixel map.
final class AnomalyMapsTests: XCTestCase {
    /// A 7×7 map, zero but for a 9 at (0, 0) and a 4 at (3, 4), and 100 in the last row (dropped: the
    /// 3×3 stride-3 windows cover rows and columns 0–5 only). Windows (0, 0) average 9/9 = 1 and (1, 1)
    /// average 4/9, so the image score is 1 where a plain max would be 100.
    func testPooledMaximumOnHandMadeMap() {
        var map = [Float](repeating: 0, count: 49)
        map[0] = 9
        map[3 * 7 + 4] = 4
        for x in 0..<7 { map[6 * 7 + x] = 100 }
        XCTAssertEqual(AnomalyMaps.imageScore(map, height: 7, width: 7), 1)
        XCTAssertEqual(AnomalyMaps.imageScore(map, height: 7, width: 7, window: 1), 100)
        // A uniform 3×3 block of 2 anywhere on the 3-grid scores 2.
        var block = [Float](repeating: 0, count: 36)
        for y in 3..<6 { for x in 0..<3 { block[y * 6 + x] = 2 } }
        XCTAssertEqual(AnomalyMaps.imageScore(block, height: 6, width: 6), 2)
    }

    /// The Gaussian keeps a constant map constant (reflect borders) and spreads an impulse as the
    /// outer product of the normalised 1-D kernel: centre value = k₀², k₀ = 1 / Σ_{|t| ≤ 4σ} exp(−t²/2σ²).
    func testGaussianBlur() {
        let flat = AnomalyMaps.gaussianBlur([Float](repeating: 3, count: 20 * 20), height: 20, width: 20, sigma: 2)
        for v in flat { XCTAssertEqual(v, 3, accuracy: 1e-5) }
        var impulse = [Float](repeating: 0, count: 41 * 41)
        impulse[20 * 41 + 20] = 1
        let blurred = AnomalyMaps.gaussianBlur(impulse, height: 41, width: 41, sigma: 2)
        let weights: [Double] = (-8...8).map { (t: Int) -> Double in Foundation.exp(-Double(t * t) / 8) }
        let k0 = 1 / weights.reduce(0, +)
        XCTAssertEqual(Double(blurred[20 * 41 + 20]), k0 * k0, accuracy: 1e-6)
        XCTAssertEqual(Double(blurred.reduce(0, +)), 1, accuracy: 1e-5)
    }

    /// The pixel map of a constant patch map is that constant at the input size.
    func testPixelMapShape() {
        let map = AnomalyMaps.pixelMap([Float](repeating: 5, count: 16), height: 4, width: 4, size: 32)
        XCTAssertEqual(map.count, 32 * 32)
        for v in map { XCTAssertEqual(v, 5, accuracy: 1e-4) }
    }
}
