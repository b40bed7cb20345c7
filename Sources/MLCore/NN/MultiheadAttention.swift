/// Multi-head attention as a module (torch.nn.MultiheadAttention with batch_first=True), built on
/// `Variable.scaledDotProductAttention` (Attention.swift): with gradients it records the composed ops,
/// without (inference, `withoutGradient`) it takes the fused per-head pass (FusedAttention.swift).
///
/// Parameter names and layouts are torch's, so a state dict of nn.MultiheadAttention loads as is:
/// when key and value have the embedding width (self-attention and same-width cross-attention) the
/// three input projections are packed in `in_proj_weight` [3D, D] (rows q, k, v); when their widths
/// `kdim`/`vdim` differ (cross-attention to another encoder's features, e.g. image features of
/// another width attended by text queries) torch keeps `q_proj_weight` [D, D], `k_proj_weight`
/// [D, kdim] and `v_proj_weight` [D, vdim] separate, and so does this module. `in_proj_bias` [3D]
/// and `out_proj.weight`/`out_proj.bias` are the same in both layouts. Following torch rather than
/// separate `q_proj`/`k_proj`/`v_proj` Linear modules keeps one spelling for the tools' checkpoints
/// converted from torch modules; HF-style models with separate projections use `Linear` directly.
/// torch's add_bias_kv and add_zero_attn options are not supported.
public final class MultiheadAttention: Module {
    /// Embedding width D (queries and output).
    public let embedDimension: Int
    /// Heads H; D/H per head.
    public let heads: Int
    /// Key and value input widths.
    public let keyDimension: Int, valueDimension: Int
    /// Attention-probability dropout (training only), torch's `dropout`.
    public let dropout: Float
    /// [3D, D] q, k, v projections packed (`prefix.in_proj_weight`), when kdim = vdim = D.
    public let inProjectionWeight: Parameter?
    /// Separate projections (`prefix.q_proj_weight` [D, D], `k_proj_weight` [D, kdim],
    /// `v_proj_weight` [D, vdim]) when kdim or vdim differs from D.
    public let queryWeight: Parameter?, keyWeight: Parameter?, valueWeight: Parameter?
    /// [3D] (`prefix.in_proj_bias`), or nil without bias.
    public let inProjectionBias: Parameter?
    /// The output projection (`prefix.out_proj.weight` [D, D], `prefix.out_proj.bias` [D]).
    public let outProjection: Linear

    /// Parameters in torch's state-dict order.
    public var parameters: [Parameter] {
        [inProjectionWeight, queryWeight, keyWeight, valueWeight, inProjectionBias].compactMap { $0 } + outProjection.parameters
    }

    /// Initialisation as torch: input projections xavier-uniform (U(±√(6/(fan_in + fan_out))) over the
    /// packed [3D, D] matrix, or per separate matrix), input bias 0, output weight U(±1/√D), output bias 0.
    /// - Precondition: `embedDimension` is a multiple of `heads`.
    public init(_ prefix: String, embedDimension d: Int, heads: Int, keyDimension: Int? = nil, valueDimension: Int? = nil,
                bias: Bool = true, dropout: Float = 0, factory: ParameterFactory) {
        require(heads > 0 && d % heads == 0, "MultiheadAttention \(prefix): width \(d) is not a multiple of \(heads) heads")
        embedDimension = d
        self.heads = heads
        self.keyDimension = keyDimension ?? d
        self.valueDimension = valueDimension ?? d
        self.dropout = dropout
        func xavier(_ rows: Int, _ cols: Int) -> ParameterFactory.Initialization {
            .uniform(bound: (6 / Float(rows + cols)).squareRoot())
        }
        if self.keyDimension == d && self.valueDimension == d {
            inProjectionWeight = factory.make(joinKey(prefix, "in_proj_weight"), [3 * d, d], xavier(3 * d, d))
            (queryWeight, keyWeight, valueWeight) = (nil, nil, nil)
        } else {
            inProjectionWeight = nil
            queryWeight = factory.make(joinKey(prefix, "q_proj_weight"), [d, d], xavier(d, d))
            keyWeight = factory.make(joinKey(prefix, "k_proj_weight"), [d, self.keyDimension], xavier(d, self.keyDimension))
            valueWeight = factory.make(joinKey(prefix, "v_proj_weight"), [d, self.valueDimension], xavier(d, self.valueDimension))
        }
        inProjectionBias = bias ? factory.make(joinKey(prefix, "in_proj_bias"), [3 * d], .constant(0)) : nil
        outProjection = Linear(joinKey(prefix, "out_proj"), inFeatures: d, outFeatures: d, bias: bias, factory: factory,
                               initialization: .uniform(bound: 1 / Float(d).squareRoot()))
    }

