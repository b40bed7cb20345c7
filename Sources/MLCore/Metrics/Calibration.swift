import Foundation

/// Calibration and proper scoring rules on predicted probabilities, in Double (Docs/METRICS.md §1).
///
/// Multi-class probabilities are `[[Double]]` of shape [N, C] (rows need not sum to 1 exactly);
/// labels are classes in `0..<C`. Binary probabilities are `[Double]` of the positive class with
/// labels 0/1.
public enum Calibration {
    /// One bin of a reliability diagram: the items whose confidence lies in (lower, upper].
    public struct Bin: Sendable, Equatable {
        /// Lower edge b/M (exclusive, except that bin 0 also holds confidence 0).
        public var lower: Double
        /// Upper edge (b+1)/M (inclusive).
        public var upper: Double
        /// Number of items in the bin.
        public var count: Int
        /// Mean confidence of the items in the bin, 0 for an empty bin.
        public var meanConfidence: Double
        /// Fraction of the items in the bin predicted correctly, 0 for an empty bin.
        public var accuracy: Double
    }

    /// Expected calibration error with its reliability-diagram data.
    public struct Reliability: Sendable, Equatable {
        /// ECE = Σ_b (n_b / N) · |accuracy_b − meanConfidence_b|, in [0, 1].
        public var expectedCalibrationError: Double
        /// The M bins in increasing order of confidence.
        public var bins: [Bin]
    }

    /// Expected calibration error over `binCount` equal-width bins of the max-probability confidence.
    ///
    /// Confidence is the row maximum, the prediction its first arg-max (numpy `argmax`); bin b holds
    /// confidences in (b/M, (b+1)/M] with edges computed as the correctly rounded b/M, and bin 0 also
    /// holds confidence 0. Source: Guo et al., "On Calibration of Modern Neural Networks", ICML 2017,
    /// §2 (Eq. 3); bins (lo, hi] as in its reference code (`confidences.gt(lo) * confidences.le(hi)`).
    /// - Throws: `MetricsError.lengthMismatch` (labels vs rows, or ragged rows), `.empty` for N = 0 or
    ///   C = 0, `.notFinite`, `.outOfRange` (a probability outside [0, 1], a label outside 0..<C),
    ///   `.invalidArgument` for `binCount ≤ 0`.
    public static func expectedCalibrationError(probabilities: [[Double]], labels: [Int],
                                                binCount: Int = 10) throws -> Reliability {
        let metric = "expected calibration error"
        let width = try checkRows(metric, probabilities, labels)
        var confidences: [Double] = [], correct: [Bool] = []
        confidences.reserveCapacity(labels.count)
        correct.reserveCapacity(labels.count)
        for (row, y) in zip(probabilities, labels) {
            var best = 0
            for c in 1..<width where row[c] > row[best] { best = c }
            confidences.append(row[best])
            correct.append(best == y)
        }
        return try expectedCalibrationError(confidences: confidences, correct: correct, binCount: binCount)
    }

    /// Expected calibration error from per-item confidences in [0, 1] and whether each prediction was
    /// correct (binary calibration of any confidence score); same bins as the multi-class form.
    /// - Throws: `MetricsError.lengthMismatch`, `.empty`, `.notFinite`, `.outOfRange`, `.invalidArgument`.
    public static func expectedCalibrationError(confidences: [Double], correct: [Bool],
                                                binCount: Int = 10) throws -> Reliability {
        let metric = "expected calibration error"
        try MetricsError.checkPositive(metric, "binCount", binCount)
        try MetricsError.checkSameCount(metric, "correct", correct.count, expected: confidences.count)
        try MetricsError.checkNonEmpty(metric, "confidences", confidences.count)
        try MetricsError.checkProbabilities(metric, "confidences", confidences)
        let m = Double(binCount)
        var counts = [Int](repeating: 0, count: binCount)
        var confidenceSums = [Double](repeating: 0, count: binCount)
        var correctCounts = [Int](repeating: 0, count: binCount)
        for (conf, ok) in zip(confidences, correct) {
            var b = max(0, min(binCount - 1, Int((conf * m).rounded(.up)) - 1))
            while b > 0 && conf <= Double(b) / m { b -= 1 }
            while b < binCount - 1 && conf > Double(b + 1) / m { b += 1 }
            counts[b] += 1
            confidenceSums[b] += conf
            if ok { correctCounts[b] += 1 }
        }
        let n = Double(confidences.count)
        var ece = 0.0
        var bins: [Bin] = []
        for b in 0..<binCount {
            let count = counts[b]
            let meanConfidence = count == 0 ? 0 : confidenceSums[b] / Double(count)
            let accuracy = count == 0 ? 0 : Double(correctCounts[b]) / Double(count)
            ece += Double(count) / n * abs(accuracy - meanConfidence)
            bins.append(Bin(lower: Double(b) / m, upper: Double(b + 1) / m, count: count,
                            meanConfidence: meanConfidence, accuracy: accuracy))
        }
        return Reliability(expectedCalibrationError: ece, bins: bins)
    }

