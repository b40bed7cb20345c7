/// The PROP reference's bag-of-words preprocessing (prop/preprocessing_data.py; Docs/prop.md,
/// "Preprocessing"): lower-case the text, take the maximal runs of ASCII letters (`[a-zA-Z]+`) as
/// tokens, drop stop words, optionally stem (NLTK's Porter stemmer, `PorterStemmer`). Everything else
/// (digits, punctuation, non-ASCII letters) separates tokens.
public struct TermTokenizer: Sendable {
    /// Words removed after tokenisation (lower-case), before stemming.
    public let stopwords: Set<String>
    /// Whether the kept words are Porter-stemmed.
    public let stemming: Bool

    /// A tokenizer with `stopwords` (default: NLTK's 179-word English list, `Stopwords.nltkEnglish`).
    public init(stopwords: Set<String> = Stopwords.nltkEnglish, stemming: Bool = false) {
        self.stopwords = stopwords
        self.stemming = stemming
    }

    /// The text's terms in order, stop words removed. Example: "The U.S. bank's 3 loans" →
    /// ["u", "bank", "loans"] ("the" and "s" are stop words).
    public func terms(_ text: String) -> [String] {
        var out: [String] = []
        var current: [UInt8] = []
        func flush() {
            if !current.isEmpty {
                let word = String(decoding: current, as: UTF8.self)
                if !stopwords.contains(word) { out.append(stemming ? PorterStemmer.stem(word) : word) }
                current.removeAll(keepingCapacity: true)
            }
        }
        for byte in text.lowercased().utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"): current.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): current.append(byte + 32)
            default: flush()
            }
        }
        flush()
        return out
    }
}

/// Stop lists.
public enum Stopwords {
    /// NLTK's English stop list (`nltk.corpus.stopwords.words("english")`, 179 words; the forms with
    /// an apostrophe never match a `[a-zA-Z]+` token and are kept only to keep the list whole).
    public static let nltkEnglish: Set<String> = Set("""
        i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself yourselves he him \
        his himself she she's her hers herself it it's its itself they them their theirs themselves what which who \
        whom this that that'll these those am is are was were be been being have has had having do does did doing \
        a an the and but if or because as until while of at by for with about against between into through during \
        before after above below to from up down in out on off over under again further then once here there when \
        where why how all any both each few more most other some such no nor not only own same so than too very s \
        t can will just don don't should should've now d ll m o re ve y ain aren aren't couldn couldn't didn \
        didn't doesn doesn't hadn hadn't hasn hasn't haven haven't isn isn't ma mightn mightn't mustn mustn't \
        needn needn't shan shan't shouldn shouldn't wasn wasn't weren weren't won won't wouldn wouldn't
        """.split(whereSeparator: \.isWhitespace).map(String.init))

    /// Parses a stop list file: one word per line or whitespace-separated words, lower-cased; lines
    /// starting with `#` are comments.
    public static func parse(_ text: String) -> Set<String> {
        var words = Set<String>()
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            for w in line.split(whereSeparator: \.isWhitespace) { words.insert(w.lowercased()) }
        }
        return words
    }
}
