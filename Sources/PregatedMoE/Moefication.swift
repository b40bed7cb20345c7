import MLCore

/// Splits a dense SwiGLU FFN into E equal experts by balanced k-means over its neurons (parameter
/// clustering as in MoEfication, Zhang et al., Findings of ACL 2022, §3.1, adapted to SwiGLU): neuron
/// i is described by its normalised gate and up rows [gate_i / ‖gate_i‖, up_i / ‖up_i‖] (2D values),
/// neurons with similar input directions fire together. Every expert gets exactly I / E neurons.
public enum Moefication {
    /// The result of splitting one layer.
    public struct Split: Sendable {
        /// Neuron indices of each expert, sorted ascending: E arrays of I / E, a partition of 0..<I.
        public var experts: [[Int]]
        /// Each cluster's centroid restricted to the gate half [E, D]: the router's initial weights
        /// (x · centroid is how strongly x drives the cluster's gates).
        public var gateCentroids: Tensor
    }

    /// Balanced k-means of the neurons of `gate` [I, D] and `up` [I, D] into `experts` clusters of
    /// I / E: k-means++ seeding, then `iterations` rounds of a balanced assignment (all neuron–cluster
    /// pairs by increasing squared distance, each taken when the neuron is free and the cluster not
    /// full) and centroid updates.
    /// - Throws: `PregatedMoEError.expertsDoNotDivide` when E does not divide I (or E < 1).
    public static func split(gate: Tensor, up: Tensor, experts e: Int, iterations: Int = 15,
                             rng: inout RandomGenerator) throws -> Split {
        let (n, d) = (gate.shape[0], gate.shape[1])
        precondition(up.shape == gate.shape, "Moefication: gate \(gate.shape) and up \(up.shape) differ")
        guard e >= 1, n % e == 0 else { throw PregatedMoEError.expertsDoNotDivide(experts: e, width: n) }
        let per = n / e, f = 2 * d
        // Features [n, 2D].
        var features = [Float](repeating: 0, count: n * f)
        let g = gate.contiguous().scalars, u = up.contiguous().scalars
        for i in 0..<n {
            for (src, offset) in [(g, 0), (u, d)] {
                var norm: Float = 0
                for j in 0..<d { norm += src[i * d + j] * src[i * d + j] }
                let scale = norm > 0 ? 1 / norm.squareRoot() : 0
                for j in 0..<d { features[i * f + offset + j] = src[i * d + j] * scale }
            }
        }
        func distance(_ i: Int, _ c: [Float], _ k: Int) -> Float {
            var s: Float = 0
            for j in 0..<f { let t = features[i * f + j] - c[k * f + j]; s += t * t }
            return s
        }
        // k-means++ seeding.
        var centroids = [Float](repeating: 0, count: e * f)
        let first = rng.nextInt(below: n)
        for j in 0..<f { centroids[j] = features[first * f + j] }
        var nearest = (0..<n).map { distance($0, centroids, 0) }
        for k in 1..<e {
            let total = nearest.reduce(0, +)
            var target = Float(rng.uniformDouble()) * total, pick = n - 1
            for i in 0..<n { target -= nearest[i]; if target <= 0 { pick = i; break } }
            for j in 0..<f { centroids[k * f + j] = features[pick * f + j] }
            for i in 0..<n { nearest[i] = min(nearest[i], distance(i, centroids, k)) }
        }
        var assignment = [Int](repeating: 0, count: n)
        for _ in 0..<max(1, iterations) {
            var pairs: [(Float, Int, Int)] = []
            pairs.reserveCapacity(n * e)
            for i in 0..<n { for k in 0..<e { pairs.append((distance(i, centroids, k), i, k)) } }
            pairs.sort { $0.0 != $1.0 ? $0.0 < $1.0 : ($0.1 != $1.1 ? $0.1 < $1.1 : $0.2 < $1.2) }
            var taken = [Bool](repeating: false, count: n), size = [Int](repeating: 0, count: e)
            for (_, i, k) in pairs where !taken[i] && size[k] < per {
                taken[i] = true; size[k] += 1; assignment[i] = k
            }
            centroids = [Float](repeating: 0, count: e * f)
            for i in 0..<n { for j in 0..<f { centroids[assignment[i] * f + j] += features[i * f + j] / Float(per) } }
        }
        var members = [[Int]](repeating: [], count: e)
        for i in 0..<n { members[assignment[i]].append(i) }
        let gateCentroids = Tensor(shape: [e, d]) { centroids[($0 / d) * f + $0 % d] }
        return Split(experts: members, gateCentroids: gateCentroids)
    }

    /// The packed weights of the expert with neurons `neurons`: [3, m, D] = gate rows, up rows and
    /// down columns (transposed) of the dense FFN `gate` [I, D], `up` [I, D], `down` [D, I].
    public static func expertWeights(neurons: [Int], gate: Tensor, up: Tensor, down: Tensor) -> ExpertWeights {
        let downT = down.transposed().contiguous()
        return ExpertWeights(packed: Tensor.stack([gate.indexSelect(neurons, axis: 0), up.indexSelect(neurons, axis: 0),
                                                   downT.indexSelect(neurons, axis: 0)], axis: 0))
    }
}
