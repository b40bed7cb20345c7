import Foundation
import XCTest
@testable import MLCore

/// Parity of SmolLM2's byte-level BPE with Hugging Face `tokenizers` (configured as the checkpoint's `/tokenizer`
/// describes) on every line of the prepared corpora (tweets, gensim's test corpora) and every edge
/// case, and exact encode→decode round trips.
/// Fixture: Tests/Fixtures/tokenizer_smollm2.json from Tools/reference/make_tokenizer_fixtures.py.
final class ByteLevelBPETokenizerTests: XCTestCase {
    func loadTokenizer() throws -> ByteLevelBPETokenizer {
        try ByteLevelBPETokenizer(checkpoint: Checkpoint(path: PreparedData.path("data/models/smollm2.h5")))
    }

    /// Every line of every prepared corpus the fixture lists (the tweets and gensim's three test
    /// corpora) encodes to HF's ids and decodes back to itself.
    func testEveryCorpusLineMatchesHuggingFaceAndRoundTrips() throws {
        let tokenizer = try loadTokenizer()
        let corpora = try TokenizerCorpus.all(in: Fixtures.json("tokenizer_smollm2.json"))
        XCTAssertEqual(corpora.map { $0.texts.count }, [38_158, 200, 50, 300])
        for corpus in corpora {
            let encoded = tokenizer.encodeBatch(corpus.texts)
            corpus.assertMatches(encoded)
            let roundTripFailures = try encoded.indices.filter { try tokenizer.decode(encoded[$0]) != corpus.texts[$0] }
            XCTAssertEqual(roundTripFailures.count, 0, "\(corpus.name): decode(encode(x)) != x for \(roundTripFailures.prefix(10))")
        }
    }

    func testEdgeCasesMatchHuggingFace() throws {
        let tokenizer = try loadTokenizer()
        let cases = try XCTUnwrap(try Fixtures.json("tokenizer_smollm2.json")["edge_cases"] as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 50)
        for c in cases {
            let text = c["text"] as! String
            let ids = tokenizer.encode(text)
            XCTAssertEqual(ids.map(Int.init), c["ids"] as! [Int], "ids of \(text.debugDescription)")
            XCTAssertEqual(try tokenizer.decode(ids), text, "round trip of \(text.debugDescription)")
        }
    }

    /// Special tokens written in the text (<|im_start|>, <|endoftext|>, ...) become their ids as in
    /// HF, adjacent to text, repeated; partial or other-case spellings stay text; with
    /// `splitSpecialTokens` all of it is text (HF's `encode_special_tokens`), and decodes back to itself.
    func testSpecialTokensWrittenInTheTextMatchHuggingFace() throws {
        var tokenizer = try loadTokenizer()
        let cases = try XCTUnwrap(try Fixtures.json("tokenizer_smollm2.json")["special_token_cases"] as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 10)
        XCTAssertEqual(cases.first?["ids"] as? [Int], [1, 4093, 198, 6004, 2])
        for split in [false, true] {
            tokenizer.splitSpecialTokens = split
            let texts = cases.map { $0["text"] as! String }
            let batch = tokenizer.encodeBatch(texts)
            for (c, batched) in zip(cases, batch) {
                let text = c["text"] as! String
                let ids = tokenizer.encode(text)
                let what = "\(text.debugDescription) (splitSpecialTokens: \(split))"
                XCTAssertEqual(ids.map(Int.init), c[(split ? "split_" : "") + "ids"] as! [Int], "ids of \(what)")
                XCTAssertEqual(batched, ids, "encodeBatch of \(what)")
                XCTAssertEqual(try tokenizer.decode(ids, skipSpecialTokens: false), text, "round trip of \(what)")
            }
        }
    }

    /// `encodeChat`: the whole rendered chat encoded at once by default; with `splitSpecialTokens` the
    /// template's special tokens stay ids while the same text inside a message is tokenized as text.
    func testEncodeChatKeepsTheTemplatesSpecialTokens() throws {
        var t = try loadTokenizer()
        let messages: [ByteLevelBPETokenizer.Message] = [.init(role: "user", content: "say <|im_end|> now")]
        XCTAssertEqual(t.encodeChat(messages), t.encode(t.renderChat(messages)))
        let imStart = try XCTUnwrap(t.id(of: "<|im_start|>")), imEnd = try XCTUnwrap(t.id(of: "<|im_end|>"))
        let matched = t.encodeChat(messages)
        t.splitSpecialTokens = true
        let split = t.encodeChat(messages)
        // Default: 3 <|im_start|> (system, user, assistant) and 3 <|im_end|> (system, the content's, user).
        XCTAssertEqual(matched.filter { $0 == imStart }.count, 3)
        XCTAssertEqual(matched.filter { $0 == imEnd }.count, 3)
        XCTAssertEqual(split.filter { $0 == imStart }.count, 3)
        XCTAssertEqual(split.filter { $0 == imEnd }.count, 2)
        XCTAssertEqual(try t.decode(split), t.renderChat(messages))
        let content = t.encode(" <|im_end|>")  // the content's special token, as text
        XCTAssertFalse(content.contains(imEnd))
    }

    /// Hand-checked cases of the pre-tokenizer rules and the chat template.
    func testDigitsSpecialTokensAndChatTemplate() throws {
        let t = try loadTokenizer()
        // "a 123" → a | Ġ | 1 | 2 | 3 (digits isolated, the space its own piece).
        XCTAssertEqual(t.encode("a 123").map { t.vocabulary[Int($0)] }, ["a", "Ġ", "1", "2", "3"])
        // Special tokens match whole and are never split; no BOS is added.
        let ids = t.encode("<|im_start|>user")
        XCTAssertEqual(ids.first, 1)
        XCTAssertEqual(try t.decode(ids, skipSpecialTokens: true), "user")
        let chat = t.renderChat([.init(role: "user", content: "Hi!")])
        XCTAssertEqual(chat, "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(t.renderChat([.init(role: "system", content: "S"), .init(role: "user", content: "U")], addGenerationPrompt: false),
                       "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n")
        XCTAssertThrowsError(try t.decode([49_152]))
    }
}
