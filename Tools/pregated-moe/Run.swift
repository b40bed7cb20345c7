import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import PregatedMoE

/// `pregated-moe run`: real inference with experts offloaded, under each policy.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate and score real text with experts in the HDF5 slow tier and a bounded fast tier, under each policy.",
        discussion: """
            Example:
              pregated-moe run --weights moe.h5 --routers routers.h5 --threads 1
              pregated-moe run --weights moe.h5 --policy pregated,on-demand \\
                  --fast-tier-mib 40 --eviction lfu --link-gbps 1
            Policies: gpu-only (all experts resident), on-demand, prefetch-all (next block's E experts), \
            pregated (next block's pre-gated experts fetched by the copy thread while this block computes). \
            With the same --routing every policy produces the same tokens (checked: identical_outputs). \
            --threads 1 leaves the second core to the copy thread. The fast-tier budget defaults to two \
            blocks' experts (gpu-only: all of them).
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var moe: MoECheckpointOption

    @OptionGroup var routers: RoutersOption

    @Option(help: "Policies, comma-separated: gpu-only, on-demand, prefetch-all, pregated, or all.")
    var policy = "all"

    @Option(help: "Routing: pregate (block N's experts chosen by block N−1's pre-gate) or gate.")
    var routing = "pregate"

    @OptionGroup var combination: CombinationOption

    @Option(help: "Experts per token k.")
    var k = 2

    @Option(help: "Fast-tier budget in MiB (default: two blocks' experts; gpu-only: all).")
    var fastTierMib: Double?

    @Option(help: "Fast-tier eviction: lru or lfu.")
    var eviction = "lru"

    @Option(help: "Emulate a slow-to-fast link of this many gigabytes per second (10^9 B/s; default: unthrottled).")
    var linkGbps: Double?

    @Option(help: "Prompts (held-out tweets from --prompt-offset).")
    var prompts = 4

    @Option(help: "First tweet used as a prompt.")
    var promptOffset = 30000

    @Option(help: "Prompt tokens at most.")
    var promptTokens = 32

    @Option(help: "New tokens per prompt (greedy).")
    var maxNewTokens = 16

    @Option(help: "Which forward passes --save-trace keeps: all (prefill, decode and scoring passes) or decode (one token each).")
    var traceSteps = "all"

    @Option(help: "Rounds: each runs every policy on every prompt, the order rotated per round (load hits all policies alike); intervals over rounds.")
    var rounds = 1

    @Flag(help: "Also score each prompt (per-token log-probabilities in one forward pass).")
    var score = false

    @Option(help: ArgumentHelp("Tweets dataset for the prompts.", valueName: "name|file"))
    var tweets = "tweets"

    @Option(help: ArgumentHelp("Write the routing of the first policy's forward passes here (HDF5, for `simulate --trace`).", valueName: "file"))
    var saveTrace: String?

    func validate() throws {
        _ = try policies()
        guard ["pregate", "gate"].contains(routing) else { throw ValidationError("--routing must be pregate or gate, got '\(routing)'") }
        guard EvictionPolicy(rawValue: eviction) != nil else { throw ValidationError("--eviction must be lru or lfu, got '\(eviction)'") }
        guard ["all", "decode"].contains(traceSteps) else { throw ValidationError("--trace-steps must be all or decode, got '\(traceSteps)'") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1, got \(rounds)") }
        guard k >= 1, prompts >= 1, promptTokens >= 1, maxNewTokens >= 1, promptOffset >= 0 else {
            throw ValidationError("--k, --prompts, --prompt-tokens and --max-new-tokens must be at least 1")
        }
        if let fastTierMib, !(fastTierMib > 0) { throw ValidationError("--fast-tier-mib must be positive, got \(fastTierMib)") }
        if let linkGbps, !(linkGbps > 0) { throw ValidationError("--link-gbps must be positive, got \(linkGbps)") }
    }

    func policies() throws -> [OffloadPolicy] {
        if policy == "all" { return OffloadPolicy.allCases }
        return try parseList(policy, option: "--policy") { OffloadPolicy(rawValue: $0) }
    }

    func run() throws {
        try ToolRunner.run(tool: "pregated-moe", command: "run", options: common, reflecting: self) { context in
            let checkpoint = try moe.open()
            guard k <= checkpoint.experts else { throw PregatedMoEError.invalidSetting("--k \(k) exceeds the \(checkpoint.experts) experts") }
            let routerWeights = try routers.load(for: checkpoint)
            let tokenizer = try loadTokenizer(from: checkpoint.checkpoint)
            let tweetPath = try resolveNameOrPath(tweets)
            try requireFile(tweetPath, "tweets dataset")
            let texts = try HDF5File(path: tweetPath, mode: .readOnly).dataset("text")
            guard promptOffset + prompts <= texts.rowCount else {
                throw PregatedMoEError.invalidSetting("--prompt-offset \(promptOffset) + --prompts \(prompts) exceed the \(texts.rowCount) tweets")
            }
            let promptIds = tokenizer.encodeBatch(try texts.readStrings(rows: promptOffset..<(promptOffset + prompts)), addSpecialTokens: false)
                .map { Array($0.prefix(promptTokens)) }.map { $0.isEmpty ? [Int32(0)] : $0 }
            let mode: RoutingMode = routing == "gate" ? .gate(k: k) : .pregate(k: k)
            let blockBytes = checkpoint.experts * checkpoint.expertBytes
            var results: [String: RunMetrics.PolicyRun] = [:]
            var outputs: [[[Int32]]] = [], scores: [[[Float]]] = []
            var phases: [String: Double] = [:]
            // Every policy's runtime first; then `rounds` rounds, each running every policy on every prompt
            // in an order rotated by one per round, so drifting machine load hits all policies alike.
            let policyList = try policies()
            var runtimes: [(policy: OffloadPolicy, inference: OffloadedInference, budget: Int)] = []
            defer { for r in runtimes { r.inference.close() } }
            for p in policyList {
                let budget = fastTierMib.map { Int($0 * 1_048_576) }
                    ?? (p == .gpuOnly ? checkpoint.config.layerCount * blockBytes : 2 * blockBytes)
                let inference = try OffloadedInference(checkpoint: checkpoint, routers: routerWeights, routing: mode, policy: p,
                                                       budgetBytes: budget, eviction: EvictionPolicy(rawValue: eviction)!,
                                                       linkGigabytesPerSecond: linkGbps)
                inference.session.combination = combination.combine
                inference.tiers.resetStatistics()
                runtimes.append((p, inference, budget))
            }
            var prefill = [[Double]](repeating: [], count: policyList.count), decode = prefill, roundMeans = prefill
            var generated = [[[Int32]]](repeating: [], count: policyList.count), scored = [[[Float]]](repeating: [], count: policyList.count)
            var scoreSeconds = [Double](repeating: 0, count: policyList.count), wall = scoreSeconds
            let bar = ProgressBar("run", total: rounds * policyList.count * prompts, unit: "prompt runs", quiet: common.quiet)
            for round in 0..<rounds {
                for offset in 0..<policyList.count {
                    let index = (offset + round) % policyList.count
                    let inference = runtimes[index].inference
                    let start = DispatchTime.now().uptimeNanoseconds
                    var roundDecode: [Double] = []
                    for ids in promptIds {
                        let (tokens, seconds) = try inference.generate(prompt: ids, maxNewTokens: maxNewTokens)
                        prefill[index].append(seconds[0])
                        roundDecode += seconds.dropFirst()
                        if round == 0 {
                            generated[index].append(tokens)
                            if score {
                                let t0 = DispatchTime.now().uptimeNanoseconds
                                scored[index].append(try inference.score(ids + tokens))
                                scoreSeconds[index] += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                            }
                        }
                        bar.advance()
                    }
                    decode[index] += roundDecode
                    roundMeans[index].append(mean(roundDecode.map { $0 * 1000 }))
                    wall[index] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                }
            }
            bar.finish()
            if let saveTrace, let first = runtimes.first {
                let passes = traceSteps == "decode" ? first.inference.decodePasses.map { first.inference.trace[$0] } : first.inference.trace
                try RoutingTrace.write(passes, experts: checkpoint.experts, to: saveTrace,
                                       source: "pregated-moe run --routing \(routing) --k \(k) on \(checkpoint.path): \(traceSteps == "decode" ? "decode steps only" : "every forward pass")")
            }
            for (index, runtime) in runtimes.enumerated() {
                let p = runtime.policy, inference = runtime.inference
                phases["run_\(p.rawValue)"] = wall[index]
                let s = inference.tiers.statistics
                let ms = decode[index].map { $0 * 1000 }
                let entry = RunMetrics.PolicyRun(
                    paperName: p.paperName, fastTierBudgetBytes: runtime.budget,
                    decodeLatencyMsMean: mean(ms), decodeLatencyMsP50: (try? Statistics.quantile(ms, 0.5)) ?? .nan,
                    decodeLatencyMsP99: (try? Statistics.quantile(ms, 0.99)) ?? .nan, prefillLatencyMsMean: mean(prefill[index].map { $0 * 1000 }),
                    tokensPerSecond: Double(ms.count) / max(decode[index].reduce(0, +), 1e-12),
                    peakFastTierBytes: inference.tiers.peakResidentBytes, bytesMigrated: s.bytesMigrated,
                    preloadBytes: s.preloadBytes, transfers: s.transfers, stallSeconds: s.stallSeconds,
                    copySeconds: s.copySeconds, overlapRatio: s.overlapRatio, cacheHitRate: s.hitRate,
                    droppedPrefetches: s.droppedPrefetches, decodeSteps: ms.count, wallSeconds: wall[index],
                    decodeLatencyMsRounds: roundMeans[index],
                    firstOutput: (try? tokenizer.decode(generated[index][0], skipSpecialTokens: false)) ?? "",
                    scorePerplexity: score ? TextSequences.perplexity(scored[index]) : nil, scoreSeconds: score ? scoreSeconds[index] : nil)
                log(String(format: "pregated-moe run: %@ decode %.1f ms/token (p99 %.1f), %.1f tokens/s, migrated %.1f MB, stall %.2f s, overlap %.2f, hit rate %.2f",
                           p.rawValue, mean(ms), ((try? Statistics.quantile(ms, 0.99)) ?? .nan), entry.tokensPerSecond,
                           Double(s.bytesMigrated) / 1e6, s.stallSeconds, s.overlapRatio, s.hitRate), quiet: common.quiet)
                results[p.rawValue] = entry
                outputs.append(generated[index])
                scores.append(scored[index])
            }
            let identical = outputs.allSatisfy { $0 == outputs[0] } && scores.allSatisfy { $0 == scores[0] }
            var report = Report(tool: "pregated-moe", command: "run")
            report.paper = paperCitation
            report.inputs = ["checkpoint": try fileInput(checkpoint.path), "tweets": try fileInput(tweetPath)]
            try routers.record(in: &report.inputs)
            // Every option is added by ToolRunner (reflecting); `checkpoint` is --weights' old spelling.
            try report.setMetrics(RunMetrics(policies: results, identicalOutputs: identical, experts: checkpoint.experts,
                                             expertBytes: checkpoint.expertBytes, moeBlocks: checkpoint.config.layerCount,
                                             routersTrained: try checkpoint.routersNote(routers.routers)))
            report.timing = phases
            report.units = ["decode_latency_ms_mean": "ms per generated token after the first", "prefill_latency_ms_mean": "ms (prompt pass + first token)",
                            "tokens_per_second": "decode tokens/s", "peak_fast_tier_bytes": "bytes", "bytes_migrated": "bytes",
                            "stall_seconds": "s", "overlap_ratio": "fraction", "cache_hit_rate": "fraction"]
            return report
        }
    }
}

/// `pregated-moe run`'s metrics (snake_case keys in the report; units in `report.units`).
struct RunMetrics: Encodable {
    /// One policy's generation: latency, throughput and the tiers' traffic (`TierStatistics`).
    struct PolicyRun: Encodable {
        var paperName: String
        var fastTierBudgetBytes: Int
        var decodeLatencyMsMean: Double, decodeLatencyMsP50: Double, decodeLatencyMsP99: Double
        var prefillLatencyMsMean: Double
        var tokensPerSecond: Double
        var peakFastTierBytes: Int, bytesMigrated: Int, preloadBytes: Int, transfers: Int
        var stallSeconds: Double, copySeconds: Double, overlapRatio: Double, cacheHitRate: Double
        var droppedPrefetches: Int, decodeSteps: Int
        var wallSeconds: Double
        /// Mean decode ms/token of each round (rounds rotate the policies' order; intervals over rounds
        /// are computed by the reproduction script).
        var decodeLatencyMsRounds: [Double]
        /// The first prompt's generated text.
        var firstOutput: String
        /// With --score only (absent otherwise).
        var scorePerplexity: Double?, scoreSeconds: Double?
    }
    /// By policy name.
    var policies: [String: PolicyRun]
    var identicalOutputs: Bool
    var experts: Int, expertBytes: Int, moeBlocks: Int
    var routersTrained: String
    var constructed = "MoE constructed from SmolLM2-135M (not a pre-trained MoE); MoE on every one of its layers"
}
