/// The caption tokenization pycocoevalcap applies before scoring, reimplemented for the common cases
/// (Docs/METRICS.md §5): Stanford CoreNLP 3.4.1 `PTBTokenizer -preserveLines -lowerCase`, then the
/// removal of the punctuation tokens `'' ' `` ` -LRB- -RRB- -LCB- -RCB- . ? ! , : - -- ... ;`
/// (pycocoevalcap `tokenizer/ptbtokenizer.py`).
///
/// Rules reproduced: whitespace splitting; lower-casing; quotes, brackets, `, ; : ! ?` and `...` split
/// off word edges; a final period split off unless the word is an abbreviation (a single letter, an
/// inner period such as "u.s.", or a title such as "mr."); clitics `'s 'm 'd 'll 're 've n't` split;
/// runs of `?`/`!` kept as one token; `--` splits words, an inner hyphen does not. As in pycocoevalcap,
/// the brackets become `-lrb-` `-rrb-` `-lsb-` … and survive the filter (its list is upper-case but runs
/// after lower-casing), and `?!` survives. Not reproduced: the rest of the PTB lexer (URLs, emoticons,
/// fractions, Unicode normalization); `metrics_ptb_tokenization.json` lists the checked cases.
public enum CaptionTokenizer {
    static let removed: Set<String> = ["''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-", ".", "?", "!", ",", ":",
                                       "-", "--", "...", ";"]
    static let brackets: [Character: String] = ["(": "-lrb-", ")": "-rrb-", "[": "-lsb-", "]": "-rsb-", "{": "-lcb-", "}": "-rcb-"]
    static let titles: Set<String> = ["mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "mt", "vs", "etc", "inc", "co", "corp", "ltd", "no"]
    static let clitics = ["n't", "'ll", "'re", "'ve", "'s", "'m", "'d"]

    /// The tokens pycocoevalcap would score for `caption`.
    public static func tokenize(_ caption: String) -> [String] {
        var tokens: [String] = []
        for chunk in caption.lowercased().split(whereSeparator: { $0.isWhitespace }) {
            for piece in String(chunk).components(separatedBy: "--") where !piece.isEmpty {
                tokens += word(piece)
            }
        }
        return tokens.filter { !removed.contains($0) }
    }

    /// One whitespace- and "--"-free chunk, lower-cased, split into PTB tokens.
    static func word(_ text: String) -> [String] {
        if clitics.contains(text) { return [text] }
        var w = Substring(text)
        var leading: [String] = [], trailing: [String] = []
        while let c = w.first, "\"'`([{".contains(c) {
            leading.append(brackets[c] ?? "`")
            w = w.dropFirst()
        }
        while let c = w.last {
            if let b = brackets[c], ")]}".contains(c) {
                trailing.insert(b, at: 0)
                w = w.dropLast()
            } else if c == "\"" || c == "`" || (c == "'" && !w.hasSuffix("s'")) {
                trailing.insert("''", at: 0)
                w = w.dropLast()
            } else if ",;:".contains(c) {
                trailing.insert(String(c), at: 0)
                w = w.dropLast()
            } else if c == "?" || c == "!" {
                var run = ""
                while let d = w.last, d == "?" || d == "!" { run.insert(d, at: run.startIndex); w = w.dropLast() }
                trailing.insert(run, at: 0)
            } else if w.hasSuffix("...") {
                trailing.insert("...", at: 0)
                w = w.dropLast(3)
            } else if c == "." && (!isAbbreviation(w) || w.dropLast().hasSuffix(".")) {
                trailing.insert(".", at: 0)
                w = w.dropLast()
            } else if c == "-" && w.count > 1 {
                trailing.insert("-", at: 0)
                w = w.dropLast()
            } else {
                break
            }
        }
        var core: [String] = []
        if !w.isEmpty {
            var stem = String(w)
            var split: [String] = []
            while let cl = clitics.first(where: { stem.hasSuffix($0) && stem.count > $0.count }) {
                split.insert(cl, at: 0)
                stem.removeLast(cl.count)
            }
            core = [stem] + split
        }
        return leading + core + trailing
    }

    /// "a.", "u.s.", "mr." keep their final period.
    static func isAbbreviation(_ w: Substring) -> Bool {
        let body = w.dropLast()
        guard !body.isEmpty, body.allSatisfy({ $0.isLetter || $0 == "." }) else { return false }
        return body.count == 1 || body.contains(".") || titles.contains(String(body))
    }
}
