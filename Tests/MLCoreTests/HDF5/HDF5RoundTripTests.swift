import Foundation
import XCTest
@testable import MLCore

/// Write-then-read round trips for every element type, conversions done by HDF5 on read, and strings.
final class HDF5RoundTripTests: HDF5TestCase {
    /// Writes `values` with shape [2, 3] at `name`, reopens the file, checks the element type, shape
    /// and values.
    private func roundTrip<T: HDF5Scalar & Equatable>(_ values: [T], name: String, expectedType: HDF5ElementType,
                                                     line: UInt = #line) throws {
        let filePath = path("\(name).h5")
        do {
            let file = try HDF5File(path: filePath, mode: .create)
            let written = try file.root.createDataset(name, shape: [2, 3], data: values)
            XCTAssertEqual(written.elementType, expectedType, line: line)
            try file.close()
        }
        let file = try HDF5File(path: filePath)
        let dataset = try file.dataset(name)
        XCTAssertEqual(dataset.shape, [2, 3], line: line)
        XCTAssertEqual(dataset.count, 6, line: line)
        XCTAssertEqual(dataset.elementType, expectedType, line: line)
        XCTAssertEqual(try dataset.read(as: T.self), values, line: line)
    }

    func testEveryNumericTypeRoundTrips() throws {
        try roundTrip([Float](arrayLiteral: 0, -1.5, 3.25, .greatestFiniteMagnitude, -.leastNonzeroMagnitude, 1e-30),
                      name: "f32", expectedType: .float32)
        try roundTrip([Double](arrayLiteral: 0, 0.1, -1e300, .pi, .leastNonzeroMagnitude, -7), name: "f64", expectedType: .float64)
        try roundTrip([Int8](arrayLiteral: .min, -1, 0, 1, 100, .max), name: "i8", expectedType: .int8)
        try roundTrip([Int16](arrayLiteral: .min, -1, 0, 1, 1000, .max), name: "i16", expectedType: .int16)
        try roundTrip([Int32](arrayLiteral: .min, -1, 0, 1, 123_456_789, .max), name: "i32", expectedType: .int32)
        try roundTrip([Int64](arrayLiteral: .min, -1, 0, 1, 1 << 53 + 1, .max), name: "i64", expectedType: .int64)
        try roundTrip([UInt8](arrayLiteral: 0, 1, 127, 128, 254, 255), name: "u8", expectedType: .uint8)
        try roundTrip([UInt16](arrayLiteral: 0, 1, 255, 256, 65534, 65535), name: "u16", expectedType: .uint16)
        try roundTrip([UInt32](arrayLiteral: 0, 1, 1 << 31, 7, 4_000_000_000, .max), name: "u32", expectedType: .uint32)
        try roundTrip([UInt64](arrayLiteral: 0, 1, 1 << 63, 9, 12_345_678_901_234, .max), name: "u64", expectedType: .uint64)
        try roundTrip([Int](arrayLiteral: .min, -2, 0, 2, 1 << 40, .max), name: "int", expectedType: .int64)
    }

    func testFloat16StorageOfFloatData() throws {
        // Every value is exactly representable in IEEE half precision: small integers, powers of two,
        // 65504 (largest finite half), 2^-14 (smallest normal), 2^-24 (smallest subnormal), ±0, -inf.
        let values: [Float] = [0, -0.0, 1, -2, 0.5, 1000.5, 65504, 0x1p-14, 0x1p-24, -.infinity, 3.140625, -0.099975586]
        let filePath = path("half.h5")
        do {
            let file = try HDF5File(path: filePath, mode: .create)
            try file.root.createDataset("w", shape: [3, 4], data: values, storedAs: .float16)
        }
        let file = try HDF5File(path: filePath)
        let dataset = try file.dataset("w")
        XCTAssertEqual(dataset.elementType, .float16)
        XCTAssertEqual(try dataset.storageInfo().storageBytes, 2 * values.count, "two bytes per element on disk")
        let floats: [Float] = try dataset.read()
        XCTAssertEqual(floats, values)
        XCTAssertEqual(floats[1].sign, .minus, "-0 keeps its sign")
        let doubles: [Double] = try dataset.read()
        XCTAssertEqual(doubles, values.map(Double.init))
        // Row reads widen halves in place in the destination: check the middle row both ways.
        XCTAssertEqual(try dataset.readRows(1..<2, as: Float.self), Array(values[4..<8]))
        XCTAssertEqual(try dataset.readRows(1..<3, as: Double.self), values[4...].map(Double.init))
        assertHDF5Error(try dataset.readRows(0..<1, as: Int32.self), "float16 -> integers is refused") {
            if case .typeMismatch(_, "/w", _, "float16") = $0 { return true }
            return false
        }
        #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
        let halves: [Float16] = try dataset.read()
        XCTAssertEqual(halves, values.map { Float16($0) })
        #endif
    }

