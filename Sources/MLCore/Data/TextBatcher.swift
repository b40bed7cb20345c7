/// One tokenized text (or text pair) before padding: token ids and segment (token type) ids, both [T].
public struct TokenizedText: Sendable, Equatable {
    /// Token ids, special tokens included.
    public var ids: [Int32]
    /// Segment of each token (BERT: 0 for the first text and its [CLS]/[SEP], 1 for the second).
    public var typeIds: [Int32]

    public init(ids: [Int32], typeIds: [Int32]) {
        require(ids.count == typeIds.count, "TokenizedText: \(ids.count) ids but \(typeIds.count) type ids")
        self.ids = ids
        self.typeIds = typeIds
    }

    /// Number of tokens T.
    public var count: Int { ids.count }
}

/// A padded batch of texts, the inputs of a transformer: every array is [B, T], right-padded.
public struct TextBatch: Sendable {
    /// Token ids; padding positions hold the tokenizer's pad id.
    public let ids: NDArray<Int32>
    /// 1 for real tokens, 0 for padding (Hugging Face's `attention_mask`).
    public let attentionMask: NDArray<Int32>
    /// Segment ids (`token_type_ids`); 0 at padding.
    public let typeIds: NDArray<Int32>
    /// Real tokens per row (B entries).
    public let lengths: [Int]

    /// Rows B.
    public var count: Int { lengths.count }
    /// Padded length T.
    public var length: Int { ids.shape[1] }
}

/// Tokenize, truncate and pad texts into `TextBatch`es, as Hugging Face's tokenizers do with
/// `padding="longest", truncation=True` (right padding, right truncation): built on the
/// WordPiece tokenizer (special tokens, pairs with type ids and its truncation strategies) or on any
/// `TextTokenizer` (ids only, truncated to the first `maxLength` tokens, type ids 0).
public struct TextBatcher: Sendable {
    enum Source: Sendable {
        case wordPiece(WordPieceTokenizer, WordPieceTokenizer.Truncation)
        case generic(any TextTokenizer, addSpecialTokens: Bool)
    }

    let source: Source
    /// The id written at padding positions.
    public let padId: Int32
    /// Tokens per text (pair) at most, special tokens included; nil: no truncation.
    public let maxLength: Int?

    /// A batcher over BERT's WordPiece tokenizer: `[CLS] A [SEP]` or `[CLS] A [SEP] B [SEP]`,
    /// truncated to `maxLength` tokens by `truncation`, padded with [PAD].
    /// - Precondition: maxLength ≥ 2 when given (room for [CLS] and [SEP]).
    public init(wordPiece tokenizer: WordPieceTokenizer, maxLength: Int?,
                truncation: WordPieceTokenizer.Truncation = .longestFirst) {
        require(maxLength.map { $0 >= 2 } ?? true, "TextBatcher: maxLength \(maxLength!) leaves no room for [CLS] and [SEP]")
        source = .wordPiece(tokenizer, truncation)
        padId = tokenizer.padId
        self.maxLength = maxLength
    }

    /// A batcher over any tokenizer (e.g. SmolLM2's byte-level BPE): the first `maxLength` ids of
    /// each text, padded with `padId`, type ids 0. Pairs are not supported.
    /// - Precondition: maxLength > 0 when given.
    public init(tokenizer: any TextTokenizer, padId: Int32, maxLength: Int?, addSpecialTokens: Bool = true) {
        require(maxLength.map { $0 > 0 } ?? true, "TextBatcher: maxLength \(maxLength!) must be positive")
        source = .generic(tokenizer, addSpecialTokens: addSpecialTokens)
        self.padId = padId
        self.maxLength = maxLength
    }

    /// Tokenizes one text (or pair), truncated to `maxLength`.
    /// - Precondition: no pair for a generic tokenizer.
    public func encode(_ text: String, pair: String? = nil) -> TokenizedText {
        switch source {
        case .wordPiece(let tokenizer, let truncation):
            let e = tokenizer.encode(text, pair: pair, addSpecialTokens: true, maxLength: maxLength, truncation: truncation)
            return TokenizedText(ids: e.ids, typeIds: e.typeIds)
        case .generic(let tokenizer, let special):
            require(pair == nil, "TextBatcher: text pairs need the WordPiece tokenizer")
            var ids = tokenizer.encode(text, addSpecialTokens: special)
            if let maxLength, ids.count > maxLength { ids.removeLast(ids.count - maxLength) }
            return TokenizedText(ids: ids, typeIds: [Int32](repeating: 0, count: ids.count))
        }
    }

    /// Tokenizes many texts (or pairs: `pairs[i]` goes with `texts[i]`) on all threads, in order.
    /// - Precondition: `pairs` has as many entries as `texts`.
    public func encode(_ texts: [String], pairs: [String]? = nil) -> [TokenizedText] {
        require(pairs.map { $0.count == texts.count } ?? true, "TextBatcher: \(texts.count) texts but \(pairs?.count ?? 0) pairs")
        var out = [TokenizedText](repeating: TokenizedText(ids: [], typeIds: []), count: texts.count)
        out.withUnsafeMutableBufferPointer { buffer in
            let b = UncheckedSendable(buffer)
            Threading.parallelFor(texts.count, grain: 64) { range in
                for i in range { b.value[i] = encode(texts[i], pair: pairs?[i]) }
            }
        }
        return out
    }

    /// Pads `texts` on the right to the longest of them (or to `padTo` when that is longer) and
    /// stacks them into [B, T] arrays.
    public func batch(_ texts: [TokenizedText], padTo: Int? = nil) -> TextBatch {
        let t = Swift.max(texts.map(\.count).max() ?? 0, padTo ?? 0)
        var ids = [Int32](repeating: padId, count: texts.count * t)
        var mask = [Int32](repeating: 0, count: texts.count * t)
        var types = [Int32](repeating: 0, count: texts.count * t)
        for (r, text) in texts.enumerated() {
            for j in 0..<text.count {
                ids[r * t + j] = text.ids[j]
                mask[r * t + j] = 1
                types[r * t + j] = text.typeIds[j]
            }
        }
        return TextBatch(ids: NDArray(ids, shape: [texts.count, t]), attentionMask: NDArray(mask, shape: [texts.count, t]),
                         typeIds: NDArray(types, shape: [texts.count, t]), lengths: texts.map(\.count))
    }

    /// Tokenizes and pads `texts` (and their `pairs`) into one batch.
    public func batch(_ texts: [String], pairs: [String]? = nil, padTo: Int? = nil) -> TextBatch {
        batch(encode(texts, pairs: pairs), padTo: padTo)
    }
}
