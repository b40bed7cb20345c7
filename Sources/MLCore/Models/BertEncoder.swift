/// BERT encoder (Devlin et al. 2019) as Hugging Face's BertModel computes it
/// (transformers/models/bert/modeling_bert.py), with parameter names as its state dict; used for
/// all-MiniLM-L6-v2 (sentence-transformers' mean pooling + L2 normalisation).

/// Hyper-parameters of a BERT encoder (HF BertConfig names in comments).
public struct BertConfig: CheckpointConfig, Codable, Equatable {
    public var vocabularySize: Int        // vocab_size
    public var hiddenSize: Int            // hidden_size
    public var layers: Int                // num_hidden_layers
    public var heads: Int                 // num_attention_heads
    public var intermediateSize: Int      // intermediate_size
    public var maxPositions: Int          // max_position_embeddings
    public var typeVocabularySize: Int    // type_vocab_size
    public var layerNormEpsilon: Float    // layer_norm_eps
    /// "gelu" (erf form) or "gelu_new"/"gelu_pytorch_tanh" (tanh form).
    public var activation: String         // hidden_act
    public var hiddenDropout: Float       // hidden_dropout_prob
    public var attentionDropout: Float    // attention_probs_dropout_prob

    public init(vocabularySize: Int, hiddenSize: Int, layers: Int, heads: Int, intermediateSize: Int,
                maxPositions: Int = 512, typeVocabularySize: Int = 2, layerNormEpsilon: Float = 1e-12,
                activation: String = "gelu", hiddenDropout: Float = 0.1, attentionDropout: Float = 0.1) {
        self.vocabularySize = vocabularySize; self.hiddenSize = hiddenSize; self.layers = layers; self.heads = heads
        self.intermediateSize = intermediateSize; self.maxPositions = maxPositions
        self.typeVocabularySize = typeVocabularySize; self.layerNormEpsilon = layerNormEpsilon
        self.activation = activation; self.hiddenDropout = hiddenDropout; self.attentionDropout = attentionDropout
    }

    enum CodingKeys: String, CodingKey {
        case vocabularySize = "vocab_size", hiddenSize = "hidden_size", layers = "num_hidden_layers"
        case heads = "num_attention_heads", intermediateSize = "intermediate_size"
        case maxPositions = "max_position_embeddings", typeVocabularySize = "type_vocab_size"
        case layerNormEpsilon = "layer_norm_eps", activation = "hidden_act", hiddenDropout = "hidden_dropout_prob"
        case attentionDropout = "attention_probs_dropout_prob"
    }

    /// Decodes HF's BertConfig keys (`vocab_size`, `hidden_size`, `num_hidden_layers`,
    /// `num_attention_heads`, `intermediate_size`; optional `max_position_embeddings` 512,
    /// `type_vocab_size` 2, `layer_norm_eps` 1e-12, `hidden_act` "gelu", `hidden_dropout_prob` and
    /// `attention_probs_dropout_prob` 0.1).
    /// - Throws: `DecodingError` (→ `CheckpointError.badConfig` through `init(json:file:)`) for a
    ///   missing or mistyped key, a width the heads do not divide, or an unknown activation.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(vocabularySize: try c.require(.vocabularySize), hiddenSize: try c.require(.hiddenSize),
                  layers: try c.require(.layers), heads: try c.require(.heads), intermediateSize: try c.require(.intermediateSize),
                  maxPositions: try c.decodeIfPresent(Int.self, forKey: .maxPositions) ?? 512,
                  typeVocabularySize: try c.decodeIfPresent(Int.self, forKey: .typeVocabularySize) ?? 2,
                  layerNormEpsilon: try c.optionalFloat(.layerNormEpsilon) ?? 1e-12,
                  activation: try c.decodeIfPresent(String.self, forKey: .activation) ?? "gelu",
                  hiddenDropout: try c.optionalFloat(.hiddenDropout) ?? 0.1,
                  attentionDropout: try c.optionalFloat(.attentionDropout) ?? 0.1)
        guard heads > 0, hiddenSize % heads == 0 else {
            throw c.invalid(.heads, expected: "a divisor of hidden_size \(hiddenSize)")
        }
        guard ["gelu", "gelu_new", "gelu_pytorch_tanh", "relu"].contains(activation) else {
            throw c.invalid(.activation, expected: "gelu, gelu_new, gelu_pytorch_tanh or relu")
        }
    }
}

/// The activation named by `hidden_act`.
func bertActivation(_ name: String, _ x: Variable) -> Variable {
    switch name {
    case "gelu_new", "gelu_pytorch_tanh": return x.geluTanh()
    case "relu": return x.relu()
    default: return x.gelu()
    }
}

/// One transformer layer: self-attention + residual + LayerNorm, FFN + residual + LayerNorm (post-norm).
public final class BertLayer: Module {
    public let query: Linear, key: Linear, value: Linear
    public let attentionOutput: Linear, attentionNorm: LayerNorm
    public let intermediate: Linear, output: Linear, outputNorm: LayerNorm
    let config: BertConfig

