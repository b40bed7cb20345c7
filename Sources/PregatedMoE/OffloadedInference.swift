import Foundation
import MLCore

/// Real inference with offloaded experts (`pregated-moe run`): the MoE decoder of a checkpoint, its
/// session and an `OffloadedExperts` tier; generation and per-token scoring as `LlamaDecoder` does
/// them, timed per token, with the routing of every forward pass recorded as a trace.
public final class OffloadedInference {
    /// The MoE checkpoint.
    public let checkpoint: MoECheckpoint
    /// The decoder whose FFNs are `MixtureOfExperts`.
    public let decoder: LlamaDecoder
    /// Routing state.
    public let session: MoESession
    /// The tiers and the copy thread.
    public let tiers: OffloadedExperts
    /// Per forward pass (prefill, decode step or scoring pass), per block, the active experts.
    public private(set) var trace: [[[Int]]] = []
    /// Indices into `trace` of the decode steps (one new token each: the routing of a single token).
    public private(set) var decodePasses: [Int] = []

    /// Builds the decoder and starts the copy thread.
    /// - Throws: what `MoECheckpoint.makeDecoder`, `ExpertStore.init` and `OffloadedExperts.init` throw.
    public init(checkpoint: MoECheckpoint, routers: Routers, routing: RoutingMode, policy: OffloadPolicy,
                budgetBytes: Int, eviction: EvictionPolicy, linkGigabytesPerSecond: Double?, recordEvents: Bool = false) throws {
        self.checkpoint = checkpoint
        let store = try ExpertStore(checkpoint: checkpoint)
        tiers = try OffloadedExperts(store: store, policy: policy, budgetBytes: budgetBytes, eviction: eviction,
                                     linkGigabytesPerSecond: linkGigabytesPerSecond, recordEvents: recordEvents)
        session = MoESession(routing: routing, routers: routers, experts: checkpoint.experts, source: tiers)
        decoder = try checkpoint.makeDecoder(session: session)
        session.onRoute = { [unowned self] layer, active in
            if layer == 0 { self.trace.append([]) }
            self.trace[self.trace.count - 1].append(active)
        }
    }

    /// Stops the copy thread.
    public func close() { tiers.stop() }

    /// Greedy continuation of `prompt` (at least one token).
    /// - Returns: the new tokens and the seconds from the start (prefill) or the previous token to each.
    /// - Throws: the slow tier's first error (e.g. `PregatedMoEError.corruptExpert`), after which
    ///   generation stops; otherwise `GenerationError` (empty prompt, too long, non-finite logits
    ///   naming the step) from `LlamaDecoder.continuation`.
    public func generate(prompt: [Int32], maxNewTokens: Int) throws -> (tokens: [Int32], seconds: [Double]) {
        session.resetFailure()
        var rng = RandomGenerator(seed: 0)
        var seconds: [Double] = []
        var last = DispatchTime.now().uptimeNanoseconds
        let firstPass = trace.count
        defer { if trace.count > firstPass + 1 { decodePasses += (firstPass + 1)..<trace.count } }
        let tokens: [Int32]
        do {
            tokens = try decoder.continuation(of: prompt, options: GenerationOptions(maxNewTokens: maxNewTokens), rng: &rng) { _ in
                let t = DispatchTime.now().uptimeNanoseconds
                seconds.append(Double(t - last) / 1e9)
                last = t
                return self.session.failure == nil
            }
        } catch {
            // A failed expert load leaves garbage activations behind it: report the load, not its symptom.
            throw session.failure ?? error
        }
        if let failure = session.failure { throw failure }
        return (tokens, seconds)
    }

    /// log p(ids[t] | ids[<t]) for t ≥ 1 (one forward pass over the sequence).
    /// - Throws: the slow tier's first error.
    public func score(_ ids: [Int32]) throws -> [Float] {
        session.resetFailure()
        let result = decoder.tokenLogProbabilities([ids])[0]
        if let failure = session.failure { throw failure }
        return result
    }
}
