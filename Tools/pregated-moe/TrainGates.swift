import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import PregatedMoE

/// Where the real text comes from and how much of it.
struct TextOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Tweets dataset: a datasets.toml name or an .h5 path.", valueName: "name|file"))
    var tweets = "tweets"

    @Option(help: ArgumentHelp("Gensim corpora dataset: a datasets.toml name or an .h5 path.", valueName: "name|file"))
    var corpora = "gensim-corpora"

    @Option(help: "Tweets taken into the text pool (the first N; all gensim texts are added).")
    var tweetCount = 2000

    @Option(help: "Tokens per sequence at most.")
    var maxTokens = 48

    @Option(help: "Seed of the pool's shuffle (fixes the calibration, training and held-out split; --seed varies training only).", transform: parseSeed)
    var textSeed: UInt64 = 0

    func validate() throws {
        guard tweetCount >= 0, maxTokens >= 8 else { throw ValidationError("--tweet-count must be ≥ 0 and --max-tokens ≥ 8") }
    }

    /// The shuffled, tokenised pool. - Throws: `DatasetError`, `MissingInput`, `HDF5Error`.
    func load(tokenizer: any TextTokenizer) throws -> (sequences: [[Int32]], inputs: [String: JSONValue]) {
        let t = try resolveNameOrPath(tweets), c = try resolveNameOrPath(corpora)
        try requireFile(t, "tweets dataset")
        try requireFile(c, "corpora dataset")
        let sequences = try TextSequences.load(tweets: t, corpora: c, tweetCount: tweetCount, tokenizer: tokenizer,
                                               maxTokens: maxTokens, seed: textSeed)
        return (sequences, ["tweets": try fileInput(t), "corpora": try fileInput(c)])
    }
}

