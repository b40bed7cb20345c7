import MLCore

/// BERT inputs of a text pair from WordPiece ids without special tokens:
/// `[CLS] first [SEP] second [SEP]`, type ids 0 for `[CLS] first [SEP]` and 1 for `second [SEP]`.
public enum PairInputs {
    /// Truncates longest-first (one token at a time from the longer side, the second on a tie; Hugging
    /// Face's `longest_first`) so that the pair fits `maxLength` tokens with its three special tokens.
    /// - Precondition: maxLength ≥ 3.
    public static func truncated(_ first: [Int32], _ second: [Int32], maxLength: Int) -> ([Int32], [Int32]) {
        require(maxLength >= 3, "PairInputs: maxLength \(maxLength) leaves no room for [CLS] and two [SEP]")
        var a = first[...], b = second[...]
        while a.count + b.count > maxLength - 3 {
            if a.count > b.count { a = a.dropLast() } else { b = b.dropLast() }
        }
        return (Array(a), Array(b))
    }

    /// The pair's ids and type ids (no truncation: call `truncated` first).
    public static func make(_ first: [Int32], _ second: [Int32], tokenizer: WordPieceTokenizer) -> TokenizedText {
        let ids = [tokenizer.clsId] + first + [tokenizer.sepId] + second + [tokenizer.sepId]
        let types = [Int32](repeating: 0, count: first.count + 2) + [Int32](repeating: 1, count: second.count + 1)
        return TokenizedText(ids: ids, typeIds: types)
    }

    /// WordPiece ids of `text` without special tokens.
    public static func ids(_ text: String, tokenizer: WordPieceTokenizer) -> [Int32] {
        tokenizer.encode(text, addSpecialTokens: false).ids
    }
}
