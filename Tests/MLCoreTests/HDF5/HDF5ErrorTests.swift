import Foundation
import XCTest
@testable import MLCore

/// Bad files and bad requests: each is a specific thrown error, never a crash.
final class HDF5ErrorTests: HDF5TestCase {
    /// A small real HDF5 file with a string dataset, a float dataset and a 3-D dataset.
    private func makeFile(_ name: String = "good.h5") throws -> String {
        let filePath = path(name)
        let file = try HDF5File(path: filePath, mode: .create)
        try file.root.createDataset("params/a/weight", shape: [4, 8], data: (0..<32).map { Float($0) })
        try file.root.createDataset("params/a/cube", shape: [2, 2, 2], data: (0..<8).map { Float($0) })
        try file.root.createDataset("vocab", strings: ["a", "b"])
        try file.root.createDataset("fixed", strings: ["a", "b"], layout: .fixedLength(bytes: 4))
        try file.root.attributes.set("format", "mlcore-checkpoint")
        try file.close()
        return filePath
    }

    func testMissingFile() {
        let missing = path("missing.h5")
        let error = assertHDF5Error(try HDF5File(path: missing)) {
            if case .fileNotFound(missing) = $0 { return true }
            return false
        }
        XCTAssertEqual(error?.description, "HDF5 error in \(missing): file not found")
        assertHDF5Error(try HDF5File(path: missing, mode: .readWrite)) {
            if case .fileNotFound = $0 { return true }
            return false
        }
        assertHDF5Error(try HDF5File(path: path("missing-dir/x.h5"))) {
            if case .fileNotFound = $0 { return true }
            return false
        }
    }

