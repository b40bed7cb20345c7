import Foundation
import XCTest
@testable import MLCore

/// Groups, navigation, introspection, file lifetime and the lock.
final class HDF5GroupTests: HDF5TestCase {
    /// /params/{encoder/{bias, weight}, decoder/} , /tokenizer/vocab, root attribute.
    private func makeTree() throws -> HDF5File {
        let file = try HDF5File(path: path("tree.h5"), mode: .create)
        let encoder = try file.root.createGroup("params/encoder")
        try encoder.createDataset("weight", shape: [3, 2], data: [Float](repeating: 1, count: 6))
        try encoder.createDataset("bias", shape: [3], data: [Float](repeating: 0, count: 3))
        try file.root.createGroup("params/decoder")
        try file.root.createDataset("tokenizer/vocab", strings: ["[PAD]", "[UNK]", "the"])
        return file
    }

    func testCreateGroupMakesIntermediatesAndIsIdempotent() throws {
        let file = try HDF5File(path: path("groups.h5"), mode: .create)
        let c = try file.root.createGroup("a/b/c")
        XCTAssertEqual(c.path, "/a/b/c")
        XCTAssertEqual(c.name, "c")
        XCTAssertEqual(try file.root.kind(of: "a/b"), .group)
        XCTAssertEqual(try file.root.group("a").group("b/c").path, "/a/b/c")
        XCTAssertEqual(try file.root.createGroup("a/b").path, "/a/b", "an existing group is returned")
        XCTAssertEqual(try file.group("/a/b/c").path, "/a/b/c")
        XCTAssertEqual(try c.group("/a").path, "/a", "absolute paths resolve from the root")
        XCTAssertEqual(try file.root.group("./a//b/").path, "/a/b")
        XCTAssertEqual(file.root.path, "/")
        XCTAssertEqual(file.root.name, "/")
        assertHDF5Error(try file.root.group("a/../a")) {
            if case .invalidArgument = $0 { return true }
            return false
        }
        // Non-ASCII link names.
        try file.root.createGroup("données/日本")
        XCTAssertTrue(try file.root.contains("données/日本"))
    }

    func testChildrenContainsAndWalk() throws {
        let file = try makeTree()
        XCTAssertEqual(try file.root.childNames(), ["params", "tokenizer"])
        XCTAssertEqual(try file.group("params").childNames(), ["decoder", "encoder"])
        XCTAssertEqual(try file.group("params/encoder").children(), [
            HDF5Entry(name: "bias", path: "/params/encoder/bias", kind: .dataset),
            HDF5Entry(name: "weight", path: "/params/encoder/weight", kind: .dataset),
        ])
        XCTAssertTrue(try file.root.contains("params/encoder/weight"))
        XCTAssertTrue(try file.root.contains("/params"))
        XCTAssertFalse(try file.root.contains("params/encoder/missing"))
        XCTAssertFalse(try file.root.contains("params/missing/weight"))
        XCTAssertFalse(try file.root.contains("params/encoder/weight/below_a_dataset"))
        XCTAssertEqual(try file.root.walk().map(\.description), [
            "/params (group)",
            "/params/decoder (group)",
            "/params/encoder (group)",
            "/params/encoder/bias (dataset)",
            "/params/encoder/weight (dataset)",
            "/tokenizer (group)",
            "/tokenizer/vocab (dataset)",
        ])
        var datasets: [String] = []
        try file.group("params").visit { entry in
            if entry.kind == .dataset { datasets.append(try file.dataset(entry.path).description) }
        }
        XCTAssertEqual(datasets, ["/params/encoder/bias: float32 [3]", "/params/encoder/weight: float32 [3, 2]"])
    }

    func testKindMismatchesAndExistingObjects() throws {
        let file = try makeTree()
        assertHDF5Error(try file.root.group("params/encoder/weight")) {
            if case .wrongObjectKind(_, "/params/encoder/weight", .group, .dataset) = $0 { return true }
            return false
        }
        assertHDF5Error(try file.root.dataset("params/encoder")) {
            if case .wrongObjectKind(_, "/params/encoder", .dataset, .group) = $0 { return true }
            return false
        }
        assertHDF5Error(try file.root.createGroup("params/encoder/weight")) {
            if case .wrongObjectKind = $0 { return true }
            return false
        }
        assertHDF5Error(try file.root.createDataset("params/encoder/bias", shape: [1], data: [Float(0)])) {
            if case .objectExists(_, "/params/encoder/bias") = $0 { return true }
            return false
        }
        try file.root.remove("params/encoder/bias")
        XCTAssertFalse(try file.root.contains("params/encoder/bias"))
        assertHDF5Error(try file.root.remove("params/encoder/bias")) {
            if case .objectNotFound = $0 { return true }
            return false
        }
    }

