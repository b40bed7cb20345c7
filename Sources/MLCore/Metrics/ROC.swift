import Foundation

/// Metrics of a real-valued score against binary labels (1 = positive, higher score = more
/// positive): ROC curve, AUROC, average precision and the operating points used in detection and
/// membership-inference papers (Docs/METRICS.md §2). Scores are `[Double]`, labels `[Int]` of 0/1.
public enum ROC {
    /// A ROC curve: one point per distinct score (decreasing), preceded by (0, 0) at threshold +∞.
    public struct Curve: Sendable, Equatable {
        /// False-positive rate FP(score ≥ threshold) / negatives, non-decreasing from 0 to 1.
        public var falsePositiveRates: [Double]
        /// True-positive rate TP(score ≥ threshold) / positives, non-decreasing from 0 to 1.
        public var truePositiveRates: [Double]
        /// The thresholds: +∞, then the distinct scores in decreasing order.
        public var thresholds: [Double]
    }

    /// The operating point where the false-positive rate equals the false-negative rate.
    public struct EqualErrorRate: Sendable, Equatable {
        /// (FPR + FNR) / 2 at the curve point minimizing |FNR − FPR| (the first such point in curve order).
        public var equalErrorRate: Double
        /// 1 − equalErrorRate: the TPR (= 1 − FNR) at the equal-error point, reported as "ASR"
        /// (attack success rate) in the membership-inference literature.
        public var truePositiveRate: Double
        /// The score threshold of that point (items with score ≥ threshold are called positive).
        public var threshold: Double
    }

    /// The full ROC curve (no intermediate points dropped).
    ///
    /// Source: scikit-learn `roc_curve(labels, scores, drop_intermediate=False)` (thresholds[0] = +∞
    /// as in scikit-learn ≥ 1.3).
    /// - Throws: `MetricsError.lengthMismatch`, `.empty`, `.notFinite`, `.outOfRange` (label not 0/1),
    ///   `.undefined` when only one class is present (scikit-learn returns NaN rates with a warning).
    public static func curve(scores: [Double], labels: [Int]) throws -> Curve {
        let (positives, negatives) = try check("ROC curve", scores, labels)
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var fpr = [0.0], tpr = [0.0], thresholds = [Double.infinity]
        var tp = 0, fp = 0
        for (k, i) in order.enumerated() {
            if labels[i] == 1 { tp += 1 } else { fp += 1 }
            if k + 1 == order.count || scores[order[k + 1]] != scores[i] {
                fpr.append(Double(fp) / Double(negatives))
                tpr.append(Double(tp) / Double(positives))
                thresholds.append(scores[i])
            }
        }
        return Curve(falsePositiveRates: fpr, truePositiveRates: tpr, thresholds: thresholds)
    }

