import Foundation
import XCTest
@testable import MLCore

/// Row-range (hyperslab) reads and writes, and chunked + deflate-compressed storage.
final class HDF5PartialReadTests: HDF5TestCase {
    func testMiddleRowsOf2DDataset() throws {
        // x[r, c] = 10·r + c for a [10, 3] dataset; rows 4..<7 are 40,41,42, 50,51,52, 60,61,62.
        let values = (0..<10).flatMap { r in (0..<3).map { c in Float(10 * r + c) } }
        let file = try HDF5File(path: path("rows2d.h5"), mode: .create)
        let dataset = try file.root.createDataset("x", shape: [10, 3], data: values)
        XCTAssertEqual(dataset.rowCount, 10)
        XCTAssertEqual(dataset.elementsPerRow, 3)
        XCTAssertEqual(try dataset.readRows(4..<7, as: Float.self), [40, 41, 42, 50, 51, 52, 60, 61, 62])
        XCTAssertEqual(try dataset.readRows(9..<10, as: Double.self), [90, 91, 92])
        XCTAssertEqual(try dataset.readRows(0..<10, as: Float.self), values)
        XCTAssertEqual(try dataset.readRows(5..<5, as: Float.self), [])

        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: 6)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: -1)
        try dataset.readRows(1..<3, into: buffer)
        XCTAssertEqual(Array(buffer), [10, 11, 12, 20, 21, 22])
        assertHDF5Error(try dataset.readRows(1..<4, into: buffer)) {
            if case .countMismatch(_, "/x", 9, 6) = $0 { return true }
            return false
        }
    }

    func testMiddleRowsOf3DDataset() throws {
        // x[n, c, d] = 100·n + 10·c + d for [5, 2, 3]; rows 2..<4.
        var values: [Int32] = []
        for n in 0..<5 { for c in 0..<2 { for d in 0..<3 { values.append(Int32(100 * n + 10 * c + d)) } } }
        let file = try HDF5File(path: path("rows3d.h5"), mode: .create)
        try file.root.createDataset("x", shape: [5, 2, 3], data: values, storedAs: .float32, chunks: [2, 2, 3], deflate: 1)
        let dataset = try file.dataset("x")
        XCTAssertEqual(dataset.elementsPerRow, 6)
        XCTAssertEqual(try dataset.readRows(2..<4, as: Float.self),
                       [200, 201, 202, 210, 211, 212, 300, 301, 302, 310, 311, 312])
        XCTAssertEqual(try dataset.readRows(4..<5, as: Double.self), [400, 401, 402, 410, 411, 412])
    }

    func testOutOfRangeRowsThrow() throws {
        let file = try HDF5File(path: path("range.h5"), mode: .create)
        let dataset = try file.root.createDataset("x", shape: [10, 2], data: [Float](repeating: 1, count: 20))
        assertHDF5Error(try dataset.readRows(8..<12, as: Float.self)) {
            if case .rowsOutOfRange(_, "/x", 8..<12, 10) = $0 { return true }
            return false
        }
        assertHDF5Error(try dataset.readRows(-1..<2, as: Float.self)) {
            if case .rowsOutOfRange(_, "/x", -1..<2, 10) = $0 { return true }
            return false
        }
        assertHDF5Error(try dataset.readRows(10..<11, as: Float.self)) {
            if case .rowsOutOfRange = $0 { return true }
            return false
        }
        let error = assertHDF5Error(try dataset.readRows(8..<12, as: Float.self)) { _ in true }
        XCTAssertEqual(error?.description,
                       "HDF5 error in \(path("range.h5")) at /x: rows 8..<12 out of range: the dataset has 10 rows")
        let scalar = try file.root.createDataset("s", shape: [], data: [Float(1)])
        assertHDF5Error(try scalar.readRows(0..<1, as: Float.self)) {
            if case .rankMismatch(_, "/s", _, 0) = $0 { return true }
            return false
        }
        let strings = try file.root.createDataset("t", strings: ["a", "b"])
        assertHDF5Error(try strings.readStrings(rows: 1..<3)) {
            if case .rowsOutOfRange(_, "/t", 1..<3, 2) = $0 { return true }
            return false
        }
    }

    func testChunkedDeflateWriteThenRead() throws {
        // A smooth, compressible [1000, 64] pattern.
        let rows = 1000, columns = 64
        let values = (0..<(rows * columns)).map { Float($0 % 97) * 0.5 }
        let filePath = path("deflate.h5")
        do {
            let file = try HDF5File(path: filePath, mode: .create)
            try file.root.createDataset("x", shape: [rows, columns], data: values, chunks: [100, 64], deflate: 6, shuffle: true)
            try file.root.createDataset("raw", shape: [rows, columns], data: values)
        }
        let file = try HDF5File(path: filePath)
        let dataset = try file.dataset("x")
        let info = try dataset.storageInfo()
        XCTAssertEqual(info.layout, .chunked)
        XCTAssertEqual(info.chunkShape, [100, 64])
        XCTAssertEqual(info.filters, ["shuffle", "deflate"])
        XCTAssertEqual(info.deflateLevel, 6)
        XCTAssertGreaterThan(info.storageBytes, 0)
        XCTAssertLessThan(info.storageBytes, rows * columns * 4 / 4, "compressed to under a quarter")
        XCTAssertEqual(try dataset.read(as: Float.self), values)
        // Rows spanning a chunk boundary (chunks are 100 rows).
        XCTAssertEqual(try dataset.readRows(95..<105, as: Float.self), Array(values[(95 * columns)..<(105 * columns)]))

        let raw = try file.dataset("raw").storageInfo()
        XCTAssertEqual(raw.layout, .contiguous)
        XCTAssertNil(raw.chunkShape)
        XCTAssertEqual(raw.filters, [])
        XCTAssertEqual(raw.storageBytes, rows * columns * 4)
    }

    func testDeflateWithoutChunkShapePicksRowChunks() throws {
        // [4096, 512] float32 rows are 2 KiB: the default chunk keeps whole rows, 512 of them (1 MiB).
        let file = try HDF5File(path: path("auto-chunks.h5"), mode: .create)
        let values = [Float](repeating: 0.25, count: 4096 * 512)
        let dataset = try file.root.createDataset("x", shape: [4096, 512], data: values, deflate: 1)
        let info = try dataset.storageInfo()
        XCTAssertEqual(info.chunkShape, [512, 512])
        XCTAssertEqual(info.deflateLevel, 1)
        XCTAssertEqual(try dataset.readRows(1000..<1001, as: Float.self), [Float](repeating: 0.25, count: 512))
        XCTAssertEqual(h5DefaultChunks(shape: [10, 3], elementSize: 4), [10, 3])
        XCTAssertEqual(h5DefaultChunks(shape: [3, 1 << 20], elementSize: 4), [1, 1 << 18])
    }

    func testInvalidStorageOptionsThrow() throws {
        let file = try HDF5File(path: path("bad-storage.h5"), mode: .create)
        let data = [Float](repeating: 0, count: 12)
        assertHDF5Error(try file.root.createDataset("a", shape: [3, 4], data: data, chunks: [2])) {
            if case .invalidArgument(_, "/a", let message) = $0 { return message.contains("chunk shape [2]") }
            return false
        }
        assertHDF5Error(try file.root.createDataset("b", shape: [3, 4], data: data, chunks: [4, 4])) {
            if case .invalidArgument = $0 { return true }
            return false
        }
        assertHDF5Error(try file.root.createDataset("c", shape: [3, 4], data: data, deflate: 10)) {
            if case .invalidArgument(_, "/c", let message) = $0 { return message.contains("0...9") }
            return false
        }
        assertHDF5Error(try file.root.createDataset("d", shape: [3, 5], data: data)) {
            if case .countMismatch(_, "/d", 15, 12) = $0 { return true }
            return false
        }
        assertHDF5Error(try file.root.createDataset("e", shape: [3, 4], data: data, storedAs: .int32)) {
            if case .typeMismatch(_, "/e", _, "int32") = $0 { return true }
            return false
        }
        assertHDF5Error(try file.root.createDataset("f", shape: [3, 4], data: data, storedAs: .string(variableLength: true))) {
            if case .invalidArgument = $0 { return true }
            return false
        }
        XCTAssertEqual(try file.root.childNames(), [], "nothing was created")
    }

    func testWriteRowsFillsADatasetBatchByBatch() throws {
        let filePath = path("batches.h5")
        do {
            let file = try HDF5File(path: filePath, mode: .create)
            let features = try file.root.createDataset("features", shape: [5, 2], elementType: .float16, deflate: 3)
            try features.writeRows([Float](arrayLiteral: 1, 2, 3, 4), startingAt: 0)
            try features.writeRows([Float](arrayLiteral: 9, 10), startingAt: 4)
            assertHDF5Error(try features.writeRows([Float](arrayLiteral: 1, 2, 3, 4), startingAt: 4)) {
                if case .rowsOutOfRange(_, "/features", 4..<6, 5) = $0 { return true }
                return false
            }
            assertHDF5Error(try features.writeRows([Float](arrayLiteral: 1, 2, 3), startingAt: 0)) {
                if case .countMismatch = $0 { return true }
                return false
            }
        }
        let file = try HDF5File(path: filePath)
        let features = try file.dataset("features")
        XCTAssertEqual(features.elementType, .float16)
        XCTAssertEqual(try features.read(as: Float.self), [1, 2, 3, 4, 0, 0, 0, 0, 9, 10], "unwritten rows read as 0")
    }

    func testWholeOverwrite() throws {
        let file = try HDF5File(path: path("overwrite.h5"), mode: .create)
        let dataset = try file.root.createDataset("x", shape: [2, 2], data: [Int32](arrayLiteral: 1, 2, 3, 4))
        try dataset.write([Int32](arrayLiteral: 5, 6, 7, 8))
        XCTAssertEqual(try dataset.read(as: Int32.self), [5, 6, 7, 8])
        try dataset.write([Int8](arrayLiteral: -1, -2, -3, -4))
        XCTAssertEqual(try dataset.read(as: Int32.self), [-1, -2, -3, -4])
        assertHDF5Error(try dataset.write([Float](arrayLiteral: 1, 2, 3, 4))) {
            if case .typeMismatch(_, "/x", _, "int32") = $0 { return true }
            return false
        }
    }
}
