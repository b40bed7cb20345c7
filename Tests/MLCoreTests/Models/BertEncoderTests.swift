import XCTest
@testable import MLCore

/// MiniLM-L6 (real prepared checkpoint) against Hugging Face transformers' BertModel
/// (Tests/Fixtures/bert_minilm.json, made by Tools/reference/make_bert_fixtures.py).
final class BertEncoderTests: XCTestCase {
    nonisolated(unsafe) static let state: (BertEncoder, WordPieceTokenizer, [String: Any])? = {
        guard let path = try? PreparedData.path("data/models/minilm-l6.h5"),
              let checkpoint = try? Checkpoint(path: path),
              let model = try? BertEncoder.load(from: checkpoint),
              let tokenizer = try? WordPieceTokenizer(checkpoint: checkpoint),
              let fixture = try? Fixtures.json("bert_minilm.json") else { return nil }
        return (model, tokenizer, fixture)
    }()

    private func loaded() throws -> (BertEncoder, WordPieceTokenizer, [String: Any]) {
        _ = try PreparedData.path("data/models/minilm-l6.h5")
        return try XCTUnwrap(Self.state, "could not load minilm-l6.h5 or bert_minilm.json")
    }

    /// Ids and masks of `texts` padded to the longest, as the reference batched them.
    private func batch(_ tokenizer: WordPieceTokenizer, _ texts: [String]) -> (NDArray<Int32>, NDArray<Int32>) {
        let encodings = tokenizer.encodeBatch(texts, maxLength: 128, padToLongest: true)
        let t = encodings[0].ids.count
        return (NDArray(encodings.flatMap(\.ids), shape: [texts.count, t]),
                NDArray(encodings.flatMap(\.attentionMask), shape: [texts.count, t]))
    }

    func testSentenceEmbeddingsMatchTransformers() throws {
        let (model, tokenizer, fixture) = try loaded()
        let sentences = fixture["sentences"] as! [[String: Any]]
        let texts = sentences.map { $0["text"] as! String }
        XCTAssertEqual(texts.count, 8)
        for (text, s) in zip(texts, sentences) {
            XCTAssertEqual(tokenizer.encode(text, maxLength: 128).ids, (s["ids"] as! [NSNumber]).map { $0.int32Value }, text)
        }
        let (ids, mask) = batch(tokenizer, texts)
        let embeddings = withoutGradient {
            Pooling.mean(model(inputIds: ids, attentionMask: mask).lastHiddenState, attentionMask: mask).l2Normalized()
        }
        let expected = Tensor(sentences.flatMap { ($0["embedding"] as! [NSNumber]).map { $0.floatValue } }, shape: [8, 384])
        let diff = (embeddings.value - expected).abs().max().item
        XCTAssertLessThanOrEqual(diff, 1e-4, "max abs difference of sentence embeddings")
        print("sentence embeddings: max abs difference \(diff)")
    }

    func testAllHiddenStatesAreExposed() throws {
        let (model, tokenizer, _) = try loaded()
        let (ids, mask) = batch(tokenizer, ["a short sentence"])
        let out = withoutGradient { model(inputIds: ids, attentionMask: mask, outputHiddenStates: true) }
        XCTAssertEqual(out.hiddenStates.count, 7)
        XCTAssertEqual(out.hiddenStates.last!.value.scalars, out.lastHiddenState.value.scalars)
        XCTAssertEqual(out.hiddenStates[0].shape, [1, ids.shape[1], 384])
    }

    func testClassificationLossGradientsMatchTransformersForEveryParameter() throws {
        let (encoder, tokenizer, fixture) = try loaded()
        let reference = fixture["classification"] as! [String: Any]
        let sentences = fixture["sentences"] as! [[String: Any]]
        let texts = (reference["sentences"] as! [NSNumber]).map { sentences[$0.intValue]["text"] as! String }
        let labels = (reference["labels"] as! [NSNumber]).map { $0.int32Value }
        let model = BertClassifier(encoder: encoder, labels: 3, input: .pooler, factory: ParameterFactory(seed: 1))
        try model.classifier.load(stateDict: [
            "classifier.weight": Tensor((reference["head_weight"] as! [NSNumber]).map { $0.floatValue }, shape: [3, 384]),
            "classifier.bias": Tensor((reference["head_bias"] as! [NSNumber]).map { $0.floatValue }),
        ])
        let (ids, mask) = batch(tokenizer, texts)
        model.zeroGradients()
        let logits = model(inputIds: ids, attentionMask: mask)
        let expectedLogits = Tensor((reference["logits"] as! [NSNumber]).map { $0.floatValue }, shape: [4, 3])
        XCTAssertLessThanOrEqual((logits.value - expectedLogits).abs().max().item, 1e-4)
        let loss = Variable.crossEntropy(logits, targets: NDArray(labels, shape: [4]))
        XCTAssertEqual(loss.value.item, (reference["loss"] as! NSNumber).floatValue, accuracy: 1e-5)
        let composed = -logits.logSoftmax(axis: -1).gather(NDArray(labels, shape: [4, 1]), axis: 1).mean()
        XCTAssertEqual(composed.value.item, loss.value.item, accuracy: 1e-6)
        loss.backward()
        defer { model.zeroGradients() }

        let gradients = reference["gradients"] as! [String: [String: Any]]
        let parameters = model.namedParameters
        XCTAssertEqual(Set(gradients.keys), Set(parameters.keys), "every parameter has a reference gradient")
        var worst: (String, Double) = ("", 0)
        for (name, ref) in gradients.sorted(by: { $0.key < $1.key }) {
            guard let p = parameters[name] else { continue }
            let g = (p.grad ?? Tensor.zeros(p.shape)).scalars.map(Double.init)
            let refNorm = (ref["norm"] as! NSNumber).doubleValue
            let norm = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
            // Relative error of the norm, and of the projections on two fixed directions measured
            // against the size those projections can reach (‖g‖·‖direction‖).
            // The key biases' gradient is analytically zero (softmax is invariant to the per-query
            // constant q·b_k they add); both sides hold ~1e-9 rounding noise there, so norms below
            // 1e-5 (all others are ≥ 1e-3) are compared at that floor.
            let scale = Swift.max(refNorm, 1e-5)
            var errors = [Swift.abs(norm - refNorm) / scale]
            let sum = g.reduce(0, +)
            errors.append(Swift.abs(sum - (ref["sum"] as! NSNumber).doubleValue) / (scale * Double(g.count).squareRoot()))
            var dot = 0.0, patternNorm = 0.0
            for (i, v) in g.enumerated() {
                let pattern = Double((i * 7919) % 1000) / 1000 - 0.5
                dot += v * pattern
                patternNorm += pattern * pattern
            }
            errors.append(Swift.abs(dot - (ref["pattern_dot"] as! NSNumber).doubleValue) / (scale * patternNorm.squareRoot()))
            for (index, value) in ref["samples"] as! [String: NSNumber] {
                errors.append(Swift.abs(g[Int(index)!] - value.doubleValue) / scale)
            }
            let e = errors.max()!
            if e > worst.1 { worst = (name, e) }
            XCTAssertLessThanOrEqual(e, 1e-3, "gradient of \(name): errors \(errors)")
        }
        print("worst relative gradient error: \(worst.1) at \(worst.0)")
    }

    func testLoadRejectsAnotherArchitecture() throws {
        let checkpoint = try Checkpoint(path: try PreparedData.path("data/models/efficientnet-lite0.h5"))
        XCTAssertThrowsError(try BertEncoder.load(from: checkpoint)) { error in
            XCTAssertTrue("\(error)".contains("architecture"), "\(error)")
        }
    }
}
