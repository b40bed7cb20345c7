import Foundation
import MLCore

/// What `FluctuationFeatures` probes (Docs/pfami.md, "Features").
public struct FeatureConfig: Sendable, Equatable {
    /// The probes j: DDPM timesteps t (the reference: 0, 50, …, 450) or VAE pass indices 0..<R.
    public var probes: [Int]
    /// The neighbours (λ_k).
    public var neighbourhood: Neighbourhood
    /// Common random numbers: a record and its neighbours share the noise of each probe.
    public var commonRandomNumbers: Bool
    /// Seed of every noise draw (with the dataset row, the neighbour and the model).
    public var seed: UInt64
    /// Records per forward pass.
    public var batchSize: Int

    /// - Parameters: as the properties (batchSize ≥ 1).
    public init(probes: [Int], neighbourhood: Neighbourhood, commonRandomNumbers: Bool, seed: UInt64, batchSize: Int) {
        (self.probes, self.neighbourhood, self.commonRandomNumbers, self.seed, self.batchSize) =
            (probes, neighbourhood, commonRandomNumbers, seed, batchSize)
    }
}

/// The probe losses of a block of records under the target θ and the reference φ, and the calibrated
/// fluctuation D (Fu et al. 2023, eq. 9–10; wjfu99/MIA-Gen attack_model_PFAMI.py `feat_prepare`).
/// J probes, K neighbours, N records; arrays are row-major Float32.
public struct FeatureBlock: Sendable, Equatable {
    /// Dataset rows [N].
    public var rows: [Int]
    /// 1 = member of the attacked model, 0 = hold-out [N].
    public var labels: [Int]
    /// J and K.
    public var probeCount: Int, neighbourCount: Int
    /// L_θ(x, j) [N, J] and L_θ(x̃_k, j) [N, K, J].
    public var targetOriginal: [Float], targetNeighbours: [Float]
    /// L_φ(x, j) [N, J] and L_φ(x̃_k, j) [N, K, J].
    public var referenceOriginal: [Float], referenceNeighbours: [Float]
    /// SecMI's ℓ under θ [N] (`DiffusionUNet.secmiLoss`), for DDPM targets; nil otherwise.
    public var targetSecMI: [Float]? = nil

    /// Records N.
    public var count: Int { rows.count }

    /// D [N, J, K]: D[j, k] = (L_θ(x̃_k, j) − L_θ(x, j))/L_θ(x, j) − (L_φ(x̃_k, j) − L_φ(x, j))/L_φ(x, j),
    /// NaN (0/0) → 0 as the reference. With `calibrated` false the reference term is left out.
    public func fluctuation(calibrated: Bool = true) -> [Float] {
        let j = probeCount, k = neighbourCount
        var d = [Float](repeating: 0, count: count * j * k)
        for n in 0..<count {
            for p in 0..<j {
                let t0 = targetOriginal[n * j + p], r0 = referenceOriginal[n * j + p]
                for q in 0..<k {
                    let t = (targetNeighbours[(n * k + q) * j + p] - t0) / t0
                    let r = (referenceNeighbours[(n * k + q) * j + p] - r0) / r0
                    let v = calibrated ? t - r : t
                    d[(n * j + p) * k + q] = v.isNaN ? 0 : v
                }
            }
        }
        return d
    }

    /// The blocks joined in order.
    /// - Precondition: equal J and K.
    public static func joined(_ blocks: [FeatureBlock]) -> FeatureBlock {
        var out = blocks[0]
        for b in blocks.dropFirst() {
            precondition(b.probeCount == out.probeCount && b.neighbourCount == out.neighbourCount, "FeatureBlock: J or K differ")
            out.rows += b.rows; out.labels += b.labels
            out.targetOriginal += b.targetOriginal; out.targetNeighbours += b.targetNeighbours
            out.referenceOriginal += b.referenceOriginal; out.referenceNeighbours += b.referenceNeighbours
            out.targetSecMI = out.targetSecMI.flatMap { a in b.targetSecMI.map { a + $0 } }
        }
        return out
    }
}

/// Computes `FeatureBlock`s: for each batch of records, the original images and their K neighbours
/// through both models at every probe — (1 + K)·J·2 queries per record (Docs/pfami.md, "Cost") — and,
/// for a DDPM target, SecMI's loss (11 more queries).
public enum FluctuationFeatures {
    /// The noise seed of (row, neighbour, model): SplitMix64 of the seed and the three numbers;
    /// `neighbour` 0 is the original and k + 1 neighbour k — with common random numbers every
    /// neighbour takes the original's seed. `model` 0 is θ, 1 is φ.
    public static func noiseSeed(seed: UInt64, row: Int, neighbour: Int, common: Bool, model: Int = 0) -> UInt64 {
        var z = seed
        for v in [UInt64(row), UInt64(common ? 0 : neighbour), UInt64(model)] {
            z = z &+ 0x9E37_79B9_7F4A_7C15 &+ v
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
        }
        return z
    }

