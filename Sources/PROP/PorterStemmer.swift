/// The Porter stemmer as NLTK's `PorterStemmer()` runs it by default (mode NLTK_EXTENSIONS,
/// nltk/stem/porter.py 3.x), which the PROP reference uses for its optional stemming: M. F. Porter,
/// "An algorithm for suffix stripping" (1980), steps 1a–5b, with NLTK's changes — a pool of irregular
/// forms (skies → sky, dying → die, news → news, ...), words of ≤ 2 letters unchanged, "ies"/"ied" of
/// 4-letter words → "ie", step 1c's y → i only after a consonant that is not the whole stem, step 2's
/// "bli" → "ble" (not "abli"), "fulli" → "ful", "logi" → "log", and the 2-letter vowel-consonant stem
/// counting as *o. Input: lower-case ASCII letters (the `TermTokenizer`'s terms).
public enum PorterStemmer {
    static let pool: [String: String] = [
        "sky": "sky", "skies": "sky", "dying": "die", "lying": "lie", "tying": "tie", "news": "news",
        "innings": "inning", "inning": "inning", "outings": "outing", "outing": "outing",
        "cannings": "canning", "canning": "canning", "howe": "howe", "proceed": "proceed",
        "exceed": "exceed", "succeed": "succeed",
    ]

    /// The stem of `word` (lower-case letters).
    public static func stem(_ word: String) -> String {
        if let irregular = pool[word] { return irregular }
        if word.utf8.count <= 2 { return word }
        var w = Array(word.utf8)
        w = step1a(w); w = step1b(w); w = step1c(w); w = step2(w); w = step3(w); w = step4(w); w = step5a(w); w = step5b(w)
        return String(decoding: w, as: UTF8.self)
    }

    typealias Word = [UInt8]
    typealias Rule = (suffix: String, replacement: String, condition: ((Word) -> Bool)?)

    static func isVowel(_ c: UInt8) -> Bool { c == 97 || c == 101 || c == 105 || c == 111 || c == 117 }

    /// Consonant flags: a letter other than a, e, i, o, u, and a y not preceded by a consonant.
    static func consonants(_ w: Word) -> [Bool] {
        var flags: [Bool] = []
        flags.reserveCapacity(w.count)
        for (i, c) in w.enumerated() {
            if isVowel(c) { flags.append(false) } else if c == 121 { flags.append(i == 0 ? true : !flags[i - 1]) } else { flags.append(true) }
        }
        return flags
    }

    /// m: the number of vowel-consonant transitions ([C](VC){m}[V]).
    static func measure(_ w: Word) -> Int {
        let f = consonants(w)
        var m = 0
        for i in f.indices.dropFirst() where !f[i - 1] && f[i] { m += 1 }
        return m
    }

    static func containsVowel(_ w: Word) -> Bool { consonants(w).contains(false) }

    static func endsDoubleConsonant(_ w: Word) -> Bool { w.count >= 2 && w[w.count - 1] == w[w.count - 2] && consonants(w).last! }

    /// *o: the stem ends consonant-vowel-consonant, the last not w, x or y (NLTK: or is a 2-letter
    /// vowel-consonant word).
    static func endsCVC(_ w: Word) -> Bool {
        let f = consonants(w), n = w.count
        if n >= 3 && f[n - 3] && !f[n - 2] && f[n - 1] && ![119, 120, 121].contains(w[n - 1]) { return true }
        return n == 2 && !f[0] && f[1]
    }

    static func ends(_ w: Word, _ suffix: String) -> Bool {
        let s = Array(suffix.utf8)
        return w.count >= s.count && Array(w[(w.count - s.count)...]) == s
    }

    static func dropping(_ w: Word, _ count: Int) -> Word { Array(w.prefix(w.count - count)) }

    /// The first rule whose suffix the word ends with decides: its replacement when the condition
    /// holds for the stem, else the word unchanged ("*d": a double consonant).
    static func apply(_ w: Word, _ rules: [Rule]) -> Word {
        for rule in rules {
            if rule.suffix == "*d" {
                if endsDoubleConsonant(w) {
                    let stem = dropping(w, 2)
                    return rule.condition?(stem) ?? true ? stem + Array(rule.replacement.utf8) : w
                }
                continue
            }
            if ends(w, rule.suffix) {
                let stem = dropping(w, rule.suffix.utf8.count)
                return rule.condition?(stem) ?? true ? stem + Array(rule.replacement.utf8) : w
            }
        }
        return w
    }

