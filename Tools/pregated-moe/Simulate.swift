import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import PregatedMoE

/// The paper's latency table (authors' raw data, A100, batch 1, ms per MoE decoder block) and
/// base-8 throughput, for the report beside the simulated numbers.
let paperBlockMilliseconds: [String: [String: Double]] = [
    "base-8": ["gpu-only": 0.95, "pregated": 1.20, "on-demand": 2.03, "prefetch-all": 6.73],
    "base-128": ["gpu-only": 0.95, "pregated": 1.13, "on-demand": 1.79, "prefetch-all": 101.6],
    "large-128": ["pregated": 1.39, "on-demand": 2.63, "prefetch-all": 173.5],
]

/// `pregated-moe simulate`: the discrete-event simulation of the paper's GPU setting.
struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Discrete-event simulation of the four policies with the paper's Switch shapes and a PCIe or SSD link.",
        discussion: """
            Examples:
              pregated-moe simulate --model all --link pcie
              pregated-moe simulate --model base-8 --routes zipf --batch 1,4,16
              pregated-moe simulate --model base-8 --trace trace.h5   # from run --save-trace
              pregated-moe simulate --model base-8 --compute-ms 1 --fetch-ms 0.75 --steps 1
            Compute per MoE block = --compute-ms + --compute-ms-per-token × (batch − 1) (default 0.95 ms, \
            the paper's GPU-only block latency); one expert transfer = 10 µs + bytes / bandwidth \
            (expert = 2·d_model·d_ff float32), or --fetch-ms. Compute and link are FIFO resources; \
            prefetches are issued when a block starts computing.
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: "Switch shape: base-8, base-128, large-128 or all.")
    var model = "all"

    @Option(help: "Link: pcie (25 GB/s), ssd (2.5 GB/s), or a bandwidth in GB/s.")
    var link = "pcie"

    @Option(help: "Batch sizes (tokens per decode step), comma-separated.")
    var batch = "1"

    @Option(help: "Synthetic routing: uniform or zipf (ignored with --trace).")
    var routes = "uniform"

    @Option(help: "Zipf exponent s (popularity ∝ 1/rank^s).")
    var zipfExponent = 1.0

    @Option(help: ArgumentHelp("Routing trace recorded by `pregated-moe run --save-trace` (HDF5).", valueName: "file"))
    var trace: String?

    @Flag(help: "Fold a trace with more experts per layer than the model onto it (E' = m·E: experts x → ⌊x/m⌋).")
    var foldExperts = false

    @Option(help: "Experts per token (Switch: 1).")
    var k = 1

    @Option(help: "Decode steps simulated.")
    var steps = 64

    @Option(help: "Milliseconds of compute per MoE decoder block at batch 1.")
    var computeMs = 0.95

    @Option(help: "Extra compute milliseconds per additional token of the batch.")
    var computeMsPerToken = 0.0

    @Option(help: "Milliseconds per expert transfer (overrides the link model).")
    var fetchMs: Double?

    @Option(help: "Fast (GPU) memory in GB for the out-of-memory check of the expert bytes.")
    var deviceMemoryGb = 40.0

    func validate() throws {
        guard model == "all" || SwitchShape.named(model) != nil else {
            throw ValidationError("--model must be base-8, base-128, large-128 or all, got '\(model)'")
        }
        guard ["pcie", "ssd"].contains(link) || (Double(link) ?? 0) > 0 else {
            throw ValidationError("--link must be pcie, ssd or a positive bandwidth in GB/s, got '\(link)'")
        }
        guard ["uniform", "zipf"].contains(routes) else { throw ValidationError("--routes must be uniform or zipf, got '\(routes)'") }
        guard k >= 1, steps >= 1 else { throw ValidationError("--k and --steps must be at least 1") }
        guard computeMs >= 0, computeMsPerToken >= 0, (fetchMs ?? 0) >= 0 else { throw ValidationError("times must be non-negative") }
        _ = try batches()
    }

    func batches() throws -> [Int] {
        let values = try parseList(batch, option: "--batch") { Int($0) }
        guard values.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--batch sizes must be at least 1, got '\(batch)'") }
        return values
    }

    var linkModel: LinkModel {
        switch link {
        case "pcie": return .pcie
        case "ssd": return .ssd
        default: return LinkModel(name: "\(link) GB/s", bytesPerSecond: Double(link)! * 1e9, latencySeconds: 10e-6)
        }
    }

    func run() throws {
        try ToolRunner.run(tool: "pregated-moe", command: "simulate", options: common, reflecting: self) { context in
            let shapes = model == "all" ? SwitchShape.paperModels : [SwitchShape.named(model)!]
            if let trace { try requireFile(trace, "routing trace") }
            var rows: [SimulateMetrics.Row] = []
            for shape in shapes {
                guard k <= shape.experts else { throw PregatedMoEError.invalidSetting("--k \(k) exceeds the \(shape.experts) experts of \(shape.name)") }
                let bytes = shape.expertBytes()
                let fetch = fetchMs.map { $0 / 1000 } ?? linkModel.transferSeconds(bytes: bytes)
                for b in try batches() {
                    let routing: [[[Int]]]
                    if let trace {
                        routing = try RoutingTrace.read(trace, blocks: shape.moeBlocks, experts: shape.experts, batch: b, fold: foldExperts)
                    } else {
                        routing = RoutingTrace.synthetic(steps: steps, blocks: shape.moeBlocks, experts: shape.experts, k: k, batch: b,
                                                         distribution: routes == "zipf" ? .zipf(exponent: zipfExponent) : .uniform,
                                                         rng: &context.random)
                    }
                    let compute = (computeMs + computeMsPerToken * Double(b - 1)) / 1000
                    let simulation = OffloadSimulation(blocks: shape.moeBlocks, experts: shape.experts, expertBytes: bytes,
                                                       blockComputeSeconds: compute, expertFetchSeconds: fetch)
                    let maxActive = routing.flatMap { $0 }.map(\.count).max() ?? 1
                    var policies: [String: SimulateMetrics.PolicyResult] = [:]
                    for policy in OffloadPolicy.allCases {
                        let r = context.timer.measure("simulate") { simulation.run(policy: policy, routes: routing) }
                        let formula = ExpertMemory.peakBytes(policy: policy, blocks: shape.moeBlocks, experts: shape.experts,
                                                             maxActive: max(1, maxActive), expertBytes: bytes)
                        policies[policy.rawValue] = SimulateMetrics.PolicyResult(
                            msPerBlock: r.secondsPerBlock * 1000,
                            tokensPerSecond: r.totalSeconds > 0 ? Double(r.steps * b) / r.totalSeconds : 0,
                            expertBytesMigratedPerStep: Double(r.bytesMigrated) / Double(max(1, r.steps)),
                            peakExpertBytes: r.peakResidentBytes, peakExpertBytesFormula: formula,
                            stallMsPerBlock: r.stallSeconds * 1000 / Double(max(1, r.steps * shape.moeBlocks)),
                            overlapRatio: r.overlapRatio, outOfMemory: Double(r.peakResidentBytes) > deviceMemoryGb * 1e9,
                            paperMsPerBlock: b == 1 && k == 1 ? paperBlockMilliseconds[shape.name]?[policy.rawValue] : nil)
                    }
                    log("pregated-moe simulate: \(shape.name) batch \(b) " + OffloadPolicy.allCases.map { p in
                        String(format: "%@ %.3f ms", p.rawValue, policies[p.rawValue]?.msPerBlock ?? 0)
                    }.joined(separator: ", "), quiet: common.quiet)
                    rows.append(SimulateMetrics.Row(model: shape.name, batch: b, experts: shape.experts, moeBlocks: shape.moeBlocks,
                                                    expertBytes: bytes, fetchMsPerExpert: fetch * 1000, computeMsPerBlock: compute * 1000,
                                                    maxActiveExperts: maxActive, steps: routing.count, policies: policies))
                }
            }
            var report = Report(tool: "pregated-moe", command: "simulate")
            report.paper = paperCitation
            if let trace { report.inputs = ["trace": try fileInput(trace)] }
            // Every option is added by ToolRunner (reflecting); these are derived values.
            report.config = ["link": .string(linkModel.name), "link_bytes_per_second": .double(linkModel.bytesPerSecond),
                             "link_latency_seconds": .double(linkModel.latencySeconds), "routes": .string(trace == nil ? routes : "trace")]
            try report.setMetrics(SimulateMetrics(simulations: rows))
            report.units = ["ms_per_block": "ms per MoE decoder block", "tokens_per_second": "tokens/s",
                            "expert_bytes_migrated_per_step": "bytes", "peak_expert_bytes": "bytes", "stall_ms_per_block": "ms", "overlap_ratio": "fraction"]
            return report
        }
    }
}

/// `pregated-moe simulate`'s metrics (snake_case keys in the report; units in `report.units`).
struct SimulateMetrics: Encodable {
    /// One policy's simulated decode of one shape and batch.
    struct PolicyResult: Encodable {
        var msPerBlock: Double, tokensPerSecond: Double, expertBytesMigratedPerStep: Double
        var peakExpertBytes: Int
        /// `ExpertMemory.peakBytes` for the same setting (the closed form the simulation must meet).
        var peakExpertBytesFormula: Int
        var stallMsPerBlock: Double, overlapRatio: Double
        var outOfMemory: Bool
        /// The paper's measured block latency (batch 1, k = 1 only; absent otherwise).
        var paperMsPerBlock: Double?
    }
    /// One Switch shape at one batch size, every policy by name.
    struct Row: Encodable {
        var model: String, batch: Int, experts: Int, moeBlocks: Int, expertBytes: Int
        var fetchMsPerExpert: Double, computeMsPerBlock: Double
        var maxActiveExperts: Int, steps: Int
        var policies: [String: PolicyResult]
    }
    var simulations: [Row]
    var note = "deterministic discrete-event simulation of the paper's A100 + PCIe setting; compute time per block is an input (default: the paper's GPU-only 0.95 ms), not simulated from FLOPs"
}
