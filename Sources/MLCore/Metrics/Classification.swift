/// Classification metrics on integer class labels, computed in Double (Docs/METRICS.md §1).
///
/// Labels and predictions are plain `[Int]` of the same length N ≥ 1. Where a ratio has a zero
/// denominator (no predicted positives for precision, no actual positives for recall) the value is 0,
/// as scikit-learn's default `zero_division="warn"` returns (without the warning).
public enum Classification {
    /// Precision, recall and F1 of one class or their macro average.
    public struct Scores: Sendable, Equatable {
        /// TP / (TP + FP), 0 when nothing was predicted positive.
        public var precision: Double
        /// TP / (TP + FN), 0 when no item is positive.
        public var recall: Double
        /// 2·TP / (2·TP + FP + FN), 0 when that denominator is 0 (the harmonic mean of P and R).
        public var f1: Double

        public init(precision: Double, recall: Double, f1: Double) {
            self.precision = precision
            self.recall = recall
            self.f1 = f1
        }
    }

    /// The fraction of items whose prediction equals the label.
    ///
    /// Source: scikit-learn `accuracy_score`.
    /// - Throws: `MetricsError.lengthMismatch` when the counts differ, `.empty` for N = 0
    ///   (scikit-learn returns NaN there).
    public static func accuracy(predictions: [Int], labels: [Int]) throws -> Double {
        try check("accuracy", predictions, labels)
        let correct = zip(predictions, labels).reduce(0) { $0 + ($1.0 == $1.1 ? 1 : 0) }
        return Double(correct) / Double(labels.count)
    }

    /// Precision, recall and F1 of the class `positive` against all others.
    ///
    /// Source: scikit-learn `precision_recall_fscore_support(average="binary", pos_label=positive)`
    /// (which also requires at most two distinct labels; here any other label counts as negative).
    /// - Throws: `MetricsError.lengthMismatch`, `.empty`.
    public static func binary(predictions: [Int], labels: [Int], positive: Int = 1) throws -> Scores {
        try check("binary precision/recall/F1", predictions, labels)
        var tp = 0, fp = 0, fn = 0
        for (p, y) in zip(predictions, labels) {
            if p == positive && y == positive { tp += 1 } else if p == positive { fp += 1 } else if y == positive { fn += 1 }
        }
        return scores(tp: tp, fp: fp, fn: fn)
    }

    /// The unweighted mean over classes of per-class precision, recall and F1, the classes being the
    /// sorted union of the labels and predictions present (a class absent from both is not averaged).
    ///
    /// Source: scikit-learn `precision_recall_fscore_support(average="macro")`, with `zero_division=0`
    /// per class; macro F1 is the mean of per-class F1 (not the F1 of macro P and R).
    /// - Throws: `MetricsError.lengthMismatch`, `.empty`.
    public static func macro(predictions: [Int], labels: [Int]) throws -> Scores {
        try check("macro precision/recall/F1", predictions, labels)
        let classes = Set(predictions).union(labels).sorted()
        var sum = Scores(precision: 0, recall: 0, f1: 0)
        for c in classes {
            let s = try binary(predictions: predictions, labels: labels, positive: c)
            sum.precision += s.precision
            sum.recall += s.recall
            sum.f1 += s.f1
        }
        let n = Double(classes.count)
        return Scores(precision: sum.precision / n, recall: sum.recall / n, f1: sum.f1 / n)
    }

    /// The confusion matrix C[i][j] = number of items with label i predicted as j (rows: truth,
    /// columns: prediction), for classes `0..<classCount`.
    ///
    /// Source: scikit-learn `confusion_matrix(labels, predictions, labels=range(classCount))`.
    /// - Throws: `MetricsError.lengthMismatch`, `.outOfRange` for a label or prediction outside
    ///   `0..<classCount`, `.invalidArgument` for `classCount ≤ 0`. N = 0 gives the zero matrix.
    public static func confusionMatrix(predictions: [Int], labels: [Int], classCount: Int) throws -> [[Int]] {
        let metric = "confusion matrix"
        try MetricsError.checkPositive(metric, "classCount", classCount)
        try MetricsError.checkSameCount(metric, "predictions", predictions.count, expected: labels.count)
        try MetricsError.checkClasses(metric, "labels", labels, classCount: classCount)
        try MetricsError.checkClasses(metric, "predictions", predictions, classCount: classCount)
        var matrix = Array(repeating: Array(repeating: 0, count: classCount), count: classCount)
        for (p, y) in zip(predictions, labels) { matrix[y][p] += 1 }
        return matrix
    }

    static func scores(tp: Int, fp: Int, fn: Int) -> Scores {
        let precision = tp + fp == 0 ? 0 : Double(tp) / Double(tp + fp)
        let recall = tp + fn == 0 ? 0 : Double(tp) / Double(tp + fn)
        let f1 = 2 * tp + fp + fn == 0 ? 0 : Double(2 * tp) / Double(2 * tp + fp + fn)
        return Scores(precision: precision, recall: recall, f1: f1)
    }

    private static func check(_ metric: String, _ predictions: [Int], _ labels: [Int]) throws {
        try MetricsError.checkSameCount(metric, "predictions", predictions.count, expected: labels.count)
        try MetricsError.checkNonEmpty(metric, "labels", labels.count)
    }
}
