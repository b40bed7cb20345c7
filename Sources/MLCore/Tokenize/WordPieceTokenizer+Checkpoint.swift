extension WordPieceTokenizer {
    /// The tokenizer stored in a checkpoint's `/tokenizer` group (Docs/CHECKPOINT_FORMAT.md):
    /// `vocab` strings, special tokens and normalizer switches as attributes.
    /// - Throws: `TokenizerError.missing` without a tokenizer group, `.malformed` when it is not
    ///   WordPiece or lacks its vocabulary; `HDF5Error` for unreadable data.
    public init(checkpoint: Checkpoint) throws {
        guard let group = try checkpoint.tokenizerGroup() else { throw TokenizerError.missing(file: checkpoint.path) }
        let attributes = group.attributes
        let type = try attributes.contains("type") ? try attributes.string("type") : "?"
        guard type == "wordpiece" else {
            throw TokenizerError.malformed(file: checkpoint.path, reason: "type is '\(type)', expected 'wordpiece'")
        }
        guard try group.contains("vocab") else {
            throw TokenizerError.malformed(file: checkpoint.path, reason: "no vocab dataset")
        }
        let vocabulary = try group.dataset("vocab").readStrings()
        func text(_ key: String, _ fallback: String) throws -> String {
            try attributes.contains(key) ? try attributes.string(key) : fallback
        }
        func flag(_ key: String, _ fallback: Bool) throws -> Bool {
            try attributes.contains(key) ? try attributes.int(key) != 0 : fallback
        }
        try self.init(vocabulary: vocabulary, unk: text("unk_token", "[UNK]"), cls: text("cls_token", "[CLS]"),
                      sep: text("sep_token", "[SEP]"), pad: text("pad_token", "[PAD]"),
                      mask: text("mask_token", "[MASK]"),
                      continuingSubwordPrefix: text("continuing_subword_prefix", "##"), source: checkpoint.path)
        lowercase = try flag("do_lower_case", true)
        stripAccents = try flag("strip_accents", lowercase)
        cleanText = try flag("clean_text", true)
        handleChineseCharacters = try flag("tokenize_chinese_chars", true)
        if try attributes.contains("max_input_chars_per_word") {
            maxInputCharactersPerWord = try attributes.int("max_input_chars_per_word")
        }
    }
}
