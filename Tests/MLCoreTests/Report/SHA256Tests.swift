import Foundation
import XCTest
@testable import MLCore

final class SHA256Tests: XCTestCase {
    /// FIPS 180-4 example vectors (NIST CSRC "SHA256.pdf") and a 1,000,000-byte "a" message.
    func testKnownVectors() {
        XCTAssertEqual(SHA256.hexDigest(of: Array("".utf8)),
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hexDigest(of: Array("abc".utf8)),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hexDigest(of: Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hexDigest(of: [UInt8](repeating: 0x61, count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Feeding in uneven pieces gives the same digest as one update; a file hashes as its bytes.
    func testIncrementalAndFile() throws {
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var h = SHA256()
        var start = 0
        for size in [1, 63, 64, 65, 127, 3000] + [Int](repeating: 500, count: 20) where start < bytes.count {
            let end = min(start + size, bytes.count)
            h.update(bytes[start..<end])
            start = end
        }
        if start < bytes.count { h.update(bytes[start...]) }
        XCTAssertEqual(h.hexDigest(), SHA256.hexDigest(of: bytes))
        let path = NSTemporaryDirectory() + "sha256-\(getpid()).bin"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        XCTAssertEqual(try SHA256.hexDigest(ofFile: path), SHA256.hexDigest(of: bytes))
        XCTAssertThrowsError(try SHA256.hexDigest(ofFile: path + ".missing"))
    }
}