    /// Attention of `query` over `key`/`value` (torch's forward with batch_first=True,
    /// need_weights=False).
    ///
    /// - Parameters:
    ///   - query: [B, T, D].
    ///   - key: [B, S, kdim] and value [B, S, vdim]; nil for self-attention (both = query), which
    ///     projects q, k, v with one product.
    ///   - keyPaddingMask: [B, S], non-zero where a key is padding to ignore (torch's
    ///     key_padding_mask; note HF's attention_mask uses the opposite convention).
    ///   - mask: an additive bias broadcastable to [B, H, T, S] (torch's float attn_mask), or nil.
    ///   - causal: query i attends to keys j ≤ i + (S − T) (torch's is_causal).
    ///   - context: training context for dropout; nil for inference.
    /// - Returns: [B, T, D].
    public func callAsFunction(_ query: Variable, key: Variable? = nil, value: Variable? = nil,
                               keyPaddingMask: NDArray<Int32>? = nil, mask: Tensor? = nil, causal: Bool = false,
                               context: ForwardContext? = nil) -> Variable {
        let d = embedDimension
        require(query.rank == 3 && query.shape[2] == d, "MultiheadAttention: query \(query.shape) must be [B, T, \(d)]")
        let b = query.shape[0], t = query.shape[1]
        let (q, k, v): (Variable, Variable, Variable)
        if key == nil && value == nil, let w = inProjectionWeight {
            // One [B·T, D] × [D, 3D] product; q, k, v are strided views of its [B, T, 3, H, Dh] result.
            let qkv = Variable.linear(query, weight: w, bias: inProjectionBias).reshaped([b, t, 3, heads, d / heads])
            (q, k, v) = (qkv.selected(0, axis: 2).transposed(1, 2), qkv.selected(1, axis: 2).transposed(1, 2),
                         qkv.selected(2, axis: 2).transposed(1, 2))
        } else {
            let key = key ?? query, value = value ?? key
            require(key.rank == 3 && value.rank == 3 && key.shape[0] == b && value.shape[0] == b && key.shape[1] == value.shape[1]
                    && key.shape[2] == keyDimension && value.shape[2] == valueDimension,
                    "MultiheadAttention: key \(key.shape) and value \(value.shape) must be [B, S, \(keyDimension)] and [B, S, \(valueDimension)] for query \(query.shape)")
            func projection(_ i: Int) -> (Variable, Variable?) {
                let w = inProjectionWeight.map { $0.sliced((i * d)..<((i + 1) * d), axis: 0) } ?? [queryWeight, keyWeight, valueWeight][i]!
                return (w, inProjectionBias.map { $0.sliced((i * d)..<((i + 1) * d), axis: 0) })
            }
            let (wq, bq) = projection(0), (wk, bk) = projection(1), (wv, bv) = projection(2)
            q = Variable.linear(query, weight: wq, bias: bq).splittingHeads(heads)
            k = Variable.linear(key, weight: wk, bias: bk).splittingHeads(heads)
            v = Variable.linear(value, weight: wv, bias: bv).splittingHeads(heads)
        }
        let s = k.shape[2]
        var bias = mask
        if let keyPaddingMask {
            require(keyPaddingMask.shape == [b, s], "MultiheadAttention: key padding mask \(keyPaddingMask.shape) for [B, S] = [\(b), \(s)]")
            let padding = keyPaddingMask.withUnsafeBufferPointer { flags in
                Tensor(shape: [b, 1, 1, s]) { flags[$0] != 0 ? AttentionMask.maskedBias : 0 }
            }
            bias = bias.map { $0 + padding } ?? padding
        }
        let attended = Variable.scaledDotProductAttention(query: q, key: k, value: v, mask: bias, causal: causal,
                                                          dropout: dropout, context: context)
        return outProjection(attended.mergingHeads())
    }
}
