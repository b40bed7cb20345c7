import Foundation
import XCTest
@testable import MLCore
@testable import SkillLocalization

final class MaskFileAndOverlapTests: XCTestCase {
    private let names = ["encoder.layer.0.a.weight", "encoder.layer.1.a.weight"]

    /// a = [1,1,0,0 | 1,0], b = [0,1,1,0 | 1,1]: total |a∧b| = 2, |a∨b| = 5, J = 0.4, overlap
    /// coefficient 2 / min(3, 4) = 2/3; layer 0: 1, 3 → J = 1/3, OC = 1/2; layer 1: 1, 2 → J = 1/2, OC = 1.
    func testOverlapHandCase() throws {
        let a = GraftMask(names: names, values: [Tensor([1, 1, 0, 0]), Tensor([1, 0])])
        let b = GraftMask(names: names, values: [Tensor([0, 1, 1, 0]), Tensor([1, 1])])
        let (total, layers) = try MaskOverlap.compare(a, b)
        XCTAssertEqual(total.intersection, 2)
        XCTAssertEqual(total.union, 5)
        XCTAssertEqual(total.jaccard, 0.4, accuracy: 1e-12)
        XCTAssertEqual(total.overlapCoefficient, 2.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(layers[0]!.jaccard, 1.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(layers[0]!.overlapCoefficient, 0.5)
        XCTAssertEqual(layers[1]!.jaccard, 0.5)
        XCTAssertEqual(layers[1]!.overlapCoefficient, 1)
        let empty = GraftMask(names: names, values: [Tensor([0, 0, 0, 0]), Tensor([0, 0])])
        XCTAssertEqual(try MaskOverlap.compare(empty, empty).total.jaccard, 0)
        let other = GraftMask(names: ["encoder.layer.0.a.weight"], values: [Tensor([1, 0, 0, 0])])
        XCTAssertThrowsError(try MaskOverlap.compare(a, other)) { XCTAssertEqual(($0 as? SkillLocalizationError)?.category, .badData) }
    }

    /// Writing and reading keeps names, shapes, values and attributes; another model's mask and a
    /// non-mask file are clear errors.
    func testRoundTripAndErrors() throws {
        let path = NSTemporaryDirectory() + "graft-mask-\(getpid()).h5"
        defer { unlink(path) }
        let mask = GraftMask(names: names, values: [Tensor([1, 0, 0, 1], shape: [2, 2]), Tensor([0, 1])])
        try mask.write(to: path, attributes: ["task": "polarity", "requested_sparsity": .double(0.5)])
        let (read, attributes) = try GraftMask.read(from: path)
        XCTAssertEqual(read, mask)
        XCTAssertEqual(read.selectedCount, 3)
        XCTAssertEqual(attributes["task"], "polarity")
        XCTAssertEqual(attributes["selected"], .int(3))
        XCTAssertEqual(attributes["sparsity"], .double(0.5))
        XCTAssertEqual(attributes["format"], .string(GraftMask.fileFormat))

        let pair = try TinyPair()
        XCTAssertThrowsError(try read.check(fits: pair.space, file: path)) {
            XCTAssertEqual(($0 as? SkillLocalizationError)?.category, .badData)
            XCTAssertTrue("\($0)".contains("parameters missing"), "\($0)")
        }
        try GraftMask.constant(true, over: pair.space).check(fits: pair.space, file: "full")

        let other = NSTemporaryDirectory() + "graft-notmask-\(getpid()).h5"
        defer { unlink(other) }
        try CheckpointWriter.save(["w": Tensor([1])], to: other, architecture: "bert", config: [:])
        XCTAssertThrowsError(try GraftMask.read(from: other)) { XCTAssertTrue("\($0)".contains("not a graft mask")) }
        XCTAssertEqual(mask.perLayer().map(\.selected), [2, 1])
    }
}