    func testDatasetKeepsFileOpenAndCloseIsIdempotent() throws {
        var file: HDF5File? = try makeTree()
        let weight = try file!.dataset("params/encoder/weight")
        let encoder = try file!.group("params/encoder")
        weak let weakFile = file
        file = nil
        XCTAssertNotNil(weakFile, "the dataset holds its file")
        XCTAssertEqual(try weight.read(as: Float.self), [Float](repeating: 1, count: 6))
        XCTAssertEqual(try encoder.childNames(), ["bias", "weight"])

        let owner = weight.file
        XCTAssertTrue(owner.isOpen)
        try owner.close()
        try owner.close()
        XCTAssertFalse(owner.isOpen)
        assertHDF5Error(try weight.read(as: Float.self)) {
            if case .fileClosed = $0 { return true }
            return false
        }
        assertHDF5Error(try encoder.childNames()) {
            if case .fileClosed = $0 { return true }
            return false
        }
        // The file can be opened again once closed.
        let again = try HDF5File(path: path("tree.h5"), mode: .readWrite)
        XCTAssertEqual(try again.dataset("params/encoder/weight").shape, [3, 2])
    }

    func testReadOnlyFileRejectsWrites() throws {
        let filePath = path("ro.h5")
        do {
            let file = try HDF5File(path: filePath, mode: .create)
            try file.root.createDataset("x", shape: [2], data: [Float](arrayLiteral: 1, 2))
        }
        let file = try HDF5File(path: filePath)
        XCTAssertEqual(file.mode, .readOnly)
        assertHDF5Error(try file.root.createGroup("g")) {
            if case .library(filePath, "/g", "cannot create group", let message) = $0 { return !message.isEmpty }
            return false
        }
        assertHDF5Error(try file.dataset("x").write([Float](arrayLiteral: 3, 4))) {
            if case .library(filePath, "/x", _, _) = $0 { return true }
            return false
        }
        assertHDF5Error(try file.root.attributes.set("a", 1)) {
            if case .library = $0 { return true }
            return false
        }
        XCTAssertEqual(try file.dataset("x").read(as: Float.self), [1, 2])
    }

    func testCreateNewAndCreateModes() throws {
        let filePath = path("modes.h5")
        do {
            let file = try HDF5File(path: filePath, mode: .createNew)
            try file.root.createDataset("x", shape: [1], data: [Float(1)])
        }
        assertHDF5Error(try HDF5File(path: filePath, mode: .createNew)) {
            if case .fileExists(filePath) = $0 { return true }
            return false
        }
        do {
            let file = try HDF5File(path: filePath, mode: .readWrite)
            try file.root.createDataset("y", shape: [1], data: [Float(2)])
        }
        XCTAssertEqual(try HDF5File(path: filePath).root.childNames(), ["x", "y"])
        let truncated = try HDF5File(path: filePath, mode: .create)
        XCTAssertEqual(try truncated.root.childNames(), [], ".create truncates")
        assertHDF5Error(try HDF5File(path: path("no/such/dir/f.h5"), mode: .create)) {
            if case .library(_, "/", "cannot create file", let message) = $0 { return message.contains("unable to") || message.contains("No such file") }
            return false
        }
        XCTAssertFalse(HDF5File.libraryVersion.isEmpty)
        XCTAssertTrue(HDF5File.libraryVersion.hasPrefix("1."), HDF5File.libraryVersion)
    }

    func testConcurrentReadsFromManyThreads() throws {
        let filePath = path("threads.h5")
        let values = (0..<4096).map { Float($0) }
        do {
            let file = try HDF5File(path: filePath, mode: .create)
            try file.root.createDataset("x", shape: [64, 64], data: values, chunks: [8, 64], deflate: 1)
        }
        let file = try HDF5File(path: filePath)
        let dataset = try file.dataset("x")
        let failures = HDF5TestCounter()
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            do {
                let row: [Float] = try dataset.readRows(i..<(i + 1))
                if row != Array(values[(i * 64)..<((i + 1) * 64)]) { failures.increment() }
                if (try? file.dataset("missing-\(i)")) != nil { failures.increment() }
                if try file.root.childNames() != ["x"] { failures.increment() }
            } catch {
                failures.increment()
            }
        }
        XCTAssertEqual(failures.value, 0)
    }
}

/// A thread-safe counter for the concurrency test.
final class HDF5TestCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
