/// What every model tokenizer offers: text ↔ ids. Tools that only need ids (pipelines,
/// `mlcore tokenize`) use this; model code uses the concrete types for pairs, offsets and chat.
public protocol TextTokenizer: Sendable {
    /// Token ids of `text`; with `addSpecialTokens` the model's template (BERT: [CLS] … [SEP]; SmolLM2: none).
    func encode(_ text: String, addSpecialTokens: Bool) -> [Int32]
    /// Token ids of many texts, in order, computed on all threads.
    func encodeBatch(_ texts: [String], addSpecialTokens: Bool) -> [[Int32]]
    /// The text of `ids`. - Throws: `TokenizerError.unknownId`.
    func decode(_ ids: [Int32], skipSpecialTokens: Bool) throws -> String
    /// Vocabulary size.
    var vocabularySize: Int { get }
    /// Whether special tokens written literally in the text are tokenized as text (true) or become
    /// their ids (false, the default, as Hugging Face `tokenizers`; its `encode_special_tokens`).
    var splitSpecialTokens: Bool { get set }
}

extension WordPieceTokenizer: TextTokenizer {
    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int32] {
        encode(text, pair: nil, addSpecialTokens: addSpecialTokens).ids
    }
    public func encodeBatch(_ texts: [String], addSpecialTokens: Bool) -> [[Int32]] {
        encodeBatch(texts, addSpecialTokens: addSpecialTokens, maxLength: nil, padToLongest: false).map(\.ids)
    }
    public var vocabularySize: Int { vocabulary.count }
}

extension ByteLevelBPETokenizer: TextTokenizer {
    /// SmolLM2 adds no special tokens; special token text inside `text` is matched whole unless
    /// `splitSpecialTokens`.
    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int32] { encode(text) }
    public func encodeBatch(_ texts: [String], addSpecialTokens: Bool) -> [[Int32]] { encodeBatch(texts) }
    public var vocabularySize: Int { vocabulary.count }
}

/// The tokenizer of a checkpoint, whichever kind its `/tokenizer` group holds.
/// - Throws: `TokenizerError.missing` / `.malformed` for an unknown `type`.
public func loadTokenizer(from checkpoint: Checkpoint) throws -> any TextTokenizer {
    guard let group = try checkpoint.tokenizerGroup() else { throw TokenizerError.missing(file: checkpoint.path) }
    let type = try group.attributes.contains("type") ? try group.attributes.string("type") : "?"
    switch type {
    case "wordpiece": return try WordPieceTokenizer(checkpoint: checkpoint)
    case "bpe-bytelevel": return try ByteLevelBPETokenizer(checkpoint: checkpoint)
    default:
        throw TokenizerError.malformed(file: checkpoint.path, reason: "unknown tokenizer type '\(type)' (wordpiece, bpe-bytelevel)")
    }
}
