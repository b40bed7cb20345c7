import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI

/// `mlcore metric auroc` (alias `mlcore score auroc`): AUROC, average precision and operating points
/// of scored items (`ROC`, Docs/METRICS.md §2).
struct MetricAUROC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auroc",
        abstract: "AUROC and average precision of scored items: JSON lines with a numeric \"score\" and an integer \"label\".",
        discussion: """
            Example:
              reb score --bank bank.h5 | mlcore metric auroc --fpr 0.01 --fpr 0.1
            Labels > 0 are positives (anomalous), 0 negatives; a higher score means more positive. Reports \
            auroc (scikit-learn roc_auc_score), average_precision (average_precision_score), count, \
            positives, negatives; with several positive label values also each one's AUROC against the \
            negatives alone (auroc_per_label); tpr_at_fpr for each --fpr (the largest TPR with FPR ≤ x); \
            the full ROC curve with --roc (thresholds[0] = +∞ is written as null). One class only: auroc \
            is null with the reason, exit 3. `mlcore score auroc` is the same command.
            """)

    @OptionGroup var outputOption: OutputOption
    @OptionGroup var records: RecordsInputOption

    @Option(name: .customLong("fpr"), help: ArgumentHelp("Report the TPR at this false-positive rate (repeatable).", valueName: "rate"))
    var falsePositiveRates: [Double] = []

    @Flag(help: "Add the ROC curve (fpr, tpr, thresholds) to the report.")
    var roc = false

    func validate() throws {
        for x in falsePositiveRates where !(x >= 0 && x <= 1) { throw ValidationError("--fpr \(x) is not a rate in [0, 1]") }
    }

    func run() throws {
        try runMetric("metric auroc", output: outputOption.output, reflecting: self) { _ in
            var input = try records.open([("score", .number), ("label", .number)],
                                         expected: "a JSON object with a numeric \"score\" and an integer \"label\" ≥ 0")
            defer { input.close() }
            var scores: [Double] = [], labels: [Int] = []
            while try input.next() {
                let score = try input.require(0), label = Int(try input.require(1, integer: true))
                if label < 0 { throw input.error("an integer \"label\" ≥ 0, found \(label)") }
                scores.append(score)
                labels.append(label)
            }
            if scores.isEmpty { throw MetricsError.empty(metric: "AUROC", what: "the input (\(input.source))") }
            return try Self.metrics(scores: scores, labels: labels, rates: falsePositiveRates, curve: roc,
                                    input: records.reportInput())
        }
    }

    static func metrics(scores: [Double], labels: [Int], rates: [Double], curve: Bool, input: JSONValue) throws -> MetricOutcome {
        var out = MetricOutcome()
        let binary = labels.map { $0 > 0 ? 1 : 0 }
        let positives = binary.reduce(0, +)
        out.inputs = ["input": input]
        out.metrics = ["count": .int(scores.count), "positives": .int(positives), "negatives": .int(scores.count - positives)]
        out.units = ["auroc": "fraction", "average_precision": "fraction", "count": "items", "tpr_at_fpr": "fraction"]
        try out.set("auroc") { .double(try ROC.auroc(scores: scores, labels: binary)) }
        try out.set("average_precision") { .double(try ROC.averagePrecision(scores: scores, labels: binary)) }
        let kinds = Set(labels.filter { $0 > 0 }).sorted()
        if kinds.count > 1 {
            try out.set("auroc_per_label") {
                var per: [String: JSONValue] = [:]
                for t in kinds {
                    let keep = labels.indices.filter { labels[$0] == 0 || labels[$0] == t }
                    per[String(t)] = .double(try ROC.auroc(scores: keep.map { scores[$0] }, labels: keep.map { binary[$0] }))
                }
                return .object(per)
            }
        }
        if curve || !rates.isEmpty {
            do {
                if !rates.isEmpty {
                    var tpr: [String: JSONValue] = [:]
                    for x in rates { tpr[metricKey(x)] = .double(try ROC.truePositiveRate(atFalsePositiveRate: x, scores: scores, labels: binary)) }
                    out.metrics["tpr_at_fpr"] = .object(tpr)
                }
                if curve {
                    let c = try ROC.curve(scores: scores, labels: binary)
                    out.metrics["roc"] = ["fpr": JSONValue(c.falsePositiveRates), "tpr": JSONValue(c.truePositiveRates),
                                          "thresholds": .array(c.thresholds.map { $0.isFinite ? .double($0) : .null })]
                }
            } catch MetricsError.undefined(_, let reason) {
                for key in (rates.isEmpty ? [] : ["tpr_at_fpr"]) + (curve ? ["roc"] : []) {
                    out.metrics[key] = .null
                    out.undefined[key] = reason
                }
            }
        }
        return out
    }
}

