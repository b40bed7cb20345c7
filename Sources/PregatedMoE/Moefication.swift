import MLCore

/// Splits a dense SwiGLU FFN into E equal experts by balanced k-means over its neurons (MoEfication,
/// Zhang et al., Findings of ACL 2022, §3.1, adapted to SwiGLU). Two descriptions of a neuron:
///
/// - `parameters`: its normalised gate and up rows [gate_i / ‖gate_i‖, up_i / ‖up_i‖] (2D values);
///   neurons with similar input directions fire together (MoEfication's parameter clustering).
/// - `coActivation`: its activation magnitudes |silu(gate_i·x) · up_i·x| over calibration tokens,
///   normalised to unit length, so the squared distance of two neurons is 2 − 2·cos: neurons that are
///   large on the same tokens go to the same expert (MoEfication's co-activation graph split, here as
///   balanced k-means on the co-activation profiles). Chosen tokens' largest neurons then sit in few
///   experts, which is what lets top-k routing keep most of the FFN output.
///
/// Every expert gets exactly I / E neurons.
public enum Moefication {
    /// How neurons are described for clustering.
    public enum Clustering: Sendable {
        /// Normalised [gate row; up row] of each neuron.
        case parameters
        /// Activations [N, I] of the layer's neurons on N calibration tokens (silu(gate x) ⊙ up x).
        case coActivation(Tensor)

        /// A short name for reports and the checkpoint config.
        public var name: String {
            switch self {
            case .parameters: return "parameters"
            case .coActivation: return "co-activation"
            }
        }
    }

    /// The result of splitting one layer.
    public struct Split: Sendable {
        /// Neuron indices of each expert, sorted ascending: E arrays of I / E, a partition of 0..<I.
        public var experts: [[Int]]
        /// Each expert's mean normalised gate row [E, D]: the router's initial weights (x · centroid is
        /// how strongly x drives the expert's gates).
        public var gateCentroids: Tensor
    }

    /// Balanced k-means of the neurons of `gate` [I, D] and `up` [I, D] into `experts` clusters of
    /// I / E, described as `clustering` says: k-means++ seeding, then `iterations` rounds of a
    /// balanced assignment (all neuron–cluster pairs by increasing squared distance, each taken when
    /// the neuron is free and the cluster not full) and centroid updates.
    /// - Throws: `PregatedMoEError.expertsDoNotDivide` when E does not divide I (or E < 1).
    /// - Precondition: co-activation rows [N, I] with N ≥ 1.
    public static func split(gate: Tensor, up: Tensor, experts e: Int, clustering: Clustering = .parameters,
                             iterations: Int = 15, rng: inout RandomGenerator) throws -> Split {
        let n = gate.shape[0]
        precondition(up.shape == gate.shape, "Moefication: gate \(gate.shape) and up \(up.shape) differ")
        guard e >= 1, n % e == 0 else { throw PregatedMoEError.expertsDoNotDivide(experts: e, width: n) }
        let features: Tensor
        switch clustering {
        case .parameters:
            features = Tensor.concatenate([unitRows(gate), unitRows(up)], axis: 1)
        case .coActivation(let activations):
            precondition(activations.rank == 2 && activations.shape[1] == n && activations.shape[0] >= 1,
                         "Moefication: activations \(activations.shape), expected [N, \(n)]")
            features = unitRows(activations.abs().transposed().contiguous())
        }
        let assignment = balancedKMeans(features, clusters: e, iterations: iterations, rng: &rng)
        var members = [[Int]](repeating: [], count: e)
        for i in 0..<n { members[assignment[i]].append(i) }
        let unitGate = unitRows(gate)
        let gateCentroids = Tensor.stack(members.map { unitGate.indexSelect($0, axis: 0).mean(axis: 0) }, axis: 0)
        return Split(experts: members, gateCentroids: gateCentroids)
    }

    /// Rows of x [n, f] scaled to unit L2 norm (zero rows stay zero).
    static func unitRows(_ x: Tensor) -> Tensor {
        let norms = (x * x).sum(axis: 1, keepingDimensions: true).sqrt()
        return x * (1 / Tensor.maximum(norms, Tensor(scalar: 1e-30)))
    }