    func testTextFileIsNotHDF5() throws {
        let text = path("notes.txt")
        try "this is not an HDF5 file\n".repeated(100).write(toFile: text, atomically: true, encoding: .utf8)
        let error = assertHDF5Error(try HDF5File(path: text)) {
            if case .notHDF5(text) = $0 { return true }
            return false
        }
        XCTAssertEqual(error?.description, "HDF5 error in \(text): not an HDF5 file (no HDF5 signature)")
        let empty = path("empty.h5")
        XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: Data()))
        assertHDF5Error(try HDF5File(path: empty)) {
            if case .notHDF5(empty) = $0 { return true }
            return false
        }
        assertHDF5Error(try HDF5File(path: directory.path)) {
            if case .isDirectory = $0 { return $0.description.hasSuffix(": is a directory, not an HDF5 file") && $0.category == .missingInput }
            return false
        }
    }

    func testTruncatedCopyOfARealFile() throws {
        let good = try makeFile()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        let truncated = path("truncated.h5")
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
        let error = assertHDF5Error(try HDF5File(path: truncated)) {
            if case .library(truncated, "/", "cannot open file", let message) = $0 { return message.contains("truncated") }
            return false
        }
        XCTAssertTrue(error?.description.hasPrefix("HDF5 error in \(truncated) at /: cannot open file: truncated file") ?? false,
                      error?.description ?? "")
    }

    func testMissingObject() throws {
        let filePath = try makeFile()
        let file = try HDF5File(path: filePath)
        let error = assertHDF5Error(try file.dataset("params/a/bias")) {
            if case .objectNotFound(filePath, "/params/a/bias") = $0 { return true }
            return false
        }
        XCTAssertEqual(error?.description, "HDF5 error in \(filePath) at /params/a/bias: no such object")
        assertHDF5Error(try file.dataset("params/b/weight")) {
            if case .objectNotFound(_, "/params/b/weight") = $0 { return true }
            return false
        }
        assertHDF5Error(try file.group("nothing/here")) {
            if case .objectNotFound(_, "/nothing/here") = $0 { return true }
            return false
        }
        assertHDF5Error(try file.root.kind(of: "params/a/weight/x")) {
            if case .objectNotFound = $0 { return true }
            return false
        }
    }

    func testWrongElementType() throws {
        let filePath = try makeFile()
        let file = try HDF5File(path: filePath)
        let error = assertHDF5Error(try file.dataset("vocab").read(as: Float.self)) {
            if case .typeMismatch(filePath, "/vocab", let expected, "string (variable length)") = $0 {
                return expected.contains("float32")
            }
            return false
        }
        XCTAssertEqual(error?.description,
                       "HDF5 error in \(filePath) at /vocab: type mismatch: expected a numeric type (reading as float32), found string (variable length)")
        assertHDF5Error(try file.dataset("fixed").readRows(0..<1, as: Int32.self)) {
            if case .typeMismatch(_, "/fixed", _, "string (fixed length)") = $0 { return true }
            return false
        }
        assertHDF5Error(try file.dataset("params/a/weight").readStrings()) {
            if case .typeMismatch(_, "/params/a/weight", "a string type", "float32") = $0 { return true }
            return false
        }
        assertHDF5Error(try file.dataset("params/a/weight").readString()) {
            if case .countMismatch = $0 { return true }
            return false
        }
        assertHDF5Error(try file.dataset("params/a/weight").read(as: Int64.self)) {
            if case .typeMismatch(_, "/params/a/weight", let expected, "float32") = $0 { return expected.contains("integer") }
            return false
        }
    }

    func testWrongRankAndShape() throws {
        let filePath = try makeFile()
        let file = try HDF5File(path: filePath)
        let cube = try file.dataset("params/a/cube")
        XCTAssertNoThrow(try cube.expectRank(3))
        XCTAssertNoThrow(try cube.expectShape([2, 2, 2]))
        let error = assertHDF5Error(try cube.expectRank(2)) {
            if case .rankMismatch(filePath, "/params/a/cube", "2", 3) = $0 { return true }
            return false
        }
        XCTAssertEqual(error?.description, "HDF5 error in \(filePath) at /params/a/cube: rank mismatch: expected rank 2, found rank 3")
        assertHDF5Error(try cube.expectShape([2, 4])) {
            if case .rankMismatch = $0 { return true }
            return false
        }
        assertHDF5Error(try cube.expectShape([2, 2, 3])) {
            if case .shapeMismatch(_, _, [2, 2, 3], [2, 2, 2]) = $0 { return true }
            return false
        }
    }

    func testUseAfterCloseAndLibraryMessage() throws {
        let filePath = try makeFile()
        let file = try HDF5File(path: filePath, mode: .readWrite)
        let root = file.root
        try file.close()
        assertHDF5Error(try root.dataset("params/a/weight")) {
            if case .fileClosed(filePath) = $0 { return true }
            return false
        }
        assertHDF5Error(try file.flush()) {
            if case .fileClosed = $0 { return true }
            return false
        }
        let error = HDF5Error.library(file: "data/x.h5", path: "/params/a/weight", operation: "cannot open dataset",
                                      message: "object 'weight' doesn't exist")
        XCTAssertEqual(error.description,
                       "HDF5 error in data/x.h5 at /params/a/weight: cannot open dataset: object 'weight' doesn't exist")
        XCTAssertEqual(error.file, "data/x.h5")
        XCTAssertEqual(error.path, "/params/a/weight")
    }

    func testLibraryErrorCarriesInnermostHDF5Message() throws {
        // Opening the same file for writing twice in one process is refused by HDF5 itself.
        let filePath = try makeFile()
        let reader = try HDF5File(path: filePath)
        _ = reader
        let writer = HDF5ErrorTests.tryOpen(filePath, .readWrite)
        if case .failure(let error as HDF5Error) = writer {
            guard case .library(filePath, "/", "cannot open file", let message) = error else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertFalse(message.isEmpty)
            XCTAssertFalse(message.contains("unknown HDF5 error"), message)
        } else if case .success = writer {
            // Some HDF5 builds allow upgrading a shared read-only open; then there is nothing to check.
        }
    }

    func testHDF5PrintsNothingOnAnyThread() throws {
        // HDF5's own error printing is off on every thread (thread-safe HDF5 builds keep that setting
        // per thread): a failure on a new thread is thrown, and nothing reaches stderr.
        let good = try makeFile()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        let truncated = path("truncated.h5")
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
        let captured = path("stderr.txt")
        fflush(nil)
        let savedError = dup(2)
        let sink = open(captured, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        XCTAssertGreaterThanOrEqual(sink, 0)
        dup2(sink, 2)
        let thrown = HDF5TestCounter()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            do { _ = try HDF5File(path: truncated) } catch is HDF5Error { thrown.increment() } catch {}
            do { _ = try HDF5File(path: good).dataset("vocab").read(as: Float.self) } catch is HDF5Error { thrown.increment() } catch {}
            done.signal()
        }
        done.wait()
        do { _ = try HDF5File(path: truncated) } catch is HDF5Error { thrown.increment() } catch {}
        fflush(nil)
        dup2(savedError, 2)
        close(savedError)
        close(sink)
        XCTAssertEqual(thrown.value, 3)
        let text = try String(contentsOfFile: captured, encoding: .utf8)
        XCTAssertFalse(text.contains("HDF5-DIAG"), text)
        XCTAssertEqual(text, "")
    }

    private static func tryOpen(_ path: String, _ mode: HDF5File.Mode) -> Result<HDF5File, Error> {
        Result { try HDF5File(path: path, mode: mode) }
    }
}

extension String {
    fileprivate func repeated(_ times: Int) -> String { String(repeating: self, count: times) }
}