/// `mlcore metric classification`: accuracy, binary and macro precision/recall/F1 and the confusion
/// matrix of predicted classes (`Classification`, Docs/METRICS.md §1).
struct MetricClassification: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classification",
        abstract: "Accuracy, precision/recall/F1 (binary and macro) and the confusion matrix: JSON lines with an integer \"label\" and a \"prediction\" (or \"probs\", whose arg-max is the prediction).",
        discussion: """
            Example:
              mlcore metric classification --positive 1 predictions.jsonl
            Classes are integers ≥ 0; the confusion matrix has --classes rows (default: the largest class \
            seen + 1), rows = truth, columns = prediction (scikit-learn confusion_matrix). Binary scores \
            take --positive as the positive class and every other class as negative.
            """)

    @OptionGroup var outputOption: OutputOption
    @OptionGroup var records: RecordsInputOption

    @Option(help: "The positive class of the binary precision/recall/F1.")
    var positive = 1

    @Option(help: "Number of classes of the confusion matrix (default: the largest class seen + 1).")
    var classes: Int?

    func validate() throws {
        if let classes, classes < 1 { throw ValidationError("--classes must be at least 1, got \(classes)") }
    }

    func run() throws {
        try runMetric("metric classification", output: outputOption.output, reflecting: self) { _ in
            var input = try records.open([("prediction", .number), ("label", .number), ("probs", .numbers)],
                                         expected: "a JSON object with an integer \"label\" ≥ 0 and an integer \"prediction\" ≥ 0 or \"probs\"")
            defer { input.close() }
            var predictions: [Int] = [], labels: [Int] = []
            while try input.next() {
                let label = Int(try input.require(1, integer: true))
                var prediction: Int
                if let p = try input.number(0, integer: true) {
                    prediction = Int(p)
                } else if let (probs, shape) = try input.numbers(2), shape.count == 1, !probs.isEmpty {
                    prediction = 0
                    for (c, v) in probs.enumerated() where v > probs[probs.startIndex + prediction] { prediction = c }
                } else {
                    throw input.error("\(input.expected); found neither \"prediction\" nor a non-empty \"probs\" array")
                }
                if label < 0 || prediction < 0 { throw input.error("classes ≥ 0, found label \(label), prediction \(prediction)") }
                predictions.append(prediction)
                labels.append(label)
            }
            if labels.isEmpty { throw MetricsError.empty(metric: "classification", what: "the input (\(input.source))") }
            let classCount = classes ?? (max(predictions.max()!, labels.max()!) + 1)
            var out = MetricOutcome()
            out.inputs = ["input": try records.reportInput()]
            let binary = try Classification.binary(predictions: predictions, labels: labels, positive: positive)
            let macro = try Classification.macro(predictions: predictions, labels: labels)
            out.metrics = [
                "count": .int(labels.count), "classes": .int(classCount),
                "accuracy": .double(try Classification.accuracy(predictions: predictions, labels: labels)),
                "binary": ["precision": .double(binary.precision), "recall": .double(binary.recall), "f1": .double(binary.f1)],
                "macro": ["precision": .double(macro.precision), "recall": .double(macro.recall), "f1": .double(macro.f1)],
                "confusion_matrix": .array(try Classification.confusionMatrix(predictions: predictions, labels: labels, classCount: classCount)
                    .map { JSONValue($0) }),
            ]
            out.units = ["accuracy": "fraction", "binary": "fraction", "macro": "fraction", "confusion_matrix": "items"]
            return out
        }
    }
}

