import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import REB

/// `reb baseline`: the handcrafted detectability ceiling (Docs/reb.md, "Detectability ceiling").
struct Baseline: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Image AUROC of two one-line pixel statistics on the test split: the detectability ceiling of the learnt detectors.",
        discussion: """
            Example:
              reb baseline --train-normals 200 -o baseline.json
            No training and no network: on the grey level (channel mean) of each full-resolution test \
            image, laplacian_block_ratio is the largest mean |Laplacian| over --block × --block tiles \
            divided by the image's median |Laplacian| (local high-frequency defects), \
            horizontal_gradient the mean absolute difference of horizontally adjacent pixels (global \
            texture changes). Each statistic is an anomaly score (higher: more anomalous); the report \
            gives its image AUROC overall and per defect type on the same test split as `reb eval` \
            (--train-normals, --split-seed, --test-per-label), and, with --scores, one JSON line per \
            image with both values.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var data: DataOptions

    @Option(help: "Side of the Laplacian tiles in pixels.")
    var block = 12

    @Option(help: ArgumentHelp("Write one JSON line per test image with both statistics here.", valueName: "file"))
    var scores: String?

    func validate() throws {
        guard block >= 1 else { throw ValidationError("--block must be at least 1, got \(block)") }
    }

    func run() throws {
        try ToolRunner.run(tool: "reb", command: "baseline", options: common, reflecting: self) { context in
            let (set, split) = try context.timer.measure("data") { try data.load() }
            let test = data.test(split, set)
            let labels = test.map { set.labels[$0] }
            guard labels.contains(0), labels.contains(where: { $0 > 0 }) else {
                throw REBError.emptySet(what: "the test split", reason: "it needs normal and defect images for AUROC")
            }
            let kinds = HandcraftedStatistics.Kind.allCases
            var values = [[Double]](repeating: [], count: kinds.count)
            var lines = ""
            let bar = ProgressBar("statistics", total: test.count, unit: "images", quiet: common.quiet)
            try context.timer.measure("statistics") {
                try set.forEachBatch(test, batchSize: 32, progress: { bar.advance(by: $0) }) { batch, images in
                    for (i, image) in zip(batch, images) {
                        var record: [String: JSONValue] = ["index": .int(i), "label": .int(set.labels[i]),
                                                           "label_name": .string(set.labelNames[set.labels[i]])]
                        for (s, kind) in kinds.enumerated() {
                            let v = try HandcraftedStatistics.value(kind, of: image, block: block)
                            values[s].append(v)
                            record[kind.rawValue] = JSONValue(v)
                        }
                        if scores != nil { lines += try JSONValue.object(record).jsonText() + "\n" }
                    }
                }
            }
            bar.finish()
            if let scores { try OutputFile.write(Data(lines.utf8), to: scores) }
            var results: [String: EvalMetrics.Statistic] = [:]
            for (s, kind) in kinds.enumerated() {
                let auroc = try ImageAUROC(scores: values[s], labels: labels, labelNames: set.labelNames)
                results[kind.rawValue] = .init(imageAuroc: auroc.overall, imageAurocPerType: auroc.perType)
                log("reb baseline: \(kind.rawValue) image AUROC \(String(format: "%.4f", auroc.overall)) \(auroc.perType.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.4f", $0.value))" }.joined(separator: ", "))",
                    quiet: common.quiet)
            }
            var counts: [String: JSONValue] = [:]
            for t in Set(labels) { counts[set.labelNames[t]] = .int(labels.filter { $0 == t }.count) }
            var report = Report(tool: "reb", command: "baseline")
            report.paper = paperCitation
            report.inputs = ["dataset": try fileInput(set.path),
                             "split_sizes": ["train": .int(split.train.count), "test": .int(test.count), "test_per_label": .object(counts)]]
            try report.setMetrics(BaselineMetrics(statistics: results))
            report.units = ["image_auroc": "fraction"]
            return report
        }
    }
}

extension EvalMetrics {
    /// One statistic's image AUROC, overall and per defect type.
    struct Statistic: Encodable {
        var imageAuroc: Double
        var imageAurocPerType: [String: Double]
    }
}

/// `reb baseline`'s metrics: by statistic name (`laplacian_block_ratio`, `horizontal_gradient`).
struct BaselineMetrics: Encodable {
    var statistics: [String: EvalMetrics.Statistic]
}
