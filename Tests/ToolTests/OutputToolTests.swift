import Foundation
import XCTest

/// `--output` respects what it names, end to end through a built executable (`mlcore score auroc`,
/// whose report needs no model): devices stay devices, /dev/stdout and process substitutions are
/// written, FIFOs receive the report, symbolic links keep pointing at their (rewritten) target.
/// Checks use file types and inode numbers, so they hold whether the tests run as root or not.
final class OutputToolTests: XCTestCase {
    let scores = "{\"score\": 0.9, \"label\": 1}\n{\"score\": 0.1, \"label\": 0}\n{\"score\": 0.4, \"label\": 0}\n"
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mlcore-output-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func info(_ path: String) -> stat {
        var s = stat()
        XCTAssertEqual(lstat(path, &s), 0, path)
        return s
    }

    /// The report's AUROC (1.0 for `scores`), or nil when `text` is not a report.
    func auroc(_ text: String) -> Double? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              let metrics = object["metrics"] as? [String: Any] else { return nil }
        return metrics["auroc"] as? Double
    }

    func testCharacterDevicesAreWrittenNotReplaced() throws {
        let devices = ["/dev/null", "/dev/zero"].filter { info($0).st_mode & S_IFMT == S_IFCHR }
        XCTAssertTrue(devices.contains("/dev/zero"))
        for device in devices {
            let before = info(device)
            let result = try runTool("mlcore", ["score", "auroc", "--output", device], stdin: scores)
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(result.stdout, "")
            let after = info(device)
            XCTAssertEqual(after.st_mode & S_IFMT, S_IFCHR, "\(device) is still a character device")
            XCTAssertEqual(after.st_ino, before.st_ino, device)
            XCTAssertEqual(after.st_rdev, before.st_rdev, device)
        }
    }

    func testDevStdoutWritesStandardOutput() throws {
        // Standard output a pipe.
        let piped = try runTool("mlcore", ["score", "auroc", "--output", "/dev/stdout"], stdin: scores)
        XCTAssertEqual(piped.status, 0, piped.stderr)
        XCTAssertEqual(auroc(piped.stdout), 1)
        // Standard output a file the shell opened (appending): written through the descriptor, so the
        // file keeps its inode and what was already in it.
        let file = path("shell.json")
        try "first line\n".write(toFile: file, atomically: false, encoding: .utf8)
        let inode = info(file).st_ino
        let mlcore = productsDirectory.appendingPathComponent("mlcore").path
        let input = path("scores.jsonl")
        try scores.write(toFile: input, atomically: false, encoding: .utf8)
        let shell = try runProcess(URL(fileURLWithPath: "/bin/sh"),
                                   ["-c", "\"$0\" score auroc --output /dev/stdout < \"$1\" >> \"$2\"", mlcore, input, file])
        XCTAssertEqual(shell.status, 0, shell.stderr)
        XCTAssertEqual(info(file).st_ino, inode, "the shell's file is not replaced")
        let text = try String(contentsOfFile: file, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("first line\n"), text)
        XCTAssertEqual(auroc(String(text.dropFirst("first line\n".count))), 1)
    }

    func testProcessSubstitutionReceivesTheReport() throws {
        let mlcore = productsDirectory.appendingPathComponent("mlcore").path
        let input = path("scores.jsonl"), copy = path("copy.json")
        try scores.write(toFile: input, atomically: false, encoding: .utf8)
        let result = try runProcess(URL(fileURLWithPath: "/bin/bash"),
                                    ["-c", "\"$0\" score auroc --output >(cat > \"$2\") < \"$1\"; status=$?; wait; exit $status",
                                     mlcore, input, copy])
        XCTAssertEqual(result.status, 0, result.stderr)
        // `wait` covers the substitution in bash ≥ 5.1; poll briefly in case of an older bash.
        var text = ""
        for _ in 0..<100 {
            text = (try? String(contentsOfFile: copy, encoding: .utf8)) ?? ""
            if auroc(text) != nil { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertEqual(auroc(text), 1, text)
    }

    func testFIFOReceivesTheReportAndStaysAFIFO() throws {
        let fifo = path("report.fifo")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        // The reader is another process, as in a shell pipeline: `cat fifo`.
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/cat")
        reader.arguments = [fifo]
        let pipe = Pipe()
        reader.standardOutput = pipe
        try reader.run()
        let result = try runTool("mlcore", ["score", "auroc", "--output", fifo], stdin: scores)
        XCTAssertEqual(result.status, 0, result.stderr)
        let received = pipe.fileHandleForReading.readDataToEndOfFile()
        reader.waitUntilExit()
        XCTAssertEqual(auroc(String(decoding: received, as: UTF8.self)), 1)
        XCTAssertEqual(info(fifo).st_mode & S_IFMT, S_IFIFO, "still a FIFO")
    }

    func testSymbolicLinkKeepsPointingAtItsRewrittenTarget() throws {
        let target = path("target.json"), link = path("link.json")
        try "old".write(toFile: target, atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "target.json")
        let result = try runTool("mlcore", ["score", "auroc", "--output", link], stdin: scores)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(info(link).st_mode & S_IFMT, S_IFLNK, "the link is still a link")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), "target.json")
        XCTAssertEqual(auroc(try String(contentsOfFile: target, encoding: .utf8)), 1)
    }

    func testUnwritablePlaceIsMissingInputNamingThePath() throws {
        // A parent that is a regular file: no user, root included, can create a file under it.
        try "x".write(toFile: path("plain"), atomically: false, encoding: .utf8)
        let bad = path("plain/report.json")
        let result = try runTool("mlcore", ["score", "auroc", "--output", bad], stdin: scores)
        XCTAssertEqual(result.status, 66, result.stderr)
        XCTAssertTrue(result.stderr.contains(bad), result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
    }
}
