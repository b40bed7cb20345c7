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
            pixel AUROC of their maps (and their image AUROC against the held-out normals). image_auroc_plain_max is the ablation of the \
            image score: the plain maximum of the patch scores instead of the pooled one. --save-maps writes the resized input \
            images and their pixel anomaly maps (bilinear upsampling, Gaussian σ = 4) of the first \
            --maps-per-label test images of each label.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var backbone: BackboneOptions

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

    func parsedKs() throws -> [Int] {
        let parts = ks.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) >= 1 }) else { throw ValidationError("--ks must be comma-separated positive integers, got '\(ks)'") }
        return parts.map { $0! }
    }

    func validate() throws {
        _ = try parsedKs()
        guard mapsPerLabel >= 1 else { throw ValidationError("--maps-per-label must be at least 1") }
        guard synthetic >= 0 else { throw ValidationError("--synthetic must be ≥ 0") }
    }

    func run() throws {
        try ToolRunner.run(tool: "reb", command: "eval", options: common) { context in
            let (set, split) = try context.timer.measure("data") { try data.load() }
            let (scorer, backbonePath) = try context.timer.measure("load") { try loadScorer(bankPath: bank, backbone: backbone, dataset: set, data: data) }
            let methods: [ScoringMethod] = [.knn] + (try parsedKs()).map { .ldknn(k: $0, lambda: lambda) }
            for case .ldknn(let k, _) in methods { _ = try scorer.bank.densities(k: k) }  // K checked before any work
            if saveMaps != nil || synthetic > 0 { _ = try scorer.bank.densities(k: mapsK) }
            let test = data.test(split, set)
            let labels = test.map { set.labels[$0] }
            guard labels.contains(0), labels.contains(where: { $0 > 0 }) else {
                throw REBError.emptySet(what: "the test split", reason: "it needs normal and defect images for AUROC")
            }
            var mapIndices: Set<Int> = []
            if saveMaps != nil {
                for label in Set(labels) { mapIndices.formUnion(test.filter { set.labels[$0] == label }.prefix(mapsPerLabel)) }
            }
            var imageScores = [[Float]](repeating: [], count: methods.count)
            var plainMaxScores = [[Float]](repeating: [], count: methods.count)
            var maps: [(index: Int, input: RGBImage, knn: [Float], ldknn: [Float])] = []
            try context.timer.measure("score") {
                try forEachBatch(set, test, batchSize: backbone.batchSize, label: "scoring", quiet: common.quiet) { batch, images in
                    let matches = try scorer.match(images)
                    for (m, method) in methods.enumerated() {
                        let patch = try scorer.patchScores(matches, method: method)
                        imageScores[m] += scorer.imageScores(patch)
                        plainMaxScores[m] += scorer.imageScores(patch, window: 1)
                    }
                    for (j, i) in batch.enumerated() where mapIndices.contains(i) {
                        let s = scorer.extractor.config.inputSize
                        maps.append((i, images[j].resized(width: s, height: s),
                                     scorer.pixelMap(matches.distances, image: j),
                                     scorer.pixelMap(try scorer.patchScores(matches, method: .ldknn(k: mapsK, lambda: lambda)), image: j)))
                    }
                }
            }
            var results: [String: JSONValue] = [:]
            for (m, method) in methods.enumerated() {
                let scores = imageScores[m].map(Double.init)
                var perType: [String: JSONValue] = [:]
                for t in Set(labels).sorted() where t > 0 {
                    let keep = labels.indices.filter { labels[$0] == 0 || labels[$0] == t }
                    perType[set.labelNames[t]] = .double(try ROC.auroc(scores: keep.map { scores[$0] }, labels: keep.map { labels[$0] > 0 ? 1 : 0 }))
                }
                let binary = labels.map { $0 > 0 ? 1 : 0 }
                results[method.description] = ["image_auroc": .double(try ROC.auroc(scores: scores, labels: binary)),
                                               "image_auroc_per_type": .object(perType),
                                               "image_auroc_plain_max": .double(try ROC.auroc(scores: plainMaxScores[m].map(Double.init), labels: binary))]
                log("reb eval: \(method) image AUROC \(String(format: "%.4f", results[method.description]!["image_auroc"]!.doubleValue!))", quiet: common.quiet)
            }
            var syntheticMetrics: JSONValue = .null
            if synthetic > 0 {
                let normalScores = methods.indices.map { m in labels.indices.filter { labels[$0] == 0 }.map { imageScores[m][$0] } }
                syntheticMetrics = try context.timer.measure("synthetic") {
                    try syntheticDefects(scorer: scorer, set: set, split: split, normalScores: normalScores, rng: &context.random)
                }
            }
            if let saveMaps {
                try context.timer.measure("save") {
                    try writeMaps(maps.sorted { $0.index < $1.index }, set: set, size: scorer.extractor.config.inputSize, to: saveMaps)
                }
            }
            var report = Report(tool: "reb", command: "eval")
            report.paper = paperCitation
            var counts: [String: JSONValue] = [:]
            for t in Set(labels) { counts[set.labelNames[t]] = .int(labels.filter { $0 == t }.count) }
            report.inputs = ["bank": try fileInput(bank), "backbone": try fileInput(backbonePath), "dataset": try fileInput(set.path),
                             "split_sizes": ["train": .int(split.train.count), "test": .int(test.count), "test_per_label": .object(counts)]]
            report.config = data.config.merging(["bank": .string(bank), "ks": JSONValue(try parsedKs()), "lambda": JSONValue(lambda),
                                                 "batch_size": .int(backbone.batchSize), "save_maps": saveMaps.map(JSONValue.string) ?? .null,
                                                 "maps_per_label": .int(mapsPerLabel), "maps_k": .int(mapsK),
                                                 "synthetic": .int(synthetic)]) { a, _ in a }
            report.metrics = ["methods": .object(results), "bank": scorer.bank.provenance.json, "bank_size": .int(scorer.bank.count),
                              "synthetic_defects": syntheticMetrics,
                              "pixel_auroc_note": "the textile dataset has no pixel masks: pixel AUROC only on DefectMaker defects (synthetic_defects)"]
            report.units = ["image_auroc": "fraction", "bank_size": "features"]
            return report
        }
    }

    /// DefectMaker defects (one per image, the six kinds in turn, cut fills from training images) on
    /// the first `synthetic` held-out normals: pixel AUROC over all their pixels at the input size
    /// (masks resized by nearest neighbour) for kNN and LDKNN (K = --maps-k), and the image AUROC of
    /// the defective images against the held-out normals' scores (`normalScores`, per method).
    func syntheticDefects(scorer: AnomalyScorer, set: AnomalyDataset, split: AnomalySplit, normalScores: [[Float]],
                          rng: inout RandomGenerator) throws -> JSONValue {
        let sources = Array(split.heldOutNormal.prefix(synthetic))
        let donors = try set.images(Array(split.train.prefix(8)))
        let methods: [ScoringMethod] = [.knn, .ldknn(k: mapsK, lambda: lambda)]
        var pixelScores = [[Float]](repeating: [], count: 2), imageScores = [[Float]](repeating: [], count: 2)
        var pixelLabels: [Int] = []
        let size = scorer.extractor.config.inputSize
        try forEachBatch(set, sources, batchSize: backbone.batchSize, label: "synthetic defects", quiet: common.quiet) { _, images in
            let made = DefectMaker().synthesize(images, donors: donors, rng: &rng)
            let matches = try scorer.match(made.map(\.image))
            for (m, method) in methods.enumerated() {
                let patch = try scorer.patchScores(matches, method: method)
                imageScores[m] += scorer.imageScores(patch)
                for j in made.indices { pixelScores[m] += scorer.pixelMap(patch, image: j) }
            }
            for item in made {
                pixelLabels += DefectMaker.resizeMask(item.mask, width: set.width, height: set.height, size: size).map(Int.init)
            }
        }
        var out: [String: JSONValue] = ["images": .int(sources.count), "defective_pixel_fraction": .double(Double(pixelLabels.reduce(0, +)) / Double(pixelLabels.count))]
        // Index of LDKNN K = --maps-k among eval's methods (knn first), when it was evaluated.
        let position = (try? parsedKs())?.firstIndex(of: mapsK)
        let ldknnIndex = position.map { $0 + 1 } ?? -1
        for (m, method) in methods.enumerated() {
            var entry: [String: JSONValue] = ["pixel_auroc": .double(try ROC.auroc(scores: pixelScores[m].map(Double.init), labels: pixelLabels))]
            let normals = m == 0 ? normalScores[0] : (ldknnIndex > 0 ? normalScores[ldknnIndex] : [])
            if !normals.isEmpty {
                entry["image_auroc_vs_held_out_normals"] = .double(try ROC.auroc(scores: (normals + imageScores[m]).map(Double.init),
                                                                                 labels: normals.map { _ in 0 } + imageScores[m].map { _ in 1 }))
            }
            out[method.description] = .object(entry)
        }
        return .object(out)
    }

    /// Writes `/images` uint8 [N, S, S, 3], `/maps_knn` and `/maps_ldknn` float32 [N, S, S], `/index` and `/label`.
    func writeMaps(_ maps: [(index: Int, input: RGBImage, knn: [Float], ldknn: [Float])], set: AnomalyDataset, size: Int,
                   to path: String) throws {
        try HDF5File.createAtomically(path) { file in
            let n = maps.count
            try file.root.createDataset("images", shape: [n, size, size, 3], data: maps.flatMap(\.input.pixels))
            try file.root.createDataset("maps_knn", shape: [n, size, size], data: maps.flatMap(\.knn))
            try file.root.createDataset("maps_ldknn", shape: [n, size, size], data: maps.flatMap(\.ldknn))
            try file.root.createDataset("index", shape: [n], data: maps.map { Int32($0.index) })
            try file.root.createDataset("label", shape: [n], data: maps.map { Int32(set.labels[$0.index]) })
            try file.root.attributes.set("label_names", .strings(set.labelNames))
            try file.root.attributes.set("maps_k", .int(mapsK))
        }
    }
}
