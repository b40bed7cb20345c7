import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import PregatedMoE

/// `pregated-moe evaluate`: held-out perplexity and next-token accuracy of a MoE checkpoint under
/// several routings (the oracle table that chooses E and k).
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Held-out perplexity and next-token accuracy of a MoE checkpoint: dense, oracle top-k, gate and pre-gate routing.",
        discussion: """
            Example:
              pregated-moe evaluate --weights moe.h5 --routings dense,oracle --ks 4,8,12
              pregated-moe evaluate --weights moe.h5 --routers routers.h5 --routings dense,gate,pregate --ks 8
            The held-out sequences are the text pool's sequences after the first --train-sequences (the \
            same pool, seed and split as train-gates). Oracle top-k: per token the k experts with the \
            largest output norm, summed unweighted (all experts computed): the best any router can do \
            with these experts. Each result also gives its perplexity divided by the dense one.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var moe: MoECheckpointOption
    @OptionGroup var text: TextOptions

    @OptionGroup var routers: RoutersOption

    @Option(help: "Routings, comma-separated: dense, oracle, gate, pregate.")
    var routings = "dense,oracle"

    @Option(help: "Experts per token evaluated, comma-separated.")
    var ks = "1,2,4"

    @OptionGroup var combination: CombinationOption

    @Option(help: "Layers kept dense (all experts, weight 1): none, even or odd (MoE on every other layer, as Switch).")
    var denseLayers = "none"

    @Option(help: "Sequences of the pool skipped (the training sequences).")
    var trainSequences = 256

    @Option(help: "Held-out sequences.")
    var evalSequences = 64

    func validate() throws {
        guard trainSequences >= 0, evalSequences >= 1 else { throw ValidationError("--train-sequences must be ≥ 0 and --eval-sequences ≥ 1") }
        let names = try parseList(routings, option: "--routings") { $0 }
        guard names.allSatisfy({ ["dense", "oracle", "gate", "pregate"].contains($0) }) else {
            throw ValidationError("--routings: each must be dense, oracle, gate or pregate, got '\(routings)'")
        }
        _ = try parseList(ks, option: "--ks") { Int($0).flatMap { $0 >= 1 ? $0 : nil } }
        guard ["none", "even", "odd"].contains(denseLayers) else { throw ValidationError("--dense-layers must be none, even or odd, got '\(denseLayers)'") }
    }

    func run() throws {
        try ToolRunner.run(tool: "pregated-moe", command: "evaluate", options: common, reflecting: self) { context in
            let checkpoint = try moe.open()
            let kValues = try parseList(ks, option: "--ks") { Int($0) }
            guard kValues.allSatisfy({ $0 <= checkpoint.experts }) else {
                throw PregatedMoEError.invalidSetting("--ks \(ks): each k must be at most the \(checkpoint.experts) experts")
            }
            let names = try parseList(routings, option: "--routings") { $0 }
            let tokenizer = try loadTokenizer(from: checkpoint.checkpoint)
            let (pool, inputs) = try context.timer.measure("load") { try text.load(tokenizer: tokenizer) }
            guard pool.count >= trainSequences + evalSequences else {
                throw PregatedMoEError.invalidSetting("only \(pool.count) sequences of ≥ 8 tokens in the pool, \(trainSequences + evalSequences) asked")
            }
            let held = Array(pool.dropFirst(trainSequences).prefix(evalSequences))
            let experts = try context.timer.measure("load") { try checkpoint.loadAllExperts() }
            let session = MoESession(routing: .dense, routers: try routers.load(for: checkpoint), experts: checkpoint.experts,
                                     source: ResidentExperts(experts))
            let decoder = try checkpoint.makeDecoder(session: session)
            session.combination = combination.combine
            session.denseLayers = Set((0..<checkpoint.config.layerCount).filter {
                denseLayers == "even" ? $0 % 2 == 0 : denseLayers == "odd" ? $0 % 2 == 1 : false
            })
            var runs: [(String, RoutingMode)] = []
            for name in names {
                if name == "dense" { runs.append(("dense", .dense)); continue }
                for k in kValues {
                    let mode: RoutingMode = name == "oracle" ? .oracle(k: k) : name == "gate" ? .gate(k: k) : .pregate(k: k)
                    runs.append(("\(name)_k\(k)", mode))
                }
            }
            let bar = ProgressBar("evaluate", total: runs.count, unit: "routings", quiet: common.quiet)
            var results: [String: EvaluateMetrics.Result] = [:]
            try context.timer.measure("evaluate") {
                for (name, mode) in runs {
                    session.routing = mode
                    session.resetFailure()
                    let q = TextSequences.evaluate(decoder, held)
                    if let failure = session.failure { throw failure }
                    results[name] = EvaluateMetrics.Result(perplexity: q.perplexity, accuracy: q.accuracy, tokens: q.tokens)
                    bar.advance()
                }
            }
            bar.finish()
            // Why the oracle loses: per layer, the share of the dense FFN output's energy outside the
            // oracle's top-k, on the dense model's FFN inputs of the held-out text.
            var residuals: [String: [Double]] = [:]
            if names.contains("oracle") {
                let rows = context.timer.measure("residuals") {
                    GateTraining.collect(decoder: decoder, session: session, experts: experts, sequences: held, routing: .dense)
                }
                for k in kValues {
                    residuals["oracle_k\(k)"] = rows.indices.map { l in
                        session.denseLayers.contains(l) ? 0 : GateTraining.oracleResidual(inputs: rows[l].inputs, experts: experts[l], k: k)
                    }
                }
            }
            if let dense = results["dense"]?.perplexity {
                for key in results.keys { results[key]!.perplexityOverDense = results[key]!.perplexity / dense }
            }
            log("pregated-moe evaluate: " + runs.map { name, _ in
                String(format: "%@ %.2f (acc %.3f)", name, results[name]!.perplexity, results[name]!.accuracy)
            }.joined(separator: "; "), quiet: common.quiet)
            var report = Report(tool: "pregated-moe", command: "evaluate")
            report.paper = paperCitation
            report.inputs = inputs.merging(["checkpoint": try fileInput(checkpoint.path)]) { $1 }
            try routers.record(in: &report.inputs)
            report.config = ["eval_sequences": .int(held.count), "experts": .int(checkpoint.experts),
                             "moe_layers": .int(checkpoint.config.layerCount - session.denseLayers.count),
                             "clustering": .string(checkpoint.checkpoint.config["moe_clustering"]?.stringValue ?? "unknown")]
            try report.setMetrics(EvaluateMetrics(evalTokens: held.reduce(0) { $0 + $1.count - 1 }, results: results, oracleResidual: residuals))
            report.units = ["perplexity": "exp(mean NLL) on held-out tokens", "accuracy": "fraction of held-out tokens predicted (argmax)",
                            "perplexity_over_dense": "ratio",
                            "oracle_residual": "per layer, mean over held-out tokens of ‖dense FFN output − oracle top-k output‖² / ‖dense FFN output‖²"]
            return report
        }
    }
}

/// `pregated-moe evaluate`'s metrics (snake_case keys in the report; units in `report.units`).
struct EvaluateMetrics: Encodable {
    /// One routing's held-out quality.
    struct Result: Encodable {
        var perplexity: Double, accuracy: Double, tokens: Int
        var perplexityOverDense: Double?
    }
    var evalTokens: Int
    /// By routing: `dense`, `oracle_k<k>`, `gate_k<k>`, `pregate_k<k>`.
    var results: [String: Result]
    /// By `oracle_k<k>`: per layer, `GateTraining.oracleResidual` on the held-out tokens (0 for dense layers).
    var oracleResidual: [String: [Double]]
}
