import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import REB

/// `reb fit`: patch features of the training normals → memory bank (optional greedy coreset) with the
/// neighbour distances LDKNN's densities need.
struct Fit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build the memory bank: patch features of the training normal images, optional greedy coreset, LDKNN neighbour distances.",
        discussion: """
            Example:
              reb fit --train-normals 200 --coreset 0.1 --save bank.h5 -o fit.json
            Every training image is resized to --input-size² and passed through the frozen backbone; \
            stages --stages (default 2,4: strides 8 and 16) are unfolded into 3×3 neighbourhoods, pooled \
            to --dimension and summed on the first stage's grid (PatchCore). The bank keeps --coreset of \
            the patches (approximate greedy k-center on a 128-d random projection; 1 keeps all) and the \
            squared distances of every kept feature to its --max-k nearest other features, so any \
            K ≤ --max-k can be scored later: with --density-from all (default, the REB reference) the \
            neighbours are searched among all training patches, with bank among the kept ones only. \
            --input-size equal to the images' own size keeps them unresized.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var backbone: BackboneOptions

    @Option(help: "Square network input side in pixels (224: a 28×28 patch grid).")
    var inputSize = 224

    @Option(help: ArgumentHelp("Backbone stages to tap, comma-separated (EfficientNet-Lite0 stages 0–6).", valueName: "s,s"))
    var stages = "2,4"

    @Option(help: "Patch feature width D.")
    var dimension = 512

    @Option(help: "Fraction of patches kept by the greedy coreset, in (0, 1].")
    var coreset = 0.1

    @Option(help: "Neighbour distances stored per bank feature (the largest LDKNN K that can be scored).")
    var maxK = 11

    @Option(help: ArgumentHelp("Where each bank feature's LDKNN neighbours are searched: all (every training patch, as the REB reference) or bank (the coreset only).",
                               valueName: "all|bank"))
    var densityFrom = "all"

    var densitySource: DensitySource? { ["all": .allPatches, "bank": .bank][densityFrom] }

    @Option(help: ArgumentHelp("Where to write the memory bank (HDF5).", valueName: "file"))
    var save: String

    func parsedStages() throws -> [Int] { try parseStages(stages) }

    func validate() throws {
        _ = try parsedStages()
        guard coreset > 0, coreset <= 1 else { throw ValidationError("--coreset must be in (0, 1], got \(coreset)") }
        guard maxK >= 1 else { throw ValidationError("--max-k must be at least 1") }
        guard (1...maximumPatchDimension).contains(dimension) else {
            throw ValidationError("--dimension must be in 1...\(maximumPatchDimension), got \(dimension)")
        }
        guard densitySource != nil else { throw ValidationError("--density-from must be all or bank, got '\(densityFrom)'") }
    }

    func run() throws {
        try ToolRunner.run(tool: "reb", command: "fit", options: common, reflecting: self) { context in
            let (set, split) = try context.timer.measure("data") { try data.load() }
            let (model, backbonePath, sha, featureSource) = try context.timer.measure("load") { try backbone.load() }
            let config = PatchFeatureConfig(inputSize: inputSize, stages: try parsedStages(), pretrainDimension: dimension, dimension: dimension)
            let extractor = try PatchFeatureExtractor(model: model, config: config)
            log("reb fit: \(split.train.count) training images → \(split.train.count * extractor.patchesPerImage) patches of \(dimension) features (\(extractor.gridHeight)×\(extractor.gridWidth) grid)", quiet: common.quiet)
            var chunks: [Tensor] = []
            let bar = ProgressBar("features", total: split.train.count, unit: "images", quiet: common.quiet)
            try context.timer.measure("features") {
                try set.forEachBatch(split.train, batchSize: backbone.batchSize, progress: { bar.advance(by: $0) }) { _, images in
                    chunks.append(extractor(images))
                }
            }
            bar.finish()
            let patches = Tensor.concatenate(chunks, axis: 0)
            chunks.removeAll()
            let provenance = BankProvenance(backbone: backbonePath, backboneSHA256: sha, features: config, imageHeight: set.height,
                                            imageWidth: set.width, dataset: set.path, trainImages: split.train.count, seed: data.splitSeed,
                                            coresetRatio: coreset, totalPatches: patches.shape[0], densitySource: densitySource!)
            var rng = context.random
            let bank = try context.timer.measure("bank") {
                do {
                    return try MemoryBank.build(patches: patches, maxK: maxK, provenance: provenance, rng: &rng)
                } catch REBError.invalidArgument(let reason) {
                    throw REBError.invalidArgument("--max-k \(maxK) with --coreset \(coreset): \(reason)")
                }
            }
            log("reb fit: memory bank of \(bank.count) features (coreset \(coreset) of \(patches.shape[0]))", quiet: common.quiet)
            try context.timer.measure("save") { try bank.write(to: save) }

            var report = Report(tool: "reb", command: "fit")
            report.paper = paperCitation
            report.inputs = ["backbone": try fileInput(backbonePath), "dataset": try fileInput(set.path),
                             "split_sizes": ["train": .int(split.train.count), "held_out_normal": .int(split.heldOutNormal.count),
                                             "test": .int(split.test.count)]]
            // Every option is added by ToolRunner (reflecting); these are derived values.
            report.config = ["stages": JSONValue(config.stages), "pretrain_dimension": .int(dimension), "patch_size": .int(config.patchSize),
                             "features": .string(featureSource)]
            try report.setMetrics(FitMetrics(
                bankSize: bank.count, totalPatches: patches.shape[0], patchesPerImage: extractor.patchesPerImage,
                grid: [extractor.gridHeight, extractor.gridWidth], bankMib: Double(bank.features.count * 4) / 1_048_576,
                meanRhoK9: (try? bank.densities(k: Swift.min(9, maxK))).map { Double($0.reduce(0, +)) / Double($0.count) }))
            report.units = ["bank_size": "features", "total_patches": "patches", "patches_per_image": "patches", "bank_mib": "MiB",
                            "mean_rho_k9": "squared L2"]
            return report
        }
    }
}

/// `reb fit`'s metrics (snake_case keys in the report; units in `report.units`).
struct FitMetrics: Encodable {
    var bankSize: Int, totalPatches: Int, patchesPerImage: Int
    /// Patch grid (rows, columns) per image.
    var grid: [Int]
    var bankMib: Double
    /// Mean ρ at K = min(9, --max-k) (null when the bank has too few features).
    @NullWhenAbsent var meanRhoK9: Double?
}