    func testFloat16StorageRoundsToNearestEvenLikeNumpy() throws {
        // numpy's float32 -> float16: round to nearest, ties to even; past 65504 (+ half a step) -> inf.
        // 2049 lies halfway between 2048 and 2050 (half spacing 2 there): ties to even -> 2048.
        // 2051 halfway between 2050 and 2052 -> 2052. 65520 is halfway from 65504 to the overflow -> inf.
        // 1/3 -> 0.33325195 (= 1365/4096). 1e-8 is below half the smallest subnormal (2^-25) -> 0.
        let values: [Float] = [2049, 2051, -2049, 65520, -1e6, 1.0 / 3.0, 1e-8]
        let expected: [Float] = [2048, 2052, -2048, .infinity, -.infinity, 0.33325195, 0]
        let file = try HDF5File(path: path("rounding.h5"), mode: .create)
        let created = try file.root.createDataset("h", shape: [7], data: values, storedAs: .float16)
        XCTAssertEqual(try created.read(as: Float.self), expected)
        let filled = try file.root.createDataset("g", shape: [7], elementType: .float16)
        try filled.write(values.map(Double.init))
        XCTAssertEqual(try filled.read(as: Float.self), expected)
    }

    func testFloat64AndIntegersReadAsFloat() throws {
        let filePath = path("convert.h5")
        let doubles: [Double] = [0.1, -1e10, 1.0 / 3.0, 1e-50, 123_456.789, -0.0]
        let ints: [Int64] = [-3, 0, 7, 1 << 24, -(1 << 24), 42]
        do {
            let file = try HDF5File(path: filePath, mode: .create)
            try file.root.createDataset("d", shape: [6], data: doubles)
            try file.root.createDataset("i", shape: [2, 3], data: ints)
        }
        let file = try HDF5File(path: filePath)
        // HDF5 converts float64 -> float32 with round-to-nearest, like Float(Double).
        XCTAssertEqual(try file.dataset("d").read(as: Float.self), doubles.map { Float($0) })
        XCTAssertEqual(try file.dataset("i").read(as: Float.self), ints.map { Float($0) })
        XCTAssertEqual(try file.dataset("i").read(as: Int32.self), ints.map { Int32($0) })
        XCTAssertEqual(try file.dataset("i").read(as: Double.self), ints.map { Double($0) })
    }

    func testReadIntoCallerBuffer() throws {
        let filePath = path("buffer.h5")
        let values = (0..<24).map { Float($0) * 0.25 - 2 }
        let file = try HDF5File(path: filePath, mode: .create)
        let dataset = try file.root.createDataset("x", shape: [2, 3, 4], data: values, storedAs: .float64)
        let storage = UnsafeMutableBufferPointer<Float>.allocate(capacity: 24)
        defer { storage.deallocate() }
        storage.initialize(repeating: .nan)
        try dataset.read(into: storage)
        XCTAssertEqual(Array(storage), values)
        let small = UnsafeMutableBufferPointer<Float>.allocate(capacity: 23)
        defer { small.deallocate() }
        assertHDF5Error(try dataset.read(into: small)) {
            if case .countMismatch(_, "/x", 24, 23) = $0 { return true }
            return false
        }
    }

