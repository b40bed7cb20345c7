import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI

/// `mlcore metric trec`: trec_eval's measures of a TREC run against qrels (`Retrieval`, `TRECFiles`,
/// Docs/METRICS.md §3), as a JSON report or trec_eval's own text.
struct MetricTREC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trec",
        abstract: "trec_eval's measures of a run against qrels (map, ndcg_cut.k, P.k, recall.k, recip_rank, ...).",
        discussion: """
            Example:
              prop bm25 ... > run.txt && mlcore metric trec --run run.txt --qrels qrels.txt -m map -m ndcg_cut.20
            Run lines: query Q0 document rank score tag; qrels lines: query iteration document relevance. \
            Documents are ranked by score (ties: document id decreasing, as trec_eval), relevant = level ≥ 1, \
            and the mean is over the queries in both files (trec_eval without -c). Measures (-m, repeatable, \
            trec_eval's names): map, recip_rank, Rprec, ndcg, P, recall, ndcg_cut, map_cut, success, the \
            last five with cutoffs (P.5,10; none: trec_eval's defaults). Default: -m map -m ndcg_cut.10 \
            -m P.10 -m recall.100 -m recip_rank. --format trec prints trec_eval's lines \
            (measure<TAB>query<TAB>value, "all" for the mean) instead of the JSON report; -q adds every query.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case json, trec }

    @OptionGroup var outputOption: OutputOption

    @Option(name: .customLong("run"), help: ArgumentHelp("The run file ('-': stdin).", valueName: "file"))
    var runFile: String

    @Option(help: ArgumentHelp("The qrels file.", valueName: "file"))
    var qrels: String

    @Option(name: [.customShort("m"), .customLong("measure")],
            help: ArgumentHelp("A trec_eval measure (repeatable): map, ndcg_cut.10, P.5,10, recall.100, recip_rank, ...", valueName: "measure"))
    var measureNames: [String] = []

    @Flag(name: [.customShort("q"), .customLong("per-query")], help: "Also give every query's values.")
    var perQuery = false

    @Option(help: ArgumentHelp("Also write every query's values as JSON lines {\"query\": q, measure: value, ...} here (for metric bootstrap).",
                               valueName: "file"))
    var queryLines: String?

    @Option(help: "Output: json (the report) or trec (trec_eval's tab-separated lines).")
    var format: Format = .json

    @Option(help: "Decimals of --format trec values (trec_eval prints 4).")
    var decimals = 4

    @Flag(help: "Read invalid UTF-8 in the files as U+FFFD instead of refusing the line.")
    var lossy = false

    static let defaultMeasures = ["map", "ndcg_cut.10", "P.10", "recall.100", "recip_rank"]

    func validate() throws {
        if !(0...17).contains(decimals) { throw ValidationError("--decimals must be in 0...17, got \(decimals)") }
        for name in measureNames {
            do { _ = try Retrieval.measures(named: name) } catch { throw ValidationError("-m \(name): \(error)") }
        }
        if runFile == "-" && qrels == "-" { throw ValidationError("--run and --qrels cannot both be stdin") }
    }

    /// The measures asked for, in order, each once.
    func measures() throws -> [Retrieval.Measure] {
        var seen = Set<String>()
        return try (measureNames.isEmpty ? Self.defaultMeasures : measureNames).flatMap { try Retrieval.measures(named: $0) }
            .filter { seen.insert($0.description).inserted }
    }

    /// Streams a file's lines into `add`.
    func read(_ path: String, _ add: (ArraySlice<UInt8>, Int) throws -> Void) throws {
        var lines = try TextLines.open(path: path, lossy: lossy)
        defer { lines.close() }
        while try lines.nextBytes(add) != nil {}
    }

    func evaluate() throws -> (measures: [Retrieval.Measure], evaluations: [Retrieval.Evaluation]) {
        var judged = TRECFiles.QrelsReader(source: qrels == "-" ? "stdin" : qrels)
        try read(qrels) { try judged.add($0, line: $1) }
        var ranked = TRECFiles.RunReader(source: runFile == "-" ? "stdin" : runFile)
        try read(runFile) { try ranked.add($0, line: $1) }
        let measures = try measures()
        let evaluations = try Retrieval.evaluate(measures, run: ranked.finish(), qrels: judged.qrels)
        if let queryLines, let first = evaluations.first {
            var text = ""
            for query in first.perQuery.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                var object: [String: JSONValue] = ["query": .string(query)]
                for (m, e) in zip(measures, evaluations) { object[m.description] = .double(e.perQuery[query]!) }
                text += try JSONValue.object(object).jsonText() + "\n"
            }
            try OutputFile.write(Data(text.utf8), to: queryLines)
        }
        return (measures, evaluations)
    }

    func run() throws {
        guard format == .trec else {
            try runMetric("metric trec", output: outputOption.output, reflecting: self) { context in
                let (measures, evaluations) = try context.timer.measure("evaluate") { try evaluate() }
                var out = MetricOutcome()
                out.inputs = ["run": runFile == "-" ? ["path": "-"] : try fileInput(runFile), "qrels": try fileInput(qrels)]
                out.metrics["num_q"] = .int(evaluations.first?.perQuery.count ?? 0)
                out.units["num_q"] = "queries"
                var per: [String: JSONValue] = [:]
                for (m, e) in zip(measures, evaluations) {
                    out.metrics[m.description] = .double(e.mean)
                    out.units[m.description] = "fraction"
                    if perQuery { per[m.description] = .object(e.perQuery.mapValues(JSONValue.double)) }
                }
                if perQuery { out.metrics["per_query"] = .object(per) }
                return out
            }
            return
        }
        do {
            let (measures, evaluations) = try evaluate()
            let text = Self.trecText(measures: measures, evaluations: evaluations, perQuery: perQuery, decimals: decimals)
            if let output = outputOption.output, output != "-" {
                try OutputFile.write(Data(text.utf8), to: output)
            } else {
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        } catch {
            ToolRunner.fail(tool: "mlcore metric trec", error)
        }
    }

    /// trec_eval's output lines: `measure` padded to 22 characters, a tab, the query ("all" for the
    /// mean), a tab and the value with `decimals` decimals; with `perQuery`, each query's lines first
    /// (queries in byte order), measures in the order asked.
    static func trecText(measures: [Retrieval.Measure], evaluations: [Retrieval.Evaluation], perQuery: Bool, decimals: Int) -> String {
        func line(_ name: String, _ query: String, _ value: Double) -> String {
            name.padding(toLength: max(22, name.count), withPad: " ", startingAt: 0) + "\t" + query + "\t"
                + String(format: "%.\(decimals)f", value) + "\n"
        }
        var text = ""
        if perQuery, let first = evaluations.first {
            for query in first.perQuery.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                for (m, e) in zip(measures, evaluations) { text += line(m.description, query, e.perQuery[query]!) }
            }
        }
        for (m, e) in zip(measures, evaluations) { text += line(m.description, "all", e.mean) }
        return text
    }
}