/// `mlcore metric calibration`: ECE with its reliability data, NLL and Brier score of predicted class
/// probabilities (`Calibration`, Docs/METRICS.md §1).
struct MetricCalibration: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibration",
        abstract: "Expected calibration error (with reliability bins), NLL and Brier score: JSON lines {\"probs\": [p0, p1, ...], \"label\": y}.",
        discussion: """
            Example:
              mlcore metric calibration --bins 15 probs.jsonl
            probs are one row of C ≥ 2 class probabilities per item (all rows the same C), label a class \
            in 0..<C. ECE: Guo et al. 2017 over --bins equal-width bins of the max probability (bins \
            (b/M, (b+1)/M]); nll: scikit-learn log_loss (nats); brier: brier_score_loss (halved for C = 2, \
            so it equals the binary score); accuracy of the arg-max.
            """)

    @OptionGroup var outputOption: OutputOption
    @OptionGroup var records: RecordsInputOption

    @Option(help: "Equal-width confidence bins of the ECE.")
    var bins = 10

    func validate() throws {
        if bins < 1 { throw ValidationError("--bins must be at least 1, got \(bins)") }
    }

    /// The lines' probability rows and labels (all rows the same width ≥ 2, values in [0, 1], labels
    /// in 0..<C); shared with `metric bootstrap`.
    /// - Throws: `MetricsError` naming the file and line; `.empty` for no lines.
    static func read(_ records: RecordsInputOption) throws -> (rows: [[Double]], labels: [Int]) {
        var input = try records.open([("probs", .numbers), ("label", .number)],
                                     expected: "a JSON object with a \"probs\" array of class probabilities and an integer \"label\"")
        defer { input.close() }
        var rows: [[Double]] = [], labels: [Int] = []
        while try input.next() {
            guard let (probs, shape) = try input.numbers(0) else { throw input.error("\(input.expected); \"probs\" is missing") }
            guard shape.count == 1, probs.count >= 2 else { throw input.error("\"probs\" as a flat array of at least 2 probabilities") }
            if let width = rows.first?.count, probs.count != width {
                throw input.error("\(width) probabilities in \"probs\" (as on the first line), found \(probs.count)")
            }
            if let bad = probs.first(where: { $0 < 0 || $0 > 1 }) { throw input.error("probabilities in [0, 1], found \(bad)") }
            let label = Int(try input.require(1, integer: true))
            if label < 0 || label >= probs.count { throw input.error("a \"label\" in 0..<\(probs.count), found \(label)") }
            rows.append(Array(probs))
            labels.append(label)
        }
        if rows.isEmpty { throw MetricsError.empty(metric: "calibration", what: "the input (\(input.source))") }
        return (rows, labels)
    }

    func run() throws {
        try runMetric("metric calibration", output: outputOption.output, reflecting: self) { _ in
            let (rows, labels) = try MetricCalibration.read(records)
            let reliability = try Calibration.expectedCalibrationError(probabilities: rows, labels: labels, binCount: bins)
            var correct = 0
            for (row, y) in zip(rows, labels) {
                var best = 0
                for c in 1..<row.count where row[c] > row[best] { best = c }
                if best == y { correct += 1 }
            }
            var out = MetricOutcome()
            out.inputs = ["input": try records.reportInput()]
            out.metrics = [
                "count": .int(rows.count), "classes": .int(rows[0].count),
                "ece": .double(reliability.expectedCalibrationError),
                "reliability": .array(reliability.bins.map { b in
                    ["lower": .double(b.lower), "upper": .double(b.upper), "count": .int(b.count),
                     "confidence": .double(b.meanConfidence), "accuracy": .double(b.accuracy)]
                }),
                "nll": .double(try Calibration.logLoss(probabilities: rows, labels: labels)),
                "brier": .double(try Calibration.brierScore(probabilities: rows, labels: labels)),
                "accuracy": .double(Double(correct) / Double(rows.count)),
            ]
            out.units = ["ece": "fraction", "nll": "nats per item", "brier": "squared probability", "accuracy": "fraction"]
            return out
        }
    }
}

