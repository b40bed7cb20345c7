import Foundation
import MLCore

/// Writes a MoE checkpoint from a dense Llama checkpoint (`pregated-moe moefy`; layout in
/// Docs/pregated-moe.md): the dense layers under `/params`, one dataset per expert under
/// `/experts/<layer>/<expert>` ([3, m, D] Float32 in a single chunk, so an expert is one read),
/// the routers under `/routers/gate/<layer>` and `/routers/pregate/<layer>` ([E, D]), and the
/// tokenizer. Constructed, not pre-trained: the root attribute `constructed` says how.
public enum MoECheckpointWriter {
    /// What `moefy` did, for its report.
    public struct Summary: Sendable {
        /// Layers split, experts per layer E and neurons per expert m.
        public var layers: Int
        /// Experts per layer E.
        public var experts: Int
        /// Neurons per expert m = I / E.
        public var expertWidth: Int
        /// Bytes of one expert (3·m·D·4).
        public var expertBytes: Int
        /// Per layer, the largest relative error ‖Σ_e expert_e(x) − FFN(x)‖ / ‖FFN(x)‖ on `probe` rows
        /// (the dense layer recovered with all experts active), measured while writing.
        public var recoveryErrors: [Double]
    }

    /// Splits every layer of `dense` into `experts` experts and writes `path` atomically.
    /// - Parameters:
    ///   - dense: a "llama" checkpoint (SmolLM2).
    ///   - iterations: balanced k-means rounds per layer.
    ///   - tokenizerSource: the checkpoint whose `/tokenizer` is copied (nil: `dense`'s own; a Llama
    ///     checkpoint converted without one can borrow its family's, e.g. SmolLM2's).
    ///   - activations: per layer, the dense FFN's activations [N, I] on calibration tokens
    ///     (`Moefication.activations`): co-activation clustering; nil: parameter clustering.
    ///   - rng: seeds the k-means++ initialisation.
    ///   - onLayer: called after each layer (progress).
    /// - Throws: `PregatedMoEError.expertsDoNotDivide`, `.notAMoECheckpoint` (not a Llama checkpoint),
    ///   `CheckpointError`, `HDF5Error`.
    public static func write(to path: String, dense: Checkpoint, experts: Int, iterations: Int = 15,
                             activations: [Tensor]? = nil, tokenizerSource: String? = nil, rng: inout RandomGenerator, onLayer: (Int) -> Void = { _ in }) throws -> Summary {
        guard dense.architecture == "llama" else {
            throw PregatedMoEError.notAMoECheckpoint(file: dense.path, reason: "architecture '\(dense.architecture)', moefy needs a dense 'llama' checkpoint")
        }
        let config = try LlamaConfig(checkpoint: dense)
        let (width, layers, d) = (config.intermediateSize, config.layerCount, config.hiddenSize)
        guard experts >= 1, width % experts == 0 else { throw PregatedMoEError.expertsDoNotDivide(experts: experts, width: width) }
        let m = width / experts
        var configObject: [String: JSONValue] = [:]
        if case .object(let o) = dense.config { configObject = o }
        configObject["moe_experts"] = .int(experts)
        configObject["moe_expert_width"] = .int(m)
        configObject["moe_clustering"] = .string(activations.map { "balanced k-means of neurons' co-activation profiles on \($0.first?.shape[0] ?? 0) calibration tokens" }
            ?? "balanced k-means of normalised [gate; up] rows" + ", \(iterations) rounds, k-means++ seed")
        let denseSHA = try SHA256.hexDigest(ofFile: dense.path)
        var errors: [Double] = []
        var probeRNG = RandomGenerator(seed: 7)
        let probe = Tensor(shape: [16, d]) { _ in probeRNG.normal() }
        try HDF5File.createAtomically(path) { file in
            let root = file.root.attributes
            try root.set("format", "mlcore-checkpoint")
            try root.set("format_version", 1)
            try root.set("architecture", "llama-moe")
            try root.set("config", .string(try JSONValue.object(configObject).jsonText()))
            if dense.source != .null { try root.set("source", .string(try dense.source.jsonText())) }
            try root.set("constructed", .string("MoE constructed from a dense model (not pre-trained as MoE): each SwiGLU FFN split into \(experts) experts of \(m) neurons by pregated-moe moefy"))
            try root.set("dense_checkpoint", .string(dense.path))
            try root.set("dense_sha256", .string(denseSHA))
            let params = try file.root.createGroup("params")
            let isFFN = { (key: String) in key.hasSuffix(".ffn_gate.weight") || key.hasSuffix(".ffn_up.weight") || key.hasSuffix(".ffn_down.weight") }
            for key in dense.keys where !isFFN(key) {
                let t = try dense.tensor(key)
                _ = try t.withUnsafeBufferPointer { try params.createDataset(key.replacingOccurrences(of: ".", with: "/"), shape: t.shape, data: $0) }
            }
            var gateInit: [Tensor] = []
            for layer in 0..<layers {
                let p = "blk.\(layer)"
                let gate = try dense.tensor("\(p).ffn_gate.weight"), up = try dense.tensor("\(p).ffn_up.weight")
                let down = try dense.tensor("\(p).ffn_down.weight")
                let clustering: Moefication.Clustering = activations.map { .coActivation($0[layer]) } ?? .parameters
                let split = try Moefication.split(gate: gate, up: up, experts: experts, clustering: clustering,
                                                  iterations: iterations, rng: &rng)
                gateInit.append(split.gateCentroids)
                var sum = Tensor.zeros([probe.shape[0], d])
                for (e, neurons) in split.experts.enumerated() {
                    let w = Moefication.expertWeights(neurons: neurons, gate: gate, up: up, down: down)
                    let dataset = try w.packed.withUnsafeBufferPointer {
                        try file.root.createDataset("experts/\(layer)/\(e)", shape: [3, m, d], data: $0, chunks: [3, m, d])
                    }
                    try dataset.attributes.set("neurons", .ints(neurons))
                    try dataset.attributes.set("checksum", .int(Int(w.packed.withUnsafeBufferPointer(ExpertWeights.checksum))))
                    sum = sum + w(probe)
                }
                let dense = Tensor.matmul(Tensor.matmul(probe, gate, transposeB: true).silu() * Tensor.matmul(probe, up, transposeB: true),
                                          down, transposeB: true)
                errors.append(Double(relativeError(sum, dense)))
                onLayer(layer)
            }
            for layer in 0..<layers {
                _ = try gateInit[layer].withUnsafeBufferPointer {
                    try file.root.createDataset("routers/gate/\(layer)", shape: [experts, d], data: $0)
                }
                if layer + 1 < layers {
                    // The pre-gate of layer N starts as layer N+1's gate (Docs/pregated-moe.md: W̃_N ← W_{N+1}).
                    _ = try gateInit[layer + 1].withUnsafeBufferPointer {
                        try file.root.createDataset("routers/pregate/\(layer)", shape: [experts, d], data: $0)
                    }
                }
            }
            try file.group("/routers").attributes.set("trained", .string("no: gates are the clusters' gate-row centroids, pre-gates copies of the next layer's gate"))
            try copyTokenizer(from: tokenizerSource ?? dense.path, to: file)
        }
        return Summary(layers: layers, experts: experts, expertWidth: m, expertBytes: 3 * m * d * 4, recoveryErrors: errors)
    }

