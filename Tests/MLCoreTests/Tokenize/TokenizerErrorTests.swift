import Foundation
import XCTest
@testable import MLCore

/// Loading a tokenizer from a checkpoint whose `/tokenizer` group is missing or malformed fails with
/// a `TokenizerError` that names the file and the problem (issue 3, item 3).
final class TokenizerErrorTests: XCTestCase {
    /// A checkpoint with root attributes only, plus whatever `build` writes under /tokenizer.
    func checkpoint(_ name: String, tokenizer build: ((HDF5Group) throws -> Void)?) throws -> Checkpoint {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tokenizer-\(name)-\(getpid()).h5").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        let file = try HDF5File(path: path, mode: .create)
        try file.root.attributes.set("format", "mlcore-checkpoint")
        if let build { try build(try file.root.createGroup("tokenizer")) }
        try file.close()
        return try Checkpoint(path: path)
    }

    func assertError(_ checkpoint: Checkpoint, _ expected: TokenizerError, _ load: (Checkpoint) throws -> Any,
                     line: UInt = #line) {
        XCTAssertThrowsError(try load(checkpoint), line: line) { error in
            XCTAssertEqual(error as? TokenizerError, expected, line: line)
            XCTAssertEqual((error as? CategorizedError)?.category, .badData, line: line)
        }
    }

    func testMissingGroup() throws {
        let c = try checkpoint("none", tokenizer: nil)
        assertError(c, .missing(file: c.path)) { try loadTokenizer(from: $0) }
        assertError(c, .missing(file: c.path)) { try WordPieceTokenizer(checkpoint: $0) }
        assertError(c, .missing(file: c.path)) { try ByteLevelBPETokenizer(checkpoint: $0) }
        XCTAssertEqual("\(TokenizerError.missing(file: c.path))", "\(c.path): no /tokenizer group (not a text model checkpoint)")
    }

    func testUnknownOrWrongType() throws {
        let c = try checkpoint("type", tokenizer: { try $0.attributes.set("type", "unigram") })
        assertError(c, .malformed(file: c.path, reason: "unknown tokenizer type 'unigram' (wordpiece, bpe-bytelevel)")) {
            try loadTokenizer(from: $0)
        }
        assertError(c, .malformed(file: c.path, reason: "type is 'unigram', expected 'wordpiece'")) { try WordPieceTokenizer(checkpoint: $0) }
        assertError(c, .malformed(file: c.path, reason: "type is 'unigram', expected 'bpe-bytelevel'")) {
            try ByteLevelBPETokenizer(checkpoint: $0)
        }
    }

    func testWordPieceWithoutVocabularyOrSpecialTokens() throws {
        let noVocab = try checkpoint("novocab", tokenizer: { try $0.attributes.set("type", "wordpiece") })
        assertError(noVocab, .malformed(file: noVocab.path, reason: "no vocab dataset")) { try loadTokenizer(from: $0) }
        let noSpecial = try checkpoint("nounk", tokenizer: { group in
            try group.attributes.set("type", "wordpiece")
            try group.createDataset("vocab", strings: ["[PAD]", "[CLS]", "[SEP]", "[MASK]", "a"])
        })
        XCTAssertThrowsError(try loadTokenizer(from: noSpecial)) { error in
            guard case .malformed(let file, let reason)? = error as? TokenizerError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, noSpecial.path)
            XCTAssertTrue(reason.contains("[UNK]"), reason)
        }
    }

    func testBPEWithMissingDatasetsOrABadMerge() throws {
        let noMerges = try checkpoint("nomerges", tokenizer: { group in
            try group.attributes.set("type", "bpe-bytelevel")
            try group.createDataset("vocab", strings: ["a", "b", "ab"])
        })
        assertError(noMerges, .malformed(file: noMerges.path, reason: "no merges dataset")) { try loadTokenizer(from: $0) }
        let shortTypes = try checkpoint("types", tokenizer: { group in
            try group.attributes.set("type", "bpe-bytelevel")
            try group.createDataset("vocab", strings: ["a", "b", "ab"])
            try group.createDataset("merges", strings: ["a b"])
            try group.createDataset("token_type", shape: [2], data: [Int32(1), 1])
        })
        assertError(shortTypes, .malformed(file: shortTypes.path, reason: "token_type has 2 entries for 3 tokens")) {
            try loadTokenizer(from: $0)
        }
        let badMerge = try checkpoint("merge", tokenizer: { group in
            try group.attributes.set("type", "bpe-bytelevel")
            try group.createDataset("vocab", strings: ["a", "b", "ab"])
            try group.createDataset("merges", strings: ["a b", "a z"])
            try group.createDataset("token_type", shape: [3], data: [Int32(1), 1, 1])
        })
        XCTAssertThrowsError(try loadTokenizer(from: badMerge)) { error in
            guard case .malformed(let file, let reason)? = error as? TokenizerError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, badMerge.path)
            XCTAssertTrue(reason.hasPrefix("merge 1 'a z'"), reason)
        }
    }
}
