import XCTest
@testable import MLCore

/// The text batcher on a hand-made WordPiece vocabulary and on a generic tokenizer.
final class TextBatcherTests: XCTestCase {
    // ids: [PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, [MASK] 4, the 5, cat 6, sat 7, on 8, mat 9, a 10
    private let vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "a"]

    func testPadsMasksAndTypeIds() throws {
        let batcher = TextBatcher(wordPiece: try WordPieceTokenizer(vocabulary: vocabulary), maxLength: nil)
        let batch = batcher.batch(["the cat sat", "a"])
        XCTAssertEqual(batch.ids.shape, [2, 5])
        XCTAssertEqual(batch.ids.elements, [2, 5, 6, 7, 3, 2, 10, 3, 0, 0])
        XCTAssertEqual(batch.attentionMask.elements, [1, 1, 1, 1, 1, 1, 1, 1, 0, 0])
        XCTAssertEqual(batch.typeIds.elements, Array(repeating: 0, count: 10))
        XCTAssertEqual(batch.lengths, [5, 3])
        // A pair: [CLS] the cat [SEP] a mat [SEP], type ids 1 from the second text on.
        let pair = batcher.batch(["the cat"], pairs: ["a mat"], padTo: 8)
        XCTAssertEqual(pair.ids.elements, [2, 5, 6, 3, 10, 9, 3, 0])
        XCTAssertEqual(pair.typeIds.elements, [0, 0, 0, 0, 1, 1, 1, 0])
        XCTAssertEqual(pair.attentionMask.elements, [1, 1, 1, 1, 1, 1, 1, 0])
    }

    /// maxLength 4 keeps [CLS] + 2 tokens + [SEP]; a pair is cut longest first (tokenizers' rule).
    func testTruncation() throws {
        let tokenizer = try WordPieceTokenizer(vocabulary: vocabulary)
        let batcher = TextBatcher(wordPiece: tokenizer, maxLength: 4)
        XCTAssertEqual(batcher.encode("the cat sat on the mat").ids, [2, 5, 6, 3])
        let pair = batcher.encode("the cat sat on", pair: "a")
        XCTAssertEqual(pair.ids, [2, 5, 3, 3], "budget 1: the longer first text keeps 1, the second 0")
        XCTAssertEqual(pair, TokenizedText(ids: tokenizer.encode("the cat sat on", pair: "a", maxLength: 4).ids,
                                           typeIds: tokenizer.encode("the cat sat on", pair: "a", maxLength: 4).typeIds))
        let many = batcher.encode(["the cat sat on the mat", "a", "on a mat"])
        XCTAssertEqual(many.map(\.ids), [[2, 5, 6, 3], [2, 10, 3], [2, 8, 10, 3]])
    }

    /// Any TextTokenizer: ids truncated to the first maxLength, padded with the given id.
    func testGenericTokenizer() throws {
        let batcher = TextBatcher(tokenizer: try WordPieceTokenizer(vocabulary: vocabulary), padId: 99, maxLength: 3,
                                  addSpecialTokens: false)
        let batch = batcher.batch(["the cat sat on", "mat"])
        XCTAssertEqual(batch.ids.elements, [5, 6, 7, 9, 99, 99])
        XCTAssertEqual(batch.attentionMask.elements, [1, 1, 1, 1, 0, 0])
        XCTAssertEqual(batch.lengths, [3, 1])
    }
}
