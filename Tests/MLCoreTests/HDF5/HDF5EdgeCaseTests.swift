import Foundation
import XCTest
@testable import MLCore

/// The HDF5 layer on a file made by h5py with what other tools write (Tests/Fixtures/hdf5_edge_cases.h5,
/// from Tools/reference/make_hdf5_edge_fixture.py): types without a value are described with their
/// members, null dataspaces are told apart from scalars, uint64 ≥ 2⁶³ stays exact, and a filter this
/// HDF5 lacks (h5py's lzf) is named when a read needs it.
final class HDF5EdgeCaseTests: XCTestCase {
    func file() throws -> HDF5File {
        try HDF5File(path: Fixtures.directory.appendingPathComponent("hdf5_edge_cases.h5").path)
    }

    func testAttributeInfoOfEveryKind() throws {
        let attributes = try file().root.attributes
        let compound = try attributes.info("compound")
        XCTAssertEqual(compound.elementType, .other("compound {a: int32, b: float64}, 12 bytes"))
        XCTAssertEqual(compound.shape, [1])
        XCTAssertThrowsError(try attributes.value("compound"))  // no HDF5AttributeValue for it
        XCTAssertEqual(try attributes.info("opaque").shape, [])
        XCTAssertNil(try attributes.info("null").shape, "a null dataspace has no shape")
        XCTAssertEqual(try attributes.info("matrix").shape, [2, 3])
        XCTAssertEqual(try attributes.value("matrix"), .ints([0, 1, 2, 3, 4, 5]))
        XCTAssertEqual(try attributes.value("u64_max"), .uint(18_446_744_073_709_551_615))
        XCTAssertEqual(try attributes.value("u64_big"), .uints([9_223_372_036_854_775_813, 1]))
        XCTAssertTrue(try attributes.double("nan_payload").isNaN)
    }

    func testDatasetsNullCompoundUnsignedAndAMissingFilter() throws {
        let f = try file()
        XCTAssertTrue(try f.dataset("null_dataset").isNull)
        XCTAssertFalse(try f.dataset("scalar").isNull)
        XCTAssertEqual(try f.dataset("scalar").shape, [])
        XCTAssertEqual(try f.dataset("null_dataset").count, 0)
        XCTAssertEqual(try f.dataset("table").elementType, .other("compound {x: int16, y: float32}, 6 bytes"))
        XCTAssertEqual(try f.dataset("u64").read(as: UInt64.self), [9_223_372_036_854_775_813, 18_446_744_073_709_551_615])
        XCTAssertThrowsError(try f.dataset("u64").read(as: Int64.self)) {
            XCTAssertEqual("\($0)".contains("uint64 value 9223372036854775813 at element 0"), true, "\($0)")
        }
        XCTAssertEqual(try f.dataset("lzf").storageInfo().filters, ["lzf (32000), not available in this HDF5"])
        XCTAssertThrowsError(try f.dataset("lzf").read(as: Float.self)) {
            XCTAssertTrue("\($0)".hasSuffix("dataset /lzf uses filter lzf (32000), not available in this HDF5"), "\($0)")
        }
    }
}
