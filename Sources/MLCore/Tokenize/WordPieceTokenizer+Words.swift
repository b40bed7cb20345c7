/// The normalizer and pre-tokenizer of `WordPieceTokenizer` (BertNormalizer, BertPreTokenizer):
/// text to words, in one pass over the UTF-8 bytes, with each word's scalars mapped back to the
/// source scalars they came from (for offsets).
extension WordPieceTokenizer {
    /// One word being collected: its normalized UTF-8 bytes, where each of its scalars starts (and
    /// the end), and the source scalar each came from. Only the first `limit` scalars are stored (a
    /// longer word becomes [UNK] whole, which needs only its count and its last source); storage
    /// grows by doubling and is freed by `deallocate`.
    struct Word {
        private(set) var bytes: UnsafeMutablePointer<UInt8>
        private(set) var bounds: UnsafeMutablePointer<Int32>
        private(set) var sources: UnsafeMutablePointer<Int32>
        /// Scratch for the hash state at each scalar boundary (`capacity + 1` entries).
        private(set) var states: UnsafeMutablePointer<UInt32>
        private var capacity: Int
        let limit: Int
        /// Scalars appended (may exceed `limit`), and the source scalar of the last one.
        private(set) var count = 0, lastSource: Int32 = 0

        init(limit: Int) {
            self.limit = limit
            capacity = Swift.min(64, limit)
            bytes = .allocate(capacity: 4 * capacity)
            bounds = .allocate(capacity: capacity + 1)
            sources = .allocate(capacity: capacity)
            states = .allocate(capacity: capacity + 1)
            bounds[0] = 0
        }

        func deallocate() {
            bytes.deallocate(); bounds.deallocate(); sources.deallocate(); states.deallocate()
        }

        var isEmpty: Bool { count == 0 }

        private mutating func grow() {
            let newCapacity = Swift.min(2 * capacity, limit)
            func moved<T>(_ old: UnsafeMutablePointer<T>, _ used: Int, _ size: Int) -> UnsafeMutablePointer<T> {
                let new = UnsafeMutablePointer<T>.allocate(capacity: size)
                new.moveInitialize(from: old, count: used)
                old.deallocate()
                return new
            }
            bytes = moved(bytes, Int(bounds[count]), 4 * newCapacity)
            bounds = moved(bounds, count + 1, newCapacity + 1)
            sources = moved(sources, count, newCapacity)
            states.deallocate()
            states = .allocate(capacity: newCapacity + 1)
            capacity = newCapacity
        }

        /// Appends one scalar (given by its value, `v` < 0x110000) that came from source scalar `source`.
        @inline(__always)
        mutating func append(_ v: UInt32, source: Int32) {
            defer { count += 1; lastSource = source }
            guard count < limit else { return }
            if count == capacity { grow() }
            var end = Int(bounds[count])
            if v < 0x80 {
                bytes[end] = UInt8(v); end += 1
            } else if v < 0x800 {
                bytes[end] = UInt8(0xC0 | v >> 6); bytes[end + 1] = UInt8(0x80 | v & 0x3F); end += 2
            } else if v < 0x10000 {
                bytes[end] = UInt8(0xE0 | v >> 12); bytes[end + 1] = UInt8(0x80 | v >> 6 & 0x3F)
                bytes[end + 2] = UInt8(0x80 | v & 0x3F); end += 3
            } else {
                bytes[end] = UInt8(0xF0 | v >> 18); bytes[end + 1] = UInt8(0x80 | v >> 12 & 0x3F)
                bytes[end + 2] = UInt8(0x80 | v >> 6 & 0x3F); bytes[end + 3] = UInt8(0x80 | v & 0x3F); end += 4
            }
            bounds[count + 1] = Int32(end)
            sources[count] = source
        }

        mutating func removeAll() { count = 0 }
    }

    /// The normalizer switches, as `BertCharacters.normalizeCached` takes them.
    var switches: BertCharacters.Switches {
        var s: BertCharacters.Switches = []
        if cleanText { s.insert(.cleanText) }
        if handleChineseCharacters { s.insert(.chinese) }
        if stripAccents { s.insert(.stripAccents) }
        if lowercase { s.insert(.lowercase) }
        return s
    }

