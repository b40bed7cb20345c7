import Foundation
import MLCore

/// Accuracy and calibration of a classifier's logits on a labelled split, through MLCore's
/// metrics (Docs/METRICS.md §1): accuracy, ECE over 10 equal-width confidence bins (lo, hi] with
/// the reliability-diagram bins, and NLL (log loss, nats).
public struct ClassifierEvaluation: Sendable, Equatable {
    /// N, the number of evaluated items.
    public var count: Int
    /// Fraction of items whose first arg-max is the label.
    public var accuracy: Double
    /// ECE over the bins, in [0, 1].
    public var expectedCalibrationError: Double
    /// −mean log p(label), nats.
    public var negativeLogLikelihood: Double
    /// The reliability-diagram bins (lower, upper, count, mean confidence, accuracy).
    public var reliability: [Calibration.Bin]

    /// Evaluates logits [N, C] against `labels` [N] (softmax in Double).
    /// - Throws: `MetricsError` (empty split, label out of range, non-finite logits).
    public init(logits: Tensor, labels: [Int], binCount: Int = 10) throws {
        require(logits.rank == 2 && logits.shape[0] == labels.count, "ClassifierEvaluation: logits \(logits.shape) for \(labels.count) labels")
        let c = logits.shape[1], values = logits.contiguous().scalars
        var probabilities: [[Double]] = []
        // The arg-max of the logits is the arg-max of their softmax (exp is monotonic).
        let predictions = logits.argmax(axis: 1).elements.map(Int.init)
        for i in 0..<labels.count {
            let row = values[(i * c)..<((i + 1) * c)].map(Double.init)
            let m = row.max() ?? 0
            let e = row.map { Foundation.exp($0 - m) }
            let z = e.reduce(0, +)
            let p = e.map { $0 / z }
            probabilities.append(p)
        }
        count = labels.count
        accuracy = try Classification.accuracy(predictions: predictions, labels: labels)
        let r = try Calibration.expectedCalibrationError(probabilities: probabilities, labels: labels, binCount: binCount)
        expectedCalibrationError = r.expectedCalibrationError
        reliability = r.bins
        negativeLogLikelihood = try Calibration.logLoss(probabilities: probabilities, labels: labels)
    }

}

/// Encodes as report metrics: `count`, `accuracy`, `ece`, `nll`, `reliability` (the bins' `lower`,
/// `upper`, `count`, `confidence`, `accuracy`; Docs/REPORT_FORMAT.md).
extension ClassifierEvaluation: Encodable {
    enum CodingKeys: String, CodingKey {
        case count, accuracy, expectedCalibrationError = "ece", negativeLogLikelihood = "nll", reliability
    }
}
