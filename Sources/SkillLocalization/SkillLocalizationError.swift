import MLCore

/// What can go wrong in skill localization, with the exit-code category of each case
/// (Docs/REPORT_FORMAT.md): usage 64, bad data 65.
public enum SkillLocalizationError: CategorizedError, Equatable {
    /// A task name that is not one of `SkillTask.allCases` (usage).
    case unknownTask(String)
    /// A split that holds no example, or too few for the request (bad data).
    case emptySplit(task: String, split: String, reason: String)
    /// Pre-trained and fine-tuned checkpoints that are not the same model (bad data): different
    /// architecture, config, parameter names or shapes.
    case modelMismatch(pretrained: String, finetuned: String, detail: String)
    /// A mask that does not fit the model (another model's mask, a different parameter set) or two
    /// masks that cannot be compared (bad data).
    case maskMismatch(file: String, detail: String)
    /// A file that is not what it should be (bad data): wrong format attribute, missing dataset.
    case malformedFile(file: String, detail: String)
    /// An argument outside its range (usage): sparsity outside [0, 1], k ≤ 0, ...
    case invalidArgument(String)
    /// Fine-tuning did not beat the pre-trained model on dev by the required gain (`PowerCheck`),
    /// so localizing its skill would measure noise (bad data).
    case fineTuningDidNotLearn(pretrained: Double, finetuned: Double, required: Double)

    public var category: ErrorCategory {
        switch self {
        case .unknownTask, .invalidArgument: return .usage
        case .emptySplit, .modelMismatch, .maskMismatch, .malformedFile, .fineTuningDidNotLearn: return .badData
        }
    }

    public var description: String {
        switch self {
        case .unknownTask(let name):
            return "unknown task '\(name)', expected one of \(SkillTask.allCases.map(\.rawValue).joined(separator: ", "))"
        case .emptySplit(let task, let split, let reason):
            return "task \(task): the \(split) split is empty or too small: \(reason)"
        case .modelMismatch(let pretrained, let finetuned, let detail):
            return "\(finetuned) is not a fine-tuned version of \(pretrained): \(detail)"
        case .maskMismatch(let file, let detail):
            return "mask \(file) does not fit: \(detail)"
        case .malformedFile(let file, let detail):
            return "\(file): \(detail)"
        case .invalidArgument(let message):
            return message
        case .fineTuningDidNotLearn(let pre, let ft, let required):
            return "fine-tuning did not learn the task: dev accuracy \(ft) vs \(pre) pre-trained, a gain below the required \(required); localization refused (it would measure noise) unless forced"
        }
    }
}
