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
