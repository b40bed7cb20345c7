/// Byte-level BPE (GPT-2 style) for SmolLM2, with the behaviour of Hugging Face `tokenizers` for the
/// model's configuration: special tokens matched whole first; pre-tokenizer
/// Sequence[Digits(individual_digits), ByteLevel(add_prefix_space: false, GPT-2 regex)]; BPE merges
/// by rank; ByteLevel decoder. Sources: tokenizers/src/{pre_tokenizers/digits.rs,
/// pre_tokenizers/byte_level.rs, models/bpe/word.rs}; Radford et al. 2019 §2.2; the checkpoint's `/tokenizer` (Docs/CHECKPOINT_FORMAT.md).
public struct ByteLevelBPETokenizer: Sendable {
    /// Token strings by id, in the byte-level alphabet.
    public let vocabulary: [String]
    let index: [String: Int32]
    /// (left id, right id) → (rank, merged id).
    let merges: [MergePair: (rank: Int32, id: Int32)]
    /// Special tokens matched whole before any splitting, longest first.
    let specialTokens: [(text: [Unicode.Scalar], id: Int32)]
    /// Id of the single-character token of each byte; nil for the bytes the vocabulary lacks
    /// (SmolLM2 has no token for some control bytes), which are dropped as tokenizers' BPE drops
    /// symbols it cannot map when no unknown token is set.
    let byteIds: [Int32?]
    /// Byte of each byte-level alphabet scalar (GPT-2 `bytes_to_unicode` inverted).
    let unicodeToByte: [UInt32: UInt8]

    /// The model's chat template (Jinja text from the checkpoint), nil when it has none.
    public var chatTemplate: String?
    /// Whether special tokens written in the input (`<|im_start|>`, `<|endoftext|>`, ...) are tokenized
    /// as ordinary text (true) or become their ids (false, the default, as Hugging Face `tokenizers`
    /// does; its `encode_special_tokens`, transformers' `split_special_tokens`).
    public var splitSpecialTokens = false

    struct MergePair: Hashable { let left: Int32, right: Int32 }

    /// A tokenizer from its vocabulary (index = id), merges ("a b" in rank order) and the ids of
    /// special tokens.
    /// - Throws: `TokenizerError.malformed` for a merge whose parts or result are not in the
    ///   vocabulary.
    public init(vocabulary: [String], merges: [String], specialTokenIds: [Int32], source: String = "vocabulary") throws {
        self.vocabulary = vocabulary
        var index: [String: Int32] = [:]
        index.reserveCapacity(vocabulary.count)
        for (i, t) in vocabulary.enumerated() where index[t] == nil { index[t] = Int32(i) }
        self.index = index
        var table: [MergePair: (rank: Int32, id: Int32)] = [:]
        table.reserveCapacity(merges.count)
        for (rank, line) in merges.enumerated() {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, let a = index[String(parts[0])], let b = index[String(parts[1])],
                  let m = index[String(parts[0]) + String(parts[1])] else {
                throw TokenizerError.malformed(file: source, reason: "merge \(rank) '\(line)' does not join two vocabulary tokens into one")
            }
            if table[MergePair(left: a, right: b)] == nil { table[MergePair(left: a, right: b)] = (Int32(rank), m) }
        }
        self.merges = table
        let alphabet = ByteLevelBPETokenizer.byteToUnicode
        var byteIds: [Int32?] = []
        var inverse: [UInt32: UInt8] = [:]
        for b in 0..<256 {
            let s = alphabet[b]
            inverse[s.value] = UInt8(b)
            byteIds.append(index[String(s)])
        }
        self.byteIds = byteIds
        self.unicodeToByte = inverse
        specialTokens = specialTokenIds.map { (Array(vocabulary[Int($0)].unicodeScalars), $0) }
            .sorted { $0.text.count > $1.text.count }
    }

    /// GPT-2's reversible map from bytes to printable Unicode scalars: printable Latin-1 bytes map
    /// to themselves, the other 68 to U+0100 onward in byte order.
    static let byteToUnicode: [Unicode.Scalar] = {
        var printable = Set<Int>(33...126)
        printable.formUnion(161...172)
        printable.formUnion(174...255)
        var next = 256
        return (0..<256).map { b in
            if printable.contains(b) { return Unicode.Scalar(UInt32(b))! }
            defer { next += 1 }
            return Unicode.Scalar(UInt32(next))!
        }
    }()

    /// The id of a token string, nil when it is not in the vocabulary.
    public func id(of token: String) -> Int32? { index[token] }

    // MARK: Encoding

