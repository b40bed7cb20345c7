import Foundation
import XCTest

/// Invalid UTF-8 on stdin: refused with the line number (exit 65) by every command that reads text
/// lines, or replaced by U+FFFD under --lossy.
final class TextInputToolTests: XCTestCase {
    /// Line 2 holds a 0xFF byte (never valid in UTF-8).
    let bytes = Data("hello\n".utf8) + Data([0x77, 0xFF, 0x72, 0x0A])

    func testInvalidUTF8IsRefusedWithItsLineOrReplacedUnderLossy() throws {
        _ = try preparedFile("data/models/minilm-l6.h5")
        _ = try preparedFile("data/models/smollm2.h5")
        let scores = Data("{\"score\": 1, \"label\": 1}\n".utf8) + Data([0x22, 0xFF, 0x22, 0x0A])
        for (command, input) in [(["tokenize", "--weights", "minilm-l6"], bytes), (["embed"], bytes),
                                 (["score", "--weights", "smollm2"], bytes), (["score", "auroc"], scores)] {
            let strict = try runTool("mlcore", command, stdinBytes: input)
            XCTAssertEqual(strict.status, 65, "\(command): \(strict.stderr)")
            XCTAssertTrue(strict.stderr.contains("stdin:2: invalid UTF-8 at byte 2 (0xFF)"), "\(command): \(strict.stderr)")
            XCTAssertEqual(strict.stderr.split(separator: "\n").count, 1, "\(command): \(strict.stderr)")
        }
        // --lossy: the byte becomes U+FFFD, which WordPiece maps to [UNK] (id 100) as Hugging Face does.
        let lossy = try runTool("mlcore", ["tokenize", "--weights", "minilm-l6", "--lossy"], stdinBytes: bytes)
        XCTAssertEqual(lossy.status, 0, lossy.stderr)
        let replaced = try runTool("mlcore", ["tokenize", "--weights", "minilm-l6"], stdin: "hello\nw\u{FFFD}r\n")
        XCTAssertEqual(lossy.stdout, replaced.stdout)
        XCTAssertEqual(lossy.stdout.split(separator: "\n").count, 2)
    }
}
