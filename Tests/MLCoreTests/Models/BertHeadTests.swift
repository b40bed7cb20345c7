import XCTest
@testable import MLCore

/// Heads over a tiny random BERT: tied MLM decoder, classifier inputs, gradients end to end.
final class BertHeadTests: XCTestCase {
    private let config = BertConfig(vocabularySize: 11, hiddenSize: 8, layers: 2, heads: 2, intermediateSize: 12,
                                    maxPositions: 6, hiddenDropout: 0, attentionDropout: 0)
    private let ids = NDArray<Int32>([2, 5, 7, 1, 3, 3, 0, 0], shape: [2, 4])
    private let mask = NDArray<Int32>([1, 1, 1, 1, 1, 1, 0, 0], shape: [2, 4])

    func testMLMHeadIsTiedToWordEmbeddings() {
        let encoder = BertEncoder(config: config, factory: ParameterFactory(seed: 1))
        let head = BertMLMHead(encoder: encoder, factory: ParameterFactory(seed: 2))
        XCTAssertTrue(head.decoderWeight === encoder.wordEmbeddings.weight)
        XCTAssertFalse(head.parameters.contains { $0 === encoder.wordEmbeddings.weight }, "tied weight listed once, by the encoder")
        XCTAssertEqual(head.parameters.map(\.name), ["cls.predictions.transform.dense.weight", "cls.predictions.transform.dense.bias",
                                                     "cls.predictions.transform.LayerNorm.weight", "cls.predictions.transform.LayerNorm.bias",
                                                     "cls.predictions.bias"])
        let logits = head(encoder(inputIds: ids, attentionMask: mask).lastHiddenState)
        XCTAssertEqual(logits.shape, [2, 4, 11])
        // The tied matrix gets gradient from the decoder even for ids that never appear as inputs.
        logits.selected(0, axis: 0).selected(0, axis: 0).selected(9, axis: 0).backward()
        let row9 = encoder.wordEmbeddings.weight.grad!.sliced(9..<10).abs().sum().item
        XCTAssertGreaterThan(row9, 0)
    }

    func testClassifierInputsAndPaddingInvariance() {
        let encoder = BertEncoder(config: config, factory: ParameterFactory(seed: 3))
        for input in ClassificationInput.allCases {
            let model = BertClassifier(encoder: encoder, labels: 3, input: input, factory: ParameterFactory(seed: 4))
            let logits = withoutGradient { model(inputIds: ids, attentionMask: mask) }
            XCTAssertEqual(logits.shape, [2, 3])
            // Padding must not change the second text's logits: drop its two pad positions.
            let short = withoutGradient {
                model(inputIds: NDArray([3, 3], shape: [1, 2]), attentionMask: NDArray([1, 1], shape: [1, 2]))
            }
            assertClose(logits.value.sliced(1..<2), short.value, rtol: 1e-5, atol: 1e-6, "\(input)")
        }
    }

    func testEncoderGradientsMatchFiniteDifferencesOnATinyModel() {
        // The whole encoder as one function of its word-embedding matrix (ε = 1e-3: with 8-wide
        // LayerNorms the function bends too much for ε = 1e-2).
        let encoder = BertEncoder(config: config, factory: ParameterFactory(seed: 5))
        let weight = encoder.wordEmbeddings.weight.value
        assertGradients([weight], epsilon: 1e-3, atol: 3e-3, rtol: 2e-2) { v in
            // Route the checked input through the embedding lookup.
            let hidden = Variable.matmul(Variable(oneHot(ids, classes: 11)), v[0])
            let positions = encoder.positionEmbeddings.weight.value.sliced(0..<4)
            let types = encoder.tokenTypeEmbeddings.weight.value.sliced(0..<1)
            var x = encoder.embeddingNorm(hidden + Variable(positions) + Variable(types))
            let bias = AttentionMask.padding(mask)
            for layer in encoder.layers { x = layer(x, mask: bias, context: nil) }
            return Pooling.mean(x, attentionMask: mask)
        }
    }

    func testAdamWFineTuningFitsAFixedBatch() {
        // Autograd + losses + optimizer together: 30 AdamW steps on one batch drive the loss down.
        let encoder = BertEncoder(config: config, factory: ParameterFactory(seed: 6))
        let model = BertClassifier(encoder: encoder, labels: 2, input: .cls, dropout: 0, factory: ParameterFactory(seed: 7))
        let optimizer = AdamW(ParameterGroup.decayAndNoDecay(model, learningRate: 1e-2, weightDecay: 0.01))
        let labels = NDArray<Int32>([1, 0], shape: [2])
        var losses: [Float] = []
        for _ in 0..<30 {
            optimizer.zeroGradients()
            let loss = Variable.crossEntropy(model(inputIds: ids, attentionMask: mask), targets: labels)
            loss.backward()
            _ = clipGradientNorm(model.trainableParameters, maxNorm: 1)
            optimizer.step()
            losses.append(loss.value.item)
        }
        XCTAssertEqual(losses[0], Float(Foundation.log(2.0)), accuracy: 0.1, "starts near ln 2")
        XCTAssertLessThan(losses.last!, 0.05, "\(losses)")
    }

    private func oneHot(_ ids: NDArray<Int32>, classes: Int) -> Tensor {
        ids.withUnsafeBufferPointer { p in
            Tensor(shape: ids.shape + [classes]) { i in Int(p[i / classes]) == i % classes ? 1 : 0 }
        }
    }
}
