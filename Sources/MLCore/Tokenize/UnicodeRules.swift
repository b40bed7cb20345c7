/// Character classes of the BERT normalizer and pre-tokenizer, as Hugging Face `tokenizers`
/// (tokenizers/src/normalizers/bert.rs, pre_tokenizers/bert.rs) defines them on Unicode scalars.
enum BertCharacters {
    /// Whitespace: \t \n \r and every scalar with the White_Space property.
    @inline(__always)
    static func isWhitespace(_ c: Unicode.Scalar) -> Bool {
        if c.value < 128 { return c.value == 32 || (9...13).contains(c.value) }  // ASCII White_Space
        return c.properties.isWhitespace
    }

    /// Control: general category C* (Cc, Cf, Cs, Co, Cn) except \t \n \r.
    @inline(__always)
    static func isControl(_ c: Unicode.Scalar) -> Bool {
        if c == "\t" || c == "\n" || c == "\r" { return false }
        if c.value < 128 { return c.value < 32 || c.value == 127 }  // ASCII Cc
        switch c.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned: return true
        default: return false
        }
    }

    /// Punctuation: ASCII punctuation (which includes $+<=>^`|~) or general category P*.
    static func isPunctuation(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII {
            let v = c.value
            return (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v)
        }
        switch c.properties.generalCategory {
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
             0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F: return true
        default: return false
        }
    }
}
