import Foundation
import MLCore
import XCTest

@testable import PFAMI

final class NeighbourTests: XCTestCase {
    func fixture() throws -> [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/pfami_neighbours.json")
        return try XCTUnwrap(JSONSerialization.jsonObject(with: try Data(contentsOf: url)) as? [String: Any])
    }

    /// The reference's crops for 64×64 (int(64·λ), λ = linspace(0.95, 0.70, 10)) and torchvision's
    /// centre offsets round((64 − c)/2) with ties to even: 59 → 2.5 → 2, 57 → 3.5 → 4, 55 → 4.5 → 4.
    func testCropGeometry64() throws {
        let g = try Neighbourhood().geometry(size: 64)
        XCTAssertEqual(g.map(\.crop), [60, 59, 57, 55, 53, 51, 50, 48, 46, 44])
        XCTAssertEqual(g.map(\.offset), [2, 2, 4, 4, 6, 6, 7, 8, 9, 10])
    }

    /// At 32×32 against the fixture's Python geometry (30 → 1, 29 → 1.5 → 2, 27 → 2.5 → 2, 23 → 4.5 → 4).
    func testCropGeometry32MatchesFixture() throws {
        let f = try fixture()
        let g = try Neighbourhood().geometry(size: 32)
        XCTAssertEqual(g.map(\.crop), (f["crops"] as! [NSNumber]).map(\.intValue))
        XCTAssertEqual(g.map(\.offset), (f["offsets"] as! [NSNumber]).map(\.intValue))
        XCTAssertEqual(g.map(\.offset), [1, 2, 2, 2, 3, 4, 4, 4, 4, 5])
        let strengths = (f["strengths"] as! [NSNumber]).map(\.doubleValue)
        for (a, b) in zip(try Neighbourhood().strengths, strengths) { XCTAssertEqual(a, b, accuracy: 1e-15) }
    }

    /// Crop + bilinear resize (align_corners = false) against torch float64.
    func testNeighboursMatchTorch() throws {
        let f = try fixture()
        let shape = (f["shape"] as! [NSNumber]).map(\.intValue)
        let image = Tensor((f["image"] as! [NSNumber]).map(\.floatValue), shape: shape)
        let expected = (f["neighbours"] as! [[NSNumber]]).map { $0.map(\.floatValue) }
        let n = try Neighbourhood()
        for k in 0..<n.count {
            let got = n.neighbour(image, k).scalars
            XCTAssertEqual(got.count, expected[k].count)
            let worst = zip(got, expected[k]).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 2e-6, "neighbour \(k)")
        }
    }

    func testBadStrengthsThrow() {
        XCTAssertThrowsError(try Neighbourhood(start: 0.95, end: 0, count: 10))
        XCTAssertThrowsError(try Neighbourhood(count: 0))
    }
}
