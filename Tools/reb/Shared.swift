import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import REB

/// The largest patch feature width D that `fit` and `features` accept (PatchCore uses 1024; one
/// image's 784 patches × 8192 × 4 bytes is 25 MB, a bank of 10⁵ patches 3.3 GB): larger values would
/// fail allocating memory, not with a message.
let maximumPatchDimension = 8192

/// The reproduced paper, for reports.
let paperCitation = "Lyu, Mo, Zhang, Bai, Ren. REB: Reducing Biases in Representation for Industrial Anomaly Detection. 2023"

/// The dataset and its deterministic train / held-out split.
struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Image dataset: a datasets.toml name or an .h5 path (images uint8 [N, H, W, 3], label).", valueName: "name|file"))
    var dataset = "textile"

    @Option(help: "Normal images the memory bank is built from (the rest of the normals are held out for testing).")
    var trainNormals = 200

    @Option(help: "Seed of the shuffle that splits the normal images (fixed across runs and commands).", transform: parseSeed)
    var splitSeed: UInt64 = 0

    @Option(help: "At most this many test images of each label (normal, each defect type), for quick runs.")
    var testPerLabel: Int?

    func validate() throws {
        if let testPerLabel, testPerLabel < 1 { throw ValidationError("--test-per-label must be at least 1") }
    }

    /// The opened dataset and its split.
    func load() throws -> (AnomalyDataset, AnomalySplit) {
        let set = try AnomalyDataset(path: try resolveNameOrPath(dataset))
        return (set, try AnomalySplit(labels: set.labels, trainCount: trainNormals, seed: splitSeed))
    }

    /// The test indices (limited by --test-per-label).
    func test(_ split: AnomalySplit, _ set: AnomalyDataset) -> [Int] {
        testPerLabel.map { split.limitingTest(perLabel: $0, labels: set.labels) } ?? split.test
    }
}

/// reb's default backbone (`--weights`): the ImageNet EfficientNet-Lite0.
enum EfficientNetWeights: WeightsDefault {
    static var weights: String? { "efficientnet-lite0" }
}

/// The backbone and the batch size of feature extraction.
struct BackboneOptions: ParsableArguments {
    @OptionGroup var model: ModelWeightsOption<EfficientNetWeights>
    var weights: String { model.weights }

    @Option(help: "Images per forward pass.")
    var batchSize = 16

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
    }

    /// The loaded model, its path, file SHA-256 and what its features are: "DefectMaker-SSL" for a
    /// checkpoint `reb ssl-train` wrote (its config holds `reb_ssl`), "ImageNet" otherwise.
    func load() throws -> (EfficientNetLite, path: String, sha256: String, features: String) {
        let path = try resolveNameOrPath(weights)
        let checkpoint = try Checkpoint(path: path)
        return (try EfficientNetLite.load(from: checkpoint), path, try SHA256.hexDigest(ofFile: path),
                checkpoint.config["reb_ssl"] == nil ? "ImageNet" : "DefectMaker-SSL")
    }
}

/// Opens a bank and the backbone it must be scored with, checking they and the dataset agree (on the
/// bank's own dataset, the split too: another one would test training images).
/// - Throws: `REBError.bankMismatch` (another backbone or split), `.imageSizeMismatch`, bank and checkpoint errors.
func loadScorer(bankPath: String, backbone: BackboneOptions, dataset: AnomalyDataset, data: DataOptions) throws -> (AnomalyScorer, backbonePath: String) {
    let bank = try MemoryBank.read(from: bankPath)
    let p0 = bank.provenance
    if p0.dataset == dataset.path && (p0.trainImages != data.trainNormals || p0.seed != data.splitSeed) {
        throw REBError.bankMismatch(file: bankPath, key: "the training split", bank: "--train-normals \(p0.trainImages) --split-seed \(p0.seed)",
                                    requested: "--train-normals \(data.trainNormals) --split-seed \(data.splitSeed)")
    }
    let (model, path, sha, _) = try backbone.load()
    try bank.check(backboneSHA256: sha, backbone: path, features: bank.provenance.features, file: bankPath)
    let p = bank.provenance
    guard dataset.height == p.imageHeight, dataset.width == p.imageWidth else {
        throw REBError.imageSizeMismatch(file: dataset.path, expected: "\(p.imageWidth)×\(p.imageHeight)",
                                         found: "\(dataset.width)×\(dataset.height)")
    }
    let extractor = try PatchFeatureExtractor(model: model, config: p.features)
    return (try AnomalyScorer(extractor: extractor, bank: bank), path)
}