    /// A layer whose parameters are named by `factory`'s scope (e.g. `factory.scoped("encoder.layer.3")`),
    /// with HF's names below it (`attention.self.query.weight`, …).
    public init(config: BertConfig, factory: ParameterFactory) {
        let d = config.hiddenSize, init02 = ParameterFactory.Initialization.normal(std: 0.02)
        let attention = factory.scoped("attention")
        let selfAttention = attention.scoped("self")
        query = Linear("query", inFeatures: d, outFeatures: d, factory: selfAttention, initialization: init02)
        key = Linear("key", inFeatures: d, outFeatures: d, factory: selfAttention, initialization: init02)
        value = Linear("value", inFeatures: d, outFeatures: d, factory: selfAttention, initialization: init02)
        attentionOutput = Linear("output.dense", inFeatures: d, outFeatures: d, factory: attention, initialization: init02)
        attentionNorm = LayerNorm("output.LayerNorm", features: d, epsilon: config.layerNormEpsilon, factory: attention)
        intermediate = Linear("intermediate.dense", inFeatures: d, outFeatures: config.intermediateSize, factory: factory, initialization: init02)
        output = Linear("output.dense", inFeatures: config.intermediateSize, outFeatures: d, factory: factory, initialization: init02)
        outputNorm = LayerNorm("output.LayerNorm", features: d, epsilon: config.layerNormEpsilon, factory: factory)
        self.config = config
    }

    /// Parameters under `prefix` (e.g. `encoder.layer.3`) with HF's names.
    public convenience init(_ prefix: String, config: BertConfig, factory: ParameterFactory) {
        self.init(config: config, factory: factory.scoped(prefix))
    }

    public var parameters: [Parameter] {
        let modules: [Module] = [query, key, value, attentionOutput, attentionNorm, intermediate, output, outputNorm]
        return modules.flatMap(\.parameters)
    }

    /// x [B, T, D], mask additive [B, 1, 1, T] → [B, T, D].
    public func callAsFunction(_ x: Variable, mask: Tensor?, context: ForwardContext?) -> Variable {
        let h = config.heads
        let attended = Variable.scaledDotProductAttention(
            query: query(x).splittingHeads(h), key: key(x).splittingHeads(h), value: value(x).splittingHeads(h),
            mask: mask, dropout: config.attentionDropout, context: context).mergingHeads()
        let a = attentionNorm(attentionOutput(attended).dropout(config.hiddenDropout, context: context) + x)
        let f = output(bertActivation(config.activation, intermediate(a))).dropout(config.hiddenDropout, context: context)
        return outputNorm(f + a)
    }
}

/// What a BERT forward pass returns.
public struct BertOutput {
    /// The last layer's hidden states [B, T, D].
    public let lastHiddenState: Variable
    /// The embedding output followed by every layer's output (layers + 1 entries, each [B, T, D]),
    /// as HF's `output_hidden_states`; empty unless requested.
    public let hiddenStates: [Variable]
}

/// Token embeddings + encoder layers (+ the optional pooler) of a BERT model.
public final class BertEncoder: CheckpointLoadable {
    public let config: BertConfig
    public let wordEmbeddings: Embedding, positionEmbeddings: Embedding, tokenTypeEmbeddings: Embedding
    public let embeddingNorm: LayerNorm
    public let layers: [BertLayer]
    /// The pooler (dense + tanh on [CLS]); nil when the checkpoint has none.
    public let pooler: Linear?

    /// A fresh model (random N(0, 0.02) weights as HF's _init_weights, or placeholders).
    public init(config: BertConfig, pooler: Bool = true, factory: ParameterFactory) {
        self.config = config
        let d = config.hiddenSize, init02 = ParameterFactory.Initialization.normal(std: 0.02)
        let embeddings = factory.scoped("embeddings"), encoder = factory.scoped("encoder")
        wordEmbeddings = Embedding(name: "word_embeddings.weight", count: config.vocabularySize, dimension: d, factory: embeddings, initialization: init02)
        positionEmbeddings = Embedding(name: "position_embeddings.weight", count: config.maxPositions, dimension: d, factory: embeddings, initialization: init02)
        tokenTypeEmbeddings = Embedding(name: "token_type_embeddings.weight", count: config.typeVocabularySize, dimension: d, factory: embeddings, initialization: init02)
        embeddingNorm = LayerNorm("LayerNorm", features: d, epsilon: config.layerNormEpsilon, factory: embeddings)
        layers = (0..<config.layers).map { BertLayer(config: config, factory: encoder.scoped("layer.\($0)")) }
        self.pooler = pooler ? Linear("pooler.dense", inFeatures: d, outFeatures: d, factory: factory, initialization: init02) : nil
    }

    /// Checkpoint architecture "bert".
    public static var architectures: [String] { ["bert"] }
    /// The integer buffer `embeddings.position_ids` is the only key allowed besides the parameters.
    public static var nonParameterKeys: Set<String> { ["embeddings.position_ids"] }

    /// A model of `config`; with a pooler when the checkpoint has `pooler.dense.weight` (fresh: always).
    public static func build(config: BertConfig, checkpointKeys: Set<String>?, factory: ParameterFactory) -> BertEncoder {
        BertEncoder(config: config, pooler: checkpointKeys?.contains("pooler.dense.weight") ?? true, factory: factory)
    }