    /// Collects the words as strings.
    struct WordCollector: WordPieceWordSink {
        var words: [String] = []
        mutating func take(_ word: Word) {
            words.append(String(decoding: UnsafeBufferPointer(start: word.bytes, count: Int(word.bounds[word.count])), as: UTF8.self))
        }
    }

    /// The words of `text` after the normalizer and the pre-tokenizer, before WordPiece (for tests).
    func words(of text: String) -> [String] {
        var collector = WordCollector()
        forEachWord(in: text, limit: .max, into: &collector)
        return collector.words
    }

    /// Runs BertNormalizer (clean text, CJK padding, NFD accent stripping, lower-casing) and
    /// BertPreTokenizer (split on whitespace, punctuation isolated) over `text` in one pass over its
    /// UTF-8 bytes, giving `sink` each word (with at most `limit` of its scalars stored). ASCII
    /// takes a table-driven path; other scalars go through `BertCharacters.normalizeCached`.
    func forEachWord<Sink: WordPieceWordSink>(in text: String, limit: Int, into sink: inout Sink) {
        var word = Word(limit: limit)
        defer { word.deallocate() }
        let switches = self.switches, lowercase = self.lowercase
        let classes = cleanText ? BertCharacters.asciiClean : BertCharacters.asciiRaw
        var text = text
        text.withUTF8 { utf8 in
            classes.withUnsafeBufferPointer { classes in
                Self.scan(utf8, classes: classes, switches: switches, lowercase: lowercase, word: &word, sink: &sink)
            }
        }
        Self.flush(&word, &sink)
    }

    @inline(__always)
    static func flush<Sink: WordPieceWordSink>(_ word: inout Word, _ sink: inout Sink) {
        if !word.isEmpty { sink.take(word); word.removeAll() }
    }

    /// The loop of `forEachWord` (no closures, so no captured state to check at run time).
    static func scan<Sink: WordPieceWordSink>(_ utf8: UnsafeBufferPointer<UInt8>, classes: UnsafeBufferPointer<UInt8>,
                                              switches: BertCharacters.Switches, lowercase: Bool,
                                              word: inout Word, sink: inout Sink) {
        var i = 0, source: Int32 = 0
        while i < utf8.count {
            let b = utf8[i]
            if b < 0x80 {
                i += 1
                switch classes[Int(b)] {
                case 0: break
                case 1: flush(&word, &sink)
                case 2:
                    flush(&word, &sink)
                    word.append(UInt32(b), source: source)
                    flush(&word, &sink)
                default: word.append(UInt32(lowercase && b >= 65 && b <= 90 ? b + 32 : b), source: source)
                }
                source += 1
                continue
            }
            // A multi-byte scalar (Swift strings hold valid UTF-8).
            var v: UInt32, length: Int
            if b < 0xE0 {
                v = UInt32(b & 0x1F); length = 2
            } else if b < 0xF0 {
                v = UInt32(b & 0x0F); length = 3
            } else {
                v = UInt32(b & 0x07); length = 4
            }
            for k in 1..<length { v = v << 6 | UInt32(utf8[i + k] & 0x3F) }
            i += length
            for x in BertCharacters.normalizeCached(Unicode.Scalar(v)!, switches) {
                if x & BertCharacters.whitespaceFlag != 0 {
                    flush(&word, &sink)
                } else if x & BertCharacters.punctuationFlag != 0 {
                    flush(&word, &sink)
                    word.append(x & BertCharacters.scalarBits, source: source)
                    flush(&word, &sink)
                } else {
                    word.append(x & BertCharacters.scalarBits, source: source)
                }
            }
            source += 1
        }
    }
}

/// Receives the words of `WordPieceTokenizer.forEachWord`, one at a time (the word's storage is
/// reused after `take` returns).
protocol WordPieceWordSink {
    mutating func take(_ word: WordPieceTokenizer.Word)
}