    /// Token ids of `text`. Special tokens in the text (e.g. `<|im_start|>`) become their ids unless
    /// `splitSpecialTokens`; no BOS is added (SmolLM2 adds none).
    public func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        let scalars = Array(text.unicodeScalars)
        if splitSpecialTokens {
            if !scalars.isEmpty { encodeOrdinary(scalars[...], into: &ids) }
            return ids
        }
        var start = 0, i = 0
        while i < scalars.count {
            if let special = matchSpecial(scalars, at: i) {
                if start < i { encodeOrdinary(scalars[start..<i], into: &ids) }
                ids.append(special.id)
                i += special.length
                start = i
            } else {
                i += 1
            }
        }
        if start < scalars.count { encodeOrdinary(scalars[start..<scalars.count], into: &ids) }
        return ids
    }

    /// Encodes many texts on all threads.
    public func encodeBatch(_ texts: [String]) -> [[Int32]] {
        var out = [[Int32]](repeating: [], count: texts.count)
        out.withUnsafeMutableBufferPointer { buffer in
            let b = UncheckedSendable(buffer)
            Threading.parallelFor(texts.count, grain: 64) { range in
                for i in range { b.value[i] = encode(texts[i]) }
            }
        }
        return out
    }

    func matchSpecial(_ s: [Unicode.Scalar], at i: Int) -> (id: Int32, length: Int)? {
        guard s[i] == "<" else { return nil }  // every SmolLM2 special token starts with '<'
        for t in specialTokens where i + t.text.count <= s.count {
            if s[i..<(i + t.text.count)].elementsEqual(t.text) { return (t.id, t.text.count) }
        }
        return nil
    }

    /// Text between special tokens: digits isolated, then the GPT-2 regex, then BPE per piece.
    func encodeOrdinary(_ s: ArraySlice<Unicode.Scalar>, into ids: inout [Int32]) {
        var pieceStart = s.startIndex
        for i in s.indices where ByteLevelBPETokenizer.isNumber(s[i]) {
            if pieceStart < i { splitGPT2(s[pieceStart..<i], into: &ids) }
            bpe(s[i..<(i + 1)], into: &ids)
            pieceStart = i + 1
        }
        if pieceStart < s.endIndex { splitGPT2(s[pieceStart..<s.endIndex], into: &ids) }
    }

    static func isLetter(_ c: Unicode.Scalar) -> Bool {
        if c.value < 128 { return (65...90).contains(c.value) || (97...122).contains(c.value) }
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    static func isNumber(_ c: Unicode.Scalar) -> Bool {
        if c.value < 128 { return (48...57).contains(c.value) }
        switch c.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    static func isSpace(_ c: Unicode.Scalar) -> Bool {
        c.value < 128 ? (c.value == 32 || (9...13).contains(c.value)) : c.properties.isWhitespace
    }

    /// The GPT-2 pattern `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`,
    /// matched by hand with the regex's alternative order and backtracking.
    func splitGPT2(_ s: ArraySlice<Unicode.Scalar>, into ids: inout [Int32]) {
        typealias B = ByteLevelBPETokenizer
        let end = s.endIndex
        var i = s.startIndex
        func run(from j: Int, while test: (Unicode.Scalar) -> Bool) -> Int {
            var k = j
            while k < end && test(s[k]) { k += 1 }
            return k
        }
        let isOther: (Unicode.Scalar) -> Bool = { !B.isSpace($0) && !B.isLetter($0) && !B.isNumber($0) }
        while i < end {
            let c = s[i]
            if c == "'" && i + 1 < end {
                let n1 = s[i + 1]
                if n1 == "s" || n1 == "t" || n1 == "m" || n1 == "d" { bpe(s[i..<(i + 2)], into: &ids); i += 2; continue }
                if i + 2 < end {
                    let n2 = s[i + 2]
                    if (n1 == "r" && n2 == "e") || (n1 == "v" && n2 == "e") || (n1 == "l" && n2 == "l") {
                        bpe(s[i..<(i + 3)], into: &ids); i += 3; continue
                    }
                }
            }
            // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional literal space, then a run of one class.
            let j = (c == " " && i + 1 < end) ? i + 1 : i
            var matched = false
            for test in [B.isLetter, B.isNumber, isOther] where test(s[j]) {
                let k = run(from: j, while: test)
                bpe(s[i..<k], into: &ids)
                i = k
                matched = true
                break
            }
            if matched { continue }
            // `\s+(?!\S)` gives back the last whitespace before a non-space; `\s+` takes a lone one.
            if B.isSpace(c) {
                let k = run(from: i, while: B.isSpace)
                let stop = (k < end && k - i > 1) ? k - 1 : k
                bpe(s[i..<stop], into: &ids)
                i = stop
                continue
            }
            // A lone space before whitespace or at the end is matched by the space rules above; any
            // other scalar is matched by one of the three classes, so this is not reached.
            bpe(s[i..<(i + 1)], into: &ids)
            i += 1
        }
    }

    /// BPE of one pre-token: its UTF-8 bytes as byte-level symbols, merged lowest rank first
    /// (leftmost among equal ranks), as tokenizers' `Word::merge_all`.
    func bpe(_ piece: ArraySlice<Unicode.Scalar>, into ids: inout [Int32]) {
        var symbols: [Int32] = []
        symbols.reserveCapacity(piece.count * 2)
        for c in piece { for b in String(c).utf8 { if let id = byteIds[Int(b)] { symbols.append(id) } } }
        while symbols.count > 1 {
            var best: (rank: Int32, id: Int32, at: Int)?
            for k in 0..<(symbols.count - 1) {
                if let m = merges[MergePair(left: symbols[k], right: symbols[k + 1])], best == nil || m.rank < best!.rank {
                    best = (m.rank, m.id, k)
                }
            }
            guard let b = best else { break }
            symbols[b.at] = b.id
            symbols.remove(at: b.at + 1)
        }
        ids.append(contentsOf: symbols)
    }

    // MARK: Decoding

    /// The exact text of `ids` (byte-level decoding; invalid UTF-8 becomes U+FFFD as in tokenizers).
    /// - Parameter skipSpecialTokens: drop special tokens instead of writing their text.
    /// - Throws: `TokenizerError.unknownId`.
    public func decode(_ ids: [Int32], skipSpecialTokens: Bool = false) throws -> String {
        var bytes: [UInt8] = []
        let specialIds = Set(specialTokens.map(\.id))
        for id in ids {
            guard id >= 0 && Int(id) < vocabulary.count else { throw TokenizerError.unknownId(Int(id)) }
            if specialIds.contains(id) {
                if !skipSpecialTokens { bytes.append(contentsOf: Array(vocabulary[Int(id)].utf8)) }
                continue
            }
            for c in vocabulary[Int(id)].unicodeScalars {
                if let b = unicodeToByte[c.value] { bytes.append(b) } else { bytes.append(contentsOf: Array(String(c).utf8)) }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: Chat template

    /// One chat message.
    public struct Message: Sendable, Equatable {
        public var role: String
        public var content: String
        public init(role: String, content: String) { self.role = role; self.content = content }
    }

    /// The default system message of the ChatML template: the text its `<|im_start|>system\n …
    /// <|im_end|>` literal inserts when the first message is not a system one.
    public var defaultSystemMessage: String? {
        guard let template = chatTemplate, let start = template.range(of: "<|im_start|>system\n"),
              let end = template.range(of: "<|im_end|>", range: start.upperBound..<template.endIndex) else { return nil }
        return String(template[start.upperBound..<end.lowerBound])
    }

    /// Renders `messages` as SmolLM2's ChatML template does: a default system message first when
    /// the first message is not a system one, then `<|im_start|>role\ncontent<|im_end|>\n` per
    /// message, then `<|im_start|>assistant\n` when `addGenerationPrompt`.
    public func renderChat(_ messages: [Message], addGenerationPrompt: Bool = true) -> String {
        chatParts(messages, addGenerationPrompt: addGenerationPrompt).map(\.text).joined()
    }

    /// The rendered chat as consecutive parts: the template's own text, and each message's content.
    func chatParts(_ messages: [Message], addGenerationPrompt: Bool) -> [(text: String, isContent: Bool)] {
        var parts: [(text: String, isContent: Bool)] = []
        if let first = messages.first, first.role != "system", let system = defaultSystemMessage {
            parts.append(("<|im_start|>system\n\(system)<|im_end|>\n", false))
        }
        for m in messages {
            parts += [("<|im_start|>\(m.role)\n", false), (m.content, true), ("<|im_end|>\n", false)]
        }
        if addGenerationPrompt { parts.append(("<|im_start|>assistant\n", false)) }
        return parts
    }

    /// Token ids of the chat `renderChat` renders. The template's special tokens are always matched;
    /// with `splitSpecialTokens`, special tokens written in a message's content are text (each content
    /// then encoded on its own, so BPE pieces do not cross its edges); otherwise the whole rendered
    /// text is encoded at once, as Hugging Face's `apply_chat_template(tokenize=True)` does.
    public func encodeChat(_ messages: [Message], addGenerationPrompt: Bool = true) -> [Int32] {
        guard splitSpecialTokens else { return encode(renderChat(messages, addGenerationPrompt: addGenerationPrompt)) }
        var template = self
        template.splitSpecialTokens = false
        return chatParts(messages, addGenerationPrompt: addGenerationPrompt).flatMap { part in
            part.isContent ? encode(part.text) : template.encode(part.text)
        }
    }
}
