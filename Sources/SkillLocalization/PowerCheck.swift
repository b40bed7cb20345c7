import MLCore

/// The check before localization (Docs/graft.md, "Power check"): a graft can only show that a small
/// region keeps the fine-tuned skill when fine-tuning learned one, so fine-tuning must beat the
/// pre-trained model (same head) on the dev split by at least `minimumGain` (5 points by default).
/// Otherwise every graft/FT ratio is ≈ 1 whatever the mask.
public struct PowerCheck: Sendable, Equatable, Encodable {
    /// The default required dev gain: 0.05 (5 accuracy points).
    public static let defaultMinimumGain = 0.05

    /// Dev accuracy of the pre-trained and the fine-tuned model.
    public var pretrainedDevAccuracy: Double, finetunedDevAccuracy: Double
    /// The required gain (fraction).
    public var minimumGain: Double
    /// finetuned − pretrained dev accuracy.
    public var gain: Double
    /// Whether gain ≥ minimumGain (within 1e-12, so that 0.75 − 0.70 passes 0.05).
    public var passed: Bool

    /// The check of two dev accuracies.
    public init(pretrainedDevAccuracy: Double, finetunedDevAccuracy: Double, minimumGain: Double = defaultMinimumGain) {
        self.pretrainedDevAccuracy = pretrainedDevAccuracy
        self.finetunedDevAccuracy = finetunedDevAccuracy
        self.minimumGain = minimumGain
        gain = finetunedDevAccuracy - pretrainedDevAccuracy
        passed = gain >= minimumGain - 1e-12
    }

    /// Throws unless the check passed or `force` is set.
    /// - Throws: `SkillLocalizationError.fineTuningDidNotLearn`.
    public func enforce(force: Bool) throws {
        if !passed && !force {
            throw SkillLocalizationError.fineTuningDidNotLearn(pretrained: pretrainedDevAccuracy, finetuned: finetunedDevAccuracy,
                                                               required: minimumGain)
        }
    }
}

/// Two classifiers compared on the same items: the accuracy gain with McNemar's exact test and a
/// paired percentile bootstrap interval (items resampled with replacement, both models' outcomes
/// kept together; `Statistics.bootstrapInterval`). Encodable for reports.
public struct PairedComparison: Sendable, Equatable, Encodable {
    /// Accuracies of the baseline (`a`) and the compared model (`b`).
    public var accuracyA: Double, accuracyB: Double
    /// accuracyB − accuracyA.
    public var gain: Double
    /// Items only B gets right / only A gets right.
    public var onlyB: Int, onlyA: Int
    /// McNemar's exact two-sided p-value.
    public var mcnemarP: Double
    /// 95% percentile bootstrap interval of the gain.
    public var gainLower: Double, gainUpper: Double

    /// Compares per-item correctness `a` and `b` (same items, same order).
    /// - Throws: `SkillLocalizationError.invalidArgument` for different or zero lengths; `MetricsError`.
    public init(a: [Bool], b: [Bool], resamples: Int = 1000, seed: UInt64 = 0) throws {
        guard a.count == b.count, !a.isEmpty else {
            throw SkillLocalizationError.invalidArgument("paired comparison of \(a.count) and \(b.count) outcomes")
        }
        let n = Double(a.count)
        accuracyA = Double(a.filter { $0 }.count) / n
        accuracyB = Double(b.filter { $0 }.count) / n
        gain = accuracyB - accuracyA
        onlyB = zip(a, b).filter { !$0 && $1 }.count
        onlyA = zip(a, b).filter { $0 && !$1 }.count
        mcnemarP = try Statistics.mcNemarExactPValue(b: onlyB, c: onlyA)
        var rng = RandomGenerator(seed: seed)
        let differences = zip(a, b).map { Double(($1 ? 1 : 0) - ($0 ? 1 : 0)) }
        let interval = try Statistics.bootstrapInterval(differences, resamples: resamples, using: &rng)
        gainLower = interval.lower
        gainUpper = interval.upper
    }
}

/// The fraction of fine-tuning's accuracy gain a graft keeps, (acc_graft − acc_pre)/(acc_ft − acc_pre)
/// (Docs/graft.md), with a 95% percentile bootstrap interval over items resampled jointly for the
/// three models. Encodable for reports.
public struct GainKept: Sendable, Equatable, Encodable {
    /// The estimate on all items; nil when fine-tuning gained nothing (acc_ft = acc_pre).
    public var estimate: Double?
    /// The interval; nil when undefined (no gain, or a resample without gain).
    public var lower: Double?, upper: Double?

    /// The fraction from per-item correctness of the pre-trained, fine-tuned and grafted models.
    /// - Throws: `SkillLocalizationError.invalidArgument` for different or zero lengths.
    public init(pretrained: [Bool], finetuned: [Bool], grafted: [Bool], resamples: Int = 1000, seed: UInt64 = 0) throws {
        let n = pretrained.count
        guard n > 0, finetuned.count == n, grafted.count == n else {
            throw SkillLocalizationError.invalidArgument("gain kept over \(pretrained.count), \(finetuned.count) and \(grafted.count) outcomes")
        }
        func fraction(_ indices: [Double]) -> Double? {
            var p = 0, f = 0, g = 0
            for x in indices {
                let i = Int(x)
                if pretrained[i] { p += 1 }
                if finetuned[i] { f += 1 }
                if grafted[i] { g += 1 }
            }
            return f == p ? nil : Double(g - p) / Double(f - p)
        }
        let all = (0..<n).map(Double.init)
        estimate = fraction(all)
        guard estimate != nil else { return }
        var rng = RandomGenerator(seed: seed)
        // A resample where FT = pre has no defined fraction: the interval is then left undefined.
        if let interval = try? Statistics.bootstrapInterval(all, resamples: resamples, using: &rng,
                                                            statistic: { fraction($0) ?? .nan }) {
            lower = interval.lower
            upper = interval.upper
        }
    }
}