    /// Area under the ROC curve by the Mann–Whitney statistic: the probability that a random positive
    /// scores above a random negative, ties counting ½ (mid-ranks); in [0, 1].
    ///
    /// Source: scikit-learn `roc_auc_score` (trapezoidal area of the full curve, which equals this).
    /// - Throws: `MetricsError.lengthMismatch`, `.empty`, `.notFinite`, `.outOfRange`,
    ///   `.undefined` with one class (scikit-learn raises `ValueError` too).
    public static func auroc(scores: [Double], labels: [Int]) throws -> Double {
        let (positives, negatives) = try check("AUROC", scores, labels)
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0  // sum of 1-based mid-ranks of the positives
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && scores[order[end + 1]] == scores[order[start]] { end += 1 }
            let midRank = Double(start + end + 2) / 2
            for k in start...end where labels[order[k]] == 1 { rankSum += midRank }
            start = end + 1
        }
        let p = Double(positives)
        return (rankSum - p * (p + 1) / 2) / (p * Double(negatives))
    }

    /// Average precision: Σ_k (R_k − R_{k−1}) · P_k over the distinct scores in decreasing order
    /// (precision at each threshold weighted by the recall gained; no interpolation).
    ///
    /// Source: scikit-learn `average_precision_score`.
    /// - Throws: `MetricsError.lengthMismatch`, `.empty`, `.notFinite`, `.outOfRange`, `.undefined`
    ///   when no item is positive (scikit-learn warns and returns 0 there). With no negatives the value is 1.
    public static func averagePrecision(scores: [Double], labels: [Int]) throws -> Double {
        let metric = "average precision"
        try checkInputs(metric, scores, labels)
        let positives = labels.reduce(0, +)
        if positives == 0 { throw MetricsError.undefined(metric: metric, reason: "no positive label") }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var tp = 0, lastTP = 0, ap = 0.0
        for (k, i) in order.enumerated() {
            if labels[i] == 1 { tp += 1 }
            if k + 1 == order.count || scores[order[k + 1]] != scores[i] {
                if tp > lastTP {
                    ap += Double(tp - lastTP) / Double(positives) * (Double(tp) / Double(k + 1))
                    lastTP = tp
                }
            }
        }
        return ap
    }

    /// The largest TPR among the curve points with FPR ≤ `maxFalsePositiveRate` (the achievable
    /// operating point; "TPR at x% FPR" of Carlini et al., "Membership Inference Attacks From First
    /// Principles", IEEE S&P 2022). The point (0, 0) is always included, so the value is ≥ 0.
    /// - Throws: as `curve`, plus `.invalidArgument` for a rate outside [0, 1].
    public static func truePositiveRate(atFalsePositiveRate maxFalsePositiveRate: Double,
                                        scores: [Double], labels: [Int]) throws -> Double {
        try checkRate("TPR at FPR", maxFalsePositiveRate)
        let c = try curve(scores: scores, labels: labels)
        var best = 0.0
        for (f, t) in zip(c.falsePositiveRates, c.truePositiveRates) where f <= maxFalsePositiveRate { best = max(best, t) }
        return best
    }

    /// The TPR of the piecewise-linear ROC curve at FPR = `falsePositiveRate`: linear interpolation
    /// between the neighbouring curve points, and the highest TPR where points share that FPR.
    /// Source: `numpy.interp(x, fpr, tpr)` on scikit-learn's `roc_curve` (the common "interpolated" variant).
    /// - Throws: as `curve`, plus `.invalidArgument` for a rate outside [0, 1].
    public static func interpolatedTruePositiveRate(atFalsePositiveRate falsePositiveRate: Double,
                                                    scores: [Double], labels: [Int]) throws -> Double {
        try checkRate("interpolated TPR at FPR", falsePositiveRate)
        let c = try curve(scores: scores, labels: labels)
        let f = c.falsePositiveRates, t = c.truePositiveRates
        guard let j = f.lastIndex(where: { $0 <= falsePositiveRate }) else { return t[0] }
        if f[j] == falsePositiveRate || j + 1 == f.count { return t[j] }
        return t[j] + (t[j + 1] - t[j]) * (falsePositiveRate - f[j]) / (f[j + 1] - f[j])
    }

    /// The equal-error-rate operating point on the ROC curve (see `EqualErrorRate`).
    /// - Throws: as `curve`.
    public static func equalErrorRate(scores: [Double], labels: [Int]) throws -> EqualErrorRate {
        let c = try curve(scores: scores, labels: labels)
        var best = 0, bestGap = Double.infinity
        for k in c.thresholds.indices {
            let gap = abs((1 - c.truePositiveRates[k]) - c.falsePositiveRates[k])
            if gap < bestGap { best = k; bestGap = gap }
        }
        let eer = (c.falsePositiveRates[best] + 1 - c.truePositiveRates[best]) / 2
        return EqualErrorRate(equalErrorRate: eer, truePositiveRate: 1 - eer, threshold: c.thresholds[best])
    }

    /// The best balanced accuracy over all thresholds: max_k (TPR_k + 1 − FPR_k) / 2, in [0.5, 1]
    /// (Carlini et al. 2022, §3; the threshold +∞ gives 0.5).
    /// - Throws: as `curve`.
    public static func maxBalancedAccuracy(scores: [Double], labels: [Int]) throws -> Double {
        let c = try curve(scores: scores, labels: labels)
        return zip(c.truePositiveRates, c.falsePositiveRates).map { ($0 + 1 - $1) / 2 }.max()!
    }

    /// RelaImpr = (AUC_model − 0.5) / (AUC_base − 0.5) − 1, the relative improvement of a model's AUC
    /// over a base model's, as a fraction (×100 for the percentages papers print).
    /// Source: Yan et al., "Coupled Group Lasso for Web-Scale CTR Prediction", ICML 2014, §5.1.
    /// - Throws: `MetricsError.notFinite`, `.outOfRange` for an AUC outside [0, 1], `.undefined` when
    ///   the base AUC is 0.5.
    public static func relativeImprovement(auc: Double, baseAUC: Double) throws -> Double {
        let metric = "RelaImpr"
        try MetricsError.checkProbabilities(metric, "[auc, baseAUC]", [auc, baseAUC])
        if baseAUC == 0.5 { throw MetricsError.undefined(metric: metric, reason: "base AUC is 0.5") }
        return (auc - 0.5) / (baseAUC - 0.5) - 1
    }

    static func checkInputs(_ metric: String, _ scores: [Double], _ labels: [Int]) throws {
        try MetricsError.checkSameCount(metric, "labels", labels.count, expected: scores.count)
        try MetricsError.checkNonEmpty(metric, "scores", scores.count)
        try MetricsError.checkFinite(metric, "scores", scores)
        try MetricsError.checkBinary(metric, "labels", labels)
    }

    /// Validates and returns (positives, negatives), both ≥ 1.
    static func check(_ metric: String, _ scores: [Double], _ labels: [Int]) throws -> (Int, Int) {
        try checkInputs(metric, scores, labels)
        let positives = labels.reduce(0, +)
        if positives == 0 || positives == labels.count {
            throw MetricsError.undefined(metric: metric, reason: "only one class present in labels (\(positives) positive of \(labels.count))")
        }
        return (positives, labels.count - positives)
    }

    static func checkRate(_ metric: String, _ rate: Double) throws {
        if !(rate >= 0 && rate <= 1) {
            throw MetricsError.invalidArgument(metric: metric, reason: "false-positive rate \(rate), expected in [0, 1]")
        }
    }
}