    func testScalarDatasets() throws {
        let file = try HDF5File(path: path("scalar.h5"), mode: .create)
        let number = try file.root.createDataset("n", shape: [], data: [Int64(-9)])
        XCTAssertEqual(number.shape, [])
        XCTAssertEqual(number.count, 1)
        XCTAssertEqual(try number.readScalar(as: Int64.self), -9)
        XCTAssertEqual(try number.readScalar(as: Double.self), -9)
        let text = try file.root.createDataset("json", strings: ["{\"a\": [1, 2], \"é\": \"🙂\"}"], shape: [])
        XCTAssertEqual(text.shape, [])
        XCTAssertEqual(try text.readString(), "{\"a\": [1, 2], \"é\": \"🙂\"}")
        let pair = try file.root.createDataset("pair", shape: [2], data: [Float(1), 2])
        assertHDF5Error(try pair.readScalar(as: Float.self)) {
            if case .countMismatch(_, "/pair", 1, 2) = $0 { return true }
            return false
        }
    }

    func testEmptyDatasets() throws {
        let file = try HDF5File(path: path("empty.h5"), mode: .create)
        let empty = try file.root.createDataset("e", shape: [0, 5], data: [Float](), deflate: 4)
        XCTAssertEqual(empty.shape, [0, 5])
        XCTAssertEqual(empty.count, 0)
        XCTAssertEqual(try empty.read(as: Float.self), [])
        XCTAssertEqual(try empty.readRows(0..<0, as: Float.self), [])
        let noStrings = try file.root.createDataset("s", strings: [])
        XCTAssertEqual(noStrings.shape, [0])
        XCTAssertEqual(try noStrings.readStrings(), [])
    }

    static let sampleStrings = ["", "a", "naïve 日本 🙂", "plain ASCII text", "tab\there", "ß", "😀😀😀😀", "end"]

    func testVariableLengthStringsRoundTrip() throws {
        let filePath = path("vlen.h5")
        do {
            let file = try HDF5File(path: filePath, mode: .create)
            try file.root.createDataset("flat", strings: Self.sampleStrings)
            try file.root.createDataset("grid", strings: Self.sampleStrings, shape: [2, 4])
        }
        let file = try HDF5File(path: filePath)
        let flat = try file.dataset("flat")
        XCTAssertEqual(flat.elementType, .string(variableLength: true))
        XCTAssertEqual(flat.shape, [8])
        XCTAssertEqual(try flat.readStrings(), Self.sampleStrings)
        let grid = try file.dataset("grid")
        XCTAssertEqual(grid.shape, [2, 4])
        XCTAssertEqual(try grid.readStrings(), Self.sampleStrings)
        XCTAssertEqual(try grid.readStrings(rows: 1..<2), Array(Self.sampleStrings[4...]))
        XCTAssertEqual(try flat.readStrings(rows: 2..<3), ["naïve 日本 🙂"])
    }

    func testFixedLengthStringsRoundTrip() throws {
        let filePath = path("fixed.h5")
        do {
            let file = try HDF5File(path: filePath, mode: .create)
            try file.root.createDataset("auto", strings: Self.sampleStrings, layout: .fixedLength(bytes: nil))
            try file.root.createDataset("wide", strings: ["x", "日本"], layout: .fixedLength(bytes: 32))
        }
        let file = try HDF5File(path: filePath)
        let auto = try file.dataset("auto")
        XCTAssertEqual(auto.elementType, .string(variableLength: false))
        XCTAssertEqual(try auto.readStrings(), Self.sampleStrings)
        XCTAssertEqual(try auto.readStrings(rows: 2..<4), ["naïve 日本 🙂", "plain ASCII text"])
        // The longest element, "naïve 日本 🙂", is 18 UTF-8 bytes (ï 2, 日 本 3 each, 🙂 4, 8 ASCII):
        // the fixed size, so 8 elements × 18 bytes.
        XCTAssertEqual(try auto.storageInfo().storageBytes, 8 * 18)
        XCTAssertEqual(try file.dataset("wide").readStrings(), ["x", "日本"])
    }

