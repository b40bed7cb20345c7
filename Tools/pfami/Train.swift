import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import PFAMI

/// `pfami train`: trains one generative model on one split's members and measures its over-fitting.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a VAE, a DDPM or the KDE control on one split's members; report train vs hold-out loss.",
        discussion: """
            Example:
              pfami train --model ddpm --role target --members 128 --holdout 128 --steps 2000 --save target.h5 -o train.json
            The dataset's rows are shuffled with --split-seed and cut into target, shadow and reference \
            blocks of --members members and --holdout hold-out records each (disjoint, as the reference \
            code's index ranges); the model trains on its --role's members only. The report gives the mean \
            per-record loss of members and hold-out (over the feature probes), the gap, its standard error \
            and whether it is measurable (gap > 2 SE); an unmeasurable gap is flagged on stderr too, since \
            an attack on such a model can only be at chance.
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: ArgumentHelp("Image dataset: a datasets.toml name or an .h5 path (images uint8 [N, H, W, 1|3]).", valueName: "name|file"))
    var dataset = "digits"

    @Option(help: "Model: vae, ddpm or kde (the analytic positive control).")
    var model: ModelKind = .ddpm

    @Option(help: "Whose members to train on: target, shadow or reference.")
    var role: SplitRole = .target

    @Option(help: "Members per model.")
    var members = 128

    @Option(help: "Hold-out records per model.")
    var holdout = 128

    @Option(help: "Seed of the shuffle that cuts the splits (the same for every model of one attack).")
    var splitSeed: UInt64 = 0

    @Option(help: "Image side the models take (images are resized once at load).")
    var size = 32

    @Option(help: "Base width: the UNet's b (levels b, 2b) or the VAE's first convolution.")
    var width = 32

    @Option(help: "VAE latent dimension.")
    var latent = 16

    @Option(help: "GroupNorm groups of the UNet (divides --width).")
    var groups = 8

    @Option(help: "KDE bandwidth h.")
    var bandwidth = 0.1

    enum TrainDefaults: OptimizerDefaults {
        static var learningRate: Double? { 1e-3 }
        static var steps: Int? { 1000 }
        static var batchSize: Int? { 32 }
        static var clip: Double? { 1 }
    }

    @OptionGroup var optimizer: OptimizerOptions<TrainDefaults>

    @Option(help: ArgumentHelp("Probes of the gap measurement (default: the feature probes of the model kind).", valueName: "j,j"))
    var probes: String?

    @Option(help: "Records per forward pass of the gap measurement.")
    var evalBatchSize = 64

    @Option(help: "Log the running loss every this many steps.")
    var logEvery = 100

    @Option(help: ArgumentHelp("Where to write the trained model (HDF5 checkpoint).", valueName: "file"))
    var save: String

    func validate() throws {
        guard members <= 1_000_000, holdout <= 1_000_000 else { throw ValidationError("--members and --holdout must be at most 1000000") }
        guard width <= 4096, latent <= 4096, size <= 4096 else { throw ValidationError("--width, --latent and --size must be at most 4096") }
        guard size >= 4, size % 4 == 0 else { throw ValidationError("--size must be a positive multiple of 4, got \(size)") }
        guard width >= 1, latent >= 1, groups >= 1, width % groups == 0 else {
            throw ValidationError("--width, --latent and --groups must be positive, --groups dividing --width")
        }
        guard bandwidth > 0 else { throw ValidationError("--bandwidth must be > 0") }
        guard evalBatchSize >= 1, logEvery >= 1 else { throw ValidationError("--eval-batch-size and --log-every must be at least 1") }
        if let probes { _ = try parseIntegers(probes, option: "probes") }
    }

    func run() throws {
        try ToolRunner.run(tool: "pfami", command: "train", options: common, reflecting: self) { context in
            let path = try resolveNameOrPath(dataset)
            let images = try context.timer.measure("data") { try ImageSet(path: path, size: size) }
            let splits = try MemberSplits(datasetCount: images.count, members: members, holdout: holdout, seed: splitSeed, file: path)
            let memberRows = splits.members(of: role), holdoutRows = splits.holdout(of: role)
            let factory = ParameterFactory(seed: common.seed)
            let net: ProbeModel
            switch model {
            case .vae: net = ConvVAE(config: VAEConfig(channels: images.channels, size: size, width: width, latent: latent), factory: factory)
            case .ddpm: net = DiffusionUNet(config: DDPMConfig(channels: images.channels, size: size, width: width, groups: groups), factory: factory)
            case .kde: net = KDEModel(points: images.batch(memberRows), bandwidth: bandwidth)
            }
            let parameterCount = net.parameters.reduce(0) { $0 + $1.value.count }
            var rng = context.random
            var losses: [Double] = []
            var secondsPerStep: Double? = nil
            if model != .kde {
                log("pfami train: \(model.rawValue) (\(parameterCount) parameters) on \(memberRows.count) \(role.rawValue) members, \(optimizer.steps) steps of \(Swift.min(optimizer.batchSize, memberRows.count))", quiet: common.quiet)
                let progress = TrainingProgress("pfami train", steps: optimizer.steps, logEvery: logEvery, quiet: common.quiet)
                let config = GenerativeTrainingConfig(steps: optimizer.steps, batchSize: optimizer.batchSize, learningRate: Float(optimizer.learningRate),
                                                      clipNorm: optimizer.clip > 0 ? Float(optimizer.clip) : nil)
                let result = try context.timer.measure("train") {
                    try GenerativeTraining.train(net, images: images, members: memberRows, config: config, rng: &rng) { event in
                        if case .step(let r) = event { losses.append(r.loss) }
                        progress.handle(event)
                    }
                }
                progress.finish()
                secondsPerStep = result.secondsPerStep
            }
            let gapProbes = try probes.map { try parseIntegers($0, option: "probes") } ?? defaultProbes(model)
            if model == .ddpm, let bad = gapProbes.first(where: { !(0..<1000).contains($0) }) {
                throw PFAMIError.invalidArgument("probe timestep \(bad) is outside the schedule's 0..<1000")
            }
            let (memberLosses, holdoutLosses) = context.timer.measure("gap") {
                (GenerativeTraining.recordLosses(net, images: images, rows: memberRows, probes: gapProbes, batchSize: evalBatchSize, seed: common.seed),
                 GenerativeTraining.recordLosses(net, images: images, rows: holdoutRows, probes: gapProbes, batchSize: evalBatchSize, seed: common.seed))
            }
            let gap = try GeneralizationGap(memberLosses: memberLosses, holdoutLosses: holdoutLosses)
            if !gap.measurable {
                log(String(format: "pfami train: WARNING: the train/hold-out gap is not measurable (%.4g ± %.2g): an attack on this model can only be at chance", gap.gap, gap.standardError), quiet: false)
            } else {
                log(String(format: "pfami train: member loss %.4g, hold-out loss %.4g, gap %.4g ± %.2g (loss-attack AUC %.3f)", gap.memberLoss, gap.holdoutLoss, gap.gap, gap.standardError, gap.lossAUC), quiet: common.quiet)
            }
            let datasetSHA = try SHA256.hexDigest(ofFile: path)
            let provenance = ModelProvenance(dataset: path, datasetSHA256: datasetSHA, role: role, splits: splits)
            try context.timer.measure("save") {
                try PFAMICheckpoint.save(net, provenance: provenance, training: ["steps": .int(model == .kde ? 0 : optimizer.steps), "seed": .string(String(common.seed)),
                                                                                   "member_loss": .double(gap.memberLoss), "holdout_loss": .double(gap.holdoutLoss)], to: save)
            }
            var report = Report(tool: "pfami", command: "train")
            report.paper = paperCitation
            report.inputs = ["dataset": ["path": .string(path), "sha256": .string(datasetSHA)],
                             "split_sizes": ["members": .int(memberRows.count), "holdout": .int(holdoutRows.count), "dataset": .int(images.count)]]
            report.config = ["gap_probes": JSONValue(gapProbes.map(Double.init)), "channels": .int(images.channels)]
            let tail = losses.suffix(Swift.max(1, Swift.min(50, losses.count)))
            try report.setMetrics(TrainMetrics(parameters: parameterCount, finalTrainLoss: tail.isEmpty ? nil : tail.reduce(0, +) / Double(tail.count),
                                               gap: gap, secondsPerStep: secondsPerStep, lossCurve: losses))
            report.units = ["member_loss": "mean per-record probe loss (DDPM: ε-MSE per pixel; VAE: summed squared error + KL; KDE: −h²·log p̂)",
                            "final_train_loss": "mean of the last 50 steps' batch losses", "seconds_per_step": "s (mean)"]
            return report
        }
    }
}

extension ModelKind: ExpressibleByArgument {}
extension SplitRole: ExpressibleByArgument {}

/// `pfami train`'s metrics.
struct TrainMetrics: Encodable {
    var parameters: Int
    @NullWhenAbsent var finalTrainLoss: Double?
    var gap: GeneralizationGap
    @NullWhenAbsent var secondsPerStep: Double?
    var lossCurve: [Double]
}
