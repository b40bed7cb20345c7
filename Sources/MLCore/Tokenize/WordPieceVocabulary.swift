/// A WordPiece vocabulary keyed by UTF-8 bytes, so that the greedy longest-match search looks up
/// slices of a word's bytes without building a String per candidate.
///
/// Two key spaces: whole tokens (`kind` 0, looked up at a word's start) and continuation tokens
/// (`kind` 1: tokens that start with the continuing-subword prefix, keyed without it, looked up
/// inside a word). Keys compare byte for byte, as Rust's `HashMap<String, u32>` in Hugging Face
/// `tokenizers` does (Swift `String` equality would also match canonically equivalent spellings).
/// When a key occurs twice the first id wins. Open addressing with linear probing over a
/// power-of-two table at most 60% full, 8 bytes a slot (MiniLM's 36k keys: 512 KiB), the token
/// bytes in one array beside it; the hash is FNV-1a (computable incrementally over a word's
/// prefixes, see `hashStep`) with a final avalanche, seeded per kind.
struct WordPieceVocabulary: Sendable {
    /// The full 32-bit hash and `id << 1 | kind`; `entry == empty` marks a free slot.
    struct Slot {
        var hash: UInt32 = 0
        var entry: UInt32 = Slot.empty
        static let empty = UInt32.max
    }

    private var slots: [Slot]
    private let mask: Int
    /// Every token's UTF-8 bytes, concatenated; token `i` is `bytes[starts[i]..<starts[i + 1]]`.
    private var bytes: [UInt8] = []
    private var starts: [UInt32] = [0]
    private let prefixLength: Int
    /// The longest key of each kind, in bytes: longer candidates are not looked up.
    private(set) var maxLength: (word: Int, continuation: Int) = (0, 0)

    static let seeds: (UInt32, UInt32) = (0x811C_9DC5, 0x2F4A_1B37)

    /// One FNV-1a step: the hash state after `byte`.
    @inline(__always)
    static func hashStep(_ state: UInt32, _ byte: UInt8) -> UInt32 { (state ^ UInt32(byte)) &* 0x0100_0193 }

    /// The final mix of an FNV-1a state (murmur3's fmix32), so that the table's low bits depend on
    /// every byte.
    @inline(__always)
    static func finish(_ state: UInt32) -> UInt32 {
        var h = state
        h ^= h >> 16; h = h &* 0x85EB_CA6B
        h ^= h >> 13; h = h &* 0xC2B2_AE35
        return h ^ (h >> 16)
    }

    static func hash(_ key: some Sequence<UInt8>, kind: UInt8) -> UInt32 {
        var state = kind == 0 ? seeds.0 : seeds.1
        for b in key { state = hashStep(state, b) }
        return finish(state)
    }

    /// - Parameter prefix: the continuing-subword prefix ("##"); tokens starting with it are also
    ///   keyed, without it, as continuations. An empty prefix makes every token a continuation too.
    init(_ vocabulary: [String], continuingSubwordPrefix prefix: String) {
        let prefixBytes = Array(prefix.utf8)
        prefixLength = prefixBytes.count
        var entries = vocabulary.count
        for token in vocabulary where token.utf8.starts(with: prefixBytes) { entries += 1 }
        var capacity = 16
        while capacity * 3 < entries * 5 { capacity <<= 1 }
        slots = [Slot](repeating: Slot(), count: capacity)
        mask = capacity - 1
        starts.reserveCapacity(vocabulary.count + 1)
        for token in vocabulary {
            bytes.append(contentsOf: token.utf8)
            starts.append(UInt32(bytes.count))
        }
        for (id, token) in vocabulary.enumerated() {
            insert(id: id, kind: 0, length: token.utf8.count)
            if token.utf8.starts(with: prefixBytes) { insert(id: id, kind: 1, length: token.utf8.count - prefixLength) }
        }
    }

    private mutating func insert(id: Int, kind: UInt8, length: Int) {
        guard length > 0 else { return }  // an empty key is never looked up (candidates are non-empty)
        let start = Int(starts[id]) + (kind == 1 ? prefixLength : 0)
        let hash = Self.hash(bytes[start..<(start + length)], kind: kind)
        let found = bytes.withUnsafeBufferPointer { lookup($0.baseAddress! + start, count: length, kind: kind, hash: hash) }
        guard found < 0 else { return }  // the first id of a key wins
        var i = Int(hash) & mask
        while slots[i].entry != Slot.empty { i = (i + 1) & mask }
        slots[i] = Slot(hash: hash, entry: UInt32(id) << 1 | UInt32(kind))
        if kind == 0 { maxLength.word = max(maxLength.word, length) } else {
            maxLength.continuation = max(maxLength.continuation, length)
        }
    }

    /// The id of the `count` bytes at `key` in key space `kind`, or -1. `hash` is `finish` of the
    /// FNV-1a state over those bytes started from `seeds` of `kind`.
    @inline(__always)
    func lookup(_ key: UnsafePointer<UInt8>, count: Int, kind: UInt8, hash: UInt32) -> Int32 {
        slots.withUnsafeBufferPointer { slots in
            bytes.withUnsafeBufferPointer { bytes in
                starts.withUnsafeBufferPointer { starts in
                    var i = Int(hash) & mask
                    while true {
                        let s = slots[i]
                        if s.entry == Slot.empty { return -1 }
                        if s.hash == hash && UInt8(s.entry & 1) == kind {
                            let id = Int(s.entry >> 1)
                            let start = Int(starts[id]) + (kind == 1 ? prefixLength : 0)
                            if Int(starts[id + 1]) - start == count {
                                let stored = bytes.baseAddress! + start
                                var k = 0
                                while k < count && stored[k] == key[k] { k += 1 }
                                if k == count { return Int32(id) }
                            }
                        }
                        i = (i + 1) & mask
                    }
                }
            }
        }
    }

    /// The id of a whole token (`kind` 0), nil when the vocabulary lacks it.
    func id(of token: String) -> Int32? {
        let key = Array(token.utf8)
        guard !key.isEmpty else { return nil }
        let id = key.withUnsafeBufferPointer { lookup($0.baseAddress!, count: $0.count, kind: 0, hash: Self.hash(key, kind: 0)) }
        return id < 0 ? nil : id
    }
}
