import MLCore

/// A MoE checkpoint written by `moefy` (Docs/pregated-moe.md), opened for reading: the Llama
/// config, E and m, the routers, and the dense layers as a decoder whose FFNs are mixtures of
/// experts. The experts themselves stay on disk: `ExpertStore` reads them.
public final class MoECheckpoint: @unchecked Sendable {
    /// The file as named.
    public let path: String
    /// The dense part (params, config, tokenizer).
    public let checkpoint: Checkpoint
    /// The decoder's hyper-parameters.
    public let config: LlamaConfig
    /// Experts per layer E.
    public let experts: Int
    /// Neurons per expert m.
    public let expertWidth: Int

    /// Opens `path` and checks that it holds experts.
    /// - Throws: `PregatedMoEError.notAMoECheckpoint` (no `/experts`, wrong architecture, missing
    ///   config keys); `CheckpointError`, `HDF5Error`.
    public init(path: String) throws {
        self.path = path
        checkpoint = try Checkpoint(path: path)
        guard checkpoint.architecture == "llama-moe" else {
            throw PregatedMoEError.notAMoECheckpoint(file: path, reason: "architecture '\(checkpoint.architecture)', expected 'llama-moe' (run `pregated-moe moefy` first)")
        }
        let file = try HDF5File(path: path, mode: .readOnly)
        guard try file.root.contains("experts") else {
            throw PregatedMoEError.notAMoECheckpoint(file: path, reason: "no /experts group")
        }
        let moe: MoEConfig
        do {
            moe = try MoEConfig(checkpoint: checkpoint)
        } catch CheckpointError.badConfig(_, let key, _) where key.hasPrefix("moe_") {
            let width = (try? LlamaConfig(checkpoint: checkpoint))?.intermediateSize
            throw PregatedMoEError.notAMoECheckpoint(file: path, reason: "config lacks moe_experts × moe_expert_width = intermediate_size \(width.map(String.init) ?? "?")")
        }
        config = moe.llama
        experts = moe.experts
        expertWidth = moe.expertWidth
    }

    /// Bytes of one expert (3·m·D·4).
    public var expertBytes: Int { 3 * expertWidth * config.hiddenSize * 4 }

    /// The routers: `gates[l]` [E, D] for every layer, `pregates[l]` [E, D] for l < L − 1 — the
    /// checkpoint's own (`routersPath` nil) or those of a routers file written by `train-gates`.
    /// - Throws: `PregatedMoEError.notAMoECheckpoint` for a missing or mis-shaped router or a routers
    ///   file of another model; `HDF5Error`.
    public func routers(from routersPath: String? = nil) throws -> Routers {
        let source = routersPath ?? path
        let file = try HDF5File(path: source, mode: .readOnly)
        if routersPath != nil {
            let a = file.root.attributes
            guard try a.contains("format"), try a.string("format") == "pregated-moe-routers" else {
                throw PregatedMoEError.notAMoECheckpoint(file: source, reason: "not a routers file (format pregated-moe-routers, written by the gate training)")
            }
        }
        func read(_ p: String) throws -> Tensor {
            guard try file.root.contains(p) else { throw PregatedMoEError.notAMoECheckpoint(file: source, reason: "no \(p)") }
            let ds = try file.dataset(p)
            guard ds.shape == [experts, config.hiddenSize] else {
                throw PregatedMoEError.notAMoECheckpoint(file: source, reason: "\(p) has shape \(ds.shape), expected [\(experts), \(config.hiddenSize)]")
            }
            return Tensor(try ds.read(as: Float.self), shape: ds.shape)
        }
        let l = config.layerCount
        return Routers(gates: try (0..<l).map { try read("routers/gate/\($0)") },
                       pregates: try (0..<(l - 1)).map { try read("routers/pregate/\($0)") })
    }

