import Foundation
import XCTest
@testable import MLCore

/// `OutputFile` and `HDF5File.createAtomically` respect what an output path names: regular files and
/// new paths are replaced atomically, a symbolic link's target is written (the link stays), FIFOs,
/// /dev/null and descriptors are written in place, a directory is refused. Checks use file types and
/// inode numbers, never permissions, so they hold for root and other users alike.
final class OutputFileTests: HDF5TestCase {
    private func info(_ path: String) -> stat {
        var s = stat()
        XCTAssertEqual(lstat(path, &s), 0, "lstat \(path)")
        return s
    }

    private func type(_ path: String) -> mode_t { info(path).st_mode & S_IFMT }

    func testRegularFileAndNewPathAreReplacedAtomically() throws {
        let target = path("out/report.json")  // the parent does not exist yet
        try OutputFile.write(Data("one\n".utf8), to: target)
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "one\n")
        chmod(target, 0o640)
        let before = info(target).st_ino
        try OutputFile.write(Data("two\n".utf8), to: target)
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "two\n")
        XCTAssertNotEqual(info(target).st_ino, before, "a regular file is replaced by rename")
        XCTAssertEqual(info(target).st_mode & 0o777, 0o640, "the replaced file keeps its permission bits")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: path("out")).filter { $0.contains("partial") }
        XCTAssertEqual(leftovers, [])
    }

    /// One-character and non-ASCII relative names (Foundation's NSString path functions trap on "x"),
    /// and the parent-directory rule itself.
    func testShortRelativeNamesAndParentDirectories() throws {
        XCTAssertEqual(OutputFile.parentDirectory(of: "x"), "")
        XCTAssertEqual(OutputFile.parentDirectory(of: "ü"), "")
        XCTAssertEqual(OutputFile.parentDirectory(of: "./x"), ".")
        XCTAssertEqual(OutputFile.parentDirectory(of: "/x"), "/")
        XCTAssertEqual(OutputFile.parentDirectory(of: "/"), "/")
        XCTAssertEqual(OutputFile.parentDirectory(of: "a/b/c.json"), "a/b")
        XCTAssertEqual(OutputFile.parentDirectory(of: "a//b/"), "a")
        let previous = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(directory.path))
        defer { FileManager.default.changeCurrentDirectoryPath(previous) }
        for name in ["x", "ü", "\u{200B}"] {
            try OutputFile.write(Data("\(name)\n".utf8), to: name)
            XCTAssertEqual(try String(contentsOfFile: path(name), encoding: .utf8), "\(name)\n", name)
        }
    }

    func testSymbolicLinkTargetIsWrittenAndTheLinkStays() throws {
        let target = path("target.json"), link = path("link.json")
        try "old".write(toFile: target, atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "target.json")  // relative
        try OutputFile.write(Data("new".utf8), to: link)
        XCTAssertEqual(type(link), S_IFLNK, "the link is still a link")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), "target.json")
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "new")
        // A dangling link creates its target.
        let dangling = path("dangling.json")
        try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: path("made.json"))
        try OutputFile.write(Data("made".utf8), to: dangling)
        XCTAssertEqual(type(dangling), S_IFLNK)
        XCTAssertEqual(try String(contentsOfFile: path("made.json"), encoding: .utf8), "made")
    }

    /// /dev/zero always, and /dev/null when it is a character device (a root run of an older build's
    /// `merge`, which wrote its report to /dev/null by rename, leaves a regular file there).
    func testCharacterDevicesStayDevices() throws {
        let devices = ["/dev/zero", "/dev/null"].filter { type($0) == S_IFCHR }
        XCTAssertTrue(devices.contains("/dev/zero"))
        for device in devices {
            let before = info(device)
            try OutputFile.write(Data("{}\n".utf8), to: device)
            try HDF5File.createAtomically(device) { file in try file.root.createDataset("x", shape: [1], data: [Float(1)]) }
            let after = info(device)
            XCTAssertEqual(after.st_mode & S_IFMT, S_IFCHR, "\(device) is still a character device")
            XCTAssertEqual(after.st_ino, before.st_ino, device)
            XCTAssertEqual(after.st_rdev, before.st_rdev, device)
        }
    }

    /// Reads a FIFO on another thread while `write` runs; returns what came through.
    private func throughFIFO(_ fifo: String, _ write: () throws -> Void) throws -> Data {
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        nonisolated(unsafe) var received = Data()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            received = FileHandle(forReadingAtPath: fifo)?.readDataToEndOfFile() ?? Data()
            done.signal()
        }
        try write()
        XCTAssertEqual(done.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(type(fifo), S_IFIFO, "the FIFO is still a FIFO")
        return received
    }

    func testFIFOIsWrittenNotReplaced() throws {
        let text = try throughFIFO(path("report.fifo")) { try OutputFile.write(Data("{\"a\": 1}\n".utf8), to: path("report.fifo")) }
        XCTAssertEqual(String(decoding: text, as: UTF8.self), "{\"a\": 1}\n")
        // An HDF5 artifact through a FIFO arrives whole: its bytes start with the HDF5 signature.
        let bytes = try throughFIFO(path("bank.fifo")) {
            try HDF5File.createAtomically(path("bank.fifo")) { file in try file.root.createDataset("x", shape: [2], data: [Float(1), 2]) }
        }
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a])
        try bytes.write(to: URL(fileURLWithPath: path("copy.h5")))
        XCTAssertEqual(try HDF5File(path: path("copy.h5")).dataset("/x").read(as: Float.self), [1, 2])
    }

    func testDescriptorPathsWriteTheOpenDescriptor() throws {
        let target = path("fd.txt")
        let fd = open(target, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        XCTAssertGreaterThan(fd, 2)
        try OutputFile.write(Data("first ".utf8), to: "/dev/fd/\(fd)")
        try OutputFile.write(Data("second".utf8), to: "/proc/self/fd/\(fd)")
        close(fd)
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "first second", "written through the descriptor, in order")
        XCTAssertEqual(OutputFile.descriptorNumber("/dev/stdout"), 1)
        XCTAssertEqual(OutputFile.descriptorNumber("/dev/stderr"), 2)
        XCTAssertThrowsError(try OutputFile.write(Data(), to: "/dev/fd/987")) {
            XCTAssertEqual(($0 as? OutputError)?.category, .missingInput, "\($0)")
        }
    }

    func testDirectoryIsAUsageErrorNamingThePath() throws {
        XCTAssertThrowsError(try OutputFile.write(Data("x".utf8), to: directory.path)) {
            XCTAssertEqual($0 as? OutputError, .isDirectory(path: self.directory.path))
            XCTAssertEqual(($0 as? OutputError)?.category, .usage)
            XCTAssertTrue("\($0)".contains(self.directory.path))
        }
        XCTAssertThrowsError(try HDF5File.createAtomically(directory.path) { _ in }) {
            XCTAssertEqual($0 as? OutputError, .isDirectory(path: self.directory.path))
        }
        XCTAssertEqual(type(directory.path), S_IFDIR)
        // A parent that is a file cannot hold the output: missing input (66), naming the path.
        try "x".write(toFile: path("plain"), atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try OutputFile.write(Data("x".utf8), to: path("plain/report.json"))) {
            XCTAssertEqual(($0 as? OutputError)?.category, .missingInput, "\($0)")
            XCTAssertTrue("\($0)".contains(self.path("plain/report.json")), "\($0)")
        }
    }

    func testHDF5ThroughASymbolicLinkWritesTheTarget() throws {
        let link = path("bank.h5")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: path("real-bank.h5"))
        try HDF5File.createAtomically(link) { file in try file.root.createDataset("x", shape: [1], data: [Float(5)]) }
        XCTAssertEqual(type(link), S_IFLNK)
        XCTAssertEqual(type(path("real-bank.h5")), S_IFREG)
        XCTAssertEqual(try HDF5File(path: link).dataset("/x").read(as: Float.self), [5])
    }
}
