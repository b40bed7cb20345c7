import MLCore

/// Where a memory bank's features come from: everything scoring must reproduce to compare test
/// patches with it.
public struct BankProvenance: Sendable, Equatable {
    /// Backbone checkpoint path as given, and the SHA-256 of its file.
    public var backbone: String, backboneSHA256: String
    /// The patch feature settings.
    public var features: PatchFeatureConfig
    /// Size of the source images (rows, columns) before resizing.
    public var imageHeight: Int, imageWidth: Int
    /// Training dataset path, number of training images, split seed.
    public var dataset: String, trainImages: Int, seed: UInt64
    /// Fraction kept by the greedy coreset (1 = every patch) and the patch count before it.
    public var coresetRatio: Double, totalPatches: Int
    /// Among which features each bank feature's LDKNN neighbours are searched.
    public var densitySource: DensitySource

    /// - Parameters: see the properties.
    public init(backbone: String, backboneSHA256: String, features: PatchFeatureConfig, imageHeight: Int, imageWidth: Int,
                dataset: String, trainImages: Int, seed: UInt64, coresetRatio: Double, totalPatches: Int,
                densitySource: DensitySource = .allPatches) {
        self.backbone = backbone
        self.backboneSHA256 = backboneSHA256
        self.features = features
        self.imageHeight = imageHeight
        self.imageWidth = imageWidth
        self.dataset = dataset
        self.trainImages = trainImages
        self.seed = seed
        self.coresetRatio = coresetRatio
        self.totalPatches = totalPatches
        self.densitySource = densitySource
    }
}

/// Where LDKNN's ρ(m) of a bank feature m takes its K nearest neighbours from (Docs/reb.md, "Densities").
public enum DensitySource: String, Sendable, Equatable, CaseIterable {
    /// Every training patch other than m itself, as the REB reference (`NNHead.get_ld_dist(embeddings,
    /// core_embeddings)`): a coreset keeps the density of the full training distribution.
    case allPatches = "all_patches"
    /// The other bank (coreset) features only — evened out by the greedy coreset's spacing.
    case bank
}

extension BankProvenance: Encodable {
    enum CodingKeys: String, CodingKey {
        case backbone, backboneSha256, inputSize, stages, pretrainDimension, dimension, patchSize, imageSize, dataset
        case trainImages, splitSeed, coresetRatio, totalPatches, densityFrom
    }

    /// Encodes the provenance flat, for reports (snake_case keys under `metrics.bank` of `reb score`
    /// and `reb eval`): the feature settings inline, `image_size` as [rows, columns], the split
    /// seed as a decimal string (it can exceed JSON's exact integers).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(backbone, forKey: .backbone)
        try c.encode(backboneSHA256, forKey: .backboneSha256)
        try c.encode(features.inputSize, forKey: .inputSize)
        try c.encode(features.stages, forKey: .stages)
        try c.encode(features.pretrainDimension, forKey: .pretrainDimension)
        try c.encode(features.dimension, forKey: .dimension)
        try c.encode(features.patchSize, forKey: .patchSize)
        try c.encode([imageHeight, imageWidth], forKey: .imageSize)
        try c.encode(dataset, forKey: .dataset)
        try c.encode(trainImages, forKey: .trainImages)
        try c.encode(String(seed), forKey: .splitSeed)
        try c.encode(coresetRatio, forKey: .coresetRatio)
        try c.encode(totalPatches, forKey: .totalPatches)
        try c.encode(densitySource.rawValue, forKey: .densityFrom)
    }
}

/// The memory bank of REB/PatchCore: training patch features (optionally a greedy coreset of them)
/// and, for LDKNN, the squared distances of every bank feature to its `storedNeighbors` nearest other
/// bank features, from which ρ is computed for any K ≤ `storedNeighbors` (Docs/reb.md; Lyu et al. 2023).
public struct MemoryBank: Sendable {
    /// Features [M, D] row-major.
    public let features: [Float]
    /// D.
    public let dimension: Int
    /// Neighbour distances [M, storedNeighbors], ascending per row.
    public let neighborDistances: [Float]
    /// Neighbours stored per feature (the largest usable K).
    public let storedNeighbors: Int
    /// Where the features come from.
    public let provenance: BankProvenance

