import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import PregatedMoE

/// `pregated-moe moefy`: split a dense Llama checkpoint's FFNs into experts and write the MoE checkpoint.
struct Moefy: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Split every layer's SwiGLU FFN into E experts (balanced k-means of its neurons) and write a MoE checkpoint.",
        discussion: """
            Example:
              pregated-moe moefy --weights smollm2 --experts 16 --save moe.h5
            --clustering co-activation (default) groups neurons that are large on the same tokens of the \
            first --calibration-sequences sequences of the text pool (the same pool and seed as \
            train-gates, whose held-out sequences come after its training ones, so keep \
            --calibration-sequences ≤ train-gates' --train-sequences); parameters clusters the neurons' \
            normalised [gate; up] weight rows instead (no text needed). \
            Any Llama-architecture checkpoint (architecture "llama": Llama, SmolLM2, …) can be moefied and \
            then given pre-gates by train-gates; --tokenizer borrows a tokenizer when it has none. \
            Each expert gets exactly width/E neurons and is one HDF5 dataset [3, m, D] (gate rows, up \
            rows, down columns) stored as one chunk with a checksum. The routers start as the clusters' \
            gate-row centroids (pre-gate N = gate N+1); `train-gates` trains them. With all experts \
            active the dense FFN is recovered (reported as recovery_error per layer).
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var weights: WeightsOption

    @Option(help: "Experts per layer E (must divide the FFN width, 1536 for SmolLM2).")
    var experts = 8

    @Option(help: "Balanced k-means rounds per layer.")
    var iterations = 15

    @Option(help: ArgumentHelp("Where to write the MoE checkpoint (.h5).", valueName: "file"))
    var save: String

    @Option(help: "How neurons are grouped: co-activation (activation profiles on real text) or parameters (weight rows).")
    var clustering = "co-activation"

    @Option(help: "Sequences of the text pool whose FFN activations describe the neurons (co-activation).")
    var calibrationSequences = 192

    @OptionGroup var text: TextOptions

    @Option(help: ArgumentHelp("Checkpoint whose tokenizer is used and copied into the MoE (default: --weights' own; for a Llama checkpoint without one).", valueName: "name|file"))
    var tokenizer: String?

    func validate() throws {
        guard experts >= 1 else { throw ValidationError("--experts must be at least 1, got \(experts)") }
        guard iterations >= 1 else { throw ValidationError("--iterations must be at least 1, got \(iterations)") }
        guard ["co-activation", "parameters"].contains(clustering) else {
            throw ValidationError("--clustering must be co-activation or parameters, got '\(clustering)'")
        }
        guard calibrationSequences >= 1 else { throw ValidationError("--calibration-sequences must be at least 1") }
    }

    func run() throws {
        try ToolRunner.run(tool: "pregated-moe", command: "moefy", options: common, reflecting: self) { context in
            let path = try weights.resolve()
            try requireFile(path, "checkpoint")
            let dense = try Checkpoint(path: path)
            let layers = dense.config["num_hidden_layers"]?.intValue ?? 0
            // Check E against the FFN width before the (slow) calibration pass.
            if let width = dense.config["intermediate_size"]?.intValue, width % experts != 0 {
                throw PregatedMoEError.expertsDoNotDivide(experts: experts, width: width)
            }
            var inputs = ["weights": try fileInput(path)]
            let tokenizerPath = try tokenizer.map { try resolveNameOrPath($0) }
            if let tokenizerPath {
                try requireFile(tokenizerPath, "tokenizer checkpoint")
                inputs["tokenizer"] = try fileInput(tokenizerPath)
            }
            var activations: [Tensor]? = nil
            if clustering == "co-activation" {
                let tokenizer = try loadTokenizer(from: try tokenizerPath.map { try Checkpoint(path: $0) } ?? dense)
                let (pool, textInputs) = try context.timer.measure("load") { try text.load(tokenizer: tokenizer) }
                inputs.merge(textInputs) { $1 }
                let calibration = Array(pool.prefix(calibrationSequences))
                let bar = ProgressBar("calibrate", total: calibration.count, unit: "sequences", quiet: common.quiet)
                activations = try context.timer.measure("calibrate") {
                    try Moefication.activations(dense: dense, sequences: calibration) { bar.advance() }
                }
                bar.finish()
            }
            let bar = ProgressBar("moefy", total: layers, unit: "layers", quiet: common.quiet)
            let summary = try context.timer.measure("moefy") {
                try MoECheckpointWriter.write(to: save, dense: dense, experts: experts, iterations: iterations,
                                              activations: activations, tokenizerSource: tokenizerPath, rng: &context.random) { _ in bar.advance() }
            }
            bar.finish()
            log("pregated-moe moefy: \(summary.layers) layers × \(summary.experts) experts of \(summary.expertWidth) neurons (\(summary.expertBytes) B each) → \(save); worst recovery error \(summary.recoveryErrors.max() ?? 0)", quiet: common.quiet)
            var report = Report(tool: "pregated-moe", command: "moefy")
            report.paper = paperCitation
            report.inputs = inputs
            report.config = ["calibration_tokens": .int(activations?.first?.shape[0] ?? 0)]
            // every option is added by ToolRunner (reflecting)
            try report.setMetrics(MoefyMetrics(
                layers: summary.layers, experts: summary.experts, expertWidth: summary.expertWidth, expertBytes: summary.expertBytes,
                recoveryError: summary.recoveryErrors, maxRecoveryError: summary.recoveryErrors.max() ?? 0,
                checkpointBytes: (try? FileManager.default.attributesOfItem(atPath: save)[.size] as? Int) ?? 0))
            report.units = ["expert_bytes": "bytes", "recovery_error": "max relative L2 error of Σ experts vs dense FFN on random rows", "checkpoint_bytes": "bytes"]
            return report
        }
    }
}

/// `pregated-moe moefy`'s metrics (snake_case keys in the report; units in `report.units`).
struct MoefyMetrics: Encodable {
    var constructed = "MoE constructed from the dense model's FFNs (not a pre-trained MoE)"
    var layers: Int, experts: Int, expertWidth: Int, expertBytes: Int
    /// Per layer (`MoECheckpointWriter.Summary.recoveryErrors`).
    var recoveryError: [Double]
    var maxRecoveryError: Double
    var checkpointBytes: Int
}
