import XCTest
import MLCore
@testable import REB

/// The handcrafted detectability statistics of `reb baseline` on a hand-made image.
final class HandcraftedStatisticsTests: XCTestCase {
    /// A 5×5 image of grey level 10 — pixels (5, 10, 15), so the channel mean is tested — with one
    /// pixel of grey 20 — (10, 20, 30) — at row 2, column 2.
    /// Interior |Laplacian| (3×3): [0 10 0; 10 40 10; 0 10 0], median 10.
    /// Horizontal differences: only row 2 has |20 − 10| twice → 20 / (5 rows · 4 pairs) = 1.
    private func impulse() -> RGBImage {
        var pixels: [UInt8] = []
        for i in 0..<25 { pixels += i == 12 ? [10, 20, 30] : [5, 10, 15] }
        return RGBImage(width: 5, height: 5, pixels: pixels)
    }

    func testLaplacianMapAndBlockRatioByHand() throws {
        let image = impulse()
        XCTAssertEqual(HandcraftedStatistics.grey(image)[12], 20)
        XCTAssertEqual(HandcraftedStatistics.grey(image)[0], 10)
        XCTAssertEqual(HandcraftedStatistics.absoluteLaplacian(HandcraftedStatistics.grey(image), width: 5, height: 5),
                       [0, 10, 0, 10, 40, 10, 0, 10, 0])
        // Block 1: the largest single value 40 / median 10.
        XCTAssertEqual(try HandcraftedStatistics.localLaplacianRatio(image, block: 1), 4, accuracy: 1e-12)
        // Block 2: one whole tile (rows and columns 0–1): (0 + 10 + 10 + 40) / 4 = 15 → 1.5.
        XCTAssertEqual(try HandcraftedStatistics.localLaplacianRatio(image, block: 2), 1.5, accuracy: 1e-12)
        // Block 3: the whole map, 80 / 9 → 8/9.
        XCTAssertEqual(try HandcraftedStatistics.localLaplacianRatio(image, block: 3), 8.0 / 9.0, accuracy: 1e-12)
        XCTAssertEqual(try HandcraftedStatistics.meanHorizontalGradient(image), 1, accuracy: 1e-12)
        XCTAssertEqual(try HandcraftedStatistics.value(.horizontalGradient, of: image), 1, accuracy: 1e-12)
        // A flat image: no high-frequency energy anywhere; the median 0 is replaced by 1e-6 → ratio 0.
        let flat = RGBImage(width: 5, height: 5, pixels: [UInt8](repeating: 7, count: 75))
        XCTAssertEqual(try HandcraftedStatistics.localLaplacianRatio(flat, block: 1), 0)
        XCTAssertEqual(try HandcraftedStatistics.meanHorizontalGradient(flat), 0)
    }

    /// A vertical stripe pattern has a larger horizontal gradient than the same pattern turned by 90°.
    func testHorizontalGradientSeesDirection() throws {
        var vertical: [UInt8] = [], horizontal: [UInt8] = []
        for y in 0..<8 {
            for x in 0..<8 {
                vertical += [UInt8](repeating: x % 2 == 0 ? 0 : 90, count: 3)
                horizontal += [UInt8](repeating: y % 2 == 0 ? 0 : 90, count: 3)
            }
        }
        XCTAssertEqual(try HandcraftedStatistics.meanHorizontalGradient(RGBImage(width: 8, height: 8, pixels: vertical)), 90)
        XCTAssertEqual(try HandcraftedStatistics.meanHorizontalGradient(RGBImage(width: 8, height: 8, pixels: horizontal)), 0)
    }

    func testBadBlockSizesAreRefused() {
        let image = impulse()
        for block in [0, 4] {
            XCTAssertThrowsError(try HandcraftedStatistics.localLaplacianRatio(image, block: block)) {
                XCTAssertEqual(($0 as? REBError)?.category, .usage)
                XCTAssertTrue("\($0)".contains("block side \(block)"), "\($0)")
            }
        }
        XCTAssertThrowsError(try HandcraftedStatistics.meanHorizontalGradient(RGBImage(width: 1, height: 4, pixels: [UInt8](repeating: 0, count: 12))))
    }
}
