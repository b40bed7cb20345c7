import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import SkillLocalization

/// `graft finetune`: linear probe, then encoder fine-tuning with the head fixed; writes the
/// fine-tuned checkpoint.
struct Finetune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fine-tune MiniLM-L6 on a task split: linear probe on frozen features, then the encoder layers with the head fixed.",
        discussion: """
            Example:
              graft finetune --task polarity --k 16 --data-seed 13 --save ft.h5
            The head (linear, on the attention-masked mean of the last hidden states) is first trained \
            as a linear probe on frozen features (L2-regularised logistic regression, C = 1, full-batch Adam), then kept fixed while the \
            transformer layers (encoder.layer.*, the graftable parameters) are fine-tuned with SGD; \
            embeddings stay frozen, so the pre-trained, fine-tuned and grafted models share everything \
            but the layers. The parameters of the best dev evaluation are saved. Defaults are the \
            paper's few-shot recipe: SGD lr 1e-3, batch 2, weight decay 1e-4, 1000 steps, eval every 100.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var data: DataOptions

    @OptionGroup var base: ModelWeightsOption<MiniLMWeights>
    var pretrained: String { base.weights }

    @Option(help: "Task: polarity or subjectivity.")
    var task: String

    @Option(help: ArgumentHelp("Training examples per class (16, 64, ...) or 'full' for the whole training pool.", valueName: "k|full"))
    var k = "16"

    @Option(help: "Seed of the k-shot split (the paper's: 13, 21, 42, 87, 100).")
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
            let model = BertClassifier(encoder: encoder, labels: task.classNames.count, input: .mean,
                                       factory: ParameterFactory(seed: context.random.next()))
            let classifier = SentenceClassifier(model: model, tokenizer: try WordPieceTokenizer(checkpoint: checkpoint),
                                                maxLength: data.maxLength)
            var rng = context.random
            let trained = try training.train(classifier, train: train, dev: splits.dev, rng: &rng, timer: &context.timer,
                                         label: "graft finetune", quiet: common.quiet)
            let result = trained.result
            let finalTrain = classifier.accuracy(train)

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
                probeTrainLoss: trained.probeLoss, probeTrainAccuracy: trained.probeTrain, probeDevAccuracy: trained.probeDev,
                trainAccuracy: finalTrain, devAccuracy: result.best?.devAccuracy ?? 0, bestStep: result.best?.step ?? 0,
                secondsPerStep: result.secondsPerStep, peakRssMb: ResourceUsage.peakResidentMiB, history: result.history))
            report.units = ["probe_train_loss": "nats", "probe_train_accuracy": "fraction", "probe_dev_accuracy": "fraction",
                            "train_accuracy": "fraction", "dev_accuracy": "fraction", "best_step": "steps",
                            "seconds_per_step": "s", "peak_rss_mb": "MB"]
            return report
        }
    }
}

/// `graft finetune`'s metrics (snake_case keys in the report; units in `report.units`).
struct FinetuneMetrics: Encodable {
    var probeTrainLoss: Double, probeTrainAccuracy: Double, probeDevAccuracy: Double
    /// Train accuracy at the kept parameters; dev accuracy and step of the best evaluation.
    var trainAccuracy: Double, devAccuracy: Double, bestStep: Int
    var secondsPerStep: Double
    var peakRssMb: Double
    var history: [FineTuningCheckpoint]
}
