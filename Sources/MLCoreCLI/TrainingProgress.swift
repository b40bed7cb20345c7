import Foundation
import MLCore

/// Renders a `TrainingLoop`'s events on stderr, the same way for every tool: a progress bar over the
/// optimizer steps; every `logEvery` steps (and after the last) a line with the mean loss and
/// metrics of those steps and the learning rate; one line per evaluation, save and early stop.
/// Nothing with `quiet`.
public final class TrainingProgress {
    let label: String
    let steps: Int
    let logEvery: Int
    let quiet: Bool
    let scoreName: String
    let annotate: (TrainingStepRecord) -> String
    let bar: ProgressBar
    var window: [TrainingStepRecord] = []

    /// - Parameters:
    ///   - label: the line prefix (e.g. "reb ssl-train").
    ///   - steps: the run's optimizer steps (the bar's total).
    ///   - logEvery: steps per log line (≥ 1).
    ///   - scoreName: what the evaluation score is called in the lines (e.g. "dev accuracy").
    ///   - annotate: text appended to a step's log line (e.g. "(backbone frozen)").
    public init(_ label: String, steps: Int, logEvery: Int, quiet: Bool, scoreName: String = "score",
                annotate: @escaping (TrainingStepRecord) -> String = { _ in "" }) {
        self.label = label
        self.steps = steps
        self.logEvery = Swift.max(1, logEvery)
        self.quiet = quiet
        self.scoreName = scoreName
        self.annotate = annotate
        bar = ProgressBar(label, total: steps, unit: "steps", quiet: quiet)
    }

    /// Renders one event (pass this as the loop's `onEvent`).
    public func handle(_ event: TrainingEvent) {
        switch event {
        case .step(let record):
            bar.advance()
            window.append(record)
            if record.step % logEvery == 0 || record.step == steps { log(Self.stepLine(label, window, of: steps, annotate: annotate(record)), quiet: quiet); window = [] }
        case .evaluation(let e):
            log(String(format: "%@: step %d  train loss %.4f  %@ %.4f%@", label, e.step, e.trainLoss, scoreName, e.score,
                       e.isBest ? "  (best)" : ""), quiet: quiet)
        case .saved(let path, let step):
            log("\(label): saved the training state after step \(step) to \(path)", quiet: quiet)
        case .stoppedEarly(let step):
            log("\(label): stopped early after step \(step)", quiet: quiet)
        }
    }

    /// Ends the progress bar.
    public func finish() { bar.finish() }

    /// "label: step s/n  loss L  name v …  lr r  annotation" over the records of a window (means of the
    /// loss and of each metric, metrics in name order; the last record's learning rate).
    static func stepLine(_ label: String, _ window: [TrainingStepRecord], of steps: Int, annotate: String) -> String {
        guard let last = window.last else { return label }
        let n = Double(window.count)
        var line = String(format: "%@: step %d/%d  loss %.4f", label, last.step, steps, window.reduce(0) { $0 + $1.loss } / n)
        for name in Set(window.flatMap(\.metrics.keys)).sorted() {
            let values = window.compactMap { $0.metrics[name] }
            line += String(format: "  %@ %.3f", name, values.reduce(0, +) / Double(values.count))
        }
        line += String(format: "  lr %.2e", last.learningRate)
        if !annotate.isEmpty { line += "  " + annotate }
        return line
    }
}
