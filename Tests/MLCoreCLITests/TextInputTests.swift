import Foundation
import XCTest
@testable import MLCoreCLI

/// UTF-8 checking of input lines (`TextLines`, `firstInvalidUTF8`): hand-made byte sequences from
/// Unicode's Table 3-7 (well-formed byte sequences).
final class TextInputTests: XCTestCase {
    func testFirstInvalidByte() {
        func bad(_ bytes: [UInt8]) -> Int? { firstInvalidUTF8(bytes[...]) }
        XCTAssertNil(bad(Array("naïve €𝄞 ok".utf8)))
        XCTAssertNil(bad([0xF4, 0x8F, 0xBF, 0xBF]))  // U+10FFFF
        XCTAssertEqual(bad([0x61, 0xFF]), 1)
        XCTAssertEqual(bad([0xC0, 0x80]), 0)  // overlong NUL
        XCTAssertEqual(bad([0x61, 0xE0, 0x80, 0x80]), 1)  // overlong 3-byte
        XCTAssertEqual(bad([0xED, 0xA0, 0x80]), 0)  // a surrogate (U+D800)
        XCTAssertEqual(bad([0xF4, 0x90, 0x80, 0x80]), 0)  // above U+10FFFF
        XCTAssertEqual(bad([0x62, 0xE2, 0x82]), 1)  // truncated €
        XCTAssertEqual(bad([0xE2, 0x82, 0x41]), 0)  // bad continuation
        XCTAssertEqual(bad([0x80]), 0)  // a lone continuation byte
    }

    /// Lines from a pipe: "\n" and "\r\n" endings, a last line without one, the error naming line
    /// and byte; lossy decoding gives U+FFFD.
    func testLinesFromADescriptor() throws {
        func lines(_ bytes: [UInt8], lossy: Bool) throws -> [String] {
            var fds: [Int32] = [0, 0]
            XCTAssertEqual(pipe(&fds), 0)
            bytes.withUnsafeBytes { _ = write(fds[1], $0.baseAddress, $0.count) }
            close(fds[1])
            defer { close(fds[0]) }
            var reader = TextLines(descriptor: fds[0], source: "stdin", lossy: lossy)
            var out: [String] = []
            while let line = try reader.next() { out.append(line) }
            return out
        }
        XCTAssertEqual(try lines(Array("a\r\nb\n\nc".utf8), lossy: false), ["a", "b", "", "c"])
        let bytes: [UInt8] = Array("ok\n".utf8) + [0x77, 0xFF, 0x72] + Array("\n".utf8)
        XCTAssertThrowsError(try lines(bytes, lossy: false)) {
            XCTAssertEqual($0 as? InvalidUTF8Error, InvalidUTF8Error(source: "stdin", line: 2, byte: 2, value: 0xFF))
            XCTAssertEqual(($0 as? InvalidUTF8Error)?.category.exitCode, 65)
        }
        XCTAssertEqual(try lines(bytes, lossy: true), ["ok", "w\u{FFFD}r"])
    }
}