    /// Balanced k-means of the rows of `features` [n, f] into `clusters` groups of n / clusters:
    /// k-means++ seeding, then rounds of the greedy balanced assignment and centroid updates.
    /// Squared distances are ‖x‖² − 2 x·c + ‖c‖² (one matrix product per round).
    /// - Returns: the cluster of each row.
    /// - Precondition: clusters divides n.
    static func balancedKMeans(_ features: Tensor, clusters e: Int, iterations: Int, rng: inout RandomGenerator) -> [Int] {
        let (n, f) = (features.shape[0], features.shape[1])
        let per = n / e
        let x = features.contiguous()
        let xs = x.scalars
        let rowNorms = (0..<n).map { i in (0..<f).reduce(Float(0)) { $0 + xs[i * f + $1] * xs[i * f + $1] } }
        func distances(_ centroids: [Float], count: Int) -> [Float] {
            let c = Tensor(centroids, shape: [count, f])
            let dots = Tensor.matmul(x, c, transposeB: true).contiguous().scalars
            let cn = (0..<count).map { k in (0..<f).reduce(Float(0)) { $0 + centroids[k * f + $1] * centroids[k * f + $1] } }
            return (0..<(n * count)).map { idx in max(0, rowNorms[idx / count] - 2 * dots[idx] + cn[idx % count]) }
        }
        // k-means++ seeding.
        var centroids = [Float](repeating: 0, count: e * f)
        let first = rng.nextInt(below: n)
        for j in 0..<f { centroids[j] = xs[first * f + j] }
        var nearest = distances(Array(centroids[0..<f]), count: 1)
        for k in 1..<e {
            let total = nearest.reduce(0, +)
            var target = Float(rng.uniformDouble()) * total, pick = n - 1
            for i in 0..<n { target -= nearest[i]; if target <= 0 { pick = i; break } }
            for j in 0..<f { centroids[k * f + j] = xs[pick * f + j] }
            let d = distances(Array(centroids[(k * f)..<((k + 1) * f)]), count: 1)
            for i in 0..<n { nearest[i] = min(nearest[i], d[i]) }
        }
        var assignment = [Int](repeating: 0, count: n)
        for _ in 0..<max(1, iterations) {
            let d = distances(centroids, count: e)
            let pairs = (0..<(n * e)).sorted { a, b in d[a] != d[b] ? d[a] < d[b] : a < b }
            var taken = [Bool](repeating: false, count: n), size = [Int](repeating: 0, count: e)
            for idx in pairs {
                let (i, k) = (idx / e, idx % e)
                if !taken[i] && size[k] < per { taken[i] = true; size[k] += 1; assignment[i] = k }
            }
            centroids = [Float](repeating: 0, count: e * f)
            for i in 0..<n { for j in 0..<f { centroids[assignment[i] * f + j] += xs[i * f + j] / Float(per) } }
        }
        return assignment
    }

    /// The packed weights of the expert with neurons `neurons`: [3, m, D] = gate rows, up rows and
    /// down columns (transposed) of the dense FFN `gate` [I, D], `up` [I, D], `down` [D, I].
    public static func expertWeights(neurons: [Int], gate: Tensor, up: Tensor, down: Tensor) -> ExpertWeights {
        let downT = down.transposed().contiguous()
        return ExpertWeights(packed: Tensor.stack([gate.indexSelect(neurons, axis: 0), up.indexSelect(neurons, axis: 0),
                                                   downT.indexSelect(neurons, axis: 0)], axis: 0))
    }

    /// The dense FFN activations silu(gate x) ⊙ up x [N, I] of every layer of the Llama checkpoint
    /// `dense` on `sequences` (N = their total length): the calibration data of co-activation
    /// clustering.
    /// - Throws: `CheckpointError` (not a loadable Llama checkpoint), `HDF5Error`.
    public static func activations(dense: Checkpoint, sequences: [[Int32]], onSequence: () -> Void = {}) throws -> [Tensor] {
        let config = try LlamaConfig(checkpoint: dense)
        var rows = [[Tensor]](repeating: [], count: config.layerCount)
        let decoder = LlamaDecoder(config: config, factory: .placeholders()) { layer, factory in
            RecordingFeedForward(SwiGLUFeedForward(gate: "ffn_gate", up: "ffn_up", down: "ffn_down", width: config.hiddenSize,
                                                   hiddenWidth: config.intermediateSize, factory: factory)) { rows[layer].append($0) }
        }
        try decoder.load(from: dense)
        withoutGradient {
            for s in sequences where !s.isEmpty {
                var none: [Variable]? = nil
                _ = decoder.trunk(NDArray(s, shape: [1, s.count]), states: &none)
                onSequence()
            }
        }
        return rows.map { Tensor.concatenate($0, axis: 0) }
    }
}

/// A SwiGLU FFN that hands its activations silu(gate x) ⊙ up x (rows [N, I]) to `record`.
final class RecordingFeedForward: FeedForward {
    let ffn: SwiGLUFeedForward
    let record: (Tensor) -> Void
    var parameters: [Parameter] { ffn.parameters }

    init(_ ffn: SwiGLUFeedForward, record: @escaping (Tensor) -> Void) {
        self.ffn = ffn
        self.record = record
    }

    func callAsFunction(_ x: Variable) -> Variable {
        let hidden = ffn.gate(x).silu() * ffn.up(x)
        record(hidden.value.reshaped([-1, ffn.hiddenWidth]).contiguous())
        return ffn.down(hidden)
    }
}