extension ROC {
    /// `auroc(scores:labels:)` for Float32 scores (a model's outputs), computed in Double.
    /// - Throws: as the Double form.
    public static func auroc(scores: [Float], labels: [Int]) throws -> Double {
        try auroc(scores: scores.map(Double.init), labels: labels)
    }

    /// `averagePrecision(scores:labels:)` for Float32 scores, computed in Double.
    /// - Throws: as the Double form.
    public static func averagePrecision(scores: [Float], labels: [Int]) throws -> Double {
        try averagePrecision(scores: scores.map(Double.init), labels: labels)
    }

    /// `curve(scores:labels:)` for Float32 scores, computed in Double (thresholds are the scores widened).
    /// - Throws: as the Double form.
    public static func curve(scores: [Float], labels: [Int]) throws -> Curve {
        try curve(scores: scores.map(Double.init), labels: labels)
    }
}

extension ROC {
    /// The ROC curve with scikit-learn's default thinning (`roc_curve(..., drop_intermediate=True)`):
    /// of the distinct-score points, those strictly inside a straight horizontal or vertical run (second
    /// differences of both FP and TP counts zero) are dropped; the first and last are kept and (0, 0)
    /// at threshold +∞ is prepended, as in `curve`.
    /// - Throws: as `curve`.
    public static func thinnedCurve(scores: [Double], labels: [Int]) throws -> Curve {
        let full = try curve(scores: scores, labels: labels)
        let positives = labels.reduce(0, +), negatives = labels.count - positives
        let fp = full.falsePositiveRates.dropFirst().map { Int(($0 * Double(negatives)).rounded()) }
        let tp = full.truePositiveRates.dropFirst().map { Int(($0 * Double(positives)).rounded()) }
        var out = Curve(falsePositiveRates: [0], truePositiveRates: [0], thresholds: [Double.infinity])
        for i in fp.indices {
            let keep = i == 0 || i == fp.count - 1 || fp[i + 1] - 2 * fp[i] + fp[i - 1] != 0 || tp[i + 1] - 2 * tp[i] + tp[i - 1] != 0
            if keep {
                out.falsePositiveRates.append(full.falsePositiveRates[i + 1])
                out.truePositiveRates.append(full.truePositiveRates[i + 1])
                out.thresholds.append(full.thresholds[i + 1])
            }
        }
        return out
    }

    /// The TPR of the thinned curve's point whose FPR is nearest to `falsePositiveRate` (the first
    /// such point): `tpr[argmin |fpr − x|]` on scikit-learn's default `roc_curve`, the "TPR@x%FPR"
    /// of membership-inference code such as wjfu99/MIA-Gen (attack/attack_model_PFAMI.py `eval_attack`).
    /// Unlike `truePositiveRate(atFalsePositiveRate:)` the point may lie above the FPR bound.
    /// - Throws: as `curve`, plus `.invalidArgument` for a rate outside [0, 1].
    public static func nearestPointTruePositiveRate(atFalsePositiveRate falsePositiveRate: Double,
                                                    scores: [Double], labels: [Int]) throws -> Double {
        try checkRate("nearest-point TPR at FPR", falsePositiveRate)
        let c = try thinnedCurve(scores: scores, labels: labels)
        var best = 0
        for i in c.falsePositiveRates.indices
        where abs(c.falsePositiveRates[i] - falsePositiveRate) < abs(c.falsePositiveRates[best] - falsePositiveRate) { best = i }
        return c.truePositiveRates[best]
    }
}
