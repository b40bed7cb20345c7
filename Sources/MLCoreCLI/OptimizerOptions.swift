import ArgumentParser
import Foundation
import MLCore

/// One option of the optimizer group.
public enum OptimizerSetting: String, Sendable, CaseIterable {
    case learningRate = "learning-rate", weightDecay = "weight-decay", steps, epochs, batchSize = "batch-size", warmup, clip
}

/// A training command's defaults for `OptimizerOptions`. An option whose default is nil is not
/// offered by that command: hidden from `--help` and refused when given. ArgumentParser builds an
/// option group without arguments, so the defaults come from this type
/// (`@OptionGroup var optimizer: OptimizerOptions<FineTuneDefaults>`).
public protocol OptimizerDefaults {
    static var learningRate: Double? { get }
    static var weightDecay: Double? { get }
    static var steps: Int? { get }
    static var epochs: Int? { get }
    static var batchSize: Int? { get }
    /// Warm-up steps of the learning-rate schedule.
    static var warmup: Int? { get }
    /// Largest global gradient L2 norm (torch's clip_grad_norm_).
    static var clip: Double? { get }
}

extension OptimizerDefaults {
    public static var learningRate: Double? { nil }
    public static var weightDecay: Double? { nil }
    public static var steps: Int? { nil }
    public static var epochs: Int? { nil }
    public static var batchSize: Int? { nil }
    public static var warmup: Int? { nil }
    public static var clip: Double? { nil }
}

/// The optimizer options every training command spells the same way: `--learning-rate`,
/// `--weight-decay`, `--steps` / `--epochs`, `--batch-size`, `--warmup`, `--clip`, with per-command
/// defaults from `Defaults`. `--lr` is a hidden alias of `--learning-rate` (one deprecation line).
/// Read the values after parsing (`validate` has checked that every offered one is set).
public struct OptimizerOptions<Defaults: OptimizerDefaults>: ParsableArguments {
    static func help(_ text: String, _ value: CustomStringConvertible?) -> ArgumentHelp {
        guard let value else { return .private }
        return ArgumentHelp("\(text) (default: \(value))")
    }

    @Option(name: .customLong("learning-rate"), help: help("Peak learning rate.", Defaults.learningRate))
    var learningRateGiven: Double?
    @Option(name: .customLong("lr"), help: .private) var legacyLR: Double?
    @Option(name: .customLong("weight-decay"), help: help("Weight decay (L2 coefficient).", Defaults.weightDecay))
    var weightDecayGiven: Double?
    @Option(name: .customLong("steps"), help: help("Optimizer steps.", Defaults.steps))
    var stepsGiven: Int?
    @Option(name: .customLong("epochs"), help: help("Passes over the training set.", Defaults.epochs))
    var epochsGiven: Int?
    @Option(name: .customLong("batch-size"), help: help("Examples per optimizer step.", Defaults.batchSize))
    var batchSizeGiven: Int?
    @Option(name: .customLong("warmup"), help: help("Linear warm-up steps of the learning rate.", Defaults.warmup))
    var warmupGiven: Int?
    @Option(name: .customLong("clip"), help: help("Largest global gradient L2 norm (clip_grad_norm_; 0: no clipping).", Defaults.clip))
    var clipGiven: Double?

    public init() {}

    /// The settings that were given on the command line.
    var given: [OptimizerSetting: Bool] {
        [.learningRate: learningRateGiven != nil || legacyLR != nil, .weightDecay: weightDecayGiven != nil, .steps: stepsGiven != nil,
         .epochs: epochsGiven != nil, .batchSize: batchSizeGiven != nil, .warmup: warmupGiven != nil, .clip: clipGiven != nil]
    }

    /// The settings this command offers (a non-nil default).
    public static var offered: Set<OptimizerSetting> {
        var set: Set<OptimizerSetting> = []
        if Defaults.learningRate != nil { set.insert(.learningRate) }
        if Defaults.weightDecay != nil { set.insert(.weightDecay) }
        if Defaults.steps != nil { set.insert(.steps) }
        if Defaults.epochs != nil { set.insert(.epochs) }
        if Defaults.batchSize != nil { set.insert(.batchSize) }
        if Defaults.warmup != nil { set.insert(.warmup) }
        if Defaults.clip != nil { set.insert(.clip) }
        return set
    }

    public func validate() throws {
        for setting in OptimizerSetting.allCases where given[setting] == true && !Self.offered.contains(setting) {
            throw ValidationError("this command has no --\(setting.rawValue)")
        }
        if learningRateGiven != nil && legacyLR != nil { throw ValidationError("give the learning rate once, as --learning-rate") }
        if legacyLR != nil { warnDeprecated("lr", use: "learning-rate") }
        if Self.offered.contains(.learningRate), !(learningRate > 0) { throw ValidationError("--learning-rate must be > 0, got \(learningRate)") }
        if Self.offered.contains(.weightDecay), !(weightDecay >= 0) { throw ValidationError("--weight-decay must be ≥ 0, got \(weightDecay)") }
        if Self.offered.contains(.steps), steps < 1 { throw ValidationError("--steps must be at least 1, got \(steps)") }
        if Self.offered.contains(.epochs), epochs < 0 { throw ValidationError("--epochs must be ≥ 0, got \(epochs)") }
        if Self.offered.contains(.batchSize), batchSize < 1 { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        if Self.offered.contains(.warmup), warmup < 0 { throw ValidationError("--warmup must be ≥ 0, got \(warmup)") }
        if Self.offered.contains(.clip), !(clip >= 0) { throw ValidationError("--clip must be ≥ 0, got \(clip)") }
    }

    /// Peak learning rate (0 when the command does not offer it).
    public var learningRate: Double { learningRateGiven ?? legacyLR ?? Defaults.learningRate ?? 0 }
    /// Weight decay (0 when not offered).
    public var weightDecay: Double { weightDecayGiven ?? Defaults.weightDecay ?? 0 }
    /// Optimizer steps (0 when not offered).
    public var steps: Int { stepsGiven ?? Defaults.steps ?? 0 }
    /// Epochs (0 when not offered).
    public var epochs: Int { epochsGiven ?? Defaults.epochs ?? 0 }
    /// Examples per step (0 when not offered).
    public var batchSize: Int { batchSizeGiven ?? Defaults.batchSize ?? 0 }
    /// Warm-up steps (0 when not offered).
    public var warmup: Int { warmupGiven ?? Defaults.warmup ?? 0 }
    /// Gradient-norm clip (0: none, also when not offered).
    public var clip: Double { clipGiven ?? Defaults.clip ?? 0 }

    /// The offered settings as report config entries under snake_case keys (`learning_rate`, ...).
    public var reportConfig: [String: JSONValue] {
        var config: [String: JSONValue] = [:]
        for setting in Self.offered {
            let key = setting.rawValue.replacingOccurrences(of: "-", with: "_")
            switch setting {
            case .learningRate: config[key] = .double(learningRate)
            case .weightDecay: config[key] = .double(weightDecay)
            case .steps: config[key] = .int(steps)
            case .epochs: config[key] = .int(epochs)
            case .batchSize: config[key] = .int(batchSize)
            case .warmup: config[key] = .int(warmup)
            case .clip: config[key] = .double(clip)
            }
        }
        return config
    }
}
