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
        try ToolRunner.run(tool: "pregated-moe", command: "run", options: common) { context in
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
            var results: [String: JSONValue] = [:]
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
                var entry: [String: JSONValue] = [
                    "paper_name": .string(p.paperName), "fast_tier_budget_bytes": .int(budget),
                    "decode_latency_ms_mean": .double(mean(ms)), "decode_latency_ms_p50": .double(((try? Statistics.quantile(ms, 0.5)) ?? .nan)),
                    "decode_latency_ms_p99": .double(((try? Statistics.quantile(ms, 0.99)) ?? .nan)), "prefill_latency_ms_mean": .double(mean(prefill.map { $0 * 1000 })),
                    "tokens_per_second": .double(Double(decode.count) / max(decode.reduce(0, +), 1e-12)),
                    "peak_fast_tier_bytes": .int(inference.tiers.peakResidentBytes), "bytes_migrated": .int(s.bytesMigrated),
                    "preload_bytes": .int(s.preloadBytes), "transfers": .int(s.transfers), "stall_seconds": .double(s.stallSeconds),
                    "copy_seconds": .double(s.copySeconds), "overlap_ratio": .double(s.overlapRatio), "cache_hit_rate": .double(s.hitRate),
                    "dropped_prefetches": .int(s.droppedPrefetches), "decode_steps": .int(decode.count), "wall_seconds": .double(wall),
                    "first_output": .string((try? tokenizer.decode(generated[0], skipSpecialTokens: false)) ?? ""),
                ]
                if score {
                    entry["score_perplexity"] = .double(TextSequences.perplexity(scored))
                    entry["score_seconds"] = .double(scoreSeconds)
                }
                log(String(format: "pregated-moe run: %@ decode %.1f ms/token (p99 %.1f), %.1f tokens/s, migrated %.1f MB, stall %.2f s, overlap %.2f, hit rate %.2f",
                           p.rawValue, mean(ms), ((try? Statistics.quantile(ms, 0.99)) ?? .nan), Double(decode.count) / max(decode.reduce(0, +), 1e-12),
                           Double(s.bytesMigrated) / 1e6, s.stallSeconds, s.overlapRatio, s.hitRate), quiet: common.quiet)
                results[p.rawValue] = .object(entry)
                outputs.append(generated)
                scores.append(scored)
            }
            let identical = outputs.allSatisfy { $0 == outputs[0] } && scores.allSatisfy { $0 == scores[0] }
            var report = Report(tool: "pregated-moe", command: "run")
            report.paper = paperCitation
            report.inputs = ["checkpoint": try fileInput(checkpoint.path), "tweets": try fileInput(tweetPath)]
            if let routers { report.inputs["routers"] = try fileInput(routers) }
            report.config = ["checkpoint": .string(moe.checkpoint), "routers": routers.map(JSONValue.string) ?? .null, "policy": .string(policy), "routing": .string(routing), "k": .int(k),
                             "fast_tier_mib": fastTierMib.map(JSONValue.double) ?? .null, "eviction": .string(eviction),
                             "link_gbps": linkGbps.map(JSONValue.double) ?? .null, "prompts": .int(prompts), "prompt_offset": .int(promptOffset),
                             "prompt_tokens": .int(promptTokens), "max_new_tokens": .int(maxNewTokens), "score": .bool(score),
                             "save_trace": saveTrace.map(JSONValue.string) ?? .null, "tweets": .string(tweets)]
            report.metrics = ["policies": .object(results), "identical_outputs": .bool(identical),
                              "experts": .int(checkpoint.experts), "expert_bytes": .int(checkpoint.expertBytes),
                              "moe_blocks": .int(checkpoint.config.layerCount), "routers_trained": .string(try checkpoint.routersNote(routers)),
                              "constructed": .string("MoE constructed from SmolLM2-135M (not a pre-trained MoE); MoE on every one of its layers")]
            report.timing = phases
            report.units = ["decode_latency_ms_mean": "ms per generated token after the first", "prefill_latency_ms_mean": "ms (prompt pass + first token)",
                            "tokens_per_second": "decode tokens/s", "peak_fast_tier_bytes": "bytes", "bytes_migrated": "bytes",
                            "stall_seconds": "s", "overlap_ratio": "fraction", "cache_hit_rate": "fraction"]
            return report
        }
    }
}
