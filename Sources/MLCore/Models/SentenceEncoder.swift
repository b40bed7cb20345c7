/// Sentence embeddings from a BERT encoder, as sentence-transformers computes them for
/// all-MiniLM-L6-v2 (sentence_transformers/models/Pooling.py and Normalize.py): WordPiece with
/// truncation, the encoder, pooling over the attention mask, optional L2 normalisation. Inference
/// runs without gradient recording (the fused attention path) over length-sorted batches; the
/// differentiable `callAsFunction` serves fine-tuning.
public final class SentenceEncoder: @unchecked Sendable {
    /// The BERT encoder.
    public let encoder: BertEncoder
    /// Tokenization, truncation to `maxLength` and padding.
    public let batcher: TextBatcher
    /// How token states become one vector.
    public let pooling: Pooling
    /// Whether vectors are divided by their L2 norm (torch.nn.functional.normalize, ε = 1e-12).
    public let normalize: Bool

    /// An encoder over `encoder` and its `tokenizer`; `maxLength` (special tokens included) is capped
    /// at the model's positions. sentence-transformers' all-MiniLM-L6-v2 defaults: mean pooling,
    /// normalised, 256 tokens.
    /// - Precondition: maxLength ≥ 2.
    public init(encoder: BertEncoder, tokenizer: WordPieceTokenizer, pooling: Pooling = .mean, normalize: Bool = true,
                maxLength: Int = 256) {
        self.encoder = encoder
        self.batcher = TextBatcher(wordPiece: tokenizer, maxLength: Swift.min(maxLength, encoder.config.maxPositions))
        self.pooling = pooling
        self.normalize = normalize
    }

    /// The encoder and tokenizer of a prepared BERT checkpoint (`BertEncoder.load(from:)`).
    /// - Throws: `CheckpointError`, `TokenizerError`, `HDF5Error`.
    public static func load(from checkpoint: Checkpoint, pooling: Pooling = .mean, normalize: Bool = true,
                            maxLength: Int = 256) throws -> SentenceEncoder {
        SentenceEncoder(encoder: try BertEncoder.load(from: checkpoint), tokenizer: try WordPieceTokenizer(checkpoint: checkpoint),
                        pooling: pooling, normalize: normalize, maxLength: maxLength)
    }

    /// Width D of the vectors.
    public var dimension: Int { encoder.config.hiddenSize }

    /// Tokens per text at most (special tokens included).
    public var maxLength: Int { batcher.maxLength! }

    /// Vectors [B, D] of one padded batch (differentiable; `context` nil for inference, or a
    /// training context for dropout).
    public func callAsFunction(_ batch: TextBatch, context: ForwardContext? = nil) -> Variable {
        let hidden = encoder(inputIds: batch.ids, tokenTypeIds: batch.typeIds, attentionMask: batch.attentionMask,
                             context: context).lastHiddenState
        let pooled = pooling(hidden, attentionMask: batch.attentionMask)
        return normalize ? pooled.l2Normalized() : pooled
    }

    /// Vectors [N, D] of `texts` in input order, in inference mode: the texts are tokenized on all
    /// threads, sorted longest first by `lengths` (default: their token counts; ties in input order)
    /// and encoded `batchSize` at a time. The sort key decides which texts share a batch, hence the
    /// padding; results agree to rounding whatever the key.
    /// - Precondition: batchSize > 0; `lengths` has one entry per text.
    public func encode(_ texts: [String], batchSize: Int = 32, lengths: [Int]? = nil) -> Tensor {
        let tokenized = batcher.encode(texts)
        let keys = lengths ?? tokenized.map(\.count)
        require(keys.count == texts.count, "SentenceEncoder.encode: \(keys.count) lengths for \(texts.count) texts")
        return Batching.gatherRows(Batching.lengthSorted(keys, batchSize: batchSize), count: texts.count, width: dimension) {
            self(self.batcher.batch($0.map { tokenized[$0] })).value
        }
    }
}