/// `pregated-moe train-gates`: train the gates and pre-gates on real text, report perplexity and recall.
struct TrainGates: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-gates",
        abstract: "Train the gates and pre-gates of a MoE built from any Llama-architecture checkpoint on real text; held-out perplexity, accuracy and the pre-gate's recall.",
        discussion: """
            Example:
              pregated-moe moefy --weights my-llama.h5 --experts 32 --save moe.h5
              pregated-moe train-gates --weights moe.h5 --k 24 --ks 24 --seed 0 --save routers.h5
            Pre-gate training for any Llama-architecture HDF5 checkpoint (architecture "llama": Llama, \
            SmolLM2, … converted to MLCore's format): moefy splits its FFNs into experts, this trains \
            for every layer N a conventional gate and a pre-gate that chooses layer N+1's experts from \
            layer N's FFN input. Targets: each expert's share of the FFN output norm for the token. \
            Training rows are the MoE's own activations (--collect on-policy: round 1 under oracle \
            top-k routing, later rounds under the routers being trained), with the Switch \
            load-balancing loss (--balance). --save writes the routers for `run --routers` and \
            `evaluate --routers`.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var moe: MoECheckpointOption
    @OptionGroup var text: TextOptions

    @Option(help: "Training sequences.")
    var trainSequences = 256

    @Option(help: "Held-out sequences (perplexity, recall).")
    var evalSequences = 64

    /// Adam on each router, full batch: `--steps` per router and `--learning-rate`.
    enum GateDefaults: OptimizerDefaults {
        static var learningRate: Double? { 0.01 }
        static var steps: Int? { 300 }
    }

    @OptionGroup var optimizer: OptimizerOptions<GateDefaults>
    var steps: Int { optimizer.steps }
    var learningRate: Float { Float(optimizer.learningRate) }

    @Option(help: "Experts per token evaluated, comma-separated.")
    var ks = "1,2,4"

    @Option(help: ArgumentHelp("Write the trained routers to this routers file (.h5; for `run --routers`).", valueName: "file"))
    var save: String?

    @OptionGroup var combination: CombinationOption

    @Option(help: "Experts per token the routers are trained for (on-policy routing and load-balancing dispatch).")
    var k = 2

    @Option(help: "Training activations: on-policy (the MoE's own: oracle top-k routing, then further rounds with the routers being trained) or dense (the dense model's).")
    var collect = "on-policy"

    @Option(help: "On-policy rounds: the first collects under oracle top-k routing, each further one under the current gates (gate) and pre-gates (pre-gate).")
    var rounds = 2

    @Option(help: "Coefficient of the Switch load-balancing loss (Fedus et al. 2022 use 0.01; 0: off).")
    var balance = 0.01

    @Option(help: "Rows per Adam step, drawn with --seed (0: all rows, full batch).")
    var batchRows = 1024

    @Flag(help: "Also evaluate the untrained routers (centroid gates) for comparison.")
    var evalInitial = false

    func validate() throws {
        guard trainSequences >= 1, evalSequences >= 1, steps >= 1, learningRate > 0 else {
            throw ValidationError("--train-sequences, --eval-sequences, --steps and --learning-rate must be positive")
        }
        _ = try parseList(ks, option: "--ks") { Int($0).flatMap { $0 >= 1 ? $0 : nil } }
        guard ["on-policy", "dense"].contains(collect) else { throw ValidationError("--collect must be on-policy or dense, got '\(collect)'") }
        guard k >= 1, rounds >= 1, balance >= 0, batchRows >= 0 else {
            throw ValidationError("--k and --rounds must be at least 1, --balance and --batch-rows at least 0")
        }
    }

    func run() throws {
        try ToolRunner.run(tool: "pregated-moe", command: "train-gates", options: common, reflecting: self) { context in
            let checkpoint = try moe.open()
            let kValues = try parseList(ks, option: "--ks") { Int($0) }
            guard (kValues + [k]).allSatisfy({ $0 <= checkpoint.experts }) else {
                throw PregatedMoEError.invalidSetting("--ks \(ks): each k must be at most the \(checkpoint.experts) experts")
            }
            let tokenizer = try loadTokenizer(from: checkpoint.checkpoint)
            let (pool, inputs) = try context.timer.measure("load") { try text.load(tokenizer: tokenizer) }
            guard pool.count >= trainSequences + evalSequences else {
                throw PregatedMoEError.invalidSetting("only \(pool.count) sequences of ≥ 8 tokens in the pool, \(trainSequences + evalSequences) asked")
            }
            let train = Array(pool.prefix(trainSequences)), held = Array(pool.dropFirst(trainSequences).prefix(evalSequences))
            let experts = try context.timer.measure("load") { try checkpoint.loadAllExperts() }
            let initial = try checkpoint.routers()
            let session = MoESession(routing: .dense, routers: initial, experts: checkpoint.experts, source: ResidentExperts(experts))
            let decoder = try checkpoint.makeDecoder(session: session)
            session.combination = combination.combine
            let layers = checkpoint.config.layerCount
            let onPolicy = collect == "on-policy"
            let rounds = onPolicy ? self.rounds : 1
            let bar = ProgressBar("collect", total: (onPolicy ? 2 * rounds : 1) * train.count + held.count, unit: "sequences", quiet: common.quiet)
            func rows(_ routing: RoutingMode, _ sequences: [[Int32]]) -> [GateTraining.LayerRows] {
                GateTraining.collect(decoder: decoder, session: session, experts: experts, sequences: sequences, routing: routing) { bar.advance() }
            }
            /// Gates from `gateRows`, pre-gates from `pregateRows` (x_N, and block N+1's targets), starting
            /// from `start` (pre-gates: from the trained gate N+1 unless `keepPregates`).
            func trainAll(_ gateRows: [GateTraining.LayerRows], _ pregateRows: [GateTraining.LayerRows], from start: Routers,
                          keepPregates: Bool) throws -> Routers {
                var gates: [Tensor] = [], pregates: [Tensor] = []
                for l in 0..<layers {
                    gates.append(try GateTraining.train(initial: start.gates[l], inputs: gateRows[l].inputs,
                                                        targets: GateTraining.targets(gateRows[l].contributions), steps: steps,
                                                        learningRate: learningRate, balance: Float(balance), k: k,
                                                        batchRows: batchRows, seed: common.seed &+ UInt64(l)))
                }
                for l in 0..<(layers - 1) {
                    pregates.append(try GateTraining.train(initial: keepPregates ? start.pregates[l] : gates[l + 1], inputs: pregateRows[l].inputs,
                                                           targets: GateTraining.targets(pregateRows[l + 1].contributions), steps: steps,
                                                           learningRate: learningRate, balance: Float(balance), k: k,
                                                           batchRows: batchRows, seed: common.seed &+ UInt64(1000 + l)))
                }
                return Routers(gates: gates, pregates: pregates)
            }
            var current = initial
            var trainTokens = 0
            try context.timer.measure("collect+train") {
                for round in 0..<rounds {
                    if round == 0 {
                        let r = rows(onPolicy ? .oracle(k: k) : .dense, train)
                        trainTokens = r[0].inputs.shape[0]
                        current = try trainAll(r, r, from: initial, keepPregates: false)
                    } else {
                        session.routers = current
                        let g = rows(.gate(k: k), train), p = rows(.pregate(k: k), train)
                        current = try trainAll(g, p, from: current, keepPregates: true)
                    }
                }
            }
            session.routers = current
            let heldRows = rows(onPolicy ? .gate(k: k) : .dense, held)
            bar.finish()
            let gates = current.gates
            var perLayer: [TrainGatesMetrics.Layer] = []
            let trained = current
            for l in 0..<layers {
                let h = heldRows[l], target = GateTraining.targets(h.contributions)
                var entry = TrainGatesMetrics.Layer(
                    layer: l, gateLossInitial: GateTraining.loss(weights: initial.gates[l], inputs: h.inputs, targets: target),
                    gateLossTrained: GateTraining.loss(weights: gates[l], inputs: h.inputs, targets: target))
                let gateLogits = Tensor.matmul(h.inputs, gates[l], transposeB: true)
                for k in kValues {
                    entry.recall["gate_recall_of_oracle_k\(k)"] = GateTraining.recall(gateLogits, h.contributions, k: k)
                    if l + 1 < layers {
                        let pre = Tensor.matmul(h.inputs, trained.pregates[l], transposeB: true)
                        let nextGate = Tensor.matmul(heldRows[l + 1].inputs, gates[l + 1], transposeB: true)
                        entry.recall["pregate_recall_of_gate_k\(k)"] = GateTraining.recall(pre, nextGate, k: k)
                    }
                }
                perLayer.append(entry)
            }
            // Held-out perplexity and next-token accuracy with each routing.
            var perplexity: [String: Double] = [:], accuracy: [String: Double] = [:]
            let variants = evalInitial ? [("initial", initial), ("trained", trained)] : [("trained", trained)]
            let evals = 1 + (2 * variants.count + 1) * kValues.count
            let evalBar = ProgressBar("perplexity", total: evals, unit: "evaluations", quiet: common.quiet)
            func measure(_ name: String, _ routing: RoutingMode, _ routers: Routers) {
                session.routing = routing
                session.routers = routers
                session.resetFailure()
                let q = TextSequences.evaluate(decoder, held)
                perplexity[name] = q.perplexity
                accuracy[name] = q.accuracy
                evalBar.advance()
            }
            context.timer.measure("evaluate") {
                measure("dense", .dense, trained)
                for k in kValues {
                    measure("oracle_k\(k)", .oracle(k: k), trained)
                    for (name, routers) in variants {
                        measure("gate_k\(k)_\(name)", .gate(k: k), routers)
                        measure("pregate_k\(k)_\(name)", .pregate(k: k), routers)
                    }
                }
            }
            evalBar.finish()
            var recall: [String: Double] = [:]
            for k in kValues {
                let values = perLayer.compactMap { $0.recall["pregate_recall_of_gate_k\(k)"] }
                recall["k\(k)"] = values.reduce(0, +) / Double(max(1, values.count))
            }
            if let save {
                try checkpoint.saveRouters(trained, to: save,
                    note: "yes: train-gates on \(train.count) sequences (\(trainTokens) tokens), \(collect) collection (\(rounds) rounds, k = \(k)), \(steps) Adam steps, lr \(learningRate), load-balancing \(balance), seed \(common.seed)")
            }
            log("pregated-moe train-gates: held-out perplexity dense \(perplexity["dense"] ?? 0); " + kValues.map { k in
                String(format: "k=%d gate %.2f pre-gate %.2f (recall %.3f)", k, perplexity["gate_k\(k)_trained"] ?? 0,
                       perplexity["pregate_k\(k)_trained"] ?? 0, recall["k\(k)"] ?? 0)
            }.joined(separator: "; "), quiet: common.quiet)
            var report = Report(tool: "pregated-moe", command: "train-gates")
            report.paper = paperCitation
            report.inputs = inputs.merging(["checkpoint": try fileInput(checkpoint.path)]) { $1 }
            // Every option is added by ToolRunner (reflecting); these are the counts in effect.
            report.config = ["train_sequences": .int(train.count), "eval_sequences": .int(held.count)]
            try report.setMetrics(TrainGatesMetrics(
                constructed: "routers of a MoE constructed from SmolLM2 (not a pre-trained MoE); MoE on all \(layers) layers",
                trainTokens: trainTokens, evalTokens: heldRows[0].inputs.shape[0],
                perplexity: perplexity, accuracy: accuracy, pregateRecallOfGate: recall, perLayer: perLayer))
            report.units = ["perplexity": "exp(mean NLL) on held-out tokens", "pregate_recall_of_gate": "fraction of gate N+1's top-k that pre-gate N chose, mean over layers and tokens",
                            "gate_loss_initial": "soft cross-entropy (nats)", "gate_loss_trained": "soft cross-entropy (nats)"]
            return report
        }
    }
}

/// `pregated-moe train-gates`' metrics (snake_case keys in the report; units in `report.units`).
struct TrainGatesMetrics: Encodable {
    /// One layer's held-out gate losses and recalls.
    struct Layer: Encodable {
        var layer: Int
        var gateLossInitial: Double, gateLossTrained: Double
        /// `gate_recall_of_oracle_k<k>` and (all but the last layer) `pregate_recall_of_gate_k<k>`
        /// per evaluated k, inline.
        var recall: [String: Double] = [:]

        enum CodingKeys: CodingKey { case layer, gateLossInitial, gateLossTrained }

        func encode(to encoder: Encoder) throws {
            try recall.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(layer, forKey: .layer)
            try c.encode(gateLossInitial, forKey: .gateLossInitial)
            try c.encode(gateLossTrained, forKey: .gateLossTrained)
        }
    }
    var constructed: String
    var trainTokens: Int, evalTokens: Int
    /// Held-out perplexity by routing (`dense`, `oracle_k<k>`, `gate_k<k>_<routers>`, `pregate_k<k>_<routers>`).
    var perplexity: [String: Double]
    /// Held-out next-token accuracy, same keys as `perplexity`.
    var accuracy: [String: Double]
    /// Mean over layers of `pregate_recall_of_gate_k<k>`, by `k<k>`.
    var pregateRecallOfGate: [String: Double]
    var perLayer: [Layer]
}