    /// Mean negative log-likelihood (natural log, nats per item) of the true class, each probability
    /// clipped to [ε, 1 − ε] first.
    ///
    /// Source: scikit-learn `log_loss(labels, probabilities, labels=range(C))`, which clips with
    /// ε = `np.finfo(float64).eps` = 2⁻⁵² (the default here) and does not renormalize rows.
    /// - Throws: `MetricsError.lengthMismatch`, `.empty`, `.notFinite`, `.outOfRange`.
    public static func logLoss(probabilities: [[Double]], labels: [Int],
                               epsilon: Double = .ulpOfOne) throws -> Double {
        _ = try checkRows("log loss", probabilities, labels)
        var total = 0.0
        for (row, y) in zip(probabilities, labels) { total -= Foundation.log(min(max(row[y], epsilon), 1 - epsilon)) }
        return total / Double(labels.count)
    }

    /// Binary log loss: `probabilities` are P(y = 1); the loss of an item is −log p for y = 1 and
    /// −log(1 − p) for y = 0, after clipping to [ε, 1 − ε] (1 − p is formed before clipping, as
    /// scikit-learn does). Source: scikit-learn `log_loss` with 1-D probabilities.
    /// - Throws: `MetricsError.lengthMismatch`, `.empty`, `.notFinite`, `.outOfRange` (p outside
    ///   [0, 1], a label not 0/1).
    public static func logLoss(probabilities: [Double], labels: [Int], epsilon: Double = .ulpOfOne) throws -> Double {
        try checkBinary("log loss", probabilities, labels)
        var total = 0.0
        for (p, y) in zip(probabilities, labels) {
            let q = y == 1 ? p : 1 - p
            total -= Foundation.log(min(max(q, epsilon), 1 - epsilon))
        }
        return total / Double(labels.count)
    }

    /// Binary Brier score: mean of (p − y)², in [0, 1].
    /// Source: scikit-learn `brier_score_loss` with 1-D probabilities.
    /// - Throws: `MetricsError.lengthMismatch`, `.empty`, `.notFinite`, `.outOfRange`.
    public static func brierScore(probabilities: [Double], labels: [Int]) throws -> Double {
        try checkBinary("Brier score", probabilities, labels)
        var total = 0.0
        for (p, y) in zip(probabilities, labels) { total += (p - Double(y)) * (p - Double(y)) }
        return total / Double(labels.count)
    }

    /// Multi-class Brier score: mean over items of Σ_c (p_c − 1[c = y])², in [0, 2]; halved when
    /// `halved` (scikit-learn's `scale_by_half`, which by default is on for C < 3 only, so that two
    /// columns give the binary score; `nil` reproduces that default).
    /// Source: scikit-learn `brier_score_loss` with 2-D probabilities and `labels=range(C)` (≥ 1.7).
    /// - Throws: `MetricsError.lengthMismatch`, `.empty`, `.notFinite`, `.outOfRange`.
    public static func brierScore(probabilities: [[Double]], labels: [Int], halved: Bool? = nil) throws -> Double {
        let width = try checkRows("Brier score", probabilities, labels)
        var total = 0.0
        for (row, y) in zip(probabilities, labels) {
            for c in 0..<width {
                let d = row[c] - (c == y ? 1 : 0)
                total += d * d
            }
        }
        let scale = (halved ?? (width < 3)) ? 0.5 : 1
        return scale * total / Double(labels.count)
    }

    /// Validates [N, C] probabilities against N labels; returns C.
    static func checkRows(_ metric: String, _ probabilities: [[Double]], _ labels: [Int]) throws -> Int {
        try MetricsError.checkSameCount(metric, "labels", labels.count, expected: probabilities.count)
        try MetricsError.checkNonEmpty(metric, "probabilities", probabilities.count)
        let width = probabilities[0].count
        try MetricsError.checkNonEmpty(metric, "probabilities[0]", width)
        for (i, row) in probabilities.enumerated() {
            try MetricsError.checkSameCount(metric, "probabilities[\(i)]", row.count, expected: width)
            try MetricsError.checkProbabilities(metric, "probabilities[\(i)]", row)
        }
        try MetricsError.checkClasses(metric, "labels", labels, classCount: width)
        return width
    }

    static func checkBinary(_ metric: String, _ probabilities: [Double], _ labels: [Int]) throws {
        try MetricsError.checkSameCount(metric, "labels", labels.count, expected: probabilities.count)
        try MetricsError.checkNonEmpty(metric, "probabilities", probabilities.count)
        try MetricsError.checkProbabilities(metric, "probabilities", probabilities)
        try MetricsError.checkBinary(metric, "labels", labels)
    }
}

/// Encodes a reliability-diagram bin as `lower`, `upper`, `count`, `confidence` (the mean
/// confidence) and `accuracy`, for reports.
extension Calibration.Bin: Encodable {
    enum CodingKeys: String, CodingKey {
        case lower, upper, count, meanConfidence = "confidence", accuracy
    }
}
