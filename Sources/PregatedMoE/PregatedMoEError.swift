import MLCore

/// The errors of the pre-gated MoE method, each one line naming the file, the place and what was
/// expected; the category decides the tool's exit code (README.md).
public enum PregatedMoEError: CategorizedError, Equatable {
    /// The number of experts does not divide the FFN width (exit 64).
    case expertsDoNotDivide(experts: Int, width: Int)
    /// A checkpoint that is not a MoE checkpoint written by `moefy` (exit 65).
    case notAMoECheckpoint(file: String, reason: String)
    /// An expert dataset that cannot be read, has the wrong shape or fails its checksum (exit 65).
    case corruptExpert(file: String, layer: Int, expert: Int, reason: String)
    /// A fast-tier budget that cannot hold what the policy needs at once (exit 64).
    case budgetTooSmall(budgetBytes: Int, neededBytes: Int, what: String)
    /// A bad setting (exit 64).
    case invalidSetting(String)
    /// A routing trace file that does not fit (exit 65).
    case badTrace(file: String, reason: String)

    /// usage (64) for settings, bad data (65) for files.
    public var category: ErrorCategory {
        switch self {
        case .expertsDoNotDivide, .budgetTooSmall, .invalidSetting: return .usage
        case .notAMoECheckpoint, .corruptExpert, .badTrace: return .badData
        }
    }

    /// One line: what, where, what was expected.
    public var description: String {
        switch self {
        case let .expertsDoNotDivide(e, w):
            return "\(e) experts do not divide the FFN width \(w): every expert must get the same number of neurons (try a divisor of \(w), e.g. 8)"
        case let .notAMoECheckpoint(file, reason):
            return "\(file): not a MoE checkpoint written by `pregated-moe moefy`: \(reason)"
        case let .corruptExpert(file, layer, expert, reason):
            return "\(file): expert \(expert) of layer \(layer) (/experts/\(layer)/\(expert)) is corrupt: \(reason)"
        case let .budgetTooSmall(budget, needed, what):
            return "fast-tier budget \(budget) B is smaller than \(what) (\(needed) B); raise the fast-tier budget"
        case let .invalidSetting(message):
            return message
        case let .badTrace(file, reason):
            return "\(file): not a usable routing trace: \(reason)"
        }
    }
}
