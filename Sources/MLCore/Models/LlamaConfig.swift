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

    /// The config of a checkpoint (`vocab_size`, `hidden_size`, `intermediate_size`,
    /// `num_hidden_layers`, `num_attention_heads`, `num_key_value_heads`, optional `head_dim`,
    /// `rms_norm_eps`, `rope_theta`, `rope_layout` ("adjacent-pairs" | "halves", default halves as
    /// HF), `tie_word_embeddings` (default true), `max_position_embeddings`).
    /// - Throws: `CheckpointError.badConfig` naming the first missing or invalid key.
    public init(config: JSONValue, file: String) throws {
        func int(_ key: String) throws -> Int {
            guard let v = config[key]?.intValue, v > 0 else {
                throw CheckpointError.badConfig(file: file, key: key, expected: "a positive integer")
            }
            return v
        }
        func number(_ key: String, default value: Double) throws -> Float {
            guard let v = config[key] else { return Float(value) }
            guard let d = v.doubleValue, d > 0 else { throw CheckpointError.badConfig(file: file, key: key, expected: "a positive number") }
            return Float(d)
        }
        let layoutName = config["rope_layout"]?.stringValue ?? RotaryEmbedding.Layout.halves.rawValue
        guard let layout = RotaryEmbedding.Layout(rawValue: layoutName) else {
            throw CheckpointError.badConfig(file: file, key: "rope_layout", expected: "'adjacent-pairs' or 'halves'")
        }
        self.init(vocabularySize: try int("vocab_size"), hiddenSize: try int("hidden_size"),
                  intermediateSize: try int("intermediate_size"), layerCount: try int("num_hidden_layers"),
                  headCount: try int("num_attention_heads"), keyValueHeadCount: try int("num_key_value_heads"),
                  headDimension: config["head_dim"] == nil ? nil : try int("head_dim"),
                  rmsNormEpsilon: try number("rms_norm_eps", default: 1e-6), ropeTheta: try number("rope_theta", default: 10_000),
                  ropeLayout: layout, tiesWordEmbeddings: config["tie_word_embeddings"]?.boolValue ?? true,
                  maximumPositions: config["max_position_embeddings"] == nil ? 2048 : try int("max_position_embeddings"))
        guard headCount % keyValueHeadCount == 0 else {
            throw CheckpointError.badConfig(file: file, key: "num_key_value_heads", expected: "a divisor of num_attention_heads (\(headCount))")
        }
        guard headDimension % 2 == 0 else {
            throw CheckpointError.badConfig(file: file, key: "head_dim", expected: "an even number (RoPE rotates pairs)")
        }
    }
}
