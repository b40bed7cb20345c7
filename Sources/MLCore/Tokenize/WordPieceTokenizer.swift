import Foundation

/// BERT's uncased WordPiece tokenizer, with the behaviour of Hugging Face `tokenizers`
/// (BertNormalizer → BertPreTokenizer → WordPiece → BertProcessing), so ids match the model's
/// training exactly. Source: tokenizers/src/{normalizers/bert.rs, pre_tokenizers/bert.rs,
/// models/wordpiece/mod.rs, utils/truncation.rs}; Devlin et al. 2019 §3.
public struct WordPieceTokenizer: Sendable {
    /// Token strings by id.
    public let vocabulary: [String]
    let index: [String: Int32]
    public let unkId: Int32, clsId: Int32, sepId: Int32, padId: Int32, maskId: Int32
    /// Normalizer switches (all on for MiniLM).
    public var cleanText = true, handleChineseCharacters = true, stripAccents = true, lowercase = true
    /// Words longer than this many characters become [UNK].
    public var maxInputCharactersPerWord = 100
    /// Prefix of word-continuation pieces.
    public var continuingSubwordPrefix = "##"

    /// A tokenizer over `vocabulary` (index = id) with the given special tokens.
    /// - Throws: `TokenizerError.malformed` when a special token is not in the vocabulary.
    public init(vocabulary: [String], unk: String = "[UNK]", cls: String = "[CLS]", sep: String = "[SEP]",
                pad: String = "[PAD]", mask: String = "[MASK]", source: String = "vocabulary") throws {
        self.vocabulary = vocabulary
        var index: [String: Int32] = [:]
        index.reserveCapacity(vocabulary.count)
        for (i, token) in vocabulary.enumerated() where index[token] == nil { index[token] = Int32(i) }
        self.index = index
        func id(_ token: String) throws -> Int32 {
            guard let i = index[token] else { throw TokenizerError.malformed(file: source, reason: "special token \(token) not in the vocabulary") }
            return i
        }
        unkId = try id(unk); clsId = try id(cls); sepId = try id(sep); padId = try id(pad); maskId = try id(mask)
    }

    /// The id of a token string, nil when it is not in the vocabulary.
    public func id(of token: String) -> Int32? { index[token] }

    // MARK: Normalizer

    /// Normalises `text` (clean, CJK padding, NFD accent stripping, lower-casing) and returns each
    /// output scalar with the index of the input scalar it came from.
    func normalize(_ text: String) -> [(Unicode.Scalar, Int)] {
        var out: [(Unicode.Scalar, Int)] = []
        out.reserveCapacity(text.unicodeScalars.count + 8)
        for (i, c0) in text.unicodeScalars.enumerated() {
            var c = c0
            if cleanText {
                if c.value == 0 || c.value == 0xFFFD || BertCharacters.isControl(c) { continue }
                if BertCharacters.isWhitespace(c) { c = " " }
            }
            if handleChineseCharacters && BertCharacters.isChinese(c) {
                out.append((" ", i)); out.append((c, i)); out.append((" ", i))
                continue
            }
            if c.isASCII {
                if lowercase, c.value >= 65, c.value <= 90 { c = Unicode.Scalar(c.value + 32)! }
                out.append((c, i))
                continue
            }
            // Non-ASCII: NFD then drop nonspacing marks (strip accents), then full lower-case mapping.
            var pieces: [Unicode.Scalar] = [c]
            if stripAccents {
                pieces = String(String.UnicodeScalarView([c])).decomposedStringWithCanonicalMapping.unicodeScalars
                    .filter { $0.properties.generalCategory != .nonspacingMark }
            }
            for p in pieces {
                if lowercase {
                    for l in p.properties.lowercaseMapping.unicodeScalars { out.append((l, i)) }
                } else {
                    out.append((p, i))
                }
            }
        }
        return out
    }

    // MARK: Model

    /// WordPiece tokens of `text` without special tokens: (id, token, character offsets).
    public func tokenize(_ text: String) -> [(id: Int32, token: String, offset: (Int, Int))] {
        let normalized = normalize(text)
        var result: [(id: Int32, token: String, offset: (Int, Int))] = []
        var word: [(Unicode.Scalar, Int)] = []
        func flush() {
            if !word.isEmpty { wordPiece(word, into: &result) }
            word.removeAll(keepingCapacity: true)
        }
        for item in normalized {
            let c = item.0
            if BertCharacters.isWhitespace(c) {
                flush()
            } else if BertCharacters.isPunctuation(c) {
                flush()
                word.append(item)
                flush()
            } else {
                word.append(item)
            }
        }
        flush()
        return result
    }

    /// Greedy longest-match-first split of one word (models/wordpiece/mod.rs `tokenize`).
    func wordPiece(_ word: [(Unicode.Scalar, Int)], into result: inout [(id: Int32, token: String, offset: (Int, Int))]) {
        let scalars = word.map(\.0)
        if scalars.count > maxInputCharactersPerWord {
            result.append((unkId, vocabulary[Int(unkId)], (word.first!.1, word.last!.1 + 1)))
            return
        }
        var pieces: [(id: Int32, token: String, offset: (Int, Int))] = []
        var start = 0
        while start < scalars.count {
            var end = scalars.count
            var found: (Int32, String)?
            while start < end {
                var candidate = String(String.UnicodeScalarView(scalars[start..<end]))
                if start > 0 { candidate = continuingSubwordPrefix + candidate }
                if let id = index[candidate] { found = (id, candidate); break }
                end -= 1
            }
            guard let (id, token) = found else {
                result.append((unkId, vocabulary[Int(unkId)], (word.first!.1, word.last!.1 + 1)))
                return
            }
            pieces.append((id, token, (word[start].1, word[end - 1].1 + 1)))
            start = end
        }
        result.append(contentsOf: pieces)
    }

