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
        try ToolRunner.run(tool: "pregated-moe", command: "simulate", options: common) { context in
            let shapes = model == "all" ? SwitchShape.paperModels : [SwitchShape.named(model)!]
            if let trace { try requireFile(trace, "routing trace") }
            var rows: [JSONValue] = []
            for shape in shapes {
                guard k <= shape.experts else { throw PregatedMoEError.invalidSetting("--k \(k) exceeds the \(shape.experts) experts of \(shape.name)") }
                let bytes = shape.expertBytes()
                let fetch = fetchMs.map { $0 / 1000 } ?? linkModel.transferSeconds(bytes: bytes)
                for b in try batches() {
                    let routing: [[[Int]]]
                    if let trace {
                        routing = try RoutingTrace.read(trace, blocks: shape.moeBlocks, experts: shape.experts, batch: b)
                    } else {
                        routing = RoutingTrace.synthetic(steps: steps, blocks: shape.moeBlocks, experts: shape.experts, k: k, batch: b,
                                                         distribution: routes == "zipf" ? .zipf(exponent: zipfExponent) : .uniform,
                                                         rng: &context.random)
                    }
                    let compute = (computeMs + computeMsPerToken * Double(b - 1)) / 1000
                    let simulation = OffloadSimulation(blocks: shape.moeBlocks, experts: shape.experts, expertBytes: bytes,
                                                       blockComputeSeconds: compute, expertFetchSeconds: fetch)
                    let maxActive = routing.flatMap { $0 }.map(\.count).max() ?? 1
                    var policies: [String: JSONValue] = [:]
                    for policy in OffloadPolicy.allCases {
                        let r = context.timer.measure("simulate") { simulation.run(policy: policy, routes: routing) }
                        let formula = ExpertMemory.peakBytes(policy: policy, blocks: shape.moeBlocks, experts: shape.experts,
                                                             maxActive: max(1, maxActive), expertBytes: bytes)
                        var entry: [String: JSONValue] = [
                            "ms_per_block": .double(r.secondsPerBlock * 1000),
                            "tokens_per_second": .double(r.totalSeconds > 0 ? Double(r.steps * b) / r.totalSeconds : 0),
                            "expert_bytes_migrated_per_step": .double(Double(r.bytesMigrated) / Double(max(1, r.steps))),
                            "peak_expert_bytes": .int(r.peakResidentBytes),
                            "peak_expert_bytes_formula": .int(formula),
                            "stall_ms_per_block": .double(r.stallSeconds * 1000 / Double(max(1, r.steps * shape.moeBlocks))),
                            "overlap_ratio": .double(r.overlapRatio),
                            "out_of_memory": .bool(Double(r.peakResidentBytes) > deviceMemoryGb * 1e9),
                        ]
                        if b == 1, k == 1, let paper = paperBlockMilliseconds[shape.name]?[policy.rawValue] {
                            entry["paper_ms_per_block"] = .double(paper)
                        }
                        policies[policy.rawValue] = .object(entry)
                    }
                    log("pregated-moe simulate: \(shape.name) batch \(b) " + OffloadPolicy.allCases.map { p in
                        String(format: "%@ %.3f ms", p.rawValue, policies[p.rawValue]?["ms_per_block"]?.doubleValue ?? 0)
                    }.joined(separator: ", "), quiet: common.quiet)
                    rows.append(["model": .string(shape.name), "batch": .int(b), "experts": .int(shape.experts),
                                 "moe_blocks": .int(shape.moeBlocks), "expert_bytes": .int(bytes),
                                 "fetch_ms_per_expert": .double(fetch * 1000), "compute_ms_per_block": .double(compute * 1000),
                                 "max_active_experts": .int(maxActive), "steps": .int(routing.count), "policies": .object(policies)])
                }
            }
            var report = Report(tool: "pregated-moe", command: "simulate")
            report.paper = paperCitation
            if let trace { report.inputs = ["trace": try fileInput(trace)] }
            report.config = ["model": .string(model), "link": .string(linkModel.name), "link_bytes_per_second": .double(linkModel.bytesPerSecond),
                             "link_latency_seconds": .double(linkModel.latencySeconds), "batch": .string(batch),
                             "routes": .string(trace == nil ? routes : "trace"), "zipf_exponent": .double(zipfExponent), "k": .int(k),
                             "steps": .int(steps), "compute_ms": .double(computeMs), "compute_ms_per_token": .double(computeMsPerToken),
                             "fetch_ms": fetchMs.map(JSONValue.double) ?? .null, "device_memory_gb": .double(deviceMemoryGb)]
            report.metrics = ["simulations": .array(rows),
                              "note": .string("deterministic discrete-event simulation of the paper's A100 + PCIe setting; compute time per block is an input (default: the paper's GPU-only 0.95 ms), not simulated from FLOPs")]
            report.units = ["ms_per_block": "ms per MoE decoder block", "tokens_per_second": "tokens/s",
                            "expert_bytes_migrated_per_step": "bytes", "peak_expert_bytes": "bytes", "stall_ms_per_block": "ms", "overlap_ratio": "fraction"]
            return report
        }
    }
}
