import Foundation
import XCTest
@testable import MLCore

/// Parity of the WordPiece tokenizer with Hugging Face `tokenizers` on the real MiniLM vocabulary:
/// every tweet of the prepared corpus (by digest) and every committed edge case (ids and offsets).
/// Fixture: Tests/Fixtures/tokenizer_minilm-l6.json from Tools/reference/make_tokenizer_fixtures.py.
final class WordPieceTokenizerTests: XCTestCase {
    static let repository = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()

    func loadTokenizer() throws -> WordPieceTokenizer {
        let path = Self.repository.appendingPathComponent("data/models/minilm-l6.h5").path
        guard FileManager.default.fileExists(atPath: path) else {
            XCTFail("data/models/minilm-l6.h5 missing: run `make data`")
            throw CocoaError(.fileNoSuchFile)
        }
        return try WordPieceTokenizer(checkpoint: Checkpoint(path: path))
    }

    /// 32-bit FNV-1a over the ids as little-endian int32 bytes (the fixture's digest).
    static func fnv1a32(_ ids: [Int32]) -> UInt32 {
        var h: UInt32 = 0x811C_9DC5
        for id in ids {
            var v = UInt32(bitPattern: id)
            for _ in 0..<4 {
                h = (h ^ (v & 0xFF)) &* 0x0100_0193
                v >>= 8
            }
        }
        return h
    }

    func testEveryTweetMatchesHuggingFace() throws {
        let tokenizer = try loadTokenizer()
        let fixture = try Fixtures.json("tokenizer_minilm-l6.json")
        let tweets = try XCTUnwrap(fixture["tweets"] as? [String: Any])
        let digests = Array(try XCTUnwrap(tweets["fnv1a32"] as? String).utf8)
        let file = try HDF5File(path: Self.repository.appendingPathComponent("data/datasets/tweets.h5").path)
        let texts = try file.dataset("text").readStrings()
        XCTAssertEqual(texts.count, (tweets["count"] as? Int) ?? -1)
        let encodings = tokenizer.encodeBatch(texts)
        var mismatches: [Int] = []
        for (i, e) in encodings.enumerated() {
            let expected = UInt32(String(decoding: digests[(8 * i)..<(8 * i + 8)], as: UTF8.self), radix: 16)
            if Self.fnv1a32(e.ids) != expected { mismatches.append(i) }
        }
        XCTAssertEqual(mismatches.count, 0, "lines differing from HF tokenizers: \(mismatches.prefix(10)) e.g. \(mismatches.first.map { texts[$0].debugDescription } ?? "")")
    }

    func testEdgeCasesMatchIdsAndOffsets() throws {
        let tokenizer = try loadTokenizer()
        let fixture = try Fixtures.json("tokenizer_minilm-l6.json")
        let cases = try XCTUnwrap(fixture["edge_cases"] as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 50)
        for c in cases {
            let text = c["text"] as! String
            let e = tokenizer.encode(text)
            XCTAssertEqual(e.ids, (c["ids"] as! [Int]).map { Int32($0) }, "ids of \(text.debugDescription): \(e.tokens)")
            XCTAssertEqual(e.offsets.map { [$0.0, $0.1] }, c["offsets"] as! [[Int]], "offsets of \(text.debugDescription)")
        }
        let pair = try XCTUnwrap(fixture["pair"] as? [String: Any])
        let e = tokenizer.encode("A first sentence, longer than the second.", pair: "The second one.")
        XCTAssertEqual(e.ids.map(Int.init), pair["ids"] as? [Int])
        XCTAssertEqual(e.typeIds.map(Int.init), pair["type_ids"] as? [Int])
    }

    /// Hand-checked behaviour of truncation, padding and decoding.
    func testTruncationPaddingAndDecode() throws {
        let t = try loadTokenizer()
        // "hello world" → [CLS] hello world [SEP]; the vocabulary has both words whole.
        let e = t.encode("Hello World", padTo: 6)
        XCTAssertEqual(e.tokens, ["[CLS]", "hello", "world", "[SEP]", "[PAD]", "[PAD]"])
        XCTAssertEqual(e.attentionMask, [1, 1, 1, 1, 0, 0])
        XCTAssertEqual(e.offsets[1].0, 0)
        XCTAssertEqual(e.offsets[2].0, 6)
        XCTAssertEqual(e.offsets[2].1, 11)
        // Longest-first on a pair with a budget of 7 − 3 = 4: lengths 5 and 2 → 2 + 2 (n1 ≤ n2 swap rule).
        let p = t.encode("one two three four five", pair: "six seven", maxLength: 7)
        XCTAssertEqual(p.tokens, ["[CLS]", "one", "two", "[SEP]", "six", "seven", "[SEP]"])
        let q = t.encode("one two three four five", pair: "six seven", maxLength: 7, truncation: .onlySecond)
        XCTAssertEqual(q.tokens.count, 8, "only the second text is cut; the first alone exceeds the budget")
        XCTAssertEqual(try t.decode(t.encode("unaffable tokenization").ids), "unaffable tokenization")
        XCTAssertThrowsError(try t.decode([999_999]))
    }
}