    /// Writes `routers` to a routers file (format `pregated-moe-routers`; datasets as in the checkpoint's
    /// `/routers`), with `note` in `/routers@trained` and this checkpoint's path and sha256.
    /// - Throws: `HDF5Error` (cannot create, disk full), `SHA256.FileError`.
    public func saveRouters(_ routers: Routers, to output: String, note: String) throws {
        let digest = try SHA256.hexDigest(ofFile: path)
        try HDF5File.createAtomically(output) { file in
            try file.root.attributes.set("format", "pregated-moe-routers")
            try file.root.attributes.set("checkpoint", .string(path))
            try file.root.attributes.set("checkpoint_sha256", .string(digest))
            for (kind, tensors) in [("gate", routers.gates), ("pregate", routers.pregates)] {
                for (layer, t) in tensors.enumerated() {
                    _ = try t.contiguous().withUnsafeBufferPointer { try file.root.createDataset("routers/\(kind)/\(layer)", shape: t.shape, data: $0) }
                }
            }
            try file.group("/routers").attributes.set("trained", .string(note))
        }
    }

    /// The `/routers@trained` note of a routers file (or of the checkpoint).
    /// - Throws: `HDF5Error`.
    public func routersNote(_ routersPath: String? = nil) throws -> String {
        let file = try HDF5File(path: routersPath ?? path, mode: .readOnly)
        let a = try file.group("/routers").attributes
        return try a.contains("trained") ? try a.string("trained") : "unknown"
    }

    /// The decoder with the dense layers loaded (strictly) and every FFN a `MixtureOfExperts` of
    /// `session`.
    /// - Throws: `CheckpointError` (missing, unexpected or mis-shaped dense parameters); `HDF5Error`.
    public func makeDecoder(session: MoESession) throws -> LlamaDecoder {
        let model = Self.buildDecoder(config: config, session: session, factory: .placeholders())
        try model.load(from: checkpoint)
        return model
    }

    /// A decoder of `config` whose every FFN is a `MixtureOfExperts` of `session` (built in place of the
    /// dense FFN, so `factory` creates exactly the parameters a MoE checkpoint stores under `/params`).
    public static func buildDecoder(config: LlamaConfig, session: MoESession, factory: ParameterFactory) -> LlamaDecoder {
        LlamaDecoder(config: config, factory: factory) { layer, _ in MixtureOfExperts(layer: layer, session: session) }
    }

    /// Every expert read into memory (for `train-gates`, tests and the all-resident baseline).
    /// - Throws: `PregatedMoEError.corruptExpert`; `HDF5Error`.
    public func loadAllExperts() throws -> [[ExpertWeights]] {
        let store = try ExpertStore(checkpoint: self)
        return try (0..<config.layerCount).map { l in try (0..<experts).map { try store.read(layer: l, expert: $0) } }
    }
}

/// A MoE model's routers (Hwang et al. §4.1): the conventional gate of each block, and the
/// pre-gate of block N that selects block N+1's experts from block N's FFN input.
public struct Routers: Sendable {
    /// Per layer, [E, D].
    public var gates: [Tensor]
    /// Per layer but the last, [E, D].
    public var pregates: [Tensor]

    /// - Parameters: see the properties.
    public init(gates: [Tensor], pregates: [Tensor]) {
        self.gates = gates
        self.pregates = pregates
    }
}

/// The config of a MoE checkpoint (`moefy`'s output): the dense model's `LlamaConfig` keys plus
/// `moe_experts` (E) and `moe_expert_width` (m), with E ≥ 1 and E·m = `intermediate_size`.
public struct MoEConfig: CheckpointConfig, Equatable {
    /// The decoder's hyper-parameters.
    public var llama: LlamaConfig
    /// Experts per layer E.
    public var experts: Int
    /// Neurons per expert m.
    public var expertWidth: Int

    enum CodingKeys: String, CodingKey {
        case experts = "moe_experts", expertWidth = "moe_expert_width"
    }

    /// Decodes the Llama keys and the two MoE keys from one config object.
    /// - Throws: `DecodingError` (→ `CheckpointError.badConfig` through `init(json:file:)`) for a
    ///   missing or invalid key; `moe_experts` when E < 1 or E·m ≠ intermediate_size.
    public init(from decoder: any Decoder) throws {
        llama = try LlamaConfig(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        experts = try c.require(.experts)
        expertWidth = try c.require(.expertWidth)
        guard experts >= 1, experts * expertWidth == llama.intermediateSize else {
            throw c.invalid(.experts, expected: "E ≥ 1 with moe_experts × moe_expert_width = intermediate_size \(llama.intermediateSize)")
        }
    }
}
