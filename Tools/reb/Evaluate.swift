import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import REB

/// `reb eval`: image AUROC of kNN and LDKNN (K sweep) on the test split, overall and per defect type.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a memory bank on the test split: image AUROC of kNN and LDKNN for each K, overall and per defect type.",
        discussion: """
            Example:
              reb eval --bank bank.h5 --ks 3,5,7,9,11 -o eval.json
            One nearest-neighbour search per test patch serves every method: kNN (PatchCore) scores \
            d²(q, m*), LDKNN d²(q, m*) − λ·ρ_K(m*). Image AUROC: labels > 0 are anomalous; per defect \
            type: the held-out normals against that type's images only. The textile dataset has no \
            pixel masks: --synthetic N puts DefectMaker defects on N held-out normals and reports the \
            pixel AUROC of their maps (and their image AUROC against the held-out normals, pooled and plain-max, overall and per DefectMaker kind). image_auroc_plain_max is the ablation of the \
            image score: the plain maximum of the patch scores instead of the pooled one. --save-maps writes the resized input \
            images and their pixel anomaly maps (bilinear upsampling, Gaussian σ = 4) of the first \
            --maps-per-label test images of each label.
            Sharded (Docs/reb.md, "Sharding"): with --shard i/n only the i-th contiguous block of the \
            test images is scored and, instead of metrics, their scores go to stdout as JSON lines \
            (after a header line; --save-maps writes that block's maps); `reb merge` joins the shards, \
            and `reb eval --scores merged.jsonl` (same options) computes the metrics from them, \
            --synthetic included, equal to the unsharded run's.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var backbone: BackboneOptions
    @OptionGroup var sharding: ShardOption

    @Option(help: ArgumentHelp("Memory bank written by `reb fit`.", valueName: "file"))
    var bank: String

    @Option(help: ArgumentHelp("LDKNN K values to evaluate, comma-separated.", valueName: "k,k"))
    var ks = "3,5,7,9,11"

    @Option(name: .customLong("lambda"), help: "LDKNN's λ (weight of ρ).")
    var lambda: Float = 1

    @Option(help: ArgumentHelp("Write pixel anomaly maps of a few test images here (HDF5).", valueName: "file"))
    var saveMaps: String?

    @Option(help: "Test images per label whose maps --save-maps writes.")
    var mapsPerLabel = 2

    @Option(help: "K of the LDKNN maps --save-maps writes and of the synthetic-defect LDKNN scores.")
    var mapsK = 9

    @Option(help: "Held-out normal images to put DefectMaker defects on for pixel AUROC (0: none).")
    var synthetic = 0

    @Option(help: ArgumentHelp("Also write every test image's scores here, one JSON line each (the `eval --shard` line format).",
                               valueName: "file"))
    var saveScores: String?

    @Option(help: ArgumentHelp("Compute the metrics from these per-image scores (merged `eval --shard` outputs) instead of scoring.",
                               valueName: "file"))
    var scores: String?

    func parsedKs() throws -> [Int] {
        let parts = ks.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) >= 1 }) else { throw ValidationError("--ks must be comma-separated positive integers, got '\(ks)'") }
        return parts.map { $0! }
    }

    func validate() throws {
        _ = try parsedKs()
        guard mapsPerLabel >= 1 else { throw ValidationError("--maps-per-label must be at least 1") }
        guard synthetic >= 0 else { throw ValidationError("--synthetic must be ≥ 0") }
        if sharding.shard != nil {
            guard synthetic == 0 else { throw ValidationError("--synthetic runs in the final `reb eval --scores` step, not in a shard") }
            guard scores == nil else { throw ValidationError("--scores and --shard exclude each other") }
        }
        if scores != nil, saveMaps != nil { throw ValidationError("--save-maps needs the scoring run (merge the shards' maps with `reb merge`)") }
    }

    /// The per-image JSON line of a sharded run: index, label, and each method's pooled and plain-max image score.
    static func scoreLine(index: Int, label: Int, labelName: String, methods: [ScoringMethod], scores: [Float], plainMax: [Float]) -> JSONValue {
        ["index": .int(index), "label": .int(label), "label_name": .string(labelName),
         "scores": .object(Dictionary(uniqueKeysWithValues: zip(methods.map(\.description), scores.map(JSONValue.init)))),
         "scores_plain_max": .object(Dictionary(uniqueKeysWithValues: zip(methods.map(\.description), plainMax.map(JSONValue.init))))]
    }

    /// Reads merged score lines; checks they are the test images, in order, scored by every method.
    /// - Throws: `REBError.badDataset` naming the file and line.
    static func readScores(_ path: String, test: [Int], methods: [ScoringMethod]) throws -> (image: [[Float]], plainMax: [[Float]]) {
        guard let data = FileManager.default.contents(atPath: path) else { throw REBError.badDataset(file: path, key: "scores", expected: "a readable JSON-lines file") }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        guard lines.count == test.count else {
            throw REBError.badDataset(file: path, key: "lines", expected: "\(test.count) score lines (the test split), found \(lines.count)")
        }
        var image = [[Float]](repeating: [], count: methods.count), plainMax = image
        for (n, (line, index)) in zip(lines, test).enumerated() {
            let value = try? JSONValue.parse(String(line))
            guard let value, value["index"]?.intValue == index else {
                throw REBError.badDataset(file: path, key: "line \(n + 1)", expected: "the scores of test image \(index)")
            }
            for (m, method) in methods.enumerated() {
                guard let s = value["scores"]?[method.description]?.doubleValue, let p = value["scores_plain_max"]?[method.description]?.doubleValue else {
                    throw REBError.badDataset(file: path, key: "line \(n + 1)", expected: "scores of \(method)")
                }
                image[m].append(Float(s))
                plainMax[m].append(Float(p))
            }
        }
        return (image, plainMax)
    }

    func run() throws {
        var options = common
        if sharding.shard != nil && common.output == nil { options.output = "/dev/null" }  // stdout carries the score lines
        try ToolRunner.run(tool: "reb", command: "eval", options: options, reflecting: self) { context in
            let (set, split) = try context.timer.measure("data") { try data.load() }
            let methods: [ScoringMethod] = [.knn] + (try parsedKs()).map { .ldknn(k: $0, lambda: lambda) }
            let test = data.test(split, set)
            let labels = test.map { set.labels[$0] }
            guard labels.contains(0), labels.contains(where: { $0 > 0 }) else {
                throw REBError.emptySet(what: "the test split", reason: "it needs normal and defect images for AUROC")
            }
            let needsScorer = scores == nil || synthetic > 0
            var scorer: AnomalyScorer? = nil, backbonePath: String? = nil
            if needsScorer {
                let loaded = try context.timer.measure("load") { try loadScorer(bankPath: bank, backbone: backbone, dataset: set, data: data) }
                scorer = loaded.0
                backbonePath = loaded.backbonePath
                for case .ldknn(let k, _) in methods { _ = try loaded.0.bank.densities(k: k) }  // K checked before any work
                if saveMaps != nil || synthetic > 0 { _ = try loaded.0.bank.densities(k: mapsK) }
            }
            var inputs: [String: JSONValue] = ["bank": try fileInput(bank), "dataset": try fileInput(set.path)]
            if let backbonePath { inputs["backbone"] = try fileInput(backbonePath) }
            if let scores { inputs["scores"] = try fileInput(scores) }
            var counts: [String: JSONValue] = [:]
            for t in Set(labels) { counts[set.labelNames[t]] = .int(labels.filter { $0 == t }.count) }
            inputs["split_sizes"] = ["train": .int(split.train.count), "test": .int(test.count), "test_per_label": .object(counts)]
            let derived: [String: JSONValue] = ["ks": JSONValue(try parsedKs())]
            var report = Report(tool: "reb", command: "eval")
            report.paper = paperCitation
            report.config = derived  // every option is added by ToolRunner (reflecting)

            var imageScores = [[Float]](repeating: [], count: methods.count)
            var plainMaxScores = [[Float]](repeating: [], count: methods.count)
            if let scores {
                (imageScores, plainMaxScores) = try context.timer.measure("read") { try Self.readScores(scores, test: test, methods: methods) }
            } else if let scorer {
                // The maps' images are chosen from the whole test split, so a shard writes exactly its part of them.
                var mapIndices: Set<Int> = []
                if saveMaps != nil {
                    for label in Set(labels) { mapIndices.formUnion(test.filter { set.labels[$0] == label }.prefix(mapsPerLabel)) }
                }
                let records = sharding.select(test, alignment: backbone.batchSize)
                var header: ShardHeader? = nil
                if let shard = sharding.shard {
                    header = ShardHeader(shard: shard, records: test.count, alignment: backbone.batchSize,
                                         job: ["tool": "reb", "command": "eval", "config": ShardOption.jobConfig(of: self, derived: derived),
                                               "inputs": .object(inputs)])
                    FileHandle.standardOutput.write(Data((try header!.line() + "\n").utf8))
                }
                var maps: [AnomalyMapRecord] = []
                let bar = ProgressBar("scoring", total: records.count, unit: "images", quiet: common.quiet)
                try context.timer.measure("score") {
                    try set.forEachBatch(records, batchSize: backbone.batchSize, progress: { bar.advance(by: $0) }) { batch, images in
                        let matches = try scorer.match(images)
                        var batchScores: [[Float]] = [], batchPlain: [[Float]] = []
                        for (m, method) in methods.enumerated() {
                            let patch = try scorer.patchScores(matches, method: method)
                            batchScores.append(scorer.imageScores(patch))
                            batchPlain.append(scorer.imageScores(patch, window: 1))
                            imageScores[m] += batchScores[m]
                            plainMaxScores[m] += batchPlain[m]
                        }
                        for (j, i) in batch.enumerated() where mapIndices.contains(i) {
                            let s = scorer.extractor.config.inputSize
                            maps.append(AnomalyMapRecord(index: i, label: set.labels[i], input: images[j].resized(width: s, height: s),
                                                         knn: scorer.pixelMap(matches.distances, image: j),
                                                         ldknn: scorer.pixelMap(try scorer.patchScores(matches, method: .ldknn(k: mapsK, lambda: lambda)), image: j)))
                        }
                        if header != nil {
                            var text = ""
                            for (j, i) in batch.enumerated() {
                                text += try Self.scoreLine(index: i, label: set.labels[i], labelName: set.labelNames[set.labels[i]], methods: methods,
                                                           scores: batchScores.map { $0[j] }, plainMax: batchPlain.map { $0[j] }).jsonText() + "\n"
                            }
                            FileHandle.standardOutput.write(Data(text.utf8))
                        }
                    }
                }
                bar.finish()
                if let saveMaps {
                    var attributes: [String: HDF5AttributeValue] = [:]
                    if let header { attributes[ShardHeader.key] = .string(try header.json.jsonText()) }
                    try context.timer.measure("save") {
                        try AnomalyMapRecord.write(maps.sorted { $0.index < $1.index }, size: scorer.extractor.config.inputSize,
                                                   labelNames: set.labelNames, mapsK: mapsK, attributes: attributes, to: saveMaps)
                    }
                }
                if sharding.shard != nil {
                    report.inputs = inputs
                    try report.setMetrics(EvalShardMetrics(images: records.count, bank: scorer.bank.provenance, bankSize: scorer.bank.count))
                    return report
                }
            }
            if let saveScores {
                var text = ""
                for (j, i) in test.enumerated() {
                    text += try Self.scoreLine(index: i, label: set.labels[i], labelName: set.labelNames[set.labels[i]], methods: methods,
                                               scores: imageScores.map { $0[j] }, plainMax: plainMaxScores.map { $0[j] }).jsonText() + "\n"
                }
                try OutputFile.write(Data(text.utf8), to: saveScores)
            }
            var results: [String: EvalMetrics.Method] = [:]
            for (m, method) in methods.enumerated() {
                let auroc = try ImageAUROC(scores: imageScores[m].map(Double.init), labels: labels, labelNames: set.labelNames)
                let plainMax = try ImageAUROC(scores: plainMaxScores[m].map(Double.init), labels: labels, labelNames: set.labelNames)
                results[method.description] = EvalMetrics.Method(imageAuroc: auroc.overall, imageAurocPerType: auroc.perType,
                                                                 imageAurocPlainMax: plainMax.overall)
                log("reb eval: \(method) image AUROC \(String(format: "%.4f", auroc.overall))", quiet: common.quiet)
            }
            var syntheticMetrics: EvalMetrics.Synthetic?
            if synthetic > 0, let scorer {
                let normalRows = labels.indices.filter { labels[$0] == 0 }
                // kNN and LDKNN at K = --maps-k; the latter's normal scores only when that K was evaluated.
                let syntheticMethods: [ScoringMethod] = [.knn, .ldknn(k: mapsK, lambda: lambda)]
                let ldknnIndex = (try parsedKs()).firstIndex(of: mapsK).map { $0 + 1 }
                let normalScores = [normalRows.map { imageScores[0][$0] }, ldknnIndex.map { m in normalRows.map { imageScores[m][$0] } } ?? []]
                let normalPlain = [normalRows.map { plainMaxScores[0][$0] }, ldknnIndex.map { m in normalRows.map { plainMaxScores[m][$0] } } ?? []]
                let sources = Array(split.heldOutNormal.prefix(synthetic))
                let bar = ProgressBar("synthetic defects", total: sources.count, unit: "images", quiet: common.quiet)
                let evaluation = try context.timer.measure("synthetic") {
                    try SyntheticDefectEvaluation(scorer: scorer, dataset: set, sources: sources, donors: try set.images(Array(split.train.prefix(8))),
                                                  methods: syntheticMethods, normalScores: normalScores, normalPlainMaxScores: normalPlain,
                                                  batchSize: backbone.batchSize,
                                                  rng: &context.random, progress: { bar.advance(by: $0) })
                }
                bar.finish()
                syntheticMetrics = EvalMetrics.Synthetic(
                    images: evaluation.images, defectivePixelFraction: evaluation.defectivePixelFraction,
                    methods: Dictionary(uniqueKeysWithValues: zip(syntheticMethods.map(\.description), evaluation.results)))
            }
            report.inputs = inputs
            let provenance = try scorer.map { $0.bank.provenance } ?? MemoryBank.read(from: bank).provenance
            let bankSize = try scorer.map { $0.bank.count } ?? MemoryBank.read(from: bank).count
            try report.setMetrics(EvalMetrics(methods: results, bank: provenance, bankSize: bankSize, syntheticDefects: syntheticMetrics))
            report.units = ["image_auroc": "fraction", "bank_size": "features"]
            return report
        }
    }
}

/// `reb eval`'s metrics (snake_case keys in the report; units in `report.units`).
struct EvalMetrics: Encodable {
    /// One scoring method's image AUROC: overall, per defect type, and with the plain maximum of the
    /// patch scores instead of the pooled one.
    struct Method: Encodable {
        var imageAuroc: Double
        var imageAurocPerType: [String: Double]
        var imageAurocPlainMax: Double
    }
    /// The DefectMaker evaluation: its size and each method's result under the method's name.
    struct Synthetic: Encodable {
        var images: Int, defectivePixelFraction: Double
        /// By `ScoringMethod.description` (already snake_case: `knn`, `ldknn_k9`), inline.
        var methods: [String: SyntheticDefectEvaluation.MethodResult]

        enum CodingKeys: CodingKey { case images, defectivePixelFraction }

        func encode(to encoder: Encoder) throws {
            try methods.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(images, forKey: .images)
            try c.encode(defectivePixelFraction, forKey: .defectivePixelFraction)
        }
    }
    /// By `ScoringMethod.description`.
    var methods: [String: Method]
    var bank: BankProvenance
    var bankSize: Int
    /// Null without `--synthetic`.
    @NullWhenAbsent var syntheticDefects: Synthetic?
    var pixelAurocNote = "the textile dataset has no pixel masks: pixel AUROC only on DefectMaker defects (synthetic_defects)"
}

/// `reb eval --shard`'s metrics: images scored and the bank (the AUROCs come after `reb merge`).
struct EvalShardMetrics: Encodable {
    var images: Int
    var bank: BankProvenance
    var bankSize: Int
}
