import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI

/// `mlcore metric <family>`: every metric family of `MLCore/Metrics` at the shell, for pipelines
/// (Docs/METRICS.md, "At the shell").
struct Metric: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Metrics of predictions read from files or stdin: a JSON report (Docs/METRICS.md, \"At the shell\").",
        discussion: """
            One subcommand per family:
              reb score --bank bank.h5 | mlcore metric auroc --fpr 0.01
              mlcore metric classification preds.jsonl     ({"prediction": p, "label": y} lines)
              mlcore metric calibration probs.jsonl        ({"probs": [...], "label": y} lines)
              mlcore metric trec --run run.txt --qrels qrels.txt -m map -m ndcg_cut.20 --format trec
              mlcore metric caption --candidates results.json --references captions.json
              mlcore metric ranking ranks.jsonl            ({"rank": r} lines)
              mlcore metric pose poses.jsonl               ({"predicted": [[x,y,z],...], "target": [...]} lines)
              mlcore metric bootstrap --key value values.jsonl --seed 1
            JSON-lines inputs are streamed; a malformed line is refused naming the file and line (exit 65), \
            NaN and infinite values are refused. When a metric is undefined for the input (AUROC with one \
            class), the report holds it as null with the reason under "undefined" and the exit code is 3.
            """,
        subcommands: [MetricAUROC.self, MetricClassification.self, MetricCalibration.self, MetricTREC.self,
                      MetricCaption.self, MetricRanking.self, MetricPose.self, MetricBootstrap.self])
}

/// The exit code of a run whose report was written but holds an undefined metric (null, with the
/// reason under `undefined`): distinct from success and from the error codes 64–70.
let undefinedMetricExitCode: Int32 = 3

/// The JSON-lines input of a metric command: a file argument ('-' or none: stdin) and `--lossy`.
struct RecordsInputOption: ParsableArguments {
    @Argument(help: ArgumentHelp("JSON-lines input, one object per line ('-' or nothing: stdin).", valueName: "file"))
    var input: String = "-"

    @OptionGroup var textInput: TextInputOption

    /// Opens the input for records with `fields`.
    /// - Throws: `MetricsError.unreadableFile` (exit 66).
    func open(_ fields: [(String, JSONLineScanner.Kind)], expected: String) throws -> JSONRecords {
        try JSONRecords(path: input, lossy: textInput.lossy, fields: fields, expected: expected)
    }

    /// The report's `inputs` entry: path and SHA-256 for a file, `{"path": "-"}` for stdin.
    func reportInput() throws -> JSONValue { input == "-" ? ["path": "-"] : try fileInput(input) }
}

/// What a metric command computed: the report's metrics and units, its inputs, and the metrics that
/// are undefined for this input (key → reason; their values in `metrics` are null).
struct MetricOutcome {
    var metrics: [String: JSONValue] = [:]
    var units: [String: String] = [:]
    var inputs: [String: JSONValue] = [:]
    var undefined: [String: String] = [:]

    /// Stores `compute()` under `key`, or null with the reason when it throws `MetricsError.undefined`.
    mutating func set(_ key: String, _ compute: () throws -> JSONValue) throws {
        do {
            metrics[key] = try compute()
        } catch MetricsError.undefined(_, let reason) {
            metrics[key] = .null
            undefined[key] = reason
        }
    }
}

/// Runs a metric command through `ToolRunner` (report with config, timing, environment; errors to
/// exit codes) and exits with `undefinedMetricExitCode` after writing a report with an undefined metric.
func runMetric(_ command: String, output: String?, seed: UInt64 = 0, reflecting parsed: Any,
               _ body: (inout ToolRunner.Context) throws -> MetricOutcome) throws {
    // Metric commands take -o/--output (and bootstrap --seed) but not the rest of CommonOptions: -q is
    // trec_eval's per-query flag here, not --quiet.
    let options = try CommonOptions.parse((output.map { ["--output", $0] } ?? []) + ["--seed", String(seed)])
    var undefined: [String: String] = [:]
    try ToolRunner.run(tool: "mlcore", command: command, options: options, reflecting: parsed) { context in
        let outcome: MetricOutcome
        do { outcome = try body(&context) } catch { ToolRunner.fail(tool: "mlcore \(command)", error) }
        var report = Report(tool: "mlcore", command: command)
        report.metrics = outcome.metrics
        if !outcome.undefined.isEmpty { report.metrics["undefined"] = .object(outcome.undefined.mapValues(JSONValue.string)) }
        report.units = outcome.units
        report.inputs = outcome.inputs
        undefined = outcome.undefined
        return report
    }
    if !undefined.isEmpty {
        let byReason = Dictionary(grouping: undefined.keys.sorted(), by: { undefined[$0]! })
        let text = byReason.keys.sorted().map { "\(byReason[$0]!.joined(separator: ", ")) undefined: \($0)" }.joined(separator: "; ")
        FileHandle.standardError.write(Data("mlcore \(command): \(text) (exit \(undefinedMetricExitCode))\n".utf8))
        exit(undefinedMetricExitCode)
    }
}

/// Number keys of a report: "0.01" for 0.01, "10" for 10 (Swift's shortest round-trip spelling).
func metricKey(_ x: Double) -> String {
    x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)"
}
