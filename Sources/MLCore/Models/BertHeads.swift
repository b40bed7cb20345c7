/// Task heads over a BertEncoder: sequence classification and masked-language modelling, with
/// HF's parameter names (BertForSequenceClassification, BertOnlyMLMHead).

/// Which vector of the encoder output a classification head reads.
public enum ClassificationInput: String, Sendable, CaseIterable {
    /// HF's pooler output tanh(dense(h[CLS])) (BertForSequenceClassification).
    case pooler
    /// The [CLS] hidden state.
    case cls
    /// The attention-masked mean of the hidden states (sentence-transformers pooling).
    case mean
}

/// A linear classifier over one pooled vector per text: logits = W·dropout(v) + b with W
/// [labels, D] named `classifier.weight` as in BertForSequenceClassification.
public final class BertClassifier: Module {
    public let encoder: BertEncoder
    public let classifier: Linear
    public let input: ClassificationInput
    public let dropout: Float

    /// A head with `labels` outputs over `encoder` (head initialised N(0, 0.02), bias 0, as HF).
    /// - Precondition: `.pooler` input needs an encoder with a pooler.
    public init(encoder: BertEncoder, labels: Int, input: ClassificationInput = .pooler, dropout: Float? = nil,
                factory: ParameterFactory) {
        require(input != .pooler || encoder.pooler != nil, "BertClassifier: pooler input but the encoder has no pooler")
        self.encoder = encoder
        self.input = input
        self.dropout = dropout ?? encoder.config.hiddenDropout
        classifier = Linear("classifier", inFeatures: encoder.config.hiddenSize, outFeatures: labels, factory: factory,
                            initialization: .normal(std: 0.02))
    }

    public var parameters: [Parameter] { encoder.parameters + classifier.parameters }

    /// The pooled vector [B, D] for `input`.
    public func features(inputIds: NDArray<Int32>, tokenTypeIds: NDArray<Int32>? = nil, attentionMask: NDArray<Int32>? = nil,
                         context: ForwardContext? = nil) -> Variable {
        let hidden = encoder(inputIds: inputIds, tokenTypeIds: tokenTypeIds, attentionMask: attentionMask, context: context).lastHiddenState
        switch input {
        case .pooler: return encoder.pooled(hidden)
        case .cls: return Pooling.cls(hidden, attentionMask: attentionMask)
        case .mean: return Pooling.mean(hidden, attentionMask: attentionMask)
        }
    }

    /// Logits [B, labels].
    public func callAsFunction(inputIds: NDArray<Int32>, tokenTypeIds: NDArray<Int32>? = nil,
                               attentionMask: NDArray<Int32>? = nil, context: ForwardContext? = nil) -> Variable {
        let v = features(inputIds: inputIds, tokenTypeIds: tokenTypeIds, attentionMask: attentionMask, context: context)
        return classifier(v.dropout(dropout, context: context))
    }
}

/// BERT's masked-language-model head: transform (dense + activation + LayerNorm) then a decoder tied
/// to the word embeddings plus an output bias (`cls.predictions.*`). MiniLM ships without one, so
/// `init` draws the transform fresh (N(0, 0.02), LayerNorm 1/0, bias 0) — its logits are only
/// meaningful after training.
public final class BertMLMHead: Module {
    public let transform: Linear
    public let transformNorm: LayerNorm
    /// Tied: the encoder's word embedding matrix [V, D] (not owned; not listed in `parameters`).
    public let decoderWeight: Parameter
    public let bias: Parameter
    let activation: String

    public init(encoder: BertEncoder, factory: ParameterFactory) {
        let c = encoder.config
        transform = Linear("cls.predictions.transform.dense", inFeatures: c.hiddenSize, outFeatures: c.hiddenSize,
                           factory: factory, initialization: .normal(std: 0.02))
        transformNorm = LayerNorm("cls.predictions.transform.LayerNorm", features: c.hiddenSize,
                                  epsilon: c.layerNormEpsilon, factory: factory)
        decoderWeight = encoder.wordEmbeddings.weight
        bias = factory.make("cls.predictions.bias", [c.vocabularySize], .constant(0))
        activation = c.activation
    }

    public var parameters: [Parameter] { transform.parameters + transformNorm.parameters + [bias] }

    /// hidden [..., D] → vocabulary logits [..., V].
    public func callAsFunction(_ hidden: Variable) -> Variable {
        let h = transformNorm(bertActivation(activation, transform(hidden)))
        return Variable.linear(h, weight: decoderWeight, bias: bias)
    }
}
