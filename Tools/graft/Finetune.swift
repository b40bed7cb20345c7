import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import SkillLocalization

/// `graft finetune`: linear probe, then encoder fine-tuning with the head fixed; writes the
/// fine-tuned checkpoint.
struct Finetune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fine-tune MiniLM-L6's transformer layers on a task split under a shared head (verbaliser, linear or probe).",
        discussion: """
            Example:
              graft finetune --task polarity --k 16 --data-seed 13 --save ft.h5
            The head (on the attention-masked mean of the last hidden states) is shared by the \
            pre-trained, fine-tuned and grafted models. --head verbaliser (default): fixed zero-shot \
            logits = scale · cosine(pooled, label-sentence embedding). --head linear: a linear head trained \
            jointly with the layers. --head probe: L2-regularised logistic regression on frozen features \
            (C = 1), then fixed. Only the transformer layers (encoder.layer.*, the graftable parameters) \
            and a linear head are trained; embeddings stay frozen. The parameters of the best dev \
            evaluation are saved (the later of equal ones, the reference's >=). The report's power_check \
            compares the pre-trained and fine-tuned models on dev (≥ 5 points needed before localizing). \
            Defaults: SGD lr 1e-3, batch 2, weight decay 1e-4, clip 1, 1000 steps, eval every 100.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var data: DataOptions

    @OptionGroup var base: ModelWeightsOption<MiniLMWeights>
    var pretrained: String { base.weights }

    @Option(help: "Task: polarity or subjectivity.")
    var task: String

    @Option(help: ArgumentHelp("Training examples per class (16, 64, ...) or 'full' for the whole training pool.", valueName: "k|full"))
    var k = "16"

    @Option(help: "Seed of the k-shot split (the paper's: 13, 21, 42, 87, 100).", transform: parseSeed)
    var dataSeed: UInt64 = 13

    @OptionGroup var training: TrainingOptions<FineTuneDefaults>

    @Option(help: ArgumentHelp("Where to write the fine-tuned checkpoint (HDF5).", valueName: "file"))
    var save: String

    func validate() throws { _ = try parseShots(k) }

    func run() throws {
        try ToolRunner.run(tool: "graft", command: "finetune", options: common, reflecting: self) { context in
            let task = try SkillTask(named: self.task)
            let shots = try parseShots(k)
            let pretrainedPath = try resolveNameOrPath(pretrained)
            let checkpoint = try Checkpoint(path: pretrainedPath)
            let (splits, datasetPath) = try context.timer.measure("data") { try data.splits(task) }
            let train = try splits.train(k: shots, seed: dataSeed)
            log("graft finetune: \(task.rawValue), \(train.count) training and \(splits.dev.count) dev examples", quiet: common.quiet)

            let encoder = try BertEncoder.load(from: checkpoint)
            let classifier = training.makeClassifier(encoder: encoder, tokenizer: try WordPieceTokenizer(checkpoint: checkpoint),
                                                     task: task, maxLength: data.maxLength, seed: context.random.next())
            let model = classifier.model
            let layers = model.parameters.filter { GraftSpace.isGraftable($0.name) }
            let thetaPre = layers.map(\.value)
            var rng = context.random
            let trained = try training.train(classifier, train: train, dev: splits.dev, rng: &rng, timer: &context.timer,
                                         label: "graft finetune", quiet: common.quiet)
            let result = trained.result
            let finalTrain = classifier.accuracy(train.evaluationSample()), finalDev = classifier.accuracy(splits.dev)
            // The pre-trained model under the final head (for a jointly trained head it differs from
            // the model before fine-tuning), then back to θ_ft.
            let thetaFt = layers.map(\.value)
            GraftSpace.assign(thetaPre, to: layers)
            let preDev = classifier.accuracy(splits.dev), preTrain = classifier.accuracy(train.evaluationSample())
            GraftSpace.assign(thetaFt, to: layers)
            let power = PowerCheck(pretrainedDevAccuracy: preDev, finetunedDevAccuracy: finalDev)
            log("graft finetune: dev accuracy pre-trained \(preDev), fine-tuned \(finalDev): power check \(power.passed ? "passed" : "FAILED") (gain \(String(format: "%+.3f", power.gain)), ≥ \(power.minimumGain) needed)", quiet: common.quiet)
            var movement: [String: Double] = [:]
            for (layer, group) in Dictionary(grouping: layers.indices, by: { GraftMask.layerIndex(of: layers[$0].name) ?? -1 }) {
                var change = 0.0, norm = 0.0
                for i in group {
                    change += Double((thetaFt[i] - thetaPre[i]).square().sum().item)
                    norm += Double(thetaPre[i].square().sum().item)
                }
                movement["\(layer)"] = (change / max(norm, 1e-30)).squareRoot()
            }

            let preSHA = try SHA256.hexDigest(ofFile: pretrainedPath)
            let provenance = FineTuneProvenance(task: task, k: shots, dataSeed: dataSeed, pretrainedPath: pretrainedPath,
                                                pretrainedSHA256: preSHA)
            guard case .object(var modelConfig) = checkpoint.config else {
                throw SkillLocalizationError.malformedFile(file: pretrainedPath, detail: "config is not a JSON object")
            }
            modelConfig["num_labels"] = .int(task.classNames.count)
            modelConfig["classification_input"] = .string(ClassificationInput.mean.rawValue)
            modelConfig["label_names"] = JSONValue(task.classNames)
            modelConfig["graft"] = provenance.json
            for (key, value) in training.headConfig(task) { modelConfig[key] = value }
            try context.timer.measure("save") {
                try CheckpointWriter.save(model.stateDict(), to: save, architecture: checkpoint.architecture,
                                          config: .object(modelConfig), source: checkpoint.source)
            }

            var report = Report(tool: "graft", command: "finetune")
            report.paper = paperCitation
            report.inputs = ["pretrained": try fileInput(pretrainedPath), "dataset": try fileInput(datasetPath),
                             "split_sizes": ["train": .int(train.count), "dev": .int(splits.dev.count)]]
            // Every option is added by ToolRunner (reflecting); these are derived values and old spellings.
            report.config = training.derivedConfig.merging([
                "task": .string(task.rawValue), "k": shots.map(JSONValue.int) ?? "full",
                "data_seed": .int(Int(dataSeed)),
            ]) { a, _ in a }
            try report.setMetrics(FinetuneMetrics(
                head: training.head.rawValue, probeTrainLoss: trained.probeLoss,
                initialTrainAccuracy: trained.probeTrain, initialDevAccuracy: trained.probeDev,
                pretrainedTrainAccuracy: preTrain, pretrainedDevAccuracy: preDev,
                trainAccuracy: finalTrain, devAccuracy: finalDev, bestStep: result.best?.step ?? 0, bestEvaluationDevAccuracy: result.best?.devAccuracy ?? 0,
                powerCheck: power, layerRelativeChange: movement,
                secondsPerStep: result.secondsPerStep, peakRssMb: ResourceUsage.peakResidentMiB, history: result.history))
            report.units = ["probe_train_loss": "nats", "initial_train_accuracy": "fraction", "initial_dev_accuracy": "fraction",
                            "pretrained_train_accuracy": "fraction", "pretrained_dev_accuracy": "fraction",
                            "train_accuracy": "fraction", "dev_accuracy": "fraction", "best_step": "steps",
                            "best_evaluation_dev_accuracy": "fraction", "layer_relative_change": "‖θ_ft − θ_pre‖ / ‖θ_pre‖ per layer",
                            "gradient_norm": "global L2 norm before clipping", "seconds_per_step": "s", "peak_rss_mb": "MB"]
            return report
        }
    }
}

/// `graft finetune`'s metrics (snake_case keys in the report; units in `report.units`).
struct FinetuneMetrics: Encodable {
    /// The head kind (verbaliser, linear, probe).
    var head: String
    /// The probe's training loss (absent for other heads).
    var probeTrainLoss: Double?
    /// Accuracy of the model before fine-tuning (after probing).
    var initialTrainAccuracy: Double, initialDevAccuracy: Double
    /// The pre-trained layers under the final head.
    var pretrainedTrainAccuracy: Double, pretrainedDevAccuracy: Double
    /// Accuracies at the kept parameters (inference mode; train accuracies on at most 1024 training
    /// items, `LabelledTexts.evaluationSample`) and the kept evaluation's step and score.
    var trainAccuracy: Double, devAccuracy: Double, bestStep: Int, bestEvaluationDevAccuracy: Double
    var powerCheck: PowerCheck
    /// ‖θ_ft − θ_pre‖ / ‖θ_pre‖ per transformer layer (key K of encoder.layer.K).
    var layerRelativeChange: [String: Double]
    var secondsPerStep: Double
    var peakRssMb: Double
    var history: [FineTuningCheckpoint]
}
