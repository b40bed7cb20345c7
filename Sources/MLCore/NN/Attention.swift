/// Scaled dot-product attention (Vaswani et al. 2017, eq. 1) with padding and causal masks and
/// grouped-query attention (Ainslie et al. 2023), composed of differentiable ops.

/// Attention masks as additive biases: 0 where attending is allowed, a large negative number where
/// it is not (finite, so fully masked rows give a uniform distribution instead of NaN).
public enum AttentionMask {
    /// The additive bias for masked positions (HF uses the dtype's minimum; any value that
    /// underflows exp() after the max shift behaves the same).
    public static let maskedBias: Float = -1e30

    /// A padding mask from per-token 0/1 flags [B, S] (1 = real token) → additive [B, 1, 1, S].
    public static func padding(_ attentionMask: NDArray<Int32>) -> Tensor {
        require(attentionMask.rank == 2, "AttentionMask.padding: expected [B, S], got \(attentionMask.shape)")
        let b = attentionMask.shape[0], s = attentionMask.shape[1]
        return attentionMask.withUnsafeBufferPointer { flags in
            Tensor(shape: [b, 1, 1, s]) { flags[$0] != 0 ? 0 : maskedBias }
        }
    }

    /// A causal mask [T, S] for T queries that are the last T of S positions: query i may attend to
    /// keys j ≤ i + (S − T) (the offset covers cached keys during generation).
    public static func causal(queries t: Int, keys s: Int) -> Tensor {
        require(s >= t, "AttentionMask.causal: \(t) queries but only \(s) keys")
        let offset = s - t
        return Tensor(shape: [t, s]) { k in k % s <= k / s + offset ? 0 : maskedBias }
    }
}

extension Variable {
    /// softmax(q·kᵀ · scale + mask)·v.
    ///
    /// - Parameters:
    ///   - query: [B, H, T, Dh].
    ///   - key, value: [B, Hkv, S, Dh] with H a multiple of Hkv; query head h reads key/value head
    ///     h / (H/Hkv) (Llama's repeat_kv).
    ///   - mask: an additive bias broadcastable to [B, H, T, S] (padding and/or causal), or nil.
    ///   - causal: adds `AttentionMask.causal(queries: T, keys: S)`.
    ///   - scale: defaults to 1/√Dh.
    ///   - dropout: attention-probability dropout (training only).
    /// - Returns: [B, H, T, Dh].
    public static func scaledDotProductAttention(query: Variable, key: Variable, value: Variable, mask: Tensor? = nil,
                                                 causal: Bool = false, scale: Float? = nil, dropout: Float = 0,
                                                 context: ForwardContext? = nil) -> Variable {
        require(query.rank == 4 && key.rank == 4 && value.rank == 4 && key.shape == value.shape,
                "attention: query \(query.shape), key \(key.shape), value \(value.shape); expected [B, H, T, Dh] and equal key/value shapes")
        let (b, h, t, dh) = (query.shape[0], query.shape[1], query.shape[2], query.shape[3])
        let (hkv, s) = (key.shape[1], key.shape[2])
        require(key.shape[0] == b && key.shape[3] == dh && hkv > 0 && h % hkv == 0,
                "attention: query \(query.shape) and key \(key.shape) do not match (heads must be a multiple of key/value heads)")
        let scale = scale ?? 1 / Float(dh).squareRoot()
        var bias = mask
        if causal {
            let c = AttentionMask.causal(queries: t, keys: s)
            bias = bias.map { $0 + c } ?? c
        }
        let dropping = dropout > 0 && (context?.isTraining ?? false)
        if !Variable.recording(query, key, value) && !dropping {
            // Nothing to differentiate: one fused pass per head (FusedAttention.swift).
            return Variable(Tensor.fusedAttention(query: query.value, key: key.value, value: value.value, bias: bias, scale: scale))
        }
        var k = key, v = value
        if hkv != h {
            let group = h / hkv
            k = key.unsqueezed(2).expanded(to: [b, hkv, group, s, dh]).reshaped([b, h, s, dh])
            v = value.unsqueezed(2).expanded(to: [b, hkv, group, s, dh]).reshaped([b, h, s, dh])
        }
        var scores = matmul(query, k, transposeB: true) * scale
        if let bias { scores = scores + bias }
        var probabilities = scores.softmax(axis: -1)
        if dropout > 0 { probabilities = probabilities.dropout(dropout, context: context) }
        return matmul(probabilities, v)
    }

    /// [B, T, H·Dh] → [B, H, T, Dh].
    public func splittingHeads(_ heads: Int) -> Variable {
        let (b, t, d) = (shape[0], shape[1], shape[2])
        require(d % heads == 0, "splittingHeads: width \(d) is not a multiple of \(heads) heads")
        return reshaped([b, t, heads, d / heads]).transposed(1, 2)
    }

    /// [B, H, T, Dh] → [B, T, H·Dh].
    public func mergingHeads() -> Variable {
        let (b, h, t, dh) = (shape[0], shape[1], shape[2], shape[3])
        return transposed(1, 2).contiguous().reshaped([b, t, h * dh])
    }
}
