import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import REB

/// `reb split`: the deterministic train / held-out / test split as JSON, for peers that must score the
/// same images (Tools/reference/reb_patchcore_torch.py).
struct SplitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "split",
        abstract: "Print the train / held-out / test split (dataset rows) as one JSON object.",
        discussion: """
            Example:
              reb split --train-normals 200 --test-per-label 100 > split.json
            {"train": [...], "held_out_normal": [...], "test": [...]}: the rows `reb fit` builds the bank \
            from and the rows `reb eval` scores (after --test-per-label), for the same --train-normals \
            and --split-seed.
            """)

    @OptionGroup var data: DataOptions

    func run() throws {
        let (set, split) = try data.load()
        let value: JSONValue = ["dataset": .string(set.path), "train": JSONValue(split.train),
                                "held_out_normal": JSONValue(split.heldOutNormal), "test": JSONValue(data.test(split, set))]
        print(try value.jsonText())
    }
}

/// `reb features`: the network input, tapped stage maps and patch features of a few images, for the
/// feature-parity check against PyTorch (Docs/reb.md, "Diagnosis").
struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Write the network input, stage maps and patch features of a few dataset images (HDF5).",
        discussion: """
            Example:
              reb features --rows 0,1,1000,1500 --stages 2,4 --save features.h5
            Writes /images uint8 [N, H, W, 3] (as stored), /input float32 [N, 3, S, S] (resized and \
            normalised), /stage<s> float32 [N, C, h, w] for each tapped stage and /patch_features \
            float32 [N·P, D] (what `reb fit` puts in the bank), with the attributes stages and input_size. \
            Tools/reference/reb_patchcore_torch.py --parity compares them with PyTorch's.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var backbone: BackboneOptions

    @Option(help: ArgumentHelp("Image dataset: a datasets.toml name or an .h5 path.", valueName: "name|file"))
    var dataset = "textile"

    @Option(help: ArgumentHelp("Dataset rows, comma-separated.", valueName: "i,j"))
    var rows = "0,1"

    @Option(help: "Square network input side in pixels.")
    var inputSize = 224

    @Option(help: ArgumentHelp("Backbone stages to tap, comma-separated.", valueName: "s,s"))
    var stages = "2,4"

    @Option(help: "Patch feature width D.")
    var dimension = 512

    @Option(help: ArgumentHelp("Where to write the HDF5 file.", valueName: "file"))
    var save: String

    func parsedRows() throws -> [Int] {
        let parts = rows.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? -1) >= 0 }) else { throw ValidationError("--rows must be comma-separated row indices ≥ 0, got '\(rows)'") }
        return parts.map { $0! }
    }

    func validate() throws {
        _ = try parsedRows()
        _ = try parseStages(stages)
        guard (1...maximumPatchDimension).contains(dimension) else {
            throw ValidationError("--dimension must be in 1...\(maximumPatchDimension), got \(dimension)")
        }
    }

    func run() throws {
        try ToolRunner.run(tool: "reb", command: "features", options: common, reflecting: self) { context in
            let set = try AnomalyDataset(path: try resolveNameOrPath(dataset))
            let indices = try parsedRows()
            guard indices.allSatisfy({ $0 < set.count }) else {
                throw REBError.invalidArgument("rows \(indices) go beyond the dataset's \(set.count) images")
            }
            let (model, path, _, _) = try backbone.load()
            let config = PatchFeatureConfig(inputSize: inputSize, stages: try parseStages(stages), pretrainDimension: dimension, dimension: dimension)
            let extractor = try PatchFeatureExtractor(model: model, config: config)
            let images = try set.images(indices)
            let x = extractor.input(images)
            let maps = model.features(x, stages: Set(config.stages))
            let patches = extractor.features(x)
            try HDF5File.createAtomically(save) { file in
                try file.root.createDataset("images", shape: [images.count, set.height, set.width, 3], data: images.flatMap(\.pixels))
                try file.root.createDataset("input", shape: x.shape, data: x.contiguous().scalars)
                for s in config.stages {
                    let m = maps[s]!.contiguous()
                    try file.root.createDataset("stage\(s)", shape: m.shape, data: m.scalars)
                }
                try file.root.createDataset("patch_features", shape: patches.shape, data: patches.contiguous().scalars)
                try file.root.createDataset("index", shape: [indices.count], data: indices.map(Int32.init))
                try file.root.attributes.set("stages", .ints(config.stages))
                try file.root.attributes.set("input_size", .int(inputSize))
            }
            var report = Report(tool: "reb", command: "features")
            report.paper = paperCitation
            report.inputs = ["backbone": try fileInput(path), "dataset": try fileInput(set.path)]
            try report.setMetrics(["images": JSONValue.int(images.count), "grid": JSONValue([extractor.gridHeight, extractor.gridWidth])])
            return report
        }
    }
}

/// Parses a comma-separated stage list.
func parseStages(_ text: String) throws -> [Int] {
    let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { throw ValidationError("--stages must be comma-separated integers, got '\(text)'") }
    return parts.map { $0! }
}
