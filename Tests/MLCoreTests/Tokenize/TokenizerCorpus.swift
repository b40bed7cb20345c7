import Foundation
import XCTest
@testable import MLCore

/// One corpus of a tokenizer fixture (`corpora` in Tests/Fixtures/tokenizer_<model>.json, written by
/// Tools/reference/make_tokenizer_fixtures.py): every text of a prepared string dataset and Hugging
/// Face `tokenizers`' digest of each text's ids.
struct TokenizerCorpus {
    /// "file:dataset", e.g. "data/datasets/gensim-corpora.h5:lee/text".
    let name: String
    let texts: [String]
    /// FNV-1a digest (`fnv1a32`) of HF's ids for each text.
    let digests: [UInt32]

    /// The corpora a fixture lists, read from the prepared files (`make data`); a missing file
    /// fails the test instead of skipping it.
    static func all(in fixture: [String: Any]) throws -> [TokenizerCorpus] {
        let entries = try XCTUnwrap(fixture["corpora"] as? [[String: Any]], "fixture has no corpora")
        return try entries.map { entry in
            let file = try XCTUnwrap(entry["file"] as? String), dataset = try XCTUnwrap(entry["dataset"] as? String)
            let texts = try HDF5File(path: PreparedData.path(file)).dataset(dataset).readStrings()
            let hex = Array(try XCTUnwrap(entry["fnv1a32"] as? String).utf8)
            let digests = stride(from: 0, to: hex.count, by: 8).map {
                UInt32(String(decoding: hex[$0..<($0 + 8)], as: UTF8.self), radix: 16) ?? 0
            }
            XCTAssertEqual(texts.count, entry["count"] as? Int, "\(file):\(dataset) size")
            XCTAssertEqual(digests.count, texts.count, "\(file):\(dataset) digests")
            return TokenizerCorpus(name: "\(file):\(dataset)", texts: texts, digests: digests)
        }
    }

    /// 32-bit FNV-1a over the ids as little-endian int32 bytes (the fixture's digest).
    static func fnv1a32(_ ids: [Int32]) -> UInt32 {
        fnv1a32(bytes: ids.flatMap { id in (0..<4).map { UInt8(truncatingIfNeeded: UInt32(bitPattern: id) >> (8 * $0)) } })
    }

    /// 32-bit FNV-1a over `bytes`.
    static func fnv1a32(bytes: [UInt8]) -> UInt32 {
        bytes.reduce(0x811C_9DC5 as UInt32) { ($0 ^ UInt32($1)) &* 0x0100_0193 }
    }

    /// Asserts that `ids[i]` are HF's ids of `texts[i]` for every text (by digest), naming the first
    /// differing lines; prints the line count checked.
    func assertMatches(_ ids: [[Int32]], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(ids.count, texts.count, name, file: file, line: line)
        let mismatches = (0..<min(ids.count, digests.count)).filter { Self.fnv1a32(ids[$0]) != digests[$0] }
        XCTAssertEqual(mismatches.count, 0, "\(name): lines differing from HF tokenizers: \(mismatches.prefix(10)) "
                       + "e.g. \(mismatches.first.map { texts[$0].debugDescription } ?? "")", file: file, line: line)
        print("\(name): \(texts.count) lines, \(mismatches.count) differ from HF tokenizers")
    }
}
