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
    /// Whether `train-gates` has trained the routers (the `/routers` attribute `trained`).
    public let routersTrained: String

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
        config = try LlamaConfig(ConfigReader(checkpoint))
        guard let e = checkpoint.config["moe_experts"]?.intValue, let m = checkpoint.config["moe_expert_width"]?.intValue,
              e >= 1, e * m == config.intermediateSize else {
            throw PregatedMoEError.notAMoECheckpoint(file: path, reason: "config lacks moe_experts × moe_expert_width = intermediate_size \(config.intermediateSize)")
        }
        experts = e
        expertWidth = m
        let routers = try file.group("/routers")
        routersTrained = try routers.attributes.contains("trained") ? try routers.attributes.string("trained") : "unknown"
    }

    /// Bytes of one expert (3·m·D·4).
    public var expertBytes: Int { 3 * expertWidth * config.hiddenSize * 4 }

    /// The routers: `gates[l]` [E, D] for every layer, `pregates[l]` [E, D] for l < L − 1.
    /// - Throws: `PregatedMoEError.notAMoECheckpoint` for a missing or mis-shaped router; `HDF5Error`.
    public func routers() throws -> Routers {
        let file = try HDF5File(path: path, mode: .readOnly)
        func read(_ p: String) throws -> Tensor {
            guard try file.root.contains(p) else { throw PregatedMoEError.notAMoECheckpoint(file: path, reason: "no \(p)") }
            let ds = try file.dataset(p)
            guard ds.shape == [experts, config.hiddenSize] else {
                throw PregatedMoEError.notAMoECheckpoint(file: path, reason: "\(p) has shape \(ds.shape), expected [\(experts), \(config.hiddenSize)]")
            }
            return Tensor(try ds.read(as: Float.self), shape: ds.shape)
        }
        let l = config.layerCount
        return Routers(gates: try (0..<l).map { try read("routers/gate/\($0)") },
                       pregates: try (0..<(l - 1)).map { try read("routers/pregate/\($0)") })
    }

    /// Replaces the routers in the file (after `train-gates`), with a note in `/routers@trained`.
    /// - Throws: `HDF5Error` (read-only file, disk full).
    public static func saveRouters(_ routers: Routers, to path: String, note: String) throws {
        let file = try HDF5File(path: path, mode: .readWrite)
        for (kind, tensors) in [("gate", routers.gates), ("pregate", routers.pregates)] {
            for (layer, t) in tensors.enumerated() {
                let p = "routers/\(kind)/\(layer)"
                if try file.root.contains(p) { try file.root.remove(p) }
                _ = try t.contiguous().withUnsafeBufferPointer { try file.root.createDataset(p, shape: t.shape, data: $0) }
            }
        }
        try file.group("/routers").attributes.set("trained", .string(note))
        try file.close()
    }

    /// The decoder with the dense layers loaded (strictly) and every FFN a `MixtureOfExperts` of
    /// `session`.
    /// - Throws: `CheckpointError` (missing, unexpected or mis-shaped dense parameters); `HDF5Error`.
    public func makeDecoder(session: MoESession) throws -> LlamaDecoder {
        let model = LlamaDecoder(config: config, factory: .placeholders())
        for (layer, block) in model.blocks.enumerated() { block.ffn = MixtureOfExperts(layer: layer, session: session) }
        try model.load(from: checkpoint)
        return model
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
