import XCTest
import MLCore
@testable import REB

/// The blend and Bezier properties of Docs/reb.md, rasterisation, and the generator's determinism.
final class DefectMakerTests: XCTestCase {
    func testBezierEndpointsAndMidpoint() {
        let p0 = Point2(1, 2), p1 = Point2(5, 9), p2 = Point2(-3, 4), p3 = Point2(7, -1)
        XCTAssertEqual(Bezier.cubic(p0, p1, p2, p3, t: 0), p0)
        XCTAssertEqual(Bezier.cubic(p0, p1, p2, p3, t: 1), p3)
        // B(½) = (p₀ + 3p₁ + 3p₂ + p₃)/8 = ((1 + 15 − 9 + 7)/8, (2 + 27 + 12 − 1)/8) = (1.75, 5).
        let mid = Bezier.cubic(p0, p1, p2, p3, t: 0.5)
        XCTAssertEqual(mid.x, 1.75, accuracy: 1e-12)
        XCTAssertEqual(mid.y, 5, accuracy: 1e-12)
    }

    /// With k = 0 the outline is the polygon through the points; its raster is the pixels whose centres
    /// are inside: the square (2, 2)–(6, 6) holds centres 2.5…5.5 → 4×4 = 16 pixels.
    func testOutlineThroughPointsAndRasterize() {
        let square = [Point2(2, 2), Point2(6, 2), Point2(6, 6), Point2(2, 6)]
        let outline = Bezier.closedOutline(through: square, k: 0, samples: 4)
        XCTAssertEqual(outline.count, 16)
        for p in square { XCTAssertTrue(outline.contains(p)) }  // segments start at the points
        let mask = Bezier.rasterize(outline, width: 10, height: 10)
        XCTAssertEqual(mask.reduce(0) { $0 + Int($1) }, 16)
        XCTAssertEqual(mask[2 * 10 + 2], 1)
        XCTAssertEqual(mask[6 * 10 + 6], 0)
    }

    /// Pixels outside the mask are unchanged; with w = 1 the inside equals the fill; w = ½ is the midpoint.
    func testBlend() {
        var rng = RandomGenerator(seed: 1)
        func random() -> RGBImage { RGBImage(width: 8, height: 8, pixels: (0..<192).map { _ in UInt8(rng.nextInt(below: 256)) }) }
        let image = random(), fill = random()
        let alpha: [Float] = (0..<64).map { $0 % 3 == 0 ? 1 : 0 }
        let out = DefectMaker.blend(image, fill: fill, alpha: alpha, weight: 1)
        for p in 0..<64 {
            for c in 0..<3 {
                XCTAssertEqual(out.pixels[p * 3 + c], alpha[p] == 1 ? fill.pixels[p * 3 + c] : image.pixels[p * 3 + c])
            }
        }
        let half = DefectMaker.blend(image, fill: fill, alpha: alpha, weight: 0.5)
        XCTAssertEqual(Float(half.pixels[0]), ((Float(image.pixels[0]) + Float(fill.pixels[0])) / 2).rounded())
    }

    /// Every kind gives a non-empty region, changes no pixel farther than the blur radius from it, and
    /// the same seed gives the same defect.
    func testMakeIsSeededAndLocal() {
        var rng = RandomGenerator(seed: 2)
        let w = 64, h = 48
        let image = RGBImage(width: w, height: h, pixels: (0..<(w * h * 3)).map { _ in UInt8(100 + rng.nextInt(below: 50)) })
        let donor = RGBImage(width: w, height: h, pixels: (0..<(w * h * 3)).map { _ in UInt8(rng.nextInt(below: 256)) })
        let maker = DefectMaker()
        for kind in DefectKind.all {
            var a = RandomGenerator(seed: 9), b = RandomGenerator(seed: 9)
            let (out, mask) = maker.make(image, kind: kind, donor: donor, rng: &a)
            let again = maker.make(image, kind: kind, donor: donor, rng: &b)
            XCTAssertEqual(out, again.image, "\(kind)")
            XCTAssertEqual(mask, again.mask)
            XCTAssertTrue(mask.contains(1), "\(kind): empty region")
            for y in 0..<h {
                for x in 0..<w where out.pixels[(y * w + x) * 3] != image.pixels[(y * w + x) * 3] {
                    let near = (-2...2).contains { dy in (-2...2).contains { dx in
                        let yy = y + dy, xx = x + dx
                        return yy >= 0 && yy < h && xx >= 0 && xx < w && mask[yy * w + xx] == 1
                    } }
                    XCTAssertTrue(near, "\(kind): pixel (\(x), \(y)) changed outside the region")
                }
            }
        }
        XCTAssertEqual(DefectKind.all.map(\.description), ["rect-cut", "rect-noise", "scar-cut", "scar-noise", "clump-cut", "clump-noise"])
    }

    /// Nearest-neighbour mask resizing keeps a half-filled mask half filled.
    func testResizeMask() {
        let mask: [UInt8] = (0..<100).map { $0 % 10 < 5 ? 1 : 0 }  // left half of a 10×10
        let small = DefectMaker.resizeMask(mask, width: 10, height: 10, size: 4)
        XCTAssertEqual(small, [1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0])
    }
}
