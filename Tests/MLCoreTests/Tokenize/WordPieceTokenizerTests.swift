import Foundation
import XCTest
@testable import MLCore

/// Parity of the WordPiece tokenizer with Hugging Face `tokenizers` on the real MiniLM vocabulary:
/// every line of the prepared corpora, tweets and gensim's test corpora (by digest), and every
/// committed edge case (ids and offsets).
/// Fixture: Tests/Fixtures/tokenizer_minilm-l6.json from Tools/reference/make_tokenizer_fixtures.py.
final class WordPieceTokenizerTests: XCTestCase {
    func loadTokenizer() throws -> WordPieceTokenizer {
        let path = TokenizerCorpus.repository.appendingPathComponent("data/models/minilm-l6.h5").path
        guard FileManager.default.fileExists(atPath: path) else {
            XCTFail("data/models/minilm-l6.h5 missing: run `make data`")
            throw CocoaError(.fileNoSuchFile)
        }
        return try WordPieceTokenizer(checkpoint: Checkpoint(path: path))
    }

    /// Every line of every prepared corpus the fixture lists (the tweets and gensim's three test
    /// corpora) encodes to HF's ids.
    func testEveryCorpusLineMatchesHuggingFace() throws {
        let tokenizer = try loadTokenizer()
        let corpora = try TokenizerCorpus.all(in: Fixtures.json("tokenizer_minilm-l6.json"))
        XCTAssertEqual(corpora.map { $0.texts.count }, [38_158, 200, 50, 300])
        for corpus in corpora {
            corpus.assertMatches(tokenizer.encodeBatch(corpus.texts).map(\.ids))
        }
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
