extension ByteLevelBPETokenizer {
    /// The tokenizer stored in a checkpoint's `/tokenizer` group: `vocab`, `merges`, and
    /// `token_type` (GGUF token types; type 3 "control" tokens are the special tokens).
    /// - Throws: `TokenizerError.missing` / `.malformed`; `HDF5Error` for unreadable data.
    public init(checkpoint: Checkpoint) throws {
        guard let group = try checkpoint.tokenizerGroup() else { throw TokenizerError.missing(file: checkpoint.path) }
        let type = try group.attributes.contains("type") ? try group.attributes.string("type") : "?"
        guard type == "bpe-bytelevel" else {
            throw TokenizerError.malformed(file: checkpoint.path, reason: "type is '\(type)', expected 'bpe-bytelevel'")
        }
        for name in ["vocab", "merges", "token_type"] where try !group.contains(name) {
            throw TokenizerError.malformed(file: checkpoint.path, reason: "no \(name) dataset")
        }
        let vocabulary = try group.dataset("vocab").readStrings()
        let types = try group.dataset("token_type").read(as: Int32.self)
        guard types.count == vocabulary.count else {
            throw TokenizerError.malformed(file: checkpoint.path, reason: "token_type has \(types.count) entries for \(vocabulary.count) tokens")
        }
        let special = types.indices.filter { types[$0] == 3 }.map { Int32($0) }
        try self.init(vocabulary: vocabulary, merges: try group.dataset("merges").readStrings(),
                      specialTokenIds: special, source: checkpoint.path)
        chatTemplate = try group.attributes.contains("chat_template") ? try group.attributes.string("chat_template") : nil
    }
}
