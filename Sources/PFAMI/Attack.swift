import Foundation
import MLCore

/// The attacks that score records from a `FeatureBlock` (Docs/pfami.md, "Attacks"). Every score is
/// "higher = member" (the reference labels members 0 and scores −feature; the ranking is the same).
public enum AttackMethod: Sendable, Equatable, CustomStringConvertible {
    /// PFAMI_Met (Fu et al. 2023, §4.3): s = mean_j D[j, k*] for one neighbour k* (the reference code's
    /// k* = 5), or the mean over every neighbour and probe (nil, the paper's statement).
    case met(neighbour: Int?)
    /// PFAMI_Met without the reference model (uncalibrated fluctuation, the paper's ablation).
    case metUncalibrated(neighbour: Int?)
    /// Loss (Yeom et al. 2018): s = −mean_j L_θ(x, j).
    case loss
    /// LiRA-style offline calibration with one reference model (Carlini et al. 2022; Watson et al. 2022
    /// "difficulty calibration"): s = mean_j (L_φ(x, j) − L_θ(x, j)).
    case lira
    /// SecMI (Duan et al. 2023): s = −ℓ, the DDIM round trip's error at t_sec = 100 (DDPM targets).
    case secmi

    public var description: String {
        switch self {
        case .met(let k): return "met" + (k.map { " (k* = \($0))" } ?? " (all neighbours)")
        case .metUncalibrated(let k): return "met-uncalibrated" + (k.map { " (k* = \($0))" } ?? " (all neighbours)")
        case .loss: return "loss"
        case .lira: return "lira"
        case .secmi: return "secmi"
        }
    }

    /// Black-box queries per record: (1 + K)·J·2 for met, (1 + K)·J uncalibrated, J for loss, 2J for
    /// lira, 11 for SecMI (t_sec/interval + 1 with the reference's 100 and 10).
    public func queries(probes j: Int, neighbours k: Int) -> Int {
        switch self {
        case .met: return (1 + k) * j * 2
        case .metUncalibrated: return (1 + k) * j
        case .loss: return j
        case .lira: return 2 * j
        case .secmi: return 11
        }
    }

    /// One score per record.
    /// - Throws: `PFAMIError.invalidArgument` for k* outside 0..<K, or SecMI on features without its losses.
    public func scores(_ block: FeatureBlock) throws -> [Double] {
        let j = block.probeCount, k = block.neighbourCount
        switch self {
        case .met(let neighbour), .metUncalibrated(let neighbour):
            if let neighbour, !(0..<k).contains(neighbour) {
                throw PFAMIError.invalidArgument("k* = \(neighbour) is outside the \(k) neighbours (0..<\(k))")
            }
            var calibrated = true
            if case .metUncalibrated = self { calibrated = false }
            let d = block.fluctuation(calibrated: calibrated)
            return (0..<block.count).map { n in
                var s = 0.0, c = 0
                for p in 0..<j {
                    for q in (neighbour.map { $0..<($0 + 1) } ?? 0..<k) { s += Double(d[(n * j + p) * k + q]); c += 1 }
                }
                return s / Double(c)
            }
        case .loss:
            return (0..<block.count).map { n in -(0..<j).reduce(0.0) { $0 + Double(block.targetOriginal[n * j + $1]) } / Double(j) }
        case .lira:
            return (0..<block.count).map { n in
                (0..<j).reduce(0.0) { $0 + Double(block.referenceOriginal[n * j + $1] - block.targetOriginal[n * j + $1]) } / Double(j)
            }
        case .secmi:
            guard let secmi = block.targetSecMI else {
                throw PFAMIError.invalidArgument("the features hold no SecMI losses (computed for DDPM targets only)")
            }
            return secmi.map { -Double($0) }
        }
    }
}

/// An attack's quality on members (positive) and non-members (Docs/pfami.md, "Metrics"), from MLCore's
/// `ROC`: AUC (Mann–Whitney, ties ½); ASR, the TPR of the first point of the full curve minimising
/// |TPR − (1 − FPR)|, and the reference's `eval_attack` ASR (its polarity, on scikit-learn's thinned
/// curve, which can land on a corner far from the equal-error point); the maximum balanced accuracy; TPR at
/// 1% FPR as max{TPR : FPR ≤ 0.01} and as the reference's nearest point on the thinned curve.
public struct AttackMetrics: Sendable, Equatable, Codable {
    /// Area under the ROC curve, in [0, 1].
    public var auc: Double
    /// TPR at the equal-error point of the full curve.
    public var asr: Double
    /// The ASR as the reference code computes it (`eval_attack`): non-members as the positive class,
    /// scores negated, and the TPR of the first point of scikit-learn's thinned curve minimising
    /// |TPR − (1 − FPR)| — in our terms the non-members' true-negative rate at an equal-error corner.
    /// The thinning drops the points inside straight runs, where the equal-error point usually lies.
    public var asrReference: Double
    /// max over thresholds of (TPR + 1 − FPR)/2.
    public var maxBalancedAccuracy: Double
    /// max{TPR : FPR ≤ 0.01}.
    public var tprAt1Fpr: Double
    /// TPR of the thinned curve's point nearest FPR 0.01 (the reference's variant).
    public var tprAt1FprReference: Double
    /// Members (positives) and non-members scored.
    public var members: Int, nonMembers: Int

    /// - Throws: `MetricsError` (one class only, non-finite scores, length mismatch).
    public init(scores: [Double], labels: [Int]) throws {
        auc = try ROC.auroc(scores: scores, labels: labels)
        // The TPR of the first point minimising |TPR − (1 − FPR)| (numpy's argmin).
        func equalErrorTPR(_ curve: ROC.Curve) -> Double {
            var best = 0
            for i in curve.truePositiveRates.indices {
                let gap = abs(curve.truePositiveRates[i] - (1 - curve.falsePositiveRates[i]))
                if gap < abs(curve.truePositiveRates[best] - (1 - curve.falsePositiveRates[best])) { best = i }
            }
            return curve.truePositiveRates[best]
        }
        asr = equalErrorTPR(try ROC.curve(scores: scores, labels: labels))
        asrReference = equalErrorTPR(try ROC.thinnedCurve(scores: scores.map { -$0 }, labels: labels.map { 1 - $0 }))
        maxBalancedAccuracy = try ROC.maxBalancedAccuracy(scores: scores, labels: labels)
        tprAt1Fpr = try ROC.truePositiveRate(atFalsePositiveRate: 0.01, scores: scores, labels: labels)
        tprAt1FprReference = try ROC.nearestPointTruePositiveRate(atFalsePositiveRate: 0.01, scores: scores, labels: labels)
        members = labels.reduce(0, +)
        nonMembers = labels.count - members
    }
}
