import Foundation
import XCTest
@testable import MLCore

/// Parity of SmolLM2's byte-level BPE with Hugging Face `tokenizers` (configured as MODELS.md
/// describes) on every tweet and every edge case, and exact encode→decode round trips.
/// Fixture: Tests/Fixtures/tokenizer_smollm2.json from Tools/reference/make_tokenizer_fixtures.py.
final class ByteLevelBPETokenizerTests: XCTestCase {
    static let repository = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()

    func loadTokenizer() throws -> ByteLevelBPETokenizer {
        let path = Self.repository.appendingPathComponent("data/models/smollm2.h5").path
        guard FileManager.default.fileExists(atPath: path) else {
            XCTFail("data/models/smollm2.h5 missing: run `make data`")
            throw CocoaError(.fileNoSuchFile)
        }
        return try ByteLevelBPETokenizer(checkpoint: Checkpoint(path: path))
    }

    func testEveryTweetMatchesHuggingFaceAndRoundTrips() throws {
        let tokenizer = try loadTokenizer()
        let fixture = try Fixtures.json("tokenizer_smollm2.json")
        let tweets = try XCTUnwrap(fixture["tweets"] as? [String: Any])
        let digests = Array(try XCTUnwrap(tweets["fnv1a32"] as? String).utf8)
        let file = try HDF5File(path: Self.repository.appendingPathComponent("data/datasets/tweets.h5").path)
        let texts = try file.dataset("text").readStrings()
        XCTAssertEqual(texts.count, (tweets["count"] as? Int) ?? -1)
        let encoded = tokenizer.encodeBatch(texts)
        var mismatches: [Int] = [], roundTripFailures: [Int] = []
        for (i, ids) in encoded.enumerated() {
            let expected = UInt32(String(decoding: digests[(8 * i)..<(8 * i + 8)], as: UTF8.self), radix: 16)
            if WordPieceTokenizerTests.fnv1a32(ids) != expected { mismatches.append(i) }
            if try tokenizer.decode(ids) != texts[i] { roundTripFailures.append(i) }
        }
        XCTAssertEqual(mismatches.count, 0, "lines differing from HF tokenizers: \(mismatches.prefix(10)) e.g. \(mismatches.first.map { texts[$0].debugDescription } ?? "")")
        XCTAssertEqual(roundTripFailures.count, 0, "decode(encode(x)) != x for \(roundTripFailures.prefix(10))")
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

    /// Hand-checked cases from MODELS.md and the chat template.
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
