import XCTest
@testable import MLCore

/// `RGBImage.pngData` decodes back (libpng) to the same pixels.
final class PNGEncodeTests: XCTestCase {
    func testRoundTripThroughLibpng() throws {
        var rng = RandomGenerator(seed: 1)
        let image = RGBImage(width: 37, height: 11, pixels: (0..<(37 * 11 * 3)).map { _ in UInt8(rng.nextInt(below: 256)) })
        let data = try image.pngData()
        XCTAssertEqual(Array(data.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        XCTAssertEqual(try RGBImage.decode(data, name: "encoded"), image)
    }
}
