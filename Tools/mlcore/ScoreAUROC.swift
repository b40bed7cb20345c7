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

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the JSON report to this file ('-' for stdout).", valueName: "file"))
    var output: String?

    func run() throws {
        do {
            var scores: [Double] = [], labels: [Int] = [], lineNumber = 0
            while let line = readLine(strippingNewline: true) {
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
            var metrics: [String: JSONValue] = ["auroc": .double(try ROC.auroc(scores: scores, labels: binary)),
                                                "count": .int(scores.count), "positives": .int(binary.reduce(0, +)),
                                                "negatives": .int(binary.count - binary.reduce(0, +))]
            let kinds = Set(labels.filter { $0 > 0 }).sorted()
            if kinds.count > 1 {
                var per: [String: JSONValue] = [:]
                for t in kinds {
                    let keep = labels.indices.filter { labels[$0] == 0 || labels[$0] == t }
                    per[String(t)] = .double(try ROC.auroc(scores: keep.map { scores[$0] }, labels: keep.map { binary[$0] }))
                }
                metrics["auroc_per_label"] = .object(per)
            }
            var report = Report(tool: "mlcore", command: "score auroc")
            report.metrics = metrics
            report.units = ["auroc": "fraction", "count": "items"]
            try report.write(to: output)
        } catch {
            ToolRunner.fail(tool: "mlcore score auroc", error)
        }
    }
}
