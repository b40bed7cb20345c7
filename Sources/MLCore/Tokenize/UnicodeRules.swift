import Foundation
import Synchronization

/// Character classes of the BERT normalizer and pre-tokenizer, as Hugging Face `tokenizers`
/// (tokenizers/src/normalizers/bert.rs, pre_tokenizers/bert.rs) defines them on Unicode scalars.
///
/// `tokenizers` takes general categories (control, punctuation, nonspacing mark) from the
/// unicode_categories crate, whose tables are Unicode 8.0's: a scalar assigned later is unassigned
/// there (so neither removed as a control, nor punctuation, nor stripped as an accent), and the
/// seven scalars re-classified since keep their 8.0 category (`category`). Its NFD tables predate
/// U+11938's decomposition (Unicode 13). White_Space and lower-casing
/// come from Rust's standard library, which follows current Unicode as Swift does. Checked on
/// every scalar by `WordPieceTokenizerTests.testEveryScalarNormalizesAsHuggingFace`.
enum BertCharacters {
    /// Whether `c` was assigned in Unicode 8.0, the version of `tokenizers`' category tables.
    @inline(__always)
    static func isInUnicode8(_ c: Unicode.Scalar) -> Bool {
        guard let age = c.properties.age else { return false }
        return (age.major, age.minor) <= (8, 0)
    }

    /// The general category of `c` as `tokenizers` sees it (Unicode 8.0).
    static func category(_ c: Unicode.Scalar) -> Unicode.GeneralCategory {
        guard isInUnicode8(c) else { return .unassigned }
        switch c.value {
        case 0x1734, 0x1171E: return .nonspacingMark  // Mc since Unicode 14
        case 0x166D, 0x111C9: return .otherPunctuation  // So / Mn since
        case 0x1885, 0x1886: return .otherLetter  // Mn since Unicode 9
        case 0xA9BD: return .spacingMark  // Mn since
        default: return c.properties.generalCategory
        }
    }

    /// Whitespace: \t \n \r and every scalar with the White_Space property.
    @inline(__always)
    static func isWhitespace(_ c: Unicode.Scalar) -> Bool {
        if c.value < 128 { return c.value == 32 || (9...13).contains(c.value) }  // ASCII White_Space
        return c.properties.isWhitespace
    }

    /// Control (tokenizers' `is_other`): general category Cc, Cf, Cs or Co, except \t \n \r.
    /// Unassigned scalars (Cn) are not controls.
    @inline(__always)
    static func isControl(_ c: Unicode.Scalar) -> Bool {
        if c == "\t" || c == "\n" || c == "\r" { return false }
        if c.value < 128 { return c.value < 32 || c.value == 127 }  // ASCII Cc
        switch category(c) {
        case .control, .format, .surrogate, .privateUse: return true
        default: return false
        }
    }

    /// Punctuation: ASCII punctuation (which includes $+<=>^`|~) or general category P*.
    static func isPunctuation(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII {
            let v = c.value
            return (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v)
        }
        switch category(c) {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }

    /// CJK Unified Ideographs and their extensions and compatibility blocks (BERT's
    /// `_is_chinese_char`; Hangul and kana are not included).
    static func isChinese(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F: return true
        default: return false
        }
    }
}

/// The BERT normalizer (tokenizers/src/normalizers/bert.rs) on one non-ASCII scalar, with the
/// pre-tokenizer's class of each output scalar; cached process-wide, since Foundation's NFD and the
/// Unicode property look-ups cost microseconds per scalar.
extension BertCharacters {
    /// Normalizer switches as bits of a cache key.
    struct Switches: OptionSet, Hashable {
        let rawValue: UInt32
        static let cleanText = Switches(rawValue: 1), chinese = Switches(rawValue: 2)
        static let stripAccents = Switches(rawValue: 4), lowercase = Switches(rawValue: 8)
    }

    /// Flags in a normalized scalar's high bits: the pre-tokenizer splits on whitespace and isolates
    /// punctuation. The low 21 bits hold the scalar.
    static let whitespaceFlag: UInt32 = 1 << 31, punctuationFlag: UInt32 = 1 << 30, scalarBits: UInt32 = 0x1F_FFFF

    /// `s` with its pre-tokenizer class flags.
    static func classified(_ s: Unicode.Scalar) -> UInt32 {
        s.value | (isWhitespace(s) ? whitespaceFlag : 0) | (isPunctuation(s) ? punctuationFlag : 0)
    }

    /// What the normalizer makes of `c` (any scalar), classified: removed (clean text: NUL, U+FFFD,
    /// controls), whitespace as a space, CJK ideographs padded with spaces, NFD without nonspacing
    /// marks (strip accents), full lower-case mapping, in tokenizers' order. One scalar at a time,
    /// so canonical reordering across scalars does not apply (none of it survives the removal of
    /// nonspacing marks in practice).
    static func normalize(_ c0: Unicode.Scalar, _ switches: Switches) -> [UInt32] {
        var c = c0
        if switches.contains(.cleanText) {
            if c.value == 0 || c.value == 0xFFFD || isControl(c) { return [] }
            if isWhitespace(c) { c = " " }
        }
        let padded = switches.contains(.chinese) && isChinese(c)
        var pieces: [Unicode.Scalar] = [c]
        if switches.contains(.stripAccents) && !c.isASCII && isInUnicode8(c) {
            pieces = String(String.UnicodeScalarView([c])).decomposedStringWithCanonicalMapping.unicodeScalars
                .filter { category($0) != .nonspacingMark }
        }
        var out: [UInt32] = padded ? [classified(" ")] : []
        for p in pieces {
            if switches.contains(.lowercase) {
                for l in p.properties.lowercaseMapping.unicodeScalars { out.append(classified(l)) }
            } else {
                out.append(classified(p))
            }
        }
        if padded { out.append(classified(" ")) }
        return out
    }

    private static let cache = Mutex<[UInt32: [UInt32]]>([:])
    /// Entries kept at most (about 4 MB); scalars beyond are normalized on every use.
    static let cacheLimit = 1 << 16

    /// `normalize(c, switches)` through the process-wide cache.
    static func normalizeCached(_ c: Unicode.Scalar, _ switches: Switches) -> [UInt32] {
        let key = c.value | switches.rawValue << 21
        if let hit = cache.withLock({ $0[key] }) { return hit }
        let value = normalize(c, switches)
        cache.withLock { if $0.count < cacheLimit { $0[key] = value } }
        return value
    }

    /// The class of each ASCII byte after normalization: 0 removed, 1 whitespace, 2 punctuation,
    /// 3 part of a word. `clean`: tokenizers' clean_text (controls other than \t \n \r removed).
    static func asciiClasses(clean: Bool) -> [UInt8] {
        (0..<128).map { (v: UInt32) -> UInt8 in
            let c = Unicode.Scalar(v)!
            if clean && (v == 0 || isControl(c)) { return 0 }
            if isWhitespace(c) { return 1 }
            return isPunctuation(c) ? 2 : 3
        }
    }
    static let asciiClean = asciiClasses(clean: true), asciiRaw = asciiClasses(clean: false)
}
