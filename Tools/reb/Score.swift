import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import REB

/// Parses a `--method` value: `knn` or `ldknn`.
func scoringMethod(_ name: String, k: Int, lambda: Float) throws -> ScoringMethod {
    switch name {
    case "knn": return .knn
    case "ldknn": return .ldknn(k: k, lambda: lambda)
    default: throw ValidationError("--method must be knn or ldknn, got '\(name)'")
    }
}

/// `reb score`: one JSON line per image with its anomaly score, for pipelines.
struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score images against a memory bank: one JSON line per image on stdout.",
        discussion: """
            Example:
              reb score --bank bank.h5 --method ldknn --k 9 | mlcore auroc
            Each line is {"index", "filename", "label", "label_name", "score"}: the dataset row, its \
            label (0 normal, > 0 a defect type) and the image score (maximum of the 3×3 stride-3 average \
            pool of the patch scores). --split picks the images: test (held-out normals and all \
            defects, the split of `reb fit` when --train-normals and --split-seed match), train or all. \
            The JSON report (timing, settings) goes to --output only. With --shard i/n only the i-th \
            contiguous block (of whole --batch-size batches) of those images is scored, after a {"mlcore_shard": ...} header line; \
            `reb merge` joins the shards into exactly the unsharded lines (Docs/reb.md, "Sharding").
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var backbone: BackboneOptions
    @OptionGroup var sharding: ShardOption

    @Option(help: ArgumentHelp("Memory bank written by `reb fit`.", valueName: "file"))
    var bank: String

    @Option(help: "Patch scoring: knn (PatchCore, k = 1) or ldknn (REB).")
    var method = "ldknn"

    @Option(help: "LDKNN's K (neighbours in ρ).")
    var k = 9

    @Option(name: .customLong("lambda"), help: "LDKNN's λ (weight of ρ).")
    var lambda: Float = 1

    @Option(help: "Images to score: test, train or all.")
    var split = "test"

    func validate() throws {
        _ = try scoringMethod(method, k: k, lambda: lambda)
        guard ["test", "train", "all"].contains(split) else { throw ValidationError("--split must be test, train or all, got '\(split)'") }
    }

    func run() throws {
        var quietCommon = common
        if common.output == nil { quietCommon.output = "/dev/null" }  // stdout carries the JSON lines
        try ToolRunner.run(tool: "reb", command: "score", options: quietCommon, reflecting: self) { context in
            let (set, splitIndices) = try context.timer.measure("data") { try data.load() }
            let (scorer, backbonePath) = try context.timer.measure("load") { try loadScorer(bankPath: bank, backbone: backbone, dataset: set, data: data) }
            let method = try scoringMethod(self.method, k: k, lambda: lambda)
            if case .ldknn = method { _ = try scorer.bank.densities(k: k) }  // K checked before any work
            let records: [Int]
            switch split {
            case "train": records = splitIndices.train
            case "all": records = Array(0..<set.count)
            default: records = data.test(splitIndices, set)
            }
            let indices = sharding.select(records, alignment: backbone.batchSize)
            let inputs: [String: JSONValue] = ["bank": try fileInput(bank), "backbone": try fileInput(backbonePath),
                                               "dataset": try fileInput(set.path), "split_sizes": [split: .int(records.count)]]
            let derived: [String: JSONValue] = ["method": .string(method.description)]
            if let shard = sharding.shard {
                let header = ShardHeader(shard: shard, records: records.count, alignment: backbone.batchSize,
                                         job: ["tool": "reb", "command": "score", "config": ShardOption.jobConfig(of: self, derived: derived),
                                               "inputs": .object(inputs)])
                FileHandle.standardOutput.write(Data((try header.line() + "\n").utf8))
            }
            var scores: [Float] = []
            let bar = ProgressBar("scoring", total: indices.count, unit: "images", quiet: common.quiet)
            try context.timer.measure("score") {
                try set.forEachBatch(indices, batchSize: backbone.batchSize, progress: { bar.advance(by: $0) }) { batch, images in
                    let patch = try scorer.patchScores(try scorer.match(images), method: method)
                    let imageScores = scorer.imageScores(patch)
                    var text = ""
                    for (i, s) in zip(batch, imageScores) {
                        let line: JSONValue = ["index": .int(i), "filename": .string(set.filenames[i]), "label": .int(set.labels[i]),
                                               "label_name": .string(set.labelNames[set.labels[i]]), "score": JSONValue(s)]
                        text += try line.jsonText() + "\n"
                    }
                    FileHandle.standardOutput.write(Data(text.utf8))
                    scores += imageScores
                }
            }
            bar.finish()
            var report = Report(tool: "reb", command: "score")
            report.paper = paperCitation
            report.inputs = inputs
            report.config = derived  // every option is added by ToolRunner (reflecting)
            try report.setMetrics(ScoreMetrics(images: scores.count, bank: scorer.bank.provenance))
            return report
        }
    }
}

/// `reb score`'s metrics (snake_case keys in the report): images scored and the bank's provenance.
struct ScoreMetrics: Encodable {
    var images: Int
    var bank: BankProvenance
}
