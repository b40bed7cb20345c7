/// A Llama-style causal decoder (Touvron et al. 2023, "LLaMA", §2.2: pre-normalisation with RMSNorm,
/// SwiGLU feed-forward, rotary embeddings; grouped-query attention, Ainslie et al. 2023), with the
/// semantics of Hugging Face's LlamaModel / LlamaForCausalLM (transformers/models/llama/
/// modeling_llama.py). Parameter names are GGUF's (`token_embd.weight`, `blk.N.attn_q.weight`, …,
/// `output_norm.weight`; Docs/CHECKPOINT_FORMAT.md), as the SmolLM2 checkpoint stores them.

/// The feed-forward sub-layer of a decoder block: a replaceable component (the pre-gated MoE tool
/// swaps a block's dense FFN for a mixture of experts).
public protocol FeedForward: Module {
    /// x [..., D] (the block's normalised hidden state) → [..., D].
    func callAsFunction(_ x: Variable) -> Variable
}

/// SwiGLU (Shazeer 2020, eq. 6; Llama's MLP): down(silu(gate(x)) ⊙ up(x)), no biases.
public final class SwiGLUFeedForward: FeedForward {
    public let gate: Linear
    public let up: Linear
    public let down: Linear
    public var parameters: [Parameter] { gate.parameters + up.parameters + down.parameters }

    /// Parameters `gate.weight` [I, D], `up.weight` [I, D], `down.weight` [D, I] under the given
    /// prefixes (e.g. `blk.3.ffn_gate`).
    public init(gate gatePrefix: String, up upPrefix: String, down downPrefix: String, width: Int, hiddenWidth: Int,
                factory: ParameterFactory) {
        gate = Linear(gatePrefix, inFeatures: width, outFeatures: hiddenWidth, bias: false, factory: factory)
        up = Linear(upPrefix, inFeatures: width, outFeatures: hiddenWidth, bias: false, factory: factory)
        down = Linear(downPrefix, inFeatures: hiddenWidth, outFeatures: width, bias: false, factory: factory)
    }

    /// A feed-forward over existing layers (e.g. one expert cut out of a dense FFN).
    public init(gate: Linear, up: Linear, down: Linear) {
        self.gate = gate
        self.up = up
        self.down = down
    }

    /// Width of the hidden (intermediate) layer.
    public var hiddenWidth: Int { gate.outFeatures }

    /// x [..., D] → [..., D].
    public func callAsFunction(_ x: Variable) -> Variable { down(gate(x).silu() * up(x)) }
}

/// Multi-head self-attention with grouped-query key/value heads and rotary position embeddings.
public final class LlamaAttention: Module {
    public let query: Linear
    public let key: Linear
    public let value: Linear
    public let output: Linear
    public let headCount: Int
    public let keyValueHeadCount: Int
    public let rotary: RotaryEmbedding
    /// The block index: the layer of the KV cache this attention writes.
    public let layer: Int
    public var parameters: [Parameter] { query.parameters + key.parameters + value.parameters + output.parameters }

    /// Parameters `attn_{q,k,v,output}.weight` under `factory`'s scope (`blk.N` for layer N = `layer`).
    public init(layer: Int, config c: LlamaConfig, factory: ParameterFactory) {
        let dh = c.headDimension
        query = Linear("attn_q", inFeatures: c.hiddenSize, outFeatures: c.headCount * dh, bias: false, factory: factory)
        key = Linear("attn_k", inFeatures: c.hiddenSize, outFeatures: c.keyValueHeadCount * dh, bias: false, factory: factory)
        value = Linear("attn_v", inFeatures: c.hiddenSize, outFeatures: c.keyValueHeadCount * dh, bias: false, factory: factory)
        output = Linear("attn_output", inFeatures: c.headCount * dh, outFeatures: c.hiddenSize, bias: false, factory: factory)
        headCount = c.headCount
        keyValueHeadCount = c.keyValueHeadCount
        rotary = RotaryEmbedding(headDimension: dh, base: c.ropeTheta, layout: c.ropeLayout)
        self.layer = layer
    }

    /// x [B, T, D] (normalised) whose tokens sit at positions `start..<start+T` → [B, T, D].
    /// - Parameters:
    ///   - bias: additive attention bias broadcastable to [B, H, T, S] (causal and padding; nil: none).
    ///   - cache: appends this step's keys/values to layer `layer` and attends over all S cached
    ///     positions (inference only: cached keys/values are constants).
    public func callAsFunction(_ x: Variable, start: Int, bias: Tensor?, cache: KVCache?) -> Variable {
        let q = rotary(query(x).splittingHeads(headCount), start: start)
        var k = rotary(key(x).splittingHeads(keyValueHeadCount), start: start)
        var v = value(x).splittingHeads(keyValueHeadCount)
        if let cache {
            let all = cache.append(layer: layer, key: k.value, value: v.value)
            k = Variable(all.key)
            v = Variable(all.value)
        }
        return output(Variable.scaledDotProductAttention(query: q, key: k, value: v, mask: bias).mergingHeads())
    }
}