    func testStringLayoutErrors() throws {
        let file = try HDF5File(path: path("bad-strings.h5"), mode: .create)
        assertHDF5Error(try file.root.createDataset("short", strings: ["abc", "日本"], layout: .fixedLength(bytes: 5))) {
            if case .invalidArgument(_, "/short", let message) = $0 { return message.contains("longer than the fixed length 5") }
            return false
        }
        assertHDF5Error(try file.root.createDataset("nul", strings: ["a\u{0}b"])) {
            if case .invalidArgument(_, "/nul", let message) = $0 { return message.contains("NUL") }
            return false
        }
        assertHDF5Error(try file.root.createDataset("shape", strings: ["a", "b", "c"], shape: [2, 2])) {
            if case .countMismatch(_, "/shape", 4, 3) = $0 { return true }
            return false
        }
        XCTAssertFalse(try file.root.contains("short"), "a rejected dataset is not created")
    }
}

/// uint64 values ≥ 2⁶³ are read exactly as UInt64 and refused (not wrapped or saturated) as Int64.
final class HDF5UnsignedRangeTests: HDF5TestCase {
    func testUInt64AboveInt64MaxIsExactOrRefused() throws {
        let filePath = path("u64.h5")
        let big: [UInt64] = [1 << 63 + 5, .max, 1]
        do {
            let file = try HDF5File(path: filePath, mode: .create)
            try file.root.createDataset("big", shape: [3], data: big)
            try file.root.createDataset("small", shape: [2], data: [UInt64(7), 1 << 62])
            try file.root.createDataset("negative", shape: [2], data: [Int64(3), -1])
            try file.root.attributes.set("scalar", .uint(.max))
            try file.root.attributes.set("array", .uints([1 << 63 + 5, 1]))
            try file.root.attributes.set("fits", .uints([1, 2]))
            try file.close()
        }
        let file = try HDF5File(path: filePath)
        XCTAssertEqual(try file.dataset("big").read(as: UInt64.self), big)
        assertHDF5Error(try file.dataset("big").read(as: Int64.self)) {
            guard case .typeMismatch(_, "/big", _, let found) = $0 else { return false }
            return found == "uint64 value 9223372036854775813 at element 0"
        }
        assertHDF5Error(try file.dataset("big").readRows(1..<2, as: Int.self)) {
            guard case .typeMismatch(_, _, _, let found) = $0 else { return false }
            return found == "uint64 value 18446744073709551615 at element 1"
        }
        XCTAssertEqual(try file.dataset("big").readRows(2..<3, as: Int64.self), [1], "rows in range read fine")
        XCTAssertEqual(try file.dataset("small").read(as: Int64.self), [7, 1 << 62])
        assertHDF5Error(try file.dataset("negative").read(as: UInt32.self)) {
            guard case .typeMismatch(_, _, _, let found) = $0 else { return false }
            return found == "int64 value -1 at element 1"
        }
        XCTAssertEqual(try file.dataset("negative").read(as: Int32.self), [3, -1])
        XCTAssertEqual(try file.root.attributes.value("scalar"), .uint(18_446_744_073_709_551_615))
        XCTAssertEqual(try file.root.attributes.value("array"), .uints([9_223_372_036_854_775_813, 1]))
        XCTAssertEqual(try file.root.attributes.value("fits"), .ints([1, 2]), "uint64 values that fit Int stay ints")
        XCTAssertEqual(HDF5AttributeValue.uint(.max).description, "18446744073709551615")
        XCTAssertEqual(try JSONValue.uint(.max).jsonText(), "18446744073709551615")
        XCTAssertEqual(try JSONValue.parse("[18446744073709551615, 9223372036854775813]"),
                       .array([.uint(.max), .uint(9_223_372_036_854_775_813)]))
    }
}