    /// Probe losses of `rows` (labels per row) under `target` and `reference`.
    /// - Throws: `PFAMIError.inputSizeMismatch` when a model takes other images than `images`,
    ///   `.emptySet` for no probe.
    public static func compute(target: ProbeModel, reference: ProbeModel, images: ImageSet, rows: [Int], labels: [Int],
                               config: FeatureConfig, progress: (Int) -> Void = { _ in }) throws -> FeatureBlock {
        for (name, m) in [("the target model", target), ("the reference model", reference)] where m.channels != images.channels || m.size != images.size {
            throw PFAMIError.inputSizeMismatch(model: name, expected: "\(m.channels)×\(m.size)×\(m.size)",
                                               found: "\(images.channels)×\(images.size)×\(images.size) (\(images.path))")
        }
        guard !config.probes.isEmpty else { throw PFAMIError.emptySet(what: "the probe list", reason: "no probe given") }
        let j = config.probes.count, k = config.neighbourhood.count
        let unet = target as? DiffusionUNet
        var block = FeatureBlock(rows: [], labels: [], probeCount: j, neighbourCount: k, targetOriginal: [], targetNeighbours: [],
                                 referenceOriginal: [], referenceNeighbours: [], targetSecMI: unet == nil ? nil : [])
        var start = 0
        while start < rows.count {
            let part = Array(rows[start..<Swift.min(start + config.batchSize, rows.count)])
            let n = part.count
            let x = images.batch(part)
            let variants = [x] + (0..<k).map { config.neighbourhood.neighbour(x, $0) }
            // losses[model][variant] = [n, J]
            var losses = [[[Float]]](repeating: [[Float]](repeating: [Float](repeating: 0, count: n * j), count: k + 1), count: 2)
            for (mi, model) in [target, reference].enumerated() {
                for (v, images) in variants.enumerated() {
                    let seeds = part.map { noiseSeed(seed: config.seed, row: $0, neighbour: v, common: config.commonRandomNumbers, model: mi) }
                    for (p, probe) in config.probes.enumerated() {
                        for (i, l) in model.losses(images, probe: probe, noiseSeeds: seeds).enumerated() { losses[mi][v][i * j + p] = l }
                    }
                }
            }
            block.rows += part
            block.labels += labels[start..<(start + n)]
            block.targetOriginal += losses[0][0]
            block.referenceOriginal += losses[1][0]
            var tn = [Float](repeating: 0, count: n * k * j), rn = tn
            for i in 0..<n {
                for q in 0..<k {
                    for p in 0..<j {
                        tn[(i * k + q) * j + p] = losses[0][q + 1][i * j + p]
                        rn[(i * k + q) * j + p] = losses[1][q + 1][i * j + p]
                    }
                }
            }
            block.targetNeighbours += tn
            if let unet { block.targetSecMI! += unet.secmiLoss(x) }
            block.referenceNeighbours += rn
            progress(n)
            start += n
        }
        return block
    }
}

/// The feature file (HDF5, Docs/pfami.md, "Feature files"): datasets `row` int64 [N], `label` int32
/// [N], `target_original` and `reference_original` float32 [N, J], `target_neighbours` and
/// `reference_neighbours` float32 [N, K, J], `fluctuation` float32 [N, J, K] (D, calibrated), for a DDPM
/// target `target_secmi` float32 [N]; root
/// attributes `format` = "mlcore-pfami-features", `format_version` 1 and `provenance` (JSON: models,
/// dataset and their SHA-256, probes, strengths, crop geometry, common random numbers, seed). Every
/// dataset has one row per record, so `merge` joins shards row-wise.
public enum FeatureFile {
    /// The `format` attribute.
    public static let format = "mlcore-pfami-features"