/// One pre-norm decoder block: h + attention(norm(h)), then h + ffn(norm(h)).
public final class LlamaBlock: Module {
    public let attentionNorm: RMSNorm
    public let attention: LlamaAttention
    public let ffnNorm: RMSNorm
    /// The feed-forward sub-layer; replace it to change the block's FFN (its parameters then come
    /// from the new module).
    public var ffn: any FeedForward
    public var parameters: [Parameter] {
        attentionNorm.parameters + attention.parameters + ffnNorm.parameters + ffn.parameters
    }

    /// Block `layer` with GGUF parameter names (`blk.N.attn_norm`, `blk.N.ffn_gate`, …): `factory`
    /// is the model's root factory, scoped here to `blk.N`. `feedForward` builds the FFN from the
    /// layer index and the block's factory (default: `SwiGLUFeedForward` named `ffn_gate`/`ffn_up`/`ffn_down`).
    public init(layer: Int, config c: LlamaConfig, factory: ParameterFactory, feedForward: LlamaDecoder.FeedForwardBuilder? = nil) {
        let block = factory.scoped("blk.\(layer)")
        attentionNorm = RMSNorm(name: "attn_norm.weight", features: c.hiddenSize, epsilon: c.rmsNormEpsilon, factory: block)
        attention = LlamaAttention(layer: layer, config: c, factory: block)
        ffnNorm = RMSNorm(name: "ffn_norm.weight", features: c.hiddenSize, epsilon: c.rmsNormEpsilon, factory: block)
        ffn = feedForward?(layer, block)
            ?? SwiGLUFeedForward(gate: "ffn_gate", up: "ffn_up", down: "ffn_down", width: c.hiddenSize,
                                 hiddenWidth: c.intermediateSize, factory: block)
    }

    /// h [B, T, D] → [B, T, D] (see `LlamaAttention.callAsFunction` for the arguments).
    public func callAsFunction(_ h: Variable, start: Int, bias: Tensor?, cache: KVCache?) -> Variable {
        let a = h + attention(attentionNorm(h), start: start, bias: bias, cache: cache)
        return a + feedForwardBranch(a)
    }

    /// The feed-forward residual branch on a block-internal hidden state h [..., D]: ffn(norm(h)).
    public func feedForwardBranch(_ h: Variable) -> Variable { ffn(ffnNorm(h)) }
}

/// The whole decoder: token embedding, blocks, final RMSNorm and the (tied) output projection.
public final class LlamaDecoder: CheckpointLoadable {
    public let config: LlamaConfig
    public let embedding: Embedding
    public let blocks: [LlamaBlock]
    public let outputNorm: RMSNorm
    /// The output projection [V, D]; with tied embeddings it shares `embedding.weight`.
    public let output: Linear
    public var parameters: [Parameter] {
        embedding.parameters + blocks.flatMap(\.parameters) + outputNorm.parameters
            + (config.tiesWordEmbeddings ? [] : output.parameters)
    }

    /// Builds the feed-forward sub-layer of block `layer` from the block's scoped factory (`blk.N`).
    public typealias FeedForwardBuilder = (_ layer: Int, _ factory: ParameterFactory) -> any FeedForward

    /// A decoder with fresh parameters (`ParameterFactory(seed:)`: N(0, 0.02²) weights and unit norms
    /// as HF initialises Llama; `.placeholders()`: to be loaded). `feedForward` replaces every block's
    /// dense SwiGLU FFN (e.g. by a mixture of experts), so the model never creates the dense one.
    public init(config c: LlamaConfig, factory: ParameterFactory, feedForward: FeedForwardBuilder? = nil) {
        config = c
        embedding = Embedding(name: "token_embd.weight", count: c.vocabularySize, dimension: c.hiddenSize,
                              factory: factory, initialization: .normal(std: 0.02))
        blocks = (0..<c.layerCount).map { LlamaBlock(layer: $0, config: c, factory: factory, feedForward: feedForward) }
        outputNorm = RMSNorm(name: "output_norm.weight", features: c.hiddenSize, epsilon: c.rmsNormEpsilon, factory: factory)
        output = c.tiesWordEmbeddings ? Linear(weight: embedding.weight)
            : Linear("output", inFeatures: c.hiddenSize, outFeatures: c.vocabularySize, bias: false, factory: factory)
    }

    /// Checkpoint architecture "llama" (`load(from:)` builds from the config and loads strictly).
    public static var architectures: [String] { ["llama"] }

