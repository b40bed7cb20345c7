import Foundation

/// Rotary position embeddings (RoFormer, Su et al. 2021, eq. 34): each pair of channels of a query
/// or key at position p is rotated by the angle p·θᵢ with θᵢ = base^(−2i/Dh).
public struct RotaryEmbedding: Sendable {
    /// Which channels form the rotated pairs.
    public enum Layout: String, Sendable {
        /// (x[2i], x[2i+1]): the original RoFormer / Meta Llama / llama.cpp layout (GGUF checkpoints).
        case adjacentPairs = "adjacent-pairs"
        /// (x[i], x[i + Dh/2]): Hugging Face's rotate_half layout.
        case halves = "halves"
    }

    public let headDimension: Int
    public let base: Float
    public let layout: Layout

    /// - Precondition: `headDimension` is even.
    public init(headDimension: Int, base: Float, layout: Layout) {
        require(headDimension > 0 && headDimension % 2 == 0, "RotaryEmbedding: head dimension \(headDimension) must be even")
        self.headDimension = headDimension
        self.base = base
        self.layout = layout
    }

    /// cos and sin of p·θᵢ for positions `start..<start+count`, each [count, Dh/2], in Float32 as
    /// Hugging Face computes them (inv_freq = 1/base^(2i/Dh), angle = p·inv_freq).
    func table(start: Int, count: Int) -> (cos: [Float], sin: [Float]) {
        let half = headDimension / 2
        var c = [Float](repeating: 0, count: count * half), s = c
        for p in 0..<count {
            for i in 0..<half {
                let theta = Float(1) / Foundation.pow(base, Float(2 * i) / Float(headDimension))
                let angle = Float(start + p) * theta
                c[p * half + i] = Foundation.cos(angle)
                s[p * half + i] = Foundation.sin(angle)
            }
        }
        return (c, s)
    }

    /// Rotates x [B, H, T, Dh] whose tokens sit at positions `start..<start+T`.
    public func callAsFunction(_ x: Variable, start: Int = 0) -> Variable {
        require(x.rank == 4 && x.shape[3] == headDimension,
                "RotaryEmbedding: input \(x.shape), expected [B, H, T, \(headDimension)]")
        let t = x.shape[2]
        let (c, s) = table(start: start, count: t)
        let out = rotate(x.value, cos: c, sin: s, inverse: false)
        return Variable.record(out, op: "rope", [x]) { g, _ in [rotate(g, cos: c, sin: s, inverse: true)] }
    }

    /// Applies the rotation (or its inverse, the transpose, for the backward pass).
    func rotate(_ x: Tensor, cos c: [Float], sin s: [Float], inverse: Bool) -> Tensor {
        let xc = x.contiguous()
        let t = x.shape[2], d = headDimension, half = d / 2
        let rows = xc.count / d
        let out = Tensor(uninitializedShape: x.shape)
        let px = xc.storage.pointer + xc.offset, po = out.storage.pointer
        let sign: Float = inverse ? -1 : 1
        let adjacent = layout == .adjacentPairs
        withExtendedLifetime(xc) {
            c.withUnsafeBufferPointer { pc in
                s.withUnsafeBufferPointer { ps in
                    Threading.parallelFor(rows, grain: 256) { range in
                        for r in range {
                            let p = r % t, row = px + r * d, o = po + r * d
                            for i in 0..<half {
                                let cs = pc[p * half + i], sn = sign * ps[p * half + i]
                                let (a, b) = adjacent ? (2 * i, 2 * i + 1) : (i, i + half)
                                let x0 = row[a], x1 = row[b]
                                o[a] = x0 * cs - x1 * sn
                                o[b] = x1 * cs + x0 * sn
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}

/// Keys and values of past positions for incremental decoding, per layer: [B, Hkv, S, Dh] grown
/// in place (capacity doubles), so each step appends without copying the past.
public final class KVCache: @unchecked Sendable {
    private var keys: [Tensor?]
    private var values: [Tensor?]
    private var lengths: [Int]

    /// An empty cache for `layers` layers.
    public init(layers: Int) {
        keys = Array(repeating: nil, count: layers)
        values = Array(repeating: nil, count: layers)
        lengths = Array(repeating: 0, count: layers)
    }

    /// Number of cached positions (of layer 0).
    public var length: Int { lengths.first ?? 0 }

    /// Appends k, v [B, Hkv, T, Dh] to layer `layer` and returns all keys and values so far
    /// [B, Hkv, S, Dh] (views of the cache).
    /// - Precondition: shapes agree with what the layer cached before.
    public func append(layer: Int, key: Tensor, value: Tensor) -> (key: Tensor, value: Tensor) {
        require(key.rank == 4 && key.shape == value.shape, "KVCache: key \(key.shape) and value \(value.shape)")
        let t = key.shape[2], old = lengths[layer], needed = old + t
        if keys[layer] == nil || keys[layer]!.shape[2] < needed {
            var shape = key.shape
            shape[2] = Swift.max(needed, 2 * (keys[layer]?.shape[2] ?? 0), 64)
            var newKeys = Tensor.zeros(shape), newValues = Tensor.zeros(shape)
            newKeys.makeUnique(); newValues.makeUnique()
            if let k = keys[layer], let v = values[layer], old > 0 {
                var kk = newKeys.sliced(0..<old, axis: 2), vv = newValues.sliced(0..<old, axis: 2)
                kk.fill(CopyKernel.self, from: k.sliced(0..<old, axis: 2))
                vv.fill(CopyKernel.self, from: v.sliced(0..<old, axis: 2))
            }
            keys[layer] = newKeys
            values[layer] = newValues
        }
        let k = keys[layer]!, v = values[layer]!
        require(Array(k.shape[0..<2]) == Array(key.shape[0..<2]) && k.shape[3] == key.shape[3],
                "KVCache: layer \(layer) holds \(k.shape), cannot append \(key.shape)")
        var kk = k.sliced(old..<needed, axis: 2), vv = v.sliced(old..<needed, axis: 2)
        kk.fill(CopyKernel.self, from: key)
        vv.fill(CopyKernel.self, from: value)
        lengths[layer] = needed
        return (k.sliced(0..<needed, axis: 2), v.sliced(0..<needed, axis: 2))
    }
}
