import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import REB

/// `reb ssl-train`: DefectMaker self-supervised fine-tuning of the backbone (REB Stage 1); the
/// checkpoint it writes is a backbone `reb fit --weights` takes.
struct SSLTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ssl-train",
        abstract: "Fine-tune the backbone on DefectMaker's 7-way self-supervised task (REB Stage 1) and save it.",
        discussion: """
            Example:
              reb ssl-train --steps 120 --normals-per-step 4 --save ssl.h5 -o ssl.json
              reb fit --weights ssl.h5 --save bank-ssl.h5 -o fit-ssl.json
            Each step takes --normals-per-step training normal images, augments them (ColorJitter 0.1 \
            without hue, a random rotation/flip/transpose) and adds each one's six DefectMaker versions \
            (cut fills from random training images), so a batch \
            has 7× as many images, labelled normal or by defect kind. The backbone's last stage is \
            average-pooled into an MLP head (512, 256; BatchNorm, ReLU) with 7 sigmoid outputs, trained \
            with binary cross-entropy on one-hot targets; SGD (lr 0.03, momentum 0.9, weight decay \
            3e-5 on every parameter), cosine annealing with warm restarts (T0 = 1.1 × steps, to \
            --min-lr), the backbone frozen for the first --frozen-steps (default the reference's \
            39/300 of the steps), then trained in training mode up to its last stage. The reference \
            runs 300 steps of 1,008 images at 256² on a GPU; the defaults (120 steps of 28 images at 224²) take about \
            4 minutes on 2 free cores (8 on a busy machine). Only the training split's normal images are used; the report gives \
            the 7-way accuracy on DefectMaker versions of --eval-normals held-out normal images.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var backboneWeights: ModelWeightsOption<EfficientNetWeights>

    /// SGD's settings: `--steps`, `--learning-rate` (`--lr` a deprecated alias), `--weight-decay` on every parameter.
    enum SSLDefaults: OptimizerDefaults {
        static var learningRate: Double? { 0.03 }
        static var weightDecay: Double? { 3e-5 }
        static var steps: Int? { 120 }
    }

    @OptionGroup var optimizer: OptimizerOptions<SSLDefaults>
    var steps: Int { optimizer.steps }
    var lr: Double { optimizer.learningRate }
    var weightDecay: Double { optimizer.weightDecay }

    @Option(help: "Images per forward pass of the held-out evaluation.")
    var evalBatchSize = 16

    @Option(help: "Normal images per step (each brings its six defect versions: a batch of 7× this).")
    var normalsPerStep = 4

    @Option(help: "Steps with the backbone frozen at the start (default ⌈steps · 39/300⌉, the reference's fraction).")
    var frozenSteps: Int?

    @Option(help: "SGD momentum.")
    var momentum = 0.9

    @Option(help: "Warm-restart period T0 in steps (default ⌈1.1 · steps⌉: one cosine decay, as the reference's 330 for 300).")
    var restartPeriod: Int?

    @Option(help: "Smallest learning rate of the cosine schedule.")
    var minLr = 1e-5

    @Option(help: "Square network input side in pixels.")
    var inputSize = 224

    @Option(help: "Held-out normal images whose DefectMaker versions measure the final 7-way accuracy (0: none).")
    var evalNormals = 16

    @Option(help: "Log the running loss and accuracy every this many steps.")
    var logEvery = 10

    @Option(help: ArgumentHelp("Fills of the defect versions: cut,noise (the 7-way task) or noise (the reference's 4-way set_dm3_noise: rect, scar and clump noise).",
                               valueName: "f,f"))
    var fills = "cut,noise"

    @Option(help: ArgumentHelp("Where to write the fine-tuned backbone (an EfficientNet-Lite checkpoint).", valueName: "file"))
    var save: String

    /// The defect kinds of `--fills`, in `DefectKind.all` order (nil: an unknown fill).
    var kinds: [DefectKind]? {
        let names = fills.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !names.isEmpty, names.allSatisfy({ DefectKind.Fill(rawValue: $0) != nil }) else { return nil }
        return DefectKind.all.filter { names.contains($0.fill.rawValue) }
    }

    var trainingConfig: SSLTrainingConfig {
        SSLTrainingConfig(steps: steps, normalsPerStep: normalsPerStep, frozenSteps: frozenSteps, learningRate: Float(lr),
                          momentum: Float(momentum), weightDecay: Float(weightDecay), restartPeriod: restartPeriod,
                          minimumLearningRate: Float(minLr), inputSize: inputSize, kinds: kinds ?? DefectKind.all)
    }

    func validate() throws {
        guard kinds != nil else { throw ValidationError("--fills must be cut, noise or cut,noise, got '\(fills)'") }
        do { try trainingConfig.validate() } catch let error as REBError { throw ValidationError(error.description) }
        guard evalNormals >= 0 else { throw ValidationError("--eval-normals must be non-negative") }
        guard logEvery >= 1 else { throw ValidationError("--log-every must be at least 1") }
        guard evalBatchSize >= 1 else { throw ValidationError("--eval-batch-size must be at least 1") }
    }

    func run() throws {
        try ToolRunner.run(tool: "reb", command: "ssl-train", options: common, reflecting: self) { context in
            let (set, split) = try context.timer.measure("data") { try data.load() }
            guard normalsPerStep <= split.train.count else {
                throw REBError.invalidArgument("--normals-per-step \(normalsPerStep) is more than the \(split.train.count) training normals")
            }
            guard set.width == set.height else {
                throw REBError.badImages(file: set.path, reason: "are \(set.width)×\(set.height); ssl-train needs square images (its rotations and transposes swap the sides)")
            }
            let weightsPath = try backboneWeights.resolve()
            let checkpoint = try Checkpoint(path: weightsPath)
            let model = try context.timer.measure("load") { try DefectMakerSSL.loadBackbone(checkpoint) }
            let config = trainingConfig
            var rng = context.random
            let trainer = try DefectMakerSSL(backbone: model, config: config, seed: rng.next())
            let perStep = normalsPerStep
            // The training normals in memory: each step's images and the cut fills' random donors.
            let trainImages = try context.timer.measure("images") { try set.images(split.train) }
            log("reb ssl-train: \(steps) steps of \(perStep) normal images × \(config.kinds.count + 1) versions (\(config.effectiveFrozenSteps) with the backbone frozen), from \(split.train.count) training normals", quiet: common.quiet)

            var losses: [Double] = [], accuracies: [Double] = [], rates: [Double] = []
            var frozenSeconds: [Double] = [], trainedSeconds: [Double] = [], batchSeconds: [Double] = []
            let progress = TrainingProgress("reb ssl-train", steps: steps, logEvery: logEvery, quiet: common.quiet) { record in
                trainer.isFrozen(step: record.step) ? "(backbone frozen)" : ""
            }
            _ = try context.timer.measure("train") {
                try trainer.train(images: trainImages, rng: &rng) { record in
                    if trainer.isFrozen(step: record.step) { frozenSeconds.append(record.seconds) } else { trainedSeconds.append(record.seconds) }
                    batchSeconds.append(record.dataSeconds)
                    losses.append(record.loss); accuracies.append(record.metrics["accuracy"] ?? .nan)
                    rates.append(Double(record.learningRate))
                    progress.handle(.step(record))
                }
            }
            progress.finish()

            // The 7-way task on held-out normal images (never trained on), in evaluation mode.
            var evalLoss = Double.nan, evalAccuracy = Double.nan, evalPerClass: [Float] = []
            let evalRows = Array(split.heldOutNormal.prefix(evalNormals))
            if !evalRows.isEmpty {
                var evalRng = RandomGenerator(seed: 1234)
                var predictions: [Int] = [], labels: [Int] = [], lossSum = 0.0
                try context.timer.measure("evaluate") {
                    let chunk = Swift.max(1, evalBatchSize / (config.kinds.count + 1))
                    var start = 0
                    while start < evalRows.count {
                        let rows = Array(evalRows[start..<Swift.min(start + chunk, evalRows.count)])
                        let batch = DefectMakerSSL.makeBatch(try set.images(rows), donors: trainImages, kinds: config.kinds, rng: &evalRng)
                        let (loss, p) = trainer.evaluate(batch)
                        lossSum += Double(loss) * Double(batch.labels.count)
                        predictions += p; labels += batch.labels
                        start += chunk
                    }
                }
                let (overall, perClass) = DefectMakerSSL.accuracy(predictions: predictions, labels: labels, classes: trainer.classNames.count)
                evalLoss = lossSum / Double(labels.count); evalAccuracy = Double(overall); evalPerClass = perClass
                log(String(format: "reb ssl-train: held-out %d-way accuracy %.3f (loss %.4f) on %d images", trainer.classNames.count, evalAccuracy, evalLoss, labels.count),
                    quiet: common.quiet)
            }

            guard case .object(var modelConfig) = checkpoint.config else {
                throw CheckpointError.badConfig(file: weightsPath, key: "config", expected: "a JSON object")
            }
            let provenance: JSONValue = [
                "method": "REB DefectMaker self-supervision (reb ssl-train)", "base": .string(weightsPath),
                "base_sha256": .string(try SHA256.hexDigest(ofFile: weightsPath)), "dataset": .string(set.path),
                "train_normals": .int(split.train.count), "split_seed": .string(String(data.splitSeed)),
                "steps": .int(steps), "normals_per_step": .int(perStep), "frozen_steps": .int(config.effectiveFrozenSteps),
                "classes": JSONValue(trainer.classNames),
                "seed": .string(String(common.seed)),
            ]
            modelConfig["reb_ssl"] = provenance
            try context.timer.measure("save") {
                try CheckpointWriter.save(model.stateDict(), to: save, architecture: checkpoint.architecture,
                                          config: .object(modelConfig), source: checkpoint.source)
            }

            func median(_ v: [Double]) -> Double? { try? Statistics.quantile(v, 0.5) }
            let tail = Swift.min(10, losses.count)
            var report = Report(tool: "reb", command: "ssl-train")
            report.paper = paperCitation
            report.inputs = ["backbone": try fileInput(weightsPath), "dataset": try fileInput(set.path),
                             "split_sizes": ["train": .int(split.train.count), "held_out_normal": .int(split.heldOutNormal.count)]]
            // Every option is added by ToolRunner (reflecting); these are the values in effect.
            report.config = [
                "batch_images": .int(perStep * (config.kinds.count + 1)), "chance_accuracy": .double(1 / Double(config.kinds.count + 1)), "frozen_steps": .int(config.effectiveFrozenSteps),
                "restart_period": .int(config.effectiveRestartPeriod), "eval_normals": .int(evalRows.count),
                "classes": JSONValue(trainer.classNames),
            ]
            try report.setMetrics(SSLTrainMetrics(
                finalTrainLoss: losses.suffix(tail).reduce(0, +) / Double(tail),
                finalTrainAccuracy: accuracies.suffix(tail).reduce(0, +) / Double(tail),
                heldOutLoss: evalLoss.isNaN ? nil : evalLoss, heldOutAccuracy: evalAccuracy.isNaN ? nil : evalAccuracy,
                heldOutAccuracyPerClass: Dictionary(uniqueKeysWithValues: zip(trainer.classNames, evalPerClass).map {
                    ($0, $1.isNaN ? nil : Double($1))
                }),
                secondsPerFrozenStep: median(frozenSeconds), secondsPerTrainedStep: median(trainedSeconds),
                secondsPerBatchSynthesis: median(batchSeconds),
                curve: .init(loss: losses, accuracy: accuracies, learningRate: rates)))
            report.units = ["final_train_loss": "BCE (mean of the last 10 steps)", "final_train_accuracy": "fraction (last 10 steps)",
                            "held_out_loss": "BCE", "held_out_accuracy": "fraction", "seconds_per_frozen_step": "s (median)",
                            "seconds_per_trained_step": "s (median)", "seconds_per_batch_synthesis": "s (median)"]
            return report
        }
    }
}

/// `reb ssl-train`'s metrics (snake_case keys in the report; units in `report.units`). A value that
/// could not be measured (no held-out normals, no step of a kind) is null.
struct SSLTrainMetrics: Encodable {
    /// Per step.
    struct Curve: Encodable {
        var loss: [Double], accuracy: [Double], learningRate: [Double]
    }
    /// Means over the last 10 steps.
    var finalTrainLoss: Double, finalTrainAccuracy: Double
    @NullWhenAbsent var heldOutLoss: Double?
    @NullWhenAbsent var heldOutAccuracy: Double?
    /// By class name (null for a class without held-out examples).
    var heldOutAccuracyPerClass: [String: Double?]
    /// Medians.
    @NullWhenAbsent var secondsPerFrozenStep: Double?
    @NullWhenAbsent var secondsPerTrainedStep: Double?
    @NullWhenAbsent var secondsPerBatchSynthesis: Double?
    var curve: Curve
}
