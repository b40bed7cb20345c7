import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import SkillLocalization

/// `graft continual`: task A then task B, plain sequential fine-tuning against grafting each task's
/// localized region, measuring forgetting of task A.
struct Continual: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Continual learning: task A then task B; sequential fine-tuning vs grafting each task's region; forgetting of A.",
        discussion: """
            Example:
              graft continual --task-a polarity --task-b subjectivity --k 16 --data-seed 13 --sparsity 1e-4
            1. θ_A: the layers fine-tuned on A from θ_pre under head A (as graft finetune; a verbaliser \
            head is built from θ_pre for both tasks, a probe head B is probed on θ_A).
            2. Sequential: the layers fine-tuned on B from θ_A → θ_AB. Forgetting = \
            acc_A(θ_A) − acc_A(θ_AB), both with head A.
            3. Grafting: γ_A localized on θ_pre → θ_A (task A data, head A), γ_B on θ_A → θ_AB (task B data, \
            head B); the grafted model takes θ_A on γ_A, θ_AB on γ_B outside γ_A, θ_pre elsewhere. \
            Forgetting = acc_A(graft of γ_A alone) − acc_A(grafted model).
            Accuracies are on each task's held-out test split. The paper reports only that localization \
            "can assist certain forms of continual learning"; this protocol is this project's.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var training: TrainingOptions<ContinualDefaults>

    @OptionGroup var base: ModelWeightsOption<MiniLMWeights>
    var pretrained: String { base.weights }

    @Option(help: "First task.")
    var taskA = "polarity"

    @Option(help: "Second task.")
    var taskB = "subjectivity"

    @Option(help: ArgumentHelp("Training examples per class, or 'full'.", valueName: "k|full"))
    var k = "16"

    @Option(help: "Seed of the k-shot splits.", transform: parseSeed)
    var dataSeed: UInt64 = 13

    @Option(help: "Sparsity of each task's base patch.")
    var sparsity = 1e-4

    /// Mask-training epochs per task (`--epochs`, of the shared optimizer options).
    var epochs: Int { training.optimizer.epochs }

    func validate() throws {
        _ = try parseShots(k)
        guard sparsity >= 0, sparsity <= 1, epochs >= 0 else { throw ValidationError("--sparsity in [0, 1], --epochs ≥ 0") }
    }

    func run() throws {
        try ToolRunner.run(tool: "graft", command: "continual", options: common, reflecting: self) { context in
            let tasks = (try SkillTask(named: taskA), try SkillTask(named: taskB))
            let shots = try parseShots(k)
            let pretrainedPath = try resolveNameOrPath(pretrained)
            let checkpoint = try Checkpoint(path: pretrainedPath)
            let (splitsA, datasetPath) = try data.splits(tasks.0)
            let (splitsB, _) = try data.splits(tasks.1)
            let trainA = try splitsA.train(k: shots, seed: dataSeed), trainB = try splitsB.train(k: shots, seed: dataSeed)
            guard !splitsA.test.isEmpty, !splitsB.test.isEmpty else {
                throw SkillLocalizationError.emptySplit(task: "\(taskA)/\(taskB)", split: "test", reason: "no example (--test-per-class 0?)")
            }
            let encoder = try BertEncoder.load(from: checkpoint)
            let tokenizer = try WordPieceTokenizer(checkpoint: checkpoint)
            func classifier(_ task: SkillTask) -> SentenceClassifier {
                training.makeClassifier(encoder: encoder, tokenizer: tokenizer, task: task, maxLength: data.maxLength,
                                        seed: context.random.next())
            }
            let a = classifier(tasks.0), b = classifier(tasks.1)
            let names = encoder.parameters.map(\.name).filter(GraftSpace.isGraftable)
            let byName = encoder.namedParameters
            let layerParameters = names.map { byName[$0]! }
            func snapshot() -> [String: Tensor] { Dictionary(uniqueKeysWithValues: layerParameters.map { ($0.name, $0.value) }) }
            let thetaPre = snapshot()
            var rng = context.random

            _ = try training.train(a, train: trainA, dev: splitsA.dev, rng: &rng, timer: &context.timer, label: "graft continual A", quiet: common.quiet)
            let thetaA = snapshot()
            let accAAfterA = a.accuracy(splitsA.test)
            _ = try training.train(b, train: trainB, dev: splitsB.dev, rng: &rng, timer: &context.timer, label: "graft continual B", quiet: common.quiet)
            let thetaAB = snapshot()
            let accAAfterB = a.accuracy(splitsA.test), accBAfterB = b.accuracy(splitsB.test)

            for p in a.model.parameters + b.model.parameters { p.isTrainable = GraftSpace.isGraftable(p.name) }
            let config = MaskTrainingConfig(epochs: epochs, stepRule: .scaled(target: 10))  // as graft localize's default
            let spaceA = try GraftSpace(names: names, pretrained: thetaPre, finetuned: thetaA)
            let maskA = try context.timer.measure("localize") {
                try MaskTrainer.localize(a, space: spaceA, parameters: layerParameters, train: trainA, dev: splitsA.dev,
                                         sparsity: sparsity, rule: .strict, config: config, rng: &rng).result.mask
            }
            GraftSpace.assign(spaceA.grafted(maskA), to: layerParameters)
            let graftAAlone = a.accuracy(splitsA.test)
            let spaceB = try GraftSpace(names: names, pretrained: thetaA, finetuned: thetaAB)
            let maskB = try context.timer.measure("localize") {
                try MaskTrainer.localize(b, space: spaceB, parameters: layerParameters, train: trainB, dev: splitsB.dev,
                                         sparsity: sparsity, rule: .strict, config: config, rng: &rng).result.mask
            }
            // θ_A on γ_A; θ_AB on γ_B outside γ_A; θ_pre elsewhere.
            let combined = names.indices.map { i -> Tensor in
                let onlyB = maskB.values[i] * (1 - maskA.values[i])
                return Tensor.select(maskA.values[i], spaceA.finetuned[i],
                                     Tensor.select(onlyB, spaceB.finetuned[i], spaceA.pretrained[i]))
            }
            GraftSpace.assign(combined, to: layerParameters)
            let graftA = a.accuracy(splitsA.test), graftB = b.accuracy(splitsB.test)
            let overlap = try MaskOverlap.compare(maskA, maskB).total

            var report = Report(tool: "graft", command: "continual")
            report.paper = paperCitation
            report.inputs = ["pretrained": try fileInput(pretrainedPath), "dataset": try fileInput(datasetPath),
                             "split_sizes": ["train_a": .int(trainA.count), "train_b": .int(trainB.count),
                                             "test_a": .int(splitsA.test.count), "test_b": .int(splitsB.test.count)]]
            // Every option is added by ToolRunner (reflecting); these are derived values and old spellings.
            report.config = training.derivedConfig.merging([
                "task_a": .string(tasks.0.rawValue), "task_b": .string(tasks.1.rawValue), "k": shots.map(JSONValue.int) ?? "full",
                "data_seed": .int(Int(dataSeed)), "rule": "strict",
            ]) { a, _ in a }
            try report.setMetrics(ContinualMetrics(
                sequential: .init(accuracyAAfterA: accAAfterA, accuracyAAfterB: accAAfterB, accuracyBAfterB: accBAfterB,
                                  forgettingA: accAAfterA - accAAfterB),
                grafted: .init(accuracyARegionAAlone: graftAAlone, accuracyA: graftA, accuracyB: graftB, forgettingA: graftAAlone - graftA,
                               selectedA: maskA.selectedCount, selectedB: maskB.selectedCount,
                               jaccard: overlap.jaccard, intersection: overlap.intersection)))
            report.units = ["accuracy_a_after_a": "fraction", "accuracy_a_after_b": "fraction", "accuracy_b_after_b": "fraction",
                            "forgetting_a": "accuracy points (fraction)", "accuracy_a": "fraction", "accuracy_b": "fraction",
                            "accuracy_a_region_a_alone": "fraction", "selected_a": "count", "selected_b": "count",
                            "jaccard": "fraction", "intersection": "count"]
            log("graft continual: sequential forgetting \(accAAfterA - accAAfterB), grafted forgetting \(graftAAlone - graftA)", quiet: common.quiet)
            return report
        }
    }
}

/// `graft continual`'s metrics (snake_case keys in the report; units in `report.units`).
struct ContinualMetrics: Encodable {
    /// Sequential fine-tuning: task A's test accuracy after A and after B, B's after B.
    struct Sequential: Encodable {
        var accuracyAAfterA: Double, accuracyAAfterB: Double, accuracyBAfterB: Double, forgettingA: Double
    }
    /// The combined graft of γ_A and γ_B.
    struct Grafted: Encodable {
        var accuracyARegionAAlone: Double, accuracyA: Double, accuracyB: Double, forgettingA: Double
        var selectedA: Int, selectedB: Int
        var jaccard: Double, intersection: Int
    }
    var sequential: Sequential
    var grafted: Grafted
}
