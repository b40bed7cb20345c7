import Foundation
import MLCore

/// Where a trained model's records come from (stored in its checkpoint's config under `pfami`), so
/// that `features` finds the target's members and hold-out and checks that the reference model was
/// trained on other rows of the same dataset and split (Docs/pfami.md, "Splits").
public struct ModelProvenance: Sendable, Codable, Equatable {
    /// The dataset file as given.
    public var dataset: String
    /// Its SHA-256.
    public var datasetSHA256: String
    /// Which split's members the model was trained on.
    public var role: SplitRole
    /// Members and hold-out records per role, the shuffle's seed and the dataset's row count.
    public var members: Int, holdout: Int, splitSeed: UInt64, datasetCount: Int

    enum CodingKeys: String, CodingKey {
        case dataset, datasetSHA256 = "dataset_sha256", role, members, holdout, splitSeed = "split_seed", datasetCount = "dataset_count"
    }

    /// The provenance of a model trained on `role`'s members of `splits` of `dataset`.
    public init(dataset: String, datasetSHA256: String, role: SplitRole, splits: MemberSplits) {
        self.dataset = dataset
        self.datasetSHA256 = datasetSHA256
        self.role = role
        members = splits.members
        holdout = splits.holdout
        splitSeed = splits.seed
        datasetCount = splits.datasetCount
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dataset = try c.decode(String.self, forKey: .dataset)
        datasetSHA256 = try c.decode(String.self, forKey: .datasetSHA256)
        role = try c.decode(SplitRole.self, forKey: .role)
        members = try c.decode(Int.self, forKey: .members)
        holdout = try c.decode(Int.self, forKey: .holdout)
        // Written as a string: a 64-bit seed exceeds JSON's exact integers.
        guard let seed = UInt64(try c.decode(String.self, forKey: .splitSeed)) else {
            throw DecodingError.dataCorruptedError(forKey: .splitSeed, in: c, debugDescription: "not a UInt64")
        }
        splitSeed = seed
        datasetCount = try c.decode(Int.self, forKey: .datasetCount)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(dataset, forKey: .dataset)
        try c.encode(datasetSHA256, forKey: .datasetSHA256)
        try c.encode(role, forKey: .role)
        try c.encode(members, forKey: .members)
        try c.encode(holdout, forKey: .holdout)
        try c.encode(String(splitSeed), forKey: .splitSeed)
        try c.encode(datasetCount, forKey: .datasetCount)
    }

    /// The split these numbers describe.
    /// - Throws: as `MemberSplits.init`.
    public func splits() throws -> MemberSplits {
        try MemberSplits(datasetCount: datasetCount, members: members, holdout: holdout, seed: splitSeed, file: dataset)
    }
}

/// Reading and writing PFAMI model checkpoints (Docs/CHECKPOINT_FORMAT.md): architecture
/// `pfami-vae`, `pfami-ddpm` or `pfami-kde`; config `{"model": <VAEConfig | DDPMConfig | KDE sizes>,
/// "pfami": ModelProvenance, "training": {...}}`; the KDE's training images under `/params/points`.
public enum PFAMICheckpoint {
    /// Writes `model` with its provenance and any training facts.
    /// - Throws: `HDF5Error`, `ReportError`, encoding errors.
    public static func save(_ model: ProbeModel, provenance: ModelProvenance, training: JSONValue = .object([:]), to path: String) throws {
        let config: JSONValue = ["model": try model.configJSON, "pfami": try encodedJSON(provenance), "training": training]
        var state: [String: Tensor] = [:]
        if let kde = model as? KDEModel {
            state["points"] = kde.points
        } else {
            for p in model.parameters { state[p.name] = p.value }
        }
        try CheckpointWriter.save(state, to: path, architecture: "pfami-\(model.kind.rawValue)", config: config)
    }

    /// Loads a model written by `save`, strictly.
    /// - Throws: `PFAMIError.badModel` (another architecture, unreadable config), `CheckpointError`
    ///   (missing or mismatched parameters), `HDF5Error`.
    public static func load(_ path: String) throws -> (model: ProbeModel, provenance: ModelProvenance) {
        let checkpoint = try Checkpoint(path: path)
        guard checkpoint.architecture.hasPrefix("pfami-"), let kind = ModelKind(rawValue: String(checkpoint.architecture.dropFirst(6))) else {
            throw PFAMIError.badModel(file: path, reason: "architecture '\(checkpoint.architecture)', expected pfami-vae, pfami-ddpm or pfami-kde")
        }
        func decode<T: Decodable>(_ type: T.Type, _ key: String) throws -> T {
            guard let value = checkpoint.config[key] else { throw PFAMIError.badModel(file: path, reason: "config has no '\(key)'") }
            do {
                return try JSONDecoder().decode(T.self, from: Data(try value.jsonText().utf8))
            } catch {
                throw PFAMIError.badModel(file: path, reason: "config '\(key)' cannot be read (\(error))")
            }
        }
        let provenance = try decode(ModelProvenance.self, "pfami")
        let model: ProbeModel
        switch kind {
        case .vae:
            let vae = ConvVAE(config: try decode(VAEConfig.self, "model"), factory: .placeholders())
            try vae.load(from: checkpoint)
            model = vae
        case .ddpm:
            let unet = DiffusionUNet(config: try decode(DDPMConfig.self, "model"), factory: .placeholders())
            try unet.load(from: checkpoint)
            model = unet
        case .kde:
            struct Sizes: Decodable { var bandwidth: Double }
            let points = try checkpoint.tensor("points")
            guard points.rank == 4, points.shape[0] >= 1 else { throw PFAMIError.badModel(file: path, reason: "points \(points.shape), expected [n, C, S, S]") }
            model = KDEModel(points: points, bandwidth: try decode(Sizes.self, "model").bandwidth)
        }
        return (model, provenance)
    }
}

/// The JSON value of an `Encodable` config (its own coding keys), for checkpoint configs.
/// - Throws: `EncodingError`, `ReportError.invalidJSON`.
func encodedJSON<T: Encodable>(_ value: T) throws -> JSONValue {
    try JSONValue.parse(String(decoding: try JSONEncoder().encode(value), as: UTF8.self))
}