    /// A decoder of `config` (every part is required; the checkpoint's keys choose nothing).
    public static func build(config: LlamaConfig, checkpointKeys: Set<String>?, factory: ParameterFactory) -> LlamaDecoder {
        LlamaDecoder(config: config, factory: factory)
    }

    /// An empty KV cache sized for this model.
    public func makeCache() -> KVCache { KVCache(layers: config.layerCount) }

    /// Which positions get logits.
    public enum LogitPositions: Sendable {
        /// Every position: [B, T, V].
        case all
        /// Only the last position T − 1: [B, 1, V] (generation; the output projection runs on one row).
        case last
    }

    /// The result of a forward pass.
    public struct Output {
        /// [B, T, V] (`.all`) or [B, 1, V] (`.last`).
        public var logits: Variable
        /// With `hiddenStates: true`, L + 1 tensors [B, T, D] as HF's `output_hidden_states`: [0] the
        /// embeddings, [i] the output of block i − 1 for 1 ≤ i < L, and [L] the last block's output
        /// after the final RMSNorm.
        public var hiddenStates: [Variable]?
    }

    /// Logits over token ids.
    ///
    /// - Parameters:
    ///   - ids: [B, T] token ids in 0..<V.
    ///   - attentionMask: [B, S] 1 for real tokens, 0 for padding, over the S = cached + T positions
    ///     (nil: all real). Pad on the right: positions are cached..<cached+T for every row, as HF
    ///     LlamaModel numbers them when given no position_ids; padded keys are masked.
    ///   - cache: keys/values of earlier positions; this call's are appended. With a cache the pass
    ///     runs without gradient recording.
    ///   - logits: all positions or only the last.
    ///   - hiddenStates: also return every layer's hidden states.
    /// - Precondition: ids in range, cached + T ≤ `config.maximumPositions`, mask shape [B, S].
    public func callAsFunction(_ ids: NDArray<Int32>, attentionMask: NDArray<Int32>? = nil, cache: KVCache? = nil,
                               logits positions: LogitPositions = .all, hiddenStates: Bool = false) -> Output {
        if cache != nil && GradientMode.isEnabled {
            return withoutGradient {
                self(ids, attentionMask: attentionMask, cache: cache, logits: positions, hiddenStates: hiddenStates)
            }
        }
        var states: [Variable]? = hiddenStates ? [] : nil
        let h = trunk(ids, attentionMask: attentionMask, cache: cache, states: &states)
        var last = h
        if positions == .last && !hiddenStates {
            let t = h.shape[1]
            last = h.sliced((t - 1)..<t, axis: 1)
        }
        var normed = outputNorm(last)
        if hiddenStates {
            states!.append(normed)
            if positions == .last { normed = normed.sliced((h.shape[1] - 1)..<h.shape[1], axis: 1) }
        }
        return Output(logits: output(normed), hiddenStates: states)
    }

    /// The output of the last block [B, T, D] (before the final norm). `states`, when non-nil,
    /// receives the embeddings and each block's output but the last.
    public func trunk(_ ids: NDArray<Int32>, attentionMask: NDArray<Int32>? = nil, cache: KVCache? = nil,
                      states: inout [Variable]?) -> Variable {
        require(ids.rank == 2 && ids.shape[1] > 0, "LlamaDecoder: ids \(ids.shape), expected [B, T] with T ≥ 1")
        let (b, t) = (ids.shape[0], ids.shape[1])
        let start = cache?.length ?? 0, s = start + t
        require(s <= config.maximumPositions,
                "LlamaDecoder: \(s) positions exceed the model's \(config.maximumPositions) (max_position_embeddings)")
        let bias = LlamaDecoder.attentionBias(batch: b, queries: t, keys: s, attentionMask: attentionMask)
        var h = embedding(ids)
        for block in blocks {
            states?.append(h)
            h = block(h, start: start, bias: bias, cache: cache)
        }
        return h
    }

    /// The additive bias of causal attention over S keys of which the T queries are the last,
    /// plus padding from a [B, S] mask: [T, S], or [B, 1, T, S] with a mask; nil when nothing is
    /// masked (one query and no padding). What `trunk` passes to every block; for callers that run
    /// the blocks in their own loop (e.g. to route or replace FFNs between layers).
    /// - Precondition: a mask has shape [B, S].
    public static func attentionBias(batch b: Int, queries t: Int, keys s: Int, attentionMask: NDArray<Int32>?) -> Tensor? {
        if let m = attentionMask {
            require(m.shape == [b, s], "LlamaDecoder: attention mask \(m.shape), expected [\(b), \(s)] (cached + new positions)")
            return AttentionMask.padding(m) + AttentionMask.causal(queries: t, keys: s)
        }
        return t == 1 ? nil : AttentionMask.causal(queries: t, keys: s)
    }
}
