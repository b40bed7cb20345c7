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
              graft finetune --task polarity --k 16 --data-seed 13 --save results/graft/ft-polarity-16-13.h5
            The head (linear, on the attention-masked mean of the last hidden states) is first trained
            as a linear probe on frozen features (full-batch AdamW), then kept fixed while the
            transformer layers (encoder.layer.*, the graftable parameters) are fine-tuned with SGD;
            embeddings stay frozen, so the pre-trained, fine-tuned and grafted models share everything
            but the layers. The parameters of the best dev evaluation are saved. Defaults are the
            paper's few-shot recipe: SGD lr 1e-3, batch 2, weight decay 1e-4, 1000 steps, eval every 100.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var data: DataOptions

    @Option(help: ArgumentHelp("Pre-trained checkpoint: a datasets.toml name or an .h5 path.", valueName: "name|file"))
    var pretrained = "minilm-l6"

    @Option(help: "Task: polarity or subjectivity.")
    var task: String

    @Option(help: ArgumentHelp("Training examples per class (16, 64, ...) or 'full' for the whole training pool.", valueName: "k|full"))
    var k = "16"

    @Option(help: "Seed of the k-shot split (the paper's: 13, 21, 42, 87, 100).")
    var dataSeed: UInt64 = 13

    @Option(help: "SGD steps.")
    var steps = 1000

    @Option(help: "SGD learning rate.")
    var learningRate: Float = 1e-3

    @Option(help: "Examples per SGD step.")
    var batchSize = 2

    @Option(help: "SGD weight decay (not on biases and LayerNorm).")
    var weightDecay: Float = 1e-4

    @Option(help: "Dev evaluation every this many steps (the best is kept).")
    var evalEvery = 100

    @Option(help: "Full-batch AdamW steps of the linear probe.")
    var probeSteps = 300

    @Option(help: "Linear-probe learning rate.")
    var probeLearningRate: Float = 1e-2

    @Option(help: "Linear-probe C, the inverse L2 strength (scikit-learn's LogisticRegression objective).")
    var probeC: Float = 1

    @Flag(inversion: .prefixedNo, help: "Dropout while fine-tuning.")
    var dropout = true

    @Option(help: ArgumentHelp("Where to write the fine-tuned checkpoint (HDF5).", valueName: "file"))
    var save: String

    func validate() throws {
        _ = try parseShots(k)
        guard steps > 0, batchSize > 0, evalEvery > 0, probeSteps >= 0 else {
            throw ValidationError("--steps, --batch-size and --eval-every must be positive, --probe-steps ≥ 0")
        }
        guard learningRate > 0, weightDecay >= 0, probeC > 0 else { throw ValidationError("--learning-rate and --probe-c must be > 0, --weight-decay ≥ 0") }
    }

    func run() throws {
        try ToolRunner.run(tool: "graft", command: "finetune", options: common) { context in
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
            let probeLoss = context.timer.measure("probe") {
                LinearProbe.train(head: model.classifier, features: classifier.features(train.texts), labels: train.labels,
                                  config: LinearProbeConfig(steps: probeSteps, learningRate: probeLearningRate, inverseRegularization: probeC))
            }
            let probeTrain = classifier.accuracy(train), probeDev = classifier.accuracy(splits.dev)
            log("graft finetune: linear probe train accuracy \(probeTrain), dev \(probeDev)", quiet: common.quiet)

            let bar = ProgressBar("fine-tuning", total: steps, unit: "steps", quiet: common.quiet)
            var lastStep = 0
            let config = FineTuningConfig(steps: steps, learningRate: learningRate, batchSize: batchSize,
                                          weightDecay: weightDecay, evalEvery: evalEvery, dropout: dropout)
            var rng = context.random
            let result = context.timer.measure("finetune") {
                FineTuner.run(classifier, train: train, dev: splits.dev, config: config, rng: &rng) { record in
                    bar.advance(by: record.step - lastStep)
                    lastStep = record.step
                    log("graft finetune: step \(record.step) train loss \(String(format: "%.4f", record.trainLoss)) dev accuracy \(record.devAccuracy)", quiet: common.quiet)
                }
            }
            bar.finish()
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
            report.config = data.config.merging([
                "pretrained": .string(pretrained), "task": .string(task.rawValue), "k": shots.map(JSONValue.int) ?? "full",
                "data_seed": .int(Int(dataSeed)), "steps": .int(steps), "learning_rate": JSONValue(learningRate),
                "batch_size": .int(batchSize), "weight_decay": JSONValue(weightDecay), "eval_every": .int(evalEvery),
                "probe_steps": .int(probeSteps), "probe_learning_rate": JSONValue(probeLearningRate), "probe_c": JSONValue(probeC),
                "dropout": .bool(dropout), "save": .string(save), "optimizer": "SGD (no momentum)",
                "trained_parameters": "encoder.layer.* (head and embeddings fixed)",
            ]) { a, _ in a }
            report.metrics = [
                "probe_train_loss": .double(probeLoss), "probe_train_accuracy": .double(probeTrain),
                "probe_dev_accuracy": .double(probeDev), "train_accuracy": .double(finalTrain),
                "dev_accuracy": .double(result.best?.devAccuracy ?? 0), "best_step": .int(result.best?.step ?? 0),
                "seconds_per_step": .double(result.secondsPerStep), "peak_rss_mb": .double(peakResidentMegabytes()),
                "history": .array(result.history.map {
                    ["step": .int($0.step), "train_loss": .double($0.trainLoss), "dev_accuracy": .double($0.devAccuracy)]
                }),
            ]
            report.units = ["probe_train_loss": "nats", "probe_train_accuracy": "fraction", "probe_dev_accuracy": "fraction",
                            "train_accuracy": "fraction", "dev_accuracy": "fraction", "best_step": "steps",
                            "seconds_per_step": "s", "peak_rss_mb": "MB"]
            return report
        }
    }
}