/// `mlcore metric ranking`: MR, MRR and Hits@k from per-query ranks (`LinkPrediction.summarize`,
/// Docs/METRICS.md §4).
struct MetricRanking: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ranking",
        abstract: "Mean rank, mean reciprocal rank and Hits@k of ranks: JSON lines {\"rank\": r}, or {\"optimistic\": o, \"pessimistic\": p} for ranks with ties.",
        discussion: """
            Example:
              mlcore metric ranking --hits 1 --hits 10 ranks.jsonl
            Ranks are integers ≥ 1 (1 = the gold answer ranked first). With ties, give the optimistic rank \
            (1 + #better) and the pessimistic one (1 + #better + #tied); --ties picks the policy \
            (realistic: their mean, as PyKEEN). A realistic 1.5 is not a Hit@1.
            """)

    enum TiePolicyName: String, ExpressibleByArgument, CaseIterable {
        case optimistic, pessimistic, realistic
        var policy: LinkPrediction.TiePolicy {
            switch self {
            case .optimistic: return .optimistic
            case .pessimistic: return .pessimistic
            case .realistic: return .realistic
            }
        }
    }

    @OptionGroup var outputOption: OutputOption
    @OptionGroup var records: RecordsInputOption

    @Option(name: .customLong("hits"), help: ArgumentHelp("Report Hits@k for this k (repeatable; default 1, 3, 10).", valueName: "k"))
    var hitsAt: [Int] = []

    @Option(help: "Tie policy for optimistic/pessimistic ranks.")
    var ties: TiePolicyName = .realistic

    func validate() throws {
        for k in hitsAt where k < 1 { throw ValidationError("--hits \(k): k must be at least 1") }
    }

    /// The lines' ranks ({"rank": r} or {"optimistic": o, "pessimistic": p}, all ≥ 1); shared with
    /// `metric bootstrap`.
    /// - Throws: `MetricsError` naming the file and line; `.empty` for no lines.
    static func read(_ records: RecordsInputOption) throws -> [LinkPrediction.Rank] {
        var input = try records.open([("rank", .number), ("optimistic", .number), ("pessimistic", .number)],
                                     expected: "a JSON object with an integer \"rank\" ≥ 1 (or \"optimistic\" and \"pessimistic\")")
        defer { input.close() }
        var ranks: [LinkPrediction.Rank] = []
        while try input.next() {
            let rank: LinkPrediction.Rank
            if let r = try input.number(0, integer: true) {
                rank = LinkPrediction.Rank(optimistic: Int(r), pessimistic: Int(r))
            } else if let o = try input.number(1, integer: true), let p = try input.number(2, integer: true) {
                guard p >= o else { throw input.error("\"pessimistic\" ≥ \"optimistic\", found \(Int(p)) < \(Int(o))") }
                rank = LinkPrediction.Rank(optimistic: Int(o), pessimistic: Int(p))
            } else {
                throw input.error("\(input.expected); found neither")
            }
            if rank.optimistic < 1 { throw input.error("ranks ≥ 1, found \(rank.optimistic)") }
            ranks.append(rank)
        }
        if ranks.isEmpty { throw MetricsError.empty(metric: "ranking", what: "the input (\(input.source))") }
        return ranks
    }

    func run() throws {
        try runMetric("metric ranking", output: outputOption.output, reflecting: self) { _ in
            let ranks = try MetricRanking.read(records)
            let ks = hitsAt.isEmpty ? [1, 3, 10] : hitsAt
            let summary = try LinkPrediction.summarize(ranks, policy: ties.policy, hitsAt: ks)
            var out = MetricOutcome()
            out.inputs = ["input": try records.reportInput()]
            out.metrics = ["count": .int(ranks.count), "mr": .double(summary.meanRank), "mrr": .double(summary.meanReciprocalRank),
                           "hits_at": .object(Dictionary(uniqueKeysWithValues: summary.hits.map { (String($0.key), JSONValue.double($0.value)) }))]
            out.units = ["mr": "rank", "mrr": "1/rank", "hits_at": "fraction"]
            return out
        }
    }
}

