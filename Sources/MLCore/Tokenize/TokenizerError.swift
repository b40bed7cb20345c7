/// Errors of tokenizer loading and use.
public enum TokenizerError: CategorizedError, Equatable {
    /// The checkpoint has no `/tokenizer` group.
    case missing(file: String)
    /// A required vocabulary entry, attribute or merge is missing or malformed.
    case malformed(file: String, reason: String)
    /// An id outside the vocabulary was given to `decode`.
    case unknownId(Int)

    public var category: ErrorCategory {
        switch self {
        case .missing, .malformed: return .badData
        case .unknownId: return .usage
        }
    }

    public var description: String {
        switch self {
        case .missing(let file): return "\(file): no /tokenizer group (not a text model checkpoint)"
        case .malformed(let file, let reason): return "\(file): tokenizer: \(reason)"
        case .unknownId(let id): return "token id \(id) is outside the vocabulary"
        }
    }
}

/// The result of encoding one text or text pair, as Hugging Face `tokenizers` returns it.
public struct Encoding: Equatable, Sendable {
    /// Token ids, special tokens included when requested. Shape [T].
    public var ids: [Int32]
    /// The token strings.
    public var tokens: [String]
    /// Segment of each token: 0 for the first text (and [CLS]), 1 for the second. Shape [T].
    public var typeIds: [Int32]
    /// 1 for real tokens, 0 for padding. Shape [T].
    public var attentionMask: [Int32]
    /// Character (Unicode scalar) offsets [start, end) of each token in its source text; (0, 0)
    /// for special and padding tokens.
    public var offsets: [(Int, Int)]
    /// Which text each token came from: 0, 1, or nil for special and padding tokens.
    public var sequenceIds: [Int?]

    public static func == (a: Encoding, b: Encoding) -> Bool {
        a.ids == b.ids && a.tokens == b.tokens && a.typeIds == b.typeIds && a.attentionMask == b.attentionMask
            && a.offsets.map { [$0.0, $0.1] } == b.offsets.map { [$0.0, $0.1] } && a.sequenceIds == b.sequenceIds
    }

    init() {
        ids = []; tokens = []; typeIds = []; attentionMask = []; offsets = []; sequenceIds = []
    }

    /// An empty encoding with room for `capacity` tokens in every array.
    init(reservingCapacity capacity: Int) {
        self.init()
        ids.reserveCapacity(capacity); tokens.reserveCapacity(capacity); typeIds.reserveCapacity(capacity)
        attentionMask.reserveCapacity(capacity); offsets.reserveCapacity(capacity); sequenceIds.reserveCapacity(capacity)
    }

    mutating func append(id: Int32, token: String, typeId: Int32, offset: (Int, Int), sequence: Int?, mask: Int32 = 1) {
        ids.append(id); tokens.append(token); typeIds.append(typeId); attentionMask.append(mask)
        offsets.append(offset); sequenceIds.append(sequence)
    }
}