    /// Writes `block` into `file` (an open, empty HDF5 file) with `provenance`.
    /// - Throws: `HDF5Error`, `ReportError`.
    public static func write(_ block: FeatureBlock, provenance: JSONValue, to file: HDF5File) throws {
        let n = block.count, j = block.probeCount, k = block.neighbourCount
        let root = file.root
        try root.attributes.set("format", .string(format))
        try root.attributes.set("format_version", .int(1))
        try root.attributes.set("provenance", .string(try provenance.jsonText()))
        try root.createDataset("row", shape: [n], data: block.rows.map(Int64.init))
        try root.createDataset("label", shape: [n], data: block.labels.map(Int32.init))
        try root.createDataset("target_original", shape: [n, j], data: block.targetOriginal)
        try root.createDataset("reference_original", shape: [n, j], data: block.referenceOriginal)
        try root.createDataset("target_neighbours", shape: [n, k, j], data: block.targetNeighbours)
        try root.createDataset("reference_neighbours", shape: [n, k, j], data: block.referenceNeighbours)
        try root.createDataset("fluctuation", shape: [n, j, k], data: block.fluctuation())
        if let secmi = block.targetSecMI { try root.createDataset("target_secmi", shape: [n], data: secmi) }
    }

    /// Reads a feature file and its provenance, checking every dataset's shape against `row`.
    /// - Throws: `PFAMIError.badFeatures` (another format, a missing or truncated dataset, labels not
    ///   0/1), `HDF5Error` (unreadable file).
    public static func read(_ path: String) throws -> (block: FeatureBlock, provenance: JSONValue) {
        let file = try HDF5File(path: path)
        let attributes = file.root.attributes
        guard try attributes.contains("format"), try attributes.string("format") == format else {
            throw PFAMIError.badFeatures(file: path, reason: "root attribute format is not \(format) (was it written by `pfami features`?)")
        }
        if try attributes.contains("mlcore_shard") {
            throw PFAMIError.badFeatures(file: path, reason: "it is one shard of a job; join the shards with `pfami merge` first")
        }
        let provenance = try JSONValue.parse(try attributes.string("provenance"))
        func dataset(_ name: String) throws -> HDF5Dataset {
            guard try file.root.contains(name) else { throw PFAMIError.badFeatures(file: path, reason: "no dataset '\(name)'") }
            return try file.dataset(name)
        }
        let rowSet = try dataset("row")
        guard rowSet.rank == 1, rowSet.shape[0] >= 1 else { throw PFAMIError.badFeatures(file: path, reason: "'row' has shape \(rowSet.shape), expected [N ≥ 1]") }
        let n = rowSet.shape[0]
        let to = try dataset("target_original")
        guard to.rank == 2, to.shape[0] == n, to.shape[1] >= 1 else {
            throw PFAMIError.badFeatures(file: path, reason: "'target_original' has shape \(to.shape), expected [\(n), J]")
        }
        let j = to.shape[1]
        let tnSet = try dataset("target_neighbours")
        guard tnSet.rank == 3, tnSet.shape[0] == n, tnSet.shape[2] == j, tnSet.shape[1] >= 1 else {
            throw PFAMIError.badFeatures(file: path, reason: "'target_neighbours' has shape \(tnSet.shape), expected [\(n), K, \(j)]")
        }
        let k = tnSet.shape[1]
        let expected: [String: [Int]] = ["label": [n], "reference_original": [n, j], "reference_neighbours": [n, k, j]]
        for (name, shape) in expected.sorted(by: { $0.key < $1.key }) {
            let d = try dataset(name)
            guard d.shape == shape else { throw PFAMIError.badFeatures(file: path, reason: "'\(name)' has shape \(d.shape), expected \(shape) (truncated or mismatched?)") }
        }
        let labels = try dataset("label").read(as: Int32.self).map(Int.init)
        guard labels.allSatisfy({ $0 == 0 || $0 == 1 }) else { throw PFAMIError.badFeatures(file: path, reason: "'label' holds values other than 0 and 1") }
        var secmi: [Float]? = nil
        if try file.root.contains("target_secmi") {
            let d = try file.dataset("target_secmi")
            guard d.shape == [n] else { throw PFAMIError.badFeatures(file: path, reason: "'target_secmi' has shape \(d.shape), expected [\(n)]") }
            secmi = try d.read(as: Float.self)
        }
        let block = FeatureBlock(
            rows: try rowSet.read(as: Int64.self).map(Int.init), labels: labels, probeCount: j, neighbourCount: k,
            targetOriginal: try to.read(as: Float.self), targetNeighbours: try tnSet.read(as: Float.self),
            referenceOriginal: try dataset("reference_original").read(as: Float.self),
            referenceNeighbours: try dataset("reference_neighbours").read(as: Float.self), targetSecMI: secmi)
        return (block, provenance)
    }
}