/// `mlcore metric pose`: MPJPE, PA-MPJPE and PVE of 3-D poses (`Pose`, Docs/METRICS.md §6).
struct MetricPose: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pose",
        abstract: "MPJPE and PA-MPJPE of 3-D joints (and PVE of mesh vertices): one sample per JSON line, {\"predicted\": [[x,y,z], ...], \"target\": [[x,y,z], ...]}.",
        discussion: """
            Example:
              mlcore metric pose --unit mm poses.jsonl
            Every line has the same number of joints J (rows of 3 coordinates). Lines may also carry \
            "predicted_vertices" and "target_vertices" (all or none of the lines): PVE is then reported. \
            Errors are in the input's unit (--unit names it in the report). PA-MPJPE aligns each sample \
            by the best similarity transform (SPIN/VIBE's compute_similarity_transform).
            """)

    @OptionGroup var outputOption: OutputOption
    @OptionGroup var records: RecordsInputOption

    @Option(help: "The unit of the coordinates, for the report.")
    var unit = "mm"

    /// The lines' poses, flattened row-major: `predicted`/`target` [samples, joints, 3] and, when the
    /// lines carry them, the vertices [samples, vertices, 3]; shared with `metric bootstrap`.
    struct Poses {
        var predicted: [Double], target: [Double], joints: Int, samples: Int
        var predictedVertices: [Double], targetVertices: [Double], vertices: Int?
    }

    /// Reads every line (the same J joints, and V vertices on all lines or none).
    /// - Throws: `MetricsError` naming the file and line; `.empty` for no lines.
    static func read(_ records: RecordsInputOption) throws -> Poses {
        var input = try records.open([("predicted", .numbers), ("target", .numbers), ("predicted_vertices", .numbers),
                                      ("target_vertices", .numbers)],
                                     expected: "a JSON object with \"predicted\" and \"target\" arrays of [x, y, z] rows")
        defer { input.close() }
        var predicted: [Double] = [], target: [Double] = [], predictedVertices: [Double] = [], targetVertices: [Double] = []
        var joints: Int?, vertices: Int?
        func readRows(_ a: Int, _ b: Int, _ what: String, count: inout Int?, into p: inout [Double], _ t: inout [Double]) throws {
            guard let (pv, ps) = try input.numbers(a), let (tv, ts) = try input.numbers(b) else {
                throw input.error("\(input.expected); \(what) missing")
            }
            guard ps.count == 2, ps[1] == 3, ps == ts, ps[0] > 0 else {
                throw input.error("\(what) as equal non-empty arrays of [x, y, z] rows, found shapes \(ps) and \(ts)")
            }
            if let n = count, n != ps[0] { throw input.error("\(n) rows in \(what) (as on the first line), found \(ps[0])") }
            count = ps[0]
            p.append(contentsOf: pv)
            t.append(contentsOf: tv)
        }
        var samples = 0
        while try input.next() {
            try readRows(0, 1, "\"predicted\"/\"target\"", count: &joints, into: &predicted, &target)
            let hasVertices = input.scanner.ranges[2] != nil || input.scanner.ranges[3] != nil
            if hasVertices != (vertices != nil) && samples > 0 {
                throw input.error("\"predicted_vertices\"/\"target_vertices\" on every line or on none")
            }
            if hasVertices { try readRows(2, 3, "\"predicted_vertices\"/\"target_vertices\"", count: &vertices, into: &predictedVertices, &targetVertices) }
            samples += 1
        }
        guard let joints else { throw MetricsError.empty(metric: "pose", what: "the input (\(input.source))") }
        return Poses(predicted: predicted, target: target, joints: joints, samples: samples,
                     predictedVertices: predictedVertices, targetVertices: targetVertices, vertices: vertices)
    }

    func run() throws {
        try runMetric("metric pose", output: outputOption.output, reflecting: self) { _ in
            let poses = try MetricPose.read(records)
            let (predicted, target, joints, samples) = (poses.predicted, poses.target, poses.joints, poses.samples)
            let (predictedVertices, targetVertices, vertices) = (poses.predictedVertices, poses.targetVertices, poses.vertices)
            var out = MetricOutcome()
            out.inputs = ["input": try records.reportInput()]
            out.metrics = ["count": .int(samples), "joints": .int(joints),
                           "mpjpe": .double(try Pose.mpjpe(predicted: predicted, target: target, jointCount: joints)),
                           "pa_mpjpe": .double(try Pose.paMPJPE(predicted: predicted, target: target, jointCount: joints))]
            out.units = ["mpjpe": unit, "pa_mpjpe": unit]
            if let vertices {
                out.metrics["vertices"] = .int(vertices)
                out.metrics["pve"] = .double(try Pose.pve(predicted: predictedVertices, target: targetVertices, vertexCount: vertices))
                out.units["pve"] = unit
            }
            return out
        }
    }
}

