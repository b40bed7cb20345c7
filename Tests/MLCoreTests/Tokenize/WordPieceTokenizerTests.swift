import Foundation
import XCTest
@testable import MLCore

/// Parity of the WordPiece tokenizer with Hugging Face `tokenizers` on the real MiniLM vocabulary:
/// every line of the prepared corpora, tweets and gensim's test corpora (by digest), and every
/// committed edge case (ids and offsets).
/// Fixture: Tests/Fixtures/tokenizer_minilm-l6.json from Tools/reference/make_tokenizer_fixtures.py.
final class WordPieceTokenizerTests: XCTestCase {
    func loadTokenizer() throws -> WordPieceTokenizer {
        try WordPieceTokenizer(checkpoint: Checkpoint(path: PreparedData.path("data/models/minilm-l6.h5")))
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

    /// The normalizer and pre-tokenizer treat every Unicode scalar c as HF's do (probed as "x" + c +
    /// "x"): removed, whitespace, punctuation, CJK padding, accents stripped, lower-cased. Compared
    /// per block of 256 scalars by digest; a failure names the blocks
    /// (Tools/reference/make_tokenizer_fixtures.py).
    func testEveryScalarNormalizesAsHuggingFace() throws {
        let tokenizer = try loadTokenizer()
        let fixture = try XCTUnwrap(try Fixtures.json("tokenizer_minilm-l6.json")["normalizer_blocks"] as? [String: Any])
        let blockSize = try XCTUnwrap(fixture["block"] as? Int)
        let hex = Array(try XCTUnwrap(fixture["fnv1a32"] as? String).utf8)
        XCTAssertEqual(hex.count / 8, 0x110000 / blockSize)
        var differing: [String] = []
        for block in 0..<(hex.count / 8) {
            var data: [UInt8] = []
            for v in (block * blockSize)..<((block + 1) * blockSize) {
                guard let c = Unicode.Scalar(UInt32(v)) else { continue }  // surrogates
                for word in tokenizer.words(of: "x\(Character(c))x") { data += Array(word.utf8) + [0xFF] }
                data.append(0xFE)
            }
            let expected = UInt32(String(decoding: hex[(8 * block)..<(8 * block + 8)], as: UTF8.self), radix: 16)
            if TokenizerCorpus.fnv1a32(bytes: data) != expected { differing.append(String(block * blockSize, radix: 16)) }
        }
        XCTAssertEqual(differing, [], "blocks of \(blockSize) scalars (first scalar, hex) normalized differently from HF")
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

    /// Special tokens written in the text ("[CLS] [SEP] [MASK] [UNK] [PAD] literal" → 101, 102, 103,
    /// 100, 0, 18204) become their ids, with HF's offsets, adjacent to words, repeated, inside brackets;
    /// partial or other-case spellings stay text; with `splitSpecialTokens` all of it is text
    /// (HF's `encode_special_tokens`). Also through `encodeBatch` and a pair.
    func testSpecialTokensWrittenInTheTextMatchHuggingFace() throws {
        var tokenizer = try loadTokenizer()
        let cases = try XCTUnwrap(try Fixtures.json("tokenizer_minilm-l6.json")["special_token_cases"] as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 10)
        let first = try XCTUnwrap(cases.first)
        XCTAssertEqual(first["ids"] as? [Int], [101, 102, 103, 100, 0, 18204])
        for split in [false, true] {
            tokenizer.splitSpecialTokens = split
            let key = split ? "split_" : ""
            let texts = cases.map { $0["text"] as! String }
            let batch = tokenizer.encodeBatch(texts, addSpecialTokens: false, maxLength: nil, padToLongest: false)
            for (c, batched) in zip(cases, batch) {
                let text = c["text"] as! String
                let e = tokenizer.encode(text, pair: nil, addSpecialTokens: false)
                let what = "\(text.debugDescription) (splitSpecialTokens: \(split))"
                XCTAssertEqual(e.ids.map(Int.init), c[key + "ids"] as! [Int], "ids of \(what): \(e.tokens)")
                XCTAssertEqual(e.offsets.map { [$0.0, $0.1] }, c[key + "offsets"] as! [[Int]], "offsets of \(what)")
                XCTAssertEqual(batched.ids, e.ids, "encodeBatch of \(what)")
            }
        }
        tokenizer.splitSpecialTokens = false
        let pair = tokenizer.encode("a [MASK] b", pair: "[SEP]")
        XCTAssertEqual(pair.ids, [101, 1037, 103, 1038, 102, 102, 102])
        XCTAssertEqual(pair.typeIds, [0, 0, 0, 0, 0, 1, 1])
    }

    /// Hand-checked WordPiece on a small vocabulary: greedy longest match with "##" continuations,
    /// first id of a duplicate token, byte-exact keys (HF compares bytes, not canonical
    /// equivalence), the per-word character limit, words longer than the initial word buffer, and
    /// a changed continuation prefix.
    func testSmallVocabulary() throws {
        let specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        var t = try WordPieceTokenizer(vocabulary: specials + ["un", "##aff", "##able", "x", "##x", "##xx", "\u{E9}", "x"])
        func pieces(_ text: String) -> [[Int]] { t.tokenize(text).map { [Int($0.id), $0.offset.0, $0.offset.1] } }
        XCTAssertEqual(pieces("Unaffable"), [[5, 0, 2], [6, 2, 5], [7, 5, 9]])
        XCTAssertEqual(t.id(of: "x"), 8, "the first of two equal tokens wins")
        // 150 x: "x", then 74 × "##xx" (longest match), then "##x"; offsets per character.
        t.maxInputCharactersPerWord = 200
        let long = pieces(String(repeating: "x", count: 150))
        XCTAssertEqual(long.count, 76)
        XCTAssertEqual(long.first, [8, 0, 1])
        XCTAssertEqual(long[1], [10, 1, 3])
        XCTAssertEqual(long.last, [9, 149, 150])
        // Over the limit (here 100 characters): one [UNK] over the whole word.
        t.maxInputCharactersPerWord = 100
        XCTAssertEqual(pieces("un " + String(repeating: "x", count: 101) + " un"), [[5, 0, 2], [1, 3, 104], [5, 105, 107]])
        XCTAssertEqual(pieces(String(repeating: "x", count: 100)).count, 51)
        // "e" + U+0301 is canonically equivalent to "\u{E9}" but not the same bytes: no match (as in HF)
        // once accents are kept; with accent stripping both become "e", which is not in the vocabulary.
        t.stripAccents = false
        XCTAssertEqual(pieces("\u{E9}"), [[11, 0, 1]])
        XCTAssertEqual(pieces("e\u{301}"), [[1, 0, 2]])
        t.stripAccents = true
        XCTAssertEqual(pieces("\u{E9}"), [[1, 0, 1]])
        // Another continuation prefix: the table follows it.
        var u = try WordPieceTokenizer(vocabulary: specials + ["un", "@@aff", "@@able"], continuingSubwordPrefix: "@@")
        XCTAssertEqual(u.tokenize("unaffable").map(\.id), [5, 6, 7])
        u.continuingSubwordPrefix = "##"
        XCTAssertEqual(u.tokenize("unaffable").map(\.id), [1])
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