    public var parameters: [Parameter] {
        var modules: [Module] = [wordEmbeddings, positionEmbeddings, tokenTypeEmbeddings, embeddingNorm]
        modules += layers as [Module]
        if let pooler { modules.append(pooler) }
        return modules.flatMap(\.parameters)
    }

    /// Encodes a batch.
    /// - Parameters:
    ///   - inputIds: [B, T] token ids.
    ///   - tokenTypeIds: [B, T] segment ids (default all 0).
    ///   - attentionMask: [B, T] 1 for real tokens, 0 for padding (default all 1).
    ///   - outputHiddenStates: also return every layer's hidden states.
    ///   - context: training context (dropout), nil for inference.
    /// - Precondition: T ≤ max positions; ids within the vocabularies; shapes agree.
    public func callAsFunction(inputIds: NDArray<Int32>, tokenTypeIds: NDArray<Int32>? = nil,
                               attentionMask: NDArray<Int32>? = nil, outputHiddenStates: Bool = false,
                               context: ForwardContext? = nil) -> BertOutput {
        require(inputIds.rank == 2, "BertEncoder: input ids \(inputIds.shape), expected [B, T]")
        let b = inputIds.shape[0], t = inputIds.shape[1]
        require(t <= config.maxPositions, "BertEncoder: \(t) tokens exceed the \(config.maxPositions) positions")
        require(tokenTypeIds.map { $0.shape == inputIds.shape } ?? true && attentionMask.map { $0.shape == inputIds.shape } ?? true,
                "BertEncoder: token type ids / attention mask shapes differ from input ids \(inputIds.shape)")
        let positions = positionEmbeddings(NDArray<Int32>((0..<Int32(t)).map { $0 }, shape: [1, t]))
        let types = tokenTypeEmbeddings(tokenTypeIds ?? NDArray<Int32>(shape: [b, t], repeating: 0))
        var x = embeddingNorm(wordEmbeddings(inputIds) + positions + types).dropout(config.hiddenDropout, context: context)
        let mask = attentionMask.map(AttentionMask.padding)
        var states = outputHiddenStates ? [x] : []
        for layer in layers {
            x = layer(x, mask: mask, context: context)
            if outputHiddenStates { states.append(x) }
        }
        return BertOutput(lastHiddenState: x, hiddenStates: states)
    }

    /// HF's pooler output: tanh(dense(h[CLS])) [B, D].
    /// - Precondition: the model has a pooler.
    public func pooled(_ hidden: Variable) -> Variable {
        guard let pooler else { fatalError("BertEncoder.pooled: the checkpoint has no pooler") }
        return pooler(hidden.selected(0, axis: 1)).tanh()
    }
}

/// How token states become one vector per text.
public enum Pooling: String, Sendable, CaseIterable {
    /// The [CLS] (first) token's hidden state.
    case cls
    /// Mean over tokens with attention mask 1 ([CLS] and [SEP] included), as sentence-transformers.
    case mean

    /// hidden [B, T, D], attention mask [B, T] → [B, D].
    public func callAsFunction(_ hidden: Variable, attentionMask: NDArray<Int32>?) -> Variable {
        switch self {
        case .cls:
            return hidden.selected(0, axis: 1)
        case .mean:
            guard let attentionMask else { return hidden.mean(axis: 1) }
            let weights = attentionMask.withUnsafeBufferPointer { m in
                Tensor(shape: attentionMask.shape + [1]) { Float(m[$0]) }
            }
            let counts = Tensor.maximum(weights.sum(axis: 1), Tensor(scalar: 1e-9))  // sentence-transformers clamps at 1e-9
            return (hidden * weights).sum(axis: 1) / Variable(counts)
        }
    }
}

extension Variable {
    /// x / max(‖x‖₂, ε) along the last axis (torch.nn.functional.normalize, ε = 1e-12).
    public func l2Normalized(epsilon: Float = 1e-12) -> Variable {
        let norm = square().sum(axis: -1, keepingDimensions: true).sqrt()
        return self / Variable.maximum(norm, Variable(Tensor(scalar: epsilon)))
    }
}

extension Module {
    /// Strict load that tolerates the listed non-parameter checkpoint keys (buffers such as
    /// `embeddings.position_ids`).
    /// - Throws: `CheckpointError.stateDictMismatch` listing every problem.
    public func load(from checkpoint: Checkpoint, ignoring: Set<String>) throws {
        let own = Set(parameters.map(\.name))
        let unexpected = checkpoint.keys.filter { !own.contains($0) && !ignoring.contains($0) }.sorted()
        do {
            try load(from: checkpoint, allowUnexpected: true)
        } catch CheckpointError.stateDictMismatch(let file, let missing, _, let shapes) {
            throw CheckpointError.stateDictMismatch(file: file, missing: missing, unexpected: unexpected, shapeMismatches: shapes)
        }
        if !unexpected.isEmpty {
            throw CheckpointError.stateDictMismatch(file: checkpoint.path, missing: [], unexpected: unexpected, shapeMismatches: [])
        }
    }
}