    /// max over rows of ‖a − b‖ / ‖b‖ for [N, D] tensors.
    static func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
        let (x, y, d) = (a.contiguous().scalars, b.contiguous().scalars, a.shape[1])
        var worst: Float = 0
        for r in 0..<a.shape[0] {
            var num: Float = 0, den: Float = 0
            for j in 0..<d { let t = x[r * d + j] - y[r * d + j]; num += t * t; den += y[r * d + j] * y[r * d + j] }
            worst = max(worst, (num / max(den, 1e-30)).squareRoot())
        }
        return worst
    }

    /// Copies the `/tokenizer` group (string, int32 datasets and every attribute) of `source`.
    static func copyTokenizer(from source: String, to file: HDF5File) throws {
        let input = try HDF5File(path: source, mode: .readOnly)
        guard try input.root.contains("tokenizer") else { return }
        let from = try input.group("/tokenizer"), to = try file.root.createGroup("tokenizer")
        for (name, value) in try from.attributes.all() { try to.attributes.set(name, value) }
        for entry in try from.children() where entry.kind == .dataset {
            let ds = try input.dataset(entry.path)
            let created: HDF5Dataset
            switch ds.elementType {
            case .string: created = try to.createDataset(entry.name, strings: try ds.readStrings(), shape: ds.shape)
            case let t where t.isInteger: created = try to.createDataset(entry.name, shape: ds.shape, data: try ds.read(as: Int64.self), storedAs: t)
            default: created = try to.createDataset(entry.name, shape: ds.shape, data: try ds.read(as: Float.self), storedAs: ds.elementType)
            }
            for (name, value) in try ds.attributes.all() { try created.attributes.set(name, value) }
        }
    }
}
