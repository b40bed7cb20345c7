/// Hyper-parameters of a Llama-style decoder, read from a checkpoint's `config` attribute (the keys
/// Tools/data/convert_smollm2.py writes, named as in Hugging Face's LlamaConfig).
public struct LlamaConfig: Sendable, Equatable {
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

    /// Reads the HF LlamaConfig keys from a checkpoint's config: `vocab_size`, `hidden_size`,
    /// `intermediate_size`, `num_hidden_layers`, `num_attention_heads`, `num_key_value_heads`
    /// (default: as many as query heads), optional `head_dim`, `rms_norm_eps` (1e-6), `rope_theta`
    /// (10000), `rope_layout` ("adjacent-pairs" | "halves"; default halves, HF's layout),
    /// `tie_word_embeddings` (true), `max_position_embeddings` (2048).
    /// - Throws: `CheckpointError.badConfig` naming the first missing or invalid key.
    public init(_ reader: ConfigReader) throws {
        let layoutName = try reader.optionalString("rope_layout") ?? RotaryEmbedding.Layout.halves.rawValue
        guard let layout = RotaryEmbedding.Layout(rawValue: layoutName) else {
            throw CheckpointError.badConfig(file: reader.file, key: "rope_layout", expected: "'adjacent-pairs' or 'halves'")
        }
        let heads = try reader.int("num_attention_heads")
        self.init(vocabularySize: try reader.int("vocab_size"), hiddenSize: try reader.int("hidden_size"),
                  intermediateSize: try reader.int("intermediate_size"), layerCount: try reader.int("num_hidden_layers"),
                  headCount: heads, keyValueHeadCount: try reader.optionalInt("num_key_value_heads") ?? heads,
                  headDimension: try reader.optionalInt("head_dim"),
                  rmsNormEpsilon: try reader.optionalFloat("rms_norm_eps") ?? 1e-6,
                  ropeTheta: try reader.optionalFloat("rope_theta") ?? 10_000, ropeLayout: layout,
                  tiesWordEmbeddings: reader.config["tie_word_embeddings"]?.boolValue ?? true,
                  maximumPositions: try reader.optionalInt("max_position_embeddings") ?? 2048)
        for (key, value) in [("vocab_size", vocabularySize), ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
                             ("num_hidden_layers", layerCount), ("num_attention_heads", headCount),
                             ("num_key_value_heads", keyValueHeadCount), ("head_dim", headDimension)] where value <= 0 {
            throw CheckpointError.badConfig(file: reader.file, key: key, expected: "a positive integer")
        }
        guard headCount % keyValueHeadCount == 0 else {
            throw CheckpointError.badConfig(file: reader.file, key: "num_key_value_heads", expected: "a divisor of num_attention_heads (\(headCount))")
        }
        guard headDimension % 2 == 0 else {
            throw CheckpointError.badConfig(file: reader.file, key: "head_dim", expected: "an even number (RoPE rotates pairs)")
        }
    }
}