    /// M.
    public var count: Int { features.count / dimension }

    /// - Precondition: consistent sizes (checked by `read` for files).
    public init(features: [Float], dimension: Int, neighborDistances: [Float], storedNeighbors: Int, provenance: BankProvenance) {
        self.features = features
        self.dimension = dimension
        self.neighborDistances = neighborDistances
        self.storedNeighbors = storedNeighbors
        self.provenance = provenance
    }

    /// Builds the bank from all training patch features [N·P, D]: greedy coreset of `coresetRatio`,
    /// then the squared distances of every kept feature to its `maxK` nearest other features (exact,
    /// `FlatL2Index`) — among all N·P training patches (`provenance.densitySource` `.allPatches`, the
    /// kept feature's own row skipped by index) or among the kept features only (`.bank`).
    /// - Throws: `REBError.emptySet` (no patch), `.invalidArgument` (ratio; `maxK` ≥ the number of
    ///   features searched), `SearchError` for non-finite features.
    public static func build(patches: Tensor, maxK: Int, provenance: BankProvenance, rng: inout RandomGenerator) throws -> MemoryBank {
        guard patches.rank == 2, patches.shape[0] > 0 else {
            throw REBError.emptySet(what: "the training set", reason: "no patch features (no training image)")
        }
        let d = patches.shape[1]
        let kept = try GreedyCoreset.select(patches, ratio: provenance.coresetRatio, rng: &rng)
        let all = patches.contiguous().scalars
        var features = [Float](repeating: 0, count: kept.count * d)
        for (r, i) in kept.enumerated() { features[(r * d)..<((r + 1) * d)] = all[(i * d)..<((i + 1) * d)] }
        let searched = provenance.densitySource == .allPatches ? all.count / d : kept.count
        guard maxK >= 1, maxK < searched else {
            throw REBError.invalidArgument("the stored neighbour count \(maxK) must be in 1..<\(searched), the number of features the densities are searched among (more training images or a larger coreset ratio)")
        }
        let neighbors: Neighbors
        if provenance.densitySource == .allPatches && kept.count < searched {
            neighbors = try FlatL2Index(vectors: all, dimension: d).search(features, k: maxK, skipping: kept)
        } else {
            neighbors = try FlatL2Index(vectors: features, dimension: d).selfNeighbors(k: maxK)
        }
        return MemoryBank(features: features, dimension: d, neighborDistances: neighbors.distances, storedNeighbors: maxK,
                          provenance: provenance)
    }

    /// ρ of every bank feature for K (`LocalDensityKNN.densities`).
    /// - Throws: `REBError.invalidArgument` when K > `storedNeighbors` or K < 1.
    public func densities(k: Int) throws -> [Float] {
        try LocalDensityKNN.densities(neighborDistances: neighborDistances, stored: storedNeighbors, k: k)
    }

    /// Checks that scoring with `backboneSHA256` and `features` compares like with like.
    /// - Throws: `REBError.bankMismatch` naming the first difference.
    public func check(backboneSHA256: String, backbone: String, features: PatchFeatureConfig, file: String) throws {
        let p = provenance
        if p.backboneSHA256 != backboneSHA256 {
            throw REBError.bankMismatch(file: file, key: "backbone", bank: "\(p.backbone) (sha256 \(p.backboneSHA256.prefix(12))…)",
                                        requested: "\(backbone) (sha256 \(backboneSHA256.prefix(12))…)")
        }
        if p.features.dimension != features.dimension {
            throw REBError.bankMismatch(file: file, key: "feature size D =", bank: "\(p.features.dimension)", requested: "D = \(features.dimension)")
        }
        if p.features.stages != features.stages {
            throw REBError.bankMismatch(file: file, key: "stages", bank: "\(p.features.stages)", requested: "stages \(features.stages)")
        }
        if p.features.inputSize != features.inputSize {
            throw REBError.bankMismatch(file: file, key: "input size", bank: "\(p.features.inputSize)", requested: "input size \(features.inputSize)")
        }
    }
}
