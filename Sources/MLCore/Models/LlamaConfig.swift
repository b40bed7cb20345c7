/// Hyper-parameters of a Llama-style decoder, read from a checkpoint's `config` attribute (the keys
/// Tools/data/convert_smollm2.py writes, named as in Hugging Face's LlamaConfig).
public struct LlamaConfig: CheckpointConfig, Codable, Equatable {
    /// V: vocabulary size.
    public var vocabularySize: Int
    /// D: model width.
    public var hiddenSize: Int
    /// Width of the SwiGLU hidden layer.
    public var intermediateSize: Int
    /// Number of decoder blocks.
    public var layerCount: Int
    /// H: query heads.
    public var headCount: Int
    /// Hkv: key/value heads (grouped-query attention; H is a multiple of it).
    public var keyValueHeadCount: Int
    /// Dh: width of one head.
    public var headDimension: Int
    /// ε of every RMSNorm.
    public var rmsNormEpsilon: Float
    /// RoPE base θ.
    public var ropeTheta: Float
    /// Which channels RoPE rotates together (`adjacent-pairs` for GGUF row order, `halves` for HF).
    public var ropeLayout: RotaryEmbedding.Layout
    /// Whether the output projection is the token embedding matrix.
    public var tiesWordEmbeddings: Bool
    /// Longest sequence (cached and new tokens) the model accepts.
    public var maximumPositions: Int

    public init(vocabularySize: Int, hiddenSize: Int, intermediateSize: Int, layerCount: Int, headCount: Int,
                keyValueHeadCount: Int, headDimension: Int? = nil, rmsNormEpsilon: Float = 1e-5,
                ropeTheta: Float = 10_000, ropeLayout: RotaryEmbedding.Layout = .halves,
                tiesWordEmbeddings: Bool = true, maximumPositions: Int = 2048) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.keyValueHeadCount = keyValueHeadCount
        self.headDimension = headDimension ?? hiddenSize / headCount
        self.rmsNormEpsilon = rmsNormEpsilon
        self.ropeTheta = ropeTheta
        self.ropeLayout = ropeLayout
        self.tiesWordEmbeddings = tiesWordEmbeddings
        self.maximumPositions = maximumPositions
    }

    enum CodingKeys: String, CodingKey {
        case vocabularySize = "vocab_size", hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
        case layerCount = "num_hidden_layers", headCount = "num_attention_heads", keyValueHeadCount = "num_key_value_heads"
        case headDimension = "head_dim", rmsNormEpsilon = "rms_norm_eps", ropeTheta = "rope_theta", ropeLayout = "rope_layout"
        case tiesWordEmbeddings = "tie_word_embeddings", maximumPositions = "max_position_embeddings"
    }

    /// Decodes the HF LlamaConfig keys of a checkpoint's config: `vocab_size`, `hidden_size`,
    /// `intermediate_size`, `num_hidden_layers`, `num_attention_heads`, `num_key_value_heads`
    /// (default: as many as query heads), optional `head_dim`, `rms_norm_eps` (1e-6), `rope_theta`
    /// (10000), `rope_layout` ("adjacent-pairs" | "halves"; default halves, HF's layout),
    /// `tie_word_embeddings` (true), `max_position_embeddings` (2048).
    /// - Throws: `DecodingError` (→ `CheckpointError.badConfig` through `init(json:file:)`) naming the
    ///   first missing or invalid key.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let layoutName = try c.decodeIfPresent(String.self, forKey: .ropeLayout) ?? RotaryEmbedding.Layout.halves.rawValue
        guard let layout = RotaryEmbedding.Layout(rawValue: layoutName) else {
            throw c.invalid(.ropeLayout, expected: "'adjacent-pairs' or 'halves'")
        }
        let heads: Int = try c.require(.headCount)
        self.init(vocabularySize: try c.require(.vocabularySize), hiddenSize: try c.require(.hiddenSize),
                  intermediateSize: try c.require(.intermediateSize), layerCount: try c.require(.layerCount),
                  headCount: heads, keyValueHeadCount: try c.decodeIfPresent(Int.self, forKey: .keyValueHeadCount) ?? heads,
                  headDimension: try c.decodeIfPresent(Int.self, forKey: .headDimension),
                  rmsNormEpsilon: try c.optionalFloat(.rmsNormEpsilon) ?? 1e-6,
                  ropeTheta: try c.optionalFloat(.ropeTheta) ?? 10_000, ropeLayout: layout,
                  tiesWordEmbeddings: try c.decodeIfPresent(Bool.self, forKey: .tiesWordEmbeddings) ?? true,
                  maximumPositions: try c.decodeIfPresent(Int.self, forKey: .maximumPositions) ?? 2048)
        for (key, value) in [(CodingKeys.vocabularySize, vocabularySize), (.hiddenSize, hiddenSize), (.intermediateSize, intermediateSize),
                             (.layerCount, layerCount), (.headCount, headCount),
                             (.keyValueHeadCount, keyValueHeadCount), (.headDimension, headDimension)] where value <= 0 {
            throw c.invalid(key, expected: "a positive integer")
        }
        guard headCount % keyValueHeadCount == 0 else {
            throw c.invalid(.keyValueHeadCount, expected: "a divisor of num_attention_heads (\(headCount))")
        }
        guard headDimension % 2 == 0 else {
            throw c.invalid(.headDimension, expected: "an even number (RoPE rotates pairs)")
        }
    }
}

extension RotaryEmbedding.Layout: Codable {}