    static func positive(_ w: Word) -> Bool { measure(w) > 0 }

    static func step1a(_ w: Word) -> Word {
        if ends(w, "ies") && w.count == 4 { return dropping(w, 3) + Array("ie".utf8) }
        return apply(w, [("sses", "ss", nil), ("ies", "i", nil), ("ss", "ss", nil), ("s", "", nil)])
    }

    static func step1b(_ w: Word) -> Word {
        if ends(w, "ied") { return dropping(w, 3) + Array((w.count == 4 ? "ie" : "i").utf8) }
        if ends(w, "eed") {
            let stem = dropping(w, 3)
            return measure(stem) > 0 ? stem + Array("ee".utf8) : w
        }
        var intermediate: Word?
        for suffix in ["ed", "ing"] where ends(w, suffix) {
            let stem = dropping(w, suffix.utf8.count)
            if containsVowel(stem) { intermediate = stem; break }
        }
        guard let s = intermediate else { return w }
        let last = s.last.map { String(UnicodeScalar($0)) } ?? ""
        return apply(s, [("at", "ate", nil), ("bl", "ble", nil), ("iz", "ize", nil),
                         ("*d", last, { _ in !["l", "s", "z"].contains(last) }),
                         ("", "e", { measure($0) == 1 && endsCVC($0) })])
    }

    static func step1c(_ w: Word) -> Word {
        apply(w, [("y", "i", { $0.count > 1 && consonants($0).last! })])
    }

    static func step2(_ w: Word) -> Word {
        if ends(w, "alli") && positive(dropping(w, 4)) { return step2(dropping(w, 4) + Array("al".utf8)) }
        let rules: [Rule] = [
            ("ational", "ate", positive), ("tional", "tion", positive), ("enci", "ence", positive), ("anci", "ance", positive),
            ("izer", "ize", positive), ("bli", "ble", positive), ("alli", "al", positive), ("entli", "ent", positive),
            ("eli", "e", positive), ("ousli", "ous", positive), ("ization", "ize", positive), ("ation", "ate", positive),
            ("ator", "ate", positive), ("alism", "al", positive), ("iveness", "ive", positive), ("fulness", "ful", positive),
            ("ousness", "ous", positive), ("aliti", "al", positive), ("iviti", "ive", positive), ("biliti", "ble", positive),
            ("fulli", "ful", positive), ("logi", "log", { _ in positive(dropping(w, 3)) }),
        ]
        return apply(w, rules)
    }

    static func step3(_ w: Word) -> Word {
        apply(w, [("icate", "ic", positive), ("ative", "", positive), ("alize", "al", positive), ("iciti", "ic", positive),
                  ("ical", "ic", positive), ("ful", "", positive), ("ness", "", positive)])
    }

    static func step4(_ w: Word) -> Word {
        let gt1: (Word) -> Bool = { measure($0) > 1 }
        return apply(w, [("al", "", gt1), ("ance", "", gt1), ("ence", "", gt1), ("er", "", gt1), ("ic", "", gt1), ("able", "", gt1),
                         ("ible", "", gt1), ("ant", "", gt1), ("ement", "", gt1), ("ment", "", gt1), ("ent", "", gt1),
                         ("ion", "", { measure($0) > 1 && [115, 116].contains($0.last!) }), ("ou", "", gt1), ("ism", "", gt1),
                         ("ate", "", gt1), ("iti", "", gt1), ("ous", "", gt1), ("ive", "", gt1), ("ize", "", gt1)])
    }

    static func step5a(_ w: Word) -> Word {
        guard ends(w, "e") else { return w }
        let stem = dropping(w, 1), m = measure(stem)
        return m > 1 || (m == 1 && !endsCVC(stem)) ? stem : w
    }

    static func step5b(_ w: Word) -> Word {
        apply(w, [("ll", "l", { _ in measure(dropping(w, 1)) > 1 })])
    }
}
