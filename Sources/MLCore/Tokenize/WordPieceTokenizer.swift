import Foundation

/// BERT's uncased WordPiece tokenizer, with the behaviour of Hugging Face `tokenizers`
/// (BertNormalizer → BertPreTokenizer → WordPiece → BertProcessing), so ids match the model's
/// training exactly. Source: tokenizers/src/{normalizers/bert.rs, pre_tokenizers/bert.rs,
/// models/wordpiece/mod.rs, utils/truncation.rs}; Devlin et al. 2019 §3.
public struct WordPieceTokenizer: Sendable {
    /// Token strings by id.
    public let vocabulary: [String]
    /// The vocabulary keyed by UTF-8 bytes, whole tokens and continuations (rebuilt when
    /// `continuingSubwordPrefix` changes).
    private(set) var table: WordPieceVocabulary
    public let unkId: Int32, clsId: Int32, sepId: Int32, padId: Int32, maskId: Int32
    /// Normalizer switches (all on for MiniLM).
    public var cleanText = true, handleChineseCharacters = true, stripAccents = true, lowercase = true
    /// Words longer than this many characters become [UNK].
    public var maxInputCharactersPerWord = 100
    /// Whether the special tokens' text in the input ("[CLS]", "[SEP]", "[MASK]", "[UNK]", "[PAD]",
    /// written literally) is tokenized as ordinary text (true) or becomes the special token's id (false,
    /// the default, as Hugging Face `tokenizers` does; its `encode_special_tokens`, transformers'
    /// `split_special_tokens`). Matching is on the raw text, case-sensitive and leftmost-longest,
    /// also inside words ("x[CLS]y"), as tokenizers' AddedVocabulary does for BERT's added tokens
    /// (special, not normalized, no lstrip/rstrip/single_word; tokenizers/src/tokenizer/added_vocabulary.rs).
    public var splitSpecialTokens = false
    /// The special tokens matched in the input: UTF-8 bytes, id and length in scalars, longest first.
    let addedTokens: [(bytes: [UInt8], id: Int32, scalars: Int32)]
    /// Whether a byte starts some added token (a quick test for texts without any).
    let addedTokenFirstBytes: [Bool]
    /// Prefix of word-continuation pieces.
    public var continuingSubwordPrefix: String {
        didSet {
            if continuingSubwordPrefix != oldValue {
                table = WordPieceVocabulary(vocabulary, continuingSubwordPrefix: continuingSubwordPrefix)
            }
        }
    }

    /// A tokenizer over `vocabulary` (index = id) with the given special tokens.
    /// - Throws: `TokenizerError.malformed` when a special token is not in the vocabulary.
    public init(vocabulary: [String], unk: String = "[UNK]", cls: String = "[CLS]", sep: String = "[SEP]",
                pad: String = "[PAD]", mask: String = "[MASK]", continuingSubwordPrefix: String = "##",
                source: String = "vocabulary") throws {
        self.vocabulary = vocabulary
        self.continuingSubwordPrefix = continuingSubwordPrefix
        let table = WordPieceVocabulary(vocabulary, continuingSubwordPrefix: continuingSubwordPrefix)
        self.table = table
        func id(_ token: String) throws -> Int32 {
            guard let i = table.id(of: token) else { throw TokenizerError.malformed(file: source, reason: "special token \(token) not in the vocabulary") }
            return i
        }
        unkId = try id(unk); clsId = try id(cls); sepId = try id(sep); padId = try id(pad); maskId = try id(mask)
        var added: [(bytes: [UInt8], id: Int32, scalars: Int32)] = []
        for (token, tokenId) in [(unk, unkId), (cls, clsId), (sep, sepId), (pad, padId), (mask, maskId)]
        where !token.isEmpty && !added.contains(where: { $0.bytes.elementsEqual(token.utf8) }) {
            added.append((Array(token.utf8), tokenId, Int32(token.unicodeScalars.count)))
        }
        addedTokens = added.sorted { $0.bytes.count > $1.bytes.count }
        var first = [Bool](repeating: false, count: 256)
        for t in added { first[Int(t.bytes[0])] = true }
        addedTokenFirstBytes = first
    }

    /// The id of a token string (compared byte for byte), nil when it is not in the vocabulary.
    public func id(of token: String) -> Int32? { table.id(of: token) }

    // MARK: Model (the normalizer and pre-tokenizer are in WordPieceTokenizer+Words.swift)

    /// A token of the model before special tokens: its id and the character (Unicode scalar)
    /// offsets [start, end) in the source text.
    struct Piece {
        var id: Int32, start: Int32, end: Int32
    }

    /// Collects the WordPiece tokens of each word.
    struct PieceCollector: WordPieceWordSink {
        let tokenizer: WordPieceTokenizer
        var pieces: [Piece] = []
        mutating func take(_ word: Word) { tokenizer.wordPiece(word, into: &pieces) }
    }

