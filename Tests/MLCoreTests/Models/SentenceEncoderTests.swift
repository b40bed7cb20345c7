import XCTest
@testable import MLCore

/// SentenceEncoder on the real MiniLM checkpoint: sentence-transformers' embeddings
/// (Tests/Fixtures/bert_minilm.json, Tools/reference/make_bert_fixtures.py), and bit-identical
/// results to encoding each length-sorted batch by hand (what `mlcore embed` computed before the
/// encoder moved into MLCore).
final class SentenceEncoderTests: XCTestCase {
    func testEmbeddingsMatchSentenceTransformersAndTheHandBatchedPath() throws {
        let checkpoint = try Checkpoint(path: try PreparedData.path("data/models/minilm-l6.h5"))
        let fixture = try Fixtures.json("bert_minilm.json")
        let sentences = fixture["sentences"] as! [[String: Any]]
        let texts = sentences.map { $0["text"] as! String }
        let encoder = try SentenceEncoder.load(from: checkpoint)
        XCTAssertEqual(encoder.maxLength, 256)
        XCTAssertEqual(encoder.dimension, 384)
        let vectors = encoder.encode(texts, batchSize: 3)
        XCTAssertEqual(vectors.shape, [8, 384])
        let expected = Tensor(sentences.flatMap { ($0["embedding"] as! [NSNumber]).map { $0.floatValue } }, shape: [8, 384])
        XCTAssertLessThanOrEqual((vectors - expected).abs().max().item, 1e-4)

        // By hand: encodings sorted by token count (longest first), batches of 3 padded with [PAD],
        // no token type ids, mean pooling and L2 normalisation.
        let tokenizer = try WordPieceTokenizer(checkpoint: checkpoint)
        let bert = encoder.encoder
        let encodings = tokenizer.encodeBatch(texts, maxLength: 256)
        let order = encodings.indices.sorted { encodings[$0].ids.count > encodings[$1].ids.count }
        var byHand = [Float](repeating: 0, count: 8 * 384)
        for start in stride(from: 0, to: 8, by: 3) {
            let members = Array(order[start..<min(start + 3, 8)])
            let t = members.map { encodings[$0].ids.count }.max()!
            var ids: [Int32] = [], mask: [Int32] = []
            for m in members {
                ids += encodings[m].ids + Array(repeating: tokenizer.padId, count: t - encodings[m].ids.count)
                mask += encodings[m].attentionMask + Array(repeating: 0, count: t - encodings[m].ids.count)
            }
            let idArray = NDArray(ids, shape: [members.count, t]), maskArray = NDArray(mask, shape: [members.count, t])
            let v = withoutGradient {
                Pooling.mean(bert(inputIds: idArray, attentionMask: maskArray).lastHiddenState, attentionMask: maskArray)
                    .l2Normalized().value.scalars
            }
            for (k, m) in members.enumerated() { byHand.replaceSubrange((m * 384)..<((m + 1) * 384), with: v[(k * 384)..<((k + 1) * 384)]) }
        }
        XCTAssertEqual(vectors.scalars, byHand, "bit-identical to the hand-batched path")

        // Unnormalised CLS pooling is the first token's last hidden state.
        let cls = SentenceEncoder(encoder: bert, tokenizer: tokenizer, pooling: .cls, normalize: false, maxLength: 16)
        let single = cls.encode([texts[0]])
        let ids = NDArray(tokenizer.encode(texts[0], maxLength: 16).ids, shape: [1, tokenizer.encode(texts[0], maxLength: 16).ids.count])
        let hidden = withoutGradient { bert(inputIds: ids).lastHiddenState.value }
        XCTAssertEqual(single.scalars, Array(hidden.contiguous().scalars.prefix(384)))
        // Differentiable path: gradients reach the encoder.
        bert.zeroGradients()
        encoder(encoder.batcher.batch(Array(texts.prefix(2)))).sum().backward()
        XCTAssertNotNil(bert.layers[0].query.weight.grad)
        bert.zeroGradients()
    }
}
