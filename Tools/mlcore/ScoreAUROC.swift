import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI

/// `mlcore score auroc`: AUROC of JSON-lines scores on stdin (e.g. `reb score`'s output).
struct ScoreAUROC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auroc",
        abstract: "AUROC of scored items: one JSON object per stdin line with a numeric \"score\" and an integer \"label\".",
        discussion: """
            Example:
              reb score --bank bank.h5 | mlcore score auroc
            Labels > 0 are positives (anomalous), 0 negatives; a higher score means more positive. \
            When there are several positive label values, the report also gives each one's AUROC \
            against the negatives alone (per defect type). Writes a JSON report (Docs/REPORT_FORMAT.md).
            """)

    @OptionGroup var outputOption: OutputOption
    var output: String? { outputOption.output }

    @OptionGroup var textInput: TextInputOption

    func run() throws {
        do {
            var scores: [Double] = [], labels: [Int] = [], lineNumber = 0
            var input = textInput.standardInputLines()
            while let line = try input.next() {
                lineNumber += 1
                if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
                guard let object = try? JSONValue.parse(line), let score = object["score"]?.doubleValue,
                      let label = object["label"]?.intValue, label >= 0 else {
                    throw IdLineError(line: lineNumber, reason: "expected a JSON object with a numeric \"score\" and an integer \"label\" ≥ 0")
                }
                scores.append(score)
                labels.append(label)
            }
            let binary = labels.map { $0 > 0 ? 1 : 0 }
            let positives = binary.reduce(0, +)
            var metrics = AUROCMetrics(auroc: try ROC.auroc(scores: scores, labels: binary), count: scores.count,
                                       positives: positives, negatives: binary.count - positives)
            let kinds = Set(labels.filter { $0 > 0 }).sorted()
            if kinds.count > 1 {
                var per: [String: Double] = [:]
                for t in kinds {
                    let keep = labels.indices.filter { labels[$0] == 0 || labels[$0] == t }
                    per[String(t)] = try ROC.auroc(scores: keep.map { scores[$0] }, labels: keep.map { binary[$0] })
                }
                metrics.aurocPerLabel = per
            }
            var report = Report(tool: "mlcore", command: "score auroc")
            report.config = OptionReflection.config(of: self)
            try report.setMetrics(metrics)
            report.units = ["auroc": "fraction", "count": "items"]
            try report.write(to: output)
        } catch {
            ToolRunner.fail(tool: "mlcore score auroc", error)
        }
    }
}

/// `mlcore score auroc`'s metrics (snake_case keys in the report).
struct AUROCMetrics: Encodable {
    var auroc: Double
    var count: Int, positives: Int, negatives: Int
    /// Each positive label's AUROC against the negatives alone, by label; absent with one positive label.
    var aurocPerLabel: [String: Double]?
}
