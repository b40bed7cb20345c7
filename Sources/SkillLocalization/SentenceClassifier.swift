import MLCore

/// A BERT sentence classifier (encoder + linear head on the attention-masked mean of the last
/// hidden states, sentence-transformers' pooling for all-MiniLM-L6-v2; with `normalizesFeatures` the
/// head reads the L2-normalised mean, the verbaliser's cosine logits) with its tokenizer: batching,
/// differentiable logits and loss, and batched inference.
public final class SentenceClassifier {
    /// The model (`classifier.weight` [C, D], `classifier.bias` [C] on top of the encoder).
    public let model: BertClassifier
    /// The model's WordPiece tokenizer (from the pre-trained checkpoint).
    public let tokenizer: WordPieceTokenizer
    /// Tokens per text at most, [CLS] and [SEP] included (128, the paper's max length).
    public let maxLength: Int

    /// The encoder side as a `SentenceEncoder` (the classifier's encoder and tokenizer, its pooling,
    /// no normalisation): tokenization, padding and the pooled features come from it.
    public let sentences: SentenceEncoder

    /// Whether the head reads L2-normalised pooled features without dropout (`Verbaliser.logits`);
    /// false: `model`'s own forward (dropout, then the linear head).
    public let normalizesFeatures: Bool

    /// A classifier over `model`; `maxLength` is capped at the model's positions.
    /// - Parameter normalizesFeatures: true for a verbaliser head (`HeadKind.normalizesFeatures`).
    public init(model: BertClassifier, tokenizer: WordPieceTokenizer, maxLength: Int = 128, normalizesFeatures: Bool = false) {
        self.model = model
        self.normalizesFeatures = normalizesFeatures
        self.tokenizer = tokenizer
        self.maxLength = min(maxLength, model.encoder.config.maxPositions)
        sentences = SentenceEncoder(encoder: model.encoder, tokenizer: tokenizer, pooling: model.input == .cls ? .cls : .mean,
                                    normalize: false, maxLength: self.maxLength)
    }

    /// Number of classes C.
    public var classCount: Int { model.classifier.outFeatures }

    /// Token ids and attention mask [B, T] of `texts`, padded to the longest.
    public func batch(_ texts: [String]) -> (ids: NDArray<Int32>, mask: NDArray<Int32>) {
        let b = sentences.batcher.batch(texts)
        return (b.ids, b.attentionMask)
    }

    /// Logits [B, C] of one batch (differentiable; `context` nil for inference, or a training
    /// context for dropout).
    public func logits(_ texts: [String], context: ForwardContext? = nil) -> Variable {
        let (ids, mask) = batch(texts)
        guard normalizesFeatures else { return model(inputIds: ids, attentionMask: mask, context: context) }
        return Verbaliser.logits(pooled: model.features(inputIds: ids, attentionMask: mask, context: context), head: model.classifier)
    }

    /// Mean cross-entropy (nats) of the items `indices` of `data`.
    public func loss(_ data: LabelledTexts, indices: [Int], context: ForwardContext? = nil) -> Variable {
        let part = data.subset(indices)
        return Variable.crossEntropy(logits(part.texts, context: context),
                                     targets: NDArray(part.labels.map(Int32.init), shape: [part.count]))
    }

    /// Runs `body` over batches of texts sorted by UTF-8 length, longest first (less padding;
    /// `Batching.lengthSorted`), without recording gradients, and returns its rows [N, width] in
    /// input order.
    func inference(_ texts: [String], batchSize: Int, width: Int, _ body: ([String]) -> Tensor) -> Tensor {
        Batching.gatherRows(Batching.lengthSorted(texts.map { $0.utf8.count }, batchSize: batchSize),
                            count: texts.count, width: width) { body($0.map { texts[$0] }) }
    }

    /// Logits [N, C] of `texts` in inference mode (no dropout), batched by length.
    public func predictLogits(_ texts: [String], batchSize: Int = 32) -> Tensor {
        inference(texts, batchSize: batchSize, width: classCount) { logits($0).value }
    }

    /// The pooled features [N, D] the head reads, in inference mode (`sentences.encode`, batched by
    /// UTF-8 length; the pooler output for a `.pooler` head).
    public func features(_ texts: [String], batchSize: Int = 32) -> Tensor {
        guard model.input == .pooler else {
            return sentences.encode(texts, batchSize: batchSize, lengths: texts.map { $0.utf8.count })
        }
        return inference(texts, batchSize: batchSize, width: model.encoder.config.hiddenSize) { batch in
            let (ids, mask) = self.batch(batch)
            return model.features(inputIds: ids, attentionMask: mask).value
        }
    }

    /// Accuracy on `data` in inference mode.
    public func accuracy(_ data: LabelledTexts, batchSize: Int = 32) -> Double {
        guard !data.isEmpty else { return 0 }
        let predictions = predictLogits(data.texts, batchSize: batchSize).argmax(axis: -1)
        var correct = 0
        predictions.withUnsafeBufferPointer { p in
            for (i, y) in data.labels.enumerated() where Int(p[i]) == y { correct += 1 }
        }
        return Double(correct) / Double(data.count)
    }
}
