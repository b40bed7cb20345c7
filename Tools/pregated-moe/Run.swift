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

    @Option(help: ArgumentHelp("Routers file written by `train-gates --save` (default: the checkpoint's own, untrained).", valueName: "file"))
    var routers: String?

    @Option(help: "Policies, comma-separated: gpu-only, on-demand, prefetch-all, pregated, or all.")
    var policy = "all"

    @Option(help: "Routing: pregate (block N's experts chosen by block N−1's pre-gate) or gate.")
    var routing = "pregate"

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
            if let routers { try requireFile(routers, "routers file") }
            let routerWeights = try checkpoint.routers(from: routers)
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
            for (index, p) in try policies().enumerated() {
                let budget = fastTierMib.map { Int($0 * 1_048_576) }
                    ?? (p == .gpuOnly ? checkpoint.config.layerCount * blockBytes : 2 * blockBytes)
                let inference = try OffloadedInference(checkpoint: checkpoint, routers: routerWeights, routing: mode, policy: p,
                                                       budgetBytes: budget, eviction: EvictionPolicy(rawValue: eviction)!,
                                                       linkGigabytesPerSecond: linkGbps)
                defer { inference.close() }
                inference.tiers.resetStatistics()
                var prefill: [Double] = [], decode: [Double] = [], generated: [[Int32]] = [], scored: [[Float]] = []
                var scoreSeconds = 0.0
                let bar = ProgressBar("run \(p.rawValue)", total: prompts, unit: "prompts", quiet: common.quiet)
                let start = DispatchTime.now().uptimeNanoseconds
                for ids in promptIds {
                    let (tokens, seconds) = try inference.generate(prompt: ids, maxNewTokens: maxNewTokens)
                    generated.append(tokens)
                    prefill.append(seconds[0])
                    decode += seconds.dropFirst()
                    if score {
                        let t0 = DispatchTime.now().uptimeNanoseconds
                        scored.append(try inference.score(ids + tokens))
                        scoreSeconds += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                    }
                    bar.advance()
                }
                bar.finish()
                let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                phases["run_\(p.rawValue)"] = wall
                if index == 0, let saveTrace {
                    try RoutingTrace.write(inference.trace, experts: checkpoint.experts, to: saveTrace,
                                           source: "pregated-moe run --routing \(routing) --k \(k) on \(checkpoint.path)")
                }
                let s = inference.tiers.statistics
                let ms = decode.map { $0 * 1000 }
                let entry = RunMetrics.PolicyRun(
                    paperName: p.paperName, fastTierBudgetBytes: budget,
                    decodeLatencyMsMean: mean(ms), decodeLatencyMsP50: (try? Statistics.quantile(ms, 0.5)) ?? .nan,
                    decodeLatencyMsP99: (try? Statistics.quantile(ms, 0.99)) ?? .nan, prefillLatencyMsMean: mean(prefill.map { $0 * 1000 }),
                    tokensPerSecond: Double(decode.count) / max(decode.reduce(0, +), 1e-12),
                    peakFastTierBytes: inference.tiers.peakResidentBytes, bytesMigrated: s.bytesMigrated,
                    preloadBytes: s.preloadBytes, transfers: s.transfers, stallSeconds: s.stallSeconds,
                    copySeconds: s.copySeconds, overlapRatio: s.overlapRatio, cacheHitRate: s.hitRate,
                    droppedPrefetches: s.droppedPrefetches, decodeSteps: decode.count, wallSeconds: wall,
                    firstOutput: (try? tokenizer.decode(generated[0], skipSpecialTokens: false)) ?? "",
                    scorePerplexity: score ? TextSequences.perplexity(scored) : nil, scoreSeconds: score ? scoreSeconds : nil)
                log(String(format: "pregated-moe run: %@ decode %.1f ms/token (p99 %.1f), %.1f tokens/s, migrated %.1f MB, stall %.2f s, overlap %.2f, hit rate %.2f",
                           p.rawValue, mean(ms), ((try? Statistics.quantile(ms, 0.99)) ?? .nan), Double(decode.count) / max(decode.reduce(0, +), 1e-12),
                           Double(s.bytesMigrated) / 1e6, s.stallSeconds, s.overlapRatio, s.hitRate), quiet: common.quiet)
                results[p.rawValue] = entry
                outputs.append(generated)
                scores.append(scored)
            }
            let identical = outputs.allSatisfy { $0 == outputs[0] } && scores.allSatisfy { $0 == scores[0] }
            var report = Report(tool: "pregated-moe", command: "run")
            report.paper = paperCitation
            report.inputs = ["checkpoint": try fileInput(checkpoint.path), "tweets": try fileInput(tweetPath)]
            if let routers { report.inputs["routers"] = try fileInput(routers) }
            // Every option is added by ToolRunner (reflecting); `checkpoint` is --weights' old spelling.
            try report.setMetrics(RunMetrics(policies: results, identicalOutputs: identical, experts: checkpoint.experts,
                                             expertBytes: checkpoint.expertBytes, moeBlocks: checkpoint.config.layerCount,
                                             routersTrained: try checkpoint.routersNote(routers)))
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