/// `mlcore metric bootstrap`: a seeded percentile bootstrap interval of any metric family's statistic
/// over its items (`Statistics.bootstrapInterval`, Docs/METRICS.md §7): the items are resampled with
/// replacement and the statistic recomputed on each resample from the same lines its family reads.
struct MetricBootstrap: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bootstrap",
        abstract: "A seeded percentile bootstrap interval of any metric over items read as JSON lines.",
        discussion: """
            Examples:
              mlcore metric trec --run run.txt --qrels qrels.txt -m map --query-lines ap.jsonl
              mlcore metric bootstrap --key map --seed 7 ap.jsonl             (mean AP over queries)
              reb score --bank bank.h5 | mlcore metric bootstrap --statistic auroc
              mlcore metric bootstrap --statistic ece --bins 15 probs.jsonl
            The statistic and the lines it reads (the same as its metric family's):
              mean (default)               the number under --key (default "value"): per-query or \
            per-image values from trec --query-lines or caption --image-lines
              auroc, average-precision     "score"/"label" lines, as metric auroc
              accuracy, f1, macro-f1       "prediction"/"label" lines, as metric classification (f1: \
            binary, --positive)
              ece, nll, brier              "probs"/"label" lines, as metric calibration (ece: --bins)
              mr, mrr, hits                "rank" (or "optimistic"/"pessimistic") lines, as metric \
            ranking (hits: Hits@--hits, --ties)
              mpjpe, pa-mpjpe, pve         "predicted"/"target" (and vertices) lines, as metric pose
            Items are resampled with replacement (--resamples times, drawn by the seeded generator: the \
            same --seed gives the same interval); the interval is the (1 − c)/2 and (1 + c)/2 quantiles of \
            the resampled statistic (Efron & Tibshirani 1993, §13.3).
            """)

    enum StatisticName: String, ExpressibleByArgument, CaseIterable {
        case mean, auroc, averagePrecision = "average-precision", accuracy, f1, macroF1 = "macro-f1"
        case ece, nll, brier, mr, mrr, hits, mpjpe, paMPJPE = "pa-mpjpe", pve
    }

    @OptionGroup var outputOption: OutputOption
    @OptionGroup var records: RecordsInputOption

    @Option(parsing: .unconditional, help: "Seed of the resampling (same seed, same interval).")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("The statistic (see above): \(StatisticName.allCases.map(\.rawValue).joined(separator: ", ")).",
                               valueName: "name"))
    var statistic: StatisticName = .mean

    @Option(help: "The member holding each item's value (--statistic mean).")
    var key = "value"

    @Option(help: "The positive class (--statistic f1).")
    var positive = 1

    @Option(help: "Equal-width confidence bins (--statistic ece).")
    var bins = 10

    @Option(help: ArgumentHelp("k of Hits@k (--statistic hits).", valueName: "k"))
    var hits = 10

    @Option(help: "Tie policy for optimistic/pessimistic ranks (--statistic mr, mrr, hits).")
    var ties: MetricRanking.TiePolicyName = .realistic

    @Option(help: "Bootstrap resamples.")
    var resamples = 1000

    @Option(help: "Confidence level of the interval, in (0, 1).")
    var confidence = 0.95

    func validate() throws {
        if resamples < 1 { throw ValidationError("--resamples must be at least 1, got \(resamples)") }
        if !(confidence > 0 && confidence < 1) { throw ValidationError("--confidence \(confidence) is not in (0, 1)") }
        if bins < 1 { throw ValidationError("--bins must be at least 1, got \(bins)") }
        if hits < 1 { throw ValidationError("--hits \(hits): k must be at least 1") }
    }

    /// The statistic as a function of the resampled item indices (given as Doubles, as
    /// `Statistics.bootstrapInterval` resamples values), and the item count.
    private func measure() throws -> (count: Int, statistic: ([Double]) throws -> Double) {
        /// Mean of per-item values.
        func meanOf(_ v: [Double]) -> (Int, ([Double]) throws -> Double) {
            (v.count, { s in s.reduce(0) { $0 + v[Int($1)] } / Double(s.count) })
        }
        switch statistic {
        case .mean:
            var input = try records.open([(key, .number)], expected: "a JSON object with a numeric \"\(key)\"")
            defer { input.close() }
            var values: [Double] = []
            while try input.next() { values.append(try input.require(0)) }
            if values.isEmpty { throw MetricsError.empty(metric: "bootstrap", what: "the input (\(input.source))") }
            return meanOf(values)
        case .auroc, .averagePrecision:
            var input = try records.open([("score", .number), ("label", .number)],
                                         expected: "a JSON object with a numeric \"score\" and an integer \"label\" ≥ 0")
            defer { input.close() }
            var scores: [Double] = [], labels: [Int] = []
            while try input.next() {
                scores.append(try input.require(0))
                let label = try input.require(1, integer: true)
                if label < 0 { throw input.error("an integer \"label\" ≥ 0, found \(label)") }
                labels.append(label > 0 ? 1 : 0)
            }
            if scores.isEmpty { throw MetricsError.empty(metric: "bootstrap", what: "the input (\(input.source))") }
            // The resampled items are indices, so paired statistics (AUROC) keep their pairs.
            if statistic == .auroc {
                return (scores.count, { s in try ROC.auroc(scores: s.map { scores[Int($0)] }, labels: s.map { labels[Int($0)] }) })
            }
            return (scores.count, { s in try ROC.averagePrecision(scores: s.map { scores[Int($0)] }, labels: s.map { labels[Int($0)] }) })
        case .accuracy, .f1, .macroF1:
            var input = try records.open([("prediction", .number), ("label", .number)],
                                         expected: "a JSON object with integer \"prediction\" and \"label\"")
            defer { input.close() }
            var predictions: [Int] = [], labels: [Int] = []
            while try input.next() {
                let p = try input.require(0, integer: true), y = try input.require(1, integer: true)
                if p < 0 || y < 0 { throw input.error("classes ≥ 0, found label \(Int(y)), prediction \(Int(p))") }
                predictions.append(Int(p))
                labels.append(Int(y))
            }
            if labels.isEmpty { throw MetricsError.empty(metric: "bootstrap", what: "the input (\(input.source))") }
            let positive = self.positive
            switch statistic {
            case .accuracy: return meanOf(zip(predictions, labels).map { $0 == $1 ? 1 : 0 })
            case .f1:
                return (labels.count, { s in
                    try Classification.binary(predictions: s.map { predictions[Int($0)] }, labels: s.map { labels[Int($0)] }, positive: positive).f1
                })
            default:
                return (labels.count, { s in
                    try Classification.macro(predictions: s.map { predictions[Int($0)] }, labels: s.map { labels[Int($0)] }).f1
                })
            }
        case .ece, .nll, .brier:
            let (rows, labels) = try MetricCalibration.read(records)
            switch statistic {
            case .ece:
                let bins = self.bins
                return (rows.count, { s in
                    try Calibration.expectedCalibrationError(probabilities: s.map { rows[Int($0)] }, labels: s.map { labels[Int($0)] },
                                                             binCount: bins).expectedCalibrationError
                })
            case .nll: return meanOf(try zip(rows, labels).map { try Calibration.logLoss(probabilities: [$0], labels: [$1]) })
            default: return meanOf(try zip(rows, labels).map { try Calibration.brierScore(probabilities: [$0], labels: [$1]) })
            }
        case .mr, .mrr, .hits:
            let ranks = try MetricRanking.read(records)
            let values = ranks.map { $0.value(ties.policy) }
            switch statistic {
            case .mr: return meanOf(values)
            case .mrr: return meanOf(values.map { 1 / $0 })
            default: return meanOf(values.map { $0 <= Double(hits) ? 1 : 0 })
            }
        case .mpjpe, .paMPJPE, .pve:
            let poses = try MetricPose.read(records)
            var perSample: [Double] = []
            for i in 0..<poses.samples {
                if statistic == .pve {
                    guard let v = poses.vertices else {
                        throw MetricsError.empty(metric: "bootstrap", what: "\"predicted_vertices\"/\"target_vertices\" in the input")
                    }
                    let r = (i * v * 3)..<((i + 1) * v * 3)
                    perSample.append(try Pose.pve(predicted: Array(poses.predictedVertices[r]), target: Array(poses.targetVertices[r]), vertexCount: v))
                } else {
                    let j = poses.joints, r = (i * j * 3)..<((i + 1) * j * 3)
                    let (p, t) = (Array(poses.predicted[r]), Array(poses.target[r]))
                    perSample.append(statistic == .mpjpe ? try Pose.mpjpe(predicted: p, target: t, jointCount: j)
                                                         : try Pose.paMPJPE(predicted: p, target: t, jointCount: j))
                }
            }
            return meanOf(perSample)
        }
    }

    func run() throws {
        try runMetric("metric bootstrap", output: outputOption.output, seed: seed, reflecting: self) { context in
            let (count, measure) = try self.measure()
            let indices = (0..<count).map(Double.init)
            var out = MetricOutcome()
            out.inputs = ["input": try records.reportInput()]
            out.metrics = ["count": .int(count), "statistic": .string(statistic.rawValue)]
            try out.set("interval") {
                let interval = try Statistics.bootstrapInterval(indices, resamples: resamples, confidence: confidence,
                                                                using: &context.random, statistic: measure)
                return ["estimate": .double(interval.estimate), "lower": .double(interval.lower), "upper": .double(interval.upper)]
            }
            return out
        }
    }
}
