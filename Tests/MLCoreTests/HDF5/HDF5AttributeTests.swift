import Foundation
import XCTest
@testable import MLCore

/// Attributes of every kind on the root, a group and a dataset.
final class HDF5AttributeTests: HDF5TestCase {
    func testAttributesOfEveryKindRoundTrip() throws {
        let filePath = path("attrs.h5")
        let json = #"{"hidden": 384, "name": "naïve 日本 🙂", "rope": 100000.0}"#
        let values: [String: HDF5AttributeValue] = [
            "architecture": "bert",
            "config": .string(json),
            "empty_string": "",
            "format_version": 1,
            "min": .int(Int.min),
            "max": .int(Int.max),
            "eps": 1e-12,
            "neg": .double(-0.5),
            "names": .strings(["naïve 日本 🙂", "", "b"]),
            "sizes": .ints([384, -1, 0, Int.max]),
            "scales": .doubles([0.125, -2, 1e300]),
            "no_ints": .ints([]),
            "no_strings": .strings([]),
            "one_double": .doubles([2.5]),
        ]
        do {
            let file = try HDF5File(path: filePath, mode: .create)
            let group = try file.root.createGroup("params/encoder")
            let dataset = try group.createDataset("weight", shape: [2], data: [Float](arrayLiteral: 1, 2))
            for target in [file.root.attributes, group.attributes, dataset.attributes] {
                for (name, value) in values { try target.set(name, value) }
            }
        }
        let file = try HDF5File(path: filePath)
        for objectPath in ["/", "/params/encoder", "/params/encoder/weight"] {
            let attributes = objectPath == "/params/encoder/weight" ? try file.dataset(objectPath).attributes
                                                                     : try file.group(objectPath).attributes
            XCTAssertEqual(try attributes.names(), values.keys.sorted(), objectPath)
            for (name, value) in values {
                XCTAssertEqual(try attributes.value(name), value, "\(objectPath) @\(name)")
            }
            XCTAssertEqual(try attributes.string("config"), json)
            XCTAssertEqual(try attributes.int("format_version"), 1)
            XCTAssertEqual(try attributes.double("eps"), 1e-12)
            XCTAssertEqual(try attributes.double("format_version"), 1.0, "an int reads as a double")
            XCTAssertEqual(try attributes.strings("names"), ["naïve 日本 🙂", "", "b"])
            XCTAssertEqual(try attributes.ints("sizes"), [384, -1, 0, Int.max])
            XCTAssertEqual(try attributes.doubles("scales"), [0.125, -2, 1e300])
            XCTAssertEqual(try attributes.all().count, values.count)
        }
    }

    func testReplaceRemoveAndErrors() throws {
        let filePath = path("attrs2.h5")
        let file = try HDF5File(path: filePath, mode: .create)
        let attributes = file.root.attributes
        try attributes.set("x", 1)
        try attributes.set("x", .strings(["now", "strings"]))
        XCTAssertEqual(try attributes.value("x"), .strings(["now", "strings"]))
        XCTAssertTrue(try attributes.contains("x"))
        try attributes.remove("x")
        XCTAssertFalse(try attributes.contains("x"))
        XCTAssertEqual(try attributes.names(), [])
        assertHDF5Error(try attributes.value("x")) {
            if case .attributeNotFound(filePath, "/", "x") = $0 { return true }
            return false
        }
        assertHDF5Error(try attributes.remove("x")) {
            if case .attributeNotFound = $0 { return true }
            return false
        }
        try attributes.set("s", "text")
        assertHDF5Error(try attributes.int("s")) {
            if case .typeMismatch(_, "/", let expected, let found) = $0 {
                return expected.contains("int attribute 's'") && found.contains("string")
            }
            return false
        }
        assertHDF5Error(try attributes.set("bad", "a\u{0}b")) {
            if case .invalidArgument = $0 { return true }
            return false
        }
        assertHDF5Error(try file.root.group("missing").attributes.names()) {
            if case .objectNotFound(_, "/missing") = $0 { return true }
            return false
        }
        assertHDF5Error(try HDF5Attributes(file: file, path: "/missing").names()) {
            if case .objectNotFound(_, "/missing") = $0 { return true }
            return false
        }
    }

    func testDescriptions() {
        XCTAssertEqual(HDF5AttributeValue.string("a\"b").description, #""a\"b""#)
        XCTAssertEqual(HDF5AttributeValue.int(-3).description, "-3")
        XCTAssertEqual(HDF5AttributeValue.double(0.5).description, "0.5")
        XCTAssertEqual(HDF5AttributeValue.strings(["x", "y"]).description, #"["x", "y"]"#)
        XCTAssertEqual(HDF5AttributeValue.ints([1, 2]).description, "[1, 2]")
        XCTAssertEqual(HDF5AttributeValue.doubles([1, 0.25]).description, "[1.0, 0.25]")
    }

    func testOversizedNumericAttributeIsALibraryError() throws {
        // Attributes live in the object header (64 KiB): 10,000 int64 values do not fit.
        let file = try HDF5File(path: path("big-attr.h5"), mode: .create)
        assertHDF5Error(try file.root.attributes.set("big", .ints(Array(0..<10_000)))) {
            if case .library(_, "/", let operation, let message) = $0 {
                return operation.contains("attribute 'big'") && !message.isEmpty
            }
            return false
        }
        XCTAssertFalse(try file.root.attributes.contains("big"))
    }
}