    // MARK: Encoding

    /// How a text pair is shortened to `maxLength` (tokenizers' TruncationStrategy).
    public enum Truncation: Sendable {
        /// Remove tokens from the longer text first (tokenizers' `longest_first`).
        case longestFirst
        /// Only shorten the second text; the first is kept whole.
        case onlySecond
    }

    /// Encodes a text (or a pair) as BERT input: `[CLS] A [SEP]` or `[CLS] A [SEP] B [SEP]`, token
    /// type 0 for A and 1 for B, truncated to `maxLength` tokens (special tokens included) and
    /// padded with [PAD] (attention mask 0) to `padTo`.
    public func encode(_ text: String, pair: String? = nil, addSpecialTokens: Bool = true, maxLength: Int? = nil,
                       truncation: Truncation = .longestFirst, padTo: Int? = nil) -> Encoding {
        var a = tokenize(text)
        var b = pair.map(tokenize)
        if let maxLength {
            let specials = addSpecialTokens ? (b == nil ? 2 : 3) : 0
            let budget = Swift.max(0, maxLength - specials)
            if var second = b {
                var n1 = a.count, n2 = second.count
                switch truncation {
                case .longestFirst where n1 + n2 > budget:
                    // tokenizers/src/utils/truncation.rs, LongestFirst with a pair.
                    let swapped = n1 > n2
                    if swapped { swap(&n1, &n2) }
                    n2 = n1 > budget ? n1 : Swift.max(n1, budget - n1)
                    if n1 + n2 > budget { n1 = budget / 2; n2 = n1 + budget % 2 }
                    if swapped { swap(&n1, &n2) }
                case .onlySecond: n2 = Swift.max(0, Swift.min(n2, budget - n1))
                default: break
                }
                a = Array(a.prefix(n1))
                second = Array(second.prefix(n2))
                b = second
            } else if a.count > budget {
                a = Array(a.prefix(budget))
            }
        }
        var e = Encoding()
        if addSpecialTokens { e.append(id: clsId, token: vocabulary[Int(clsId)], typeId: 0, offset: (0, 0), sequence: nil) }
        for t in a { e.append(id: t.id, token: t.token, typeId: 0, offset: t.offset, sequence: 0) }
        if addSpecialTokens { e.append(id: sepId, token: vocabulary[Int(sepId)], typeId: 0, offset: (0, 0), sequence: nil) }
        if let b {
            for t in b { e.append(id: t.id, token: t.token, typeId: 1, offset: t.offset, sequence: 1) }
            if addSpecialTokens { e.append(id: sepId, token: vocabulary[Int(sepId)], typeId: 1, offset: (0, 0), sequence: nil) }
        }
        if let padTo, e.ids.count < padTo {
            for _ in e.ids.count..<padTo {
                e.append(id: padId, token: vocabulary[Int(padId)], typeId: 0, offset: (0, 0), sequence: nil, mask: 0)
            }
        }
        return e
    }

    /// Encodes many texts on all threads; with `padToLongest` every encoding is padded to the longest.
    public func encodeBatch(_ texts: [String], addSpecialTokens: Bool = true, maxLength: Int? = nil,
                            padToLongest: Bool = false) -> [Encoding] {
        var out = [Encoding](repeating: Encoding(), count: texts.count)
        out.withUnsafeMutableBufferPointer { buffer in
            let b = UncheckedSendable(buffer)
            Threading.parallelFor(texts.count, grain: 64) { range in
                for i in range { b.value[i] = encode(texts[i], addSpecialTokens: addSpecialTokens, maxLength: maxLength) }
            }
        }
        if padToLongest, let longest = out.map({ $0.ids.count }).max() {
            for i in out.indices where out[i].ids.count < longest {
                for _ in out[i].ids.count..<longest {
                    out[i].append(id: padId, token: vocabulary[Int(padId)], typeId: 0, offset: (0, 0), sequence: nil, mask: 0)
                }
            }
        }
        return out
    }

    /// Text of `ids`: tokens joined by spaces with "##" continuations glued to the previous piece
    /// (tokenizers' WordPiece decoder, with its cleanup of spaces before punctuation off).
    /// - Throws: `TokenizerError.unknownId`.
    public func decode(_ ids: [Int32], skipSpecialTokens: Bool = true) throws -> String {
        var out = ""
        for id in ids {
            guard id >= 0 && Int(id) < vocabulary.count else { throw TokenizerError.unknownId(Int(id)) }
            if skipSpecialTokens && [clsId, sepId, padId, maskId].contains(id) { continue }
            let token = vocabulary[Int(id)]
            if token.hasPrefix(continuingSubwordPrefix) {
                out += token.dropFirst(continuingSubwordPrefix.count)
            } else {
                if !out.isEmpty { out += " " }
                out += token
            }
        }
        return out
    }
}