    /// The model's tokens of `text`: special tokens written in it matched first (unless
    /// `splitSpecialTokens`), then normalizer and pre-tokenizer (`forEachWord`) and WordPiece per word
    /// on the text between them.
    func pieces(of text: String) -> [Piece] {
        var collector = PieceCollector(tokenizer: self)
        collector.pieces.reserveCapacity(text.utf8.count / 4 + 4)
        let limit = Swift.max(1, maxInputCharactersPerWord == .max ? .max : maxInputCharactersPerWord + 1)
        if splitSpecialTokens || !mayContainAddedToken(text) {
            forEachWord(in: text, limit: limit, into: &collector)
            return collector.pieces
        }
        let bytes = Array(text.utf8)
        var segmentStart = 0, segmentScalar: Int32 = 0  // where the text since the last match starts
        var i = 0, scalar: Int32 = 0  // byte position and its scalar offset
        func flushSegment(upTo end: Int) {
            guard segmentStart < end else { return }
            let first = collector.pieces.count
            forEachWord(in: String(decoding: bytes[segmentStart..<end], as: UTF8.self), limit: limit, into: &collector)
            for k in first..<collector.pieces.count {
                collector.pieces[k].start += segmentScalar
                collector.pieces[k].end += segmentScalar
            }
        }
        while i < bytes.count {
            if addedTokenFirstBytes[Int(bytes[i])],
               let token = addedTokens.first(where: { i + $0.bytes.count <= bytes.count && bytes[i..<(i + $0.bytes.count)].elementsEqual($0.bytes) }) {
                flushSegment(upTo: i)
                collector.pieces.append(Piece(id: token.id, start: scalar, end: scalar + token.scalars))
                i += token.bytes.count
                scalar += token.scalars
                segmentStart = i
                segmentScalar = scalar
            } else {
                if bytes[i] & 0xC0 != 0x80 { scalar += 1 }
                i += 1
            }
        }
        flushSegment(upTo: bytes.count)
        return collector.pieces
    }

    /// Whether some byte of `text` starts an added token (false: no match is possible); one pass over
    /// the UTF-8 without bounds checks.
    func mayContainAddedToken(_ text: String) -> Bool {
        addedTokenFirstBytes.withUnsafeBufferPointer { first in
            var text = text
            return text.withUTF8 { utf8 in
                for b in utf8 where first[Int(b)] { return true }
                return false
            }
        }
    }

    /// WordPiece tokens of `text` without special tokens: (id, token, character offsets).
    public func tokenize(_ text: String) -> [(id: Int32, token: String, offset: (Int, Int))] {
        pieces(of: text).map { ($0.id, vocabulary[Int($0.id)], (Int($0.start), Int($0.end))) }
    }

    /// Greedy longest-match-first split of one word (models/wordpiece/mod.rs `tokenize`): at each
    /// position the longest vocabulary key (a continuation after the first piece) that the word's
    /// remaining bytes start with; [UNK] for the whole word when some position has none, or when the
    /// word is longer than `maxInputCharactersPerWord` characters.
    func wordPiece(_ word: Word, into pieces: inout [Piece]) {
        let n = word.count
        let unk = Piece(id: unkId, start: word.sources[0], end: word.lastSource + 1)
        if n > maxInputCharactersPerWord {
            pieces.append(unk)
            return
        }
        let first = pieces.count
        let bytes = word.bytes, bounds = word.bounds, sources = word.sources, states = word.states
        var start = 0
        while start < n {
            // The FNV-1a state of bytes[bounds[start]..<bounds[end]] for every end up to the longest
            // key, then look-ups from the longest candidate down.
            let kind: UInt8 = start == 0 ? 0 : 1
            let limit = kind == 0 ? table.maxLength.word : table.maxLength.continuation
            let base = Int(bounds[start])
            var state = kind == 0 ? WordPieceVocabulary.seeds.0 : WordPieceVocabulary.seeds.1
            var b = base, last = start, end = start + 1
            while end <= n {
                let stop = Int(bounds[end])
                if stop - base > limit { break }
                while b < stop { state = WordPieceVocabulary.hashStep(state, bytes[b]); b += 1 }
                states[end] = state
                last = end
                end += 1
            }
            var id: Int32 = -1
            end = last
            while end > start {
                id = table.lookup(bytes + base, count: Int(bounds[end]) - base, kind: kind,
                                  hash: WordPieceVocabulary.finish(states[end]))
                if id >= 0 { break }
                end -= 1
            }
            if id < 0 {
                pieces.removeSubrange(first...)
                pieces.append(unk)
                return
            }
            pieces.append(Piece(id: id, start: sources[start], end: sources[end - 1] + 1))
            start = end
        }
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
        var a = pieces(of: text)
        var b = pair.map(pieces(of:))
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
        var e = Encoding(reservingCapacity: Swift.max(padTo ?? 0, a.count + (b?.count ?? 0) + 3))
        if addSpecialTokens { e.append(id: clsId, token: vocabulary[Int(clsId)], typeId: 0, offset: (0, 0), sequence: nil) }
        for t in a { e.append(id: t.id, token: vocabulary[Int(t.id)], typeId: 0, offset: (Int(t.start), Int(t.end)), sequence: 0) }
        if addSpecialTokens { e.append(id: sepId, token: vocabulary[Int(sepId)], typeId: 0, offset: (0, 0), sequence: nil) }
        if let b {
            for t in b { e.append(id: t.id, token: vocabulary[Int(t.id)], typeId: 1, offset: (Int(t.start), Int(t.end)), sequence: 1) }
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
