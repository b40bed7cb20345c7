import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import SkillLocalization

/// `graft bench`: the method's two hot loops on fixed synthetic shapes, for the PyTorch peer
/// (Benchmarks/peers/torch_graft_bench.py) to run the same work.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time one fine-tuning step and one mask-training epoch on MiniLM-L6 (synthetic token ids), with peak RSS.",
        discussion: """
            Cases (median of --repeats after one warm-up; ids drawn from 1000..<29000, no padding):
            bert_graft_sgd_step_b2_t40: one fine-tuning step, batch 2 × 40 tokens: forward, CE, backward \
            through the layers, SGD update (head and embeddings fixed), as one step of MLCore's TrainingLoop.
            bert_graft_sgd_step_b2_t40_without_loop: the same step written out by hand (the pair shows what \
            the loop costs).
            bert_graft_mask_epoch_k16_t40: one mask epoch with k = 16 (32 examples): θ(S), 4 batches of 8 \
            forward + backward, the score update over the 10.6M graftable entries, the rounded graft, \
            accuracy on 32 + 128 examples (batches of 32).
            The report's metrics.results are records as mlcore-bench writes them; \
            Benchmarks/peers/torch_graft_bench.py --ours REPORT prints the comparison.
            """)

    @OptionGroup var common: CommonOptions

    @OptionGroup var base: ModelWeightsOption<MiniLMWeights>
    var pretrained: String { base.weights }

    @Option(help: "Timed repetitions per case.")
    var repeats = 5

    func run() throws {
        try ToolRunner.run(tool: "graft", command: "bench", options: common, reflecting: self) { context in
            let checkpoint = try Checkpoint(path: try resolveNameOrPath(pretrained))
            let encoder = try BertEncoder.load(from: checkpoint)
            let model = BertClassifier(encoder: encoder, labels: 2, input: .mean, factory: ParameterFactory(seed: 1))
            var rng = RandomGenerator(seed: common.seed)
            func ids(_ b: Int, _ t: Int) -> NDArray<Int32> {
                NDArray((0..<(b * t)).map { _ in Int32(1000 + rng.nextInt(below: 28000)) }, shape: [b, t])
            }
            let t = 40
            var results: [BenchRecord] = []
            func measure(_ name: String, _ body: () throws -> Void) rethrows {
                let (median, times) = try BenchTiming.measure(repeats: repeats, body)
                log("\(name): \(String(format: "%.4f", median)) s", quiet: common.quiet)
                results.append(BenchRecord(name: name, group: "graft", medianS: median, throughput: 1 / median, unit: "1/s",
                                           repeatsS: times))
            }

            // One fine-tuning step, as FineTuner does it.
            for p in model.parameters { p.isTrainable = GraftSpace.isGraftable(p.name) }
            let trainable = model.parameters.filter(\.isTrainable)
            let sgd = SGD(ParameterGroup.decayAndNoDecay(trainable, learningRate: 1e-3, weightDecay: 1e-4))
            let forward = ForwardContext(training: true, seed: 3)
            let stepIds = ids(2, t), stepMask = NDArray<Int32>(shape: [2, t], repeating: 1)
            let stepLabels = NDArray<Int32>([0, 1], shape: [2])
            // Through MLCore's TrainingLoop (as FineTuner runs it), and written out by hand: the pair shows
            // what the loop costs per step.
            func stepLoss() -> Variable {
                Variable.crossEntropy(model(inputIds: stepIds, attentionMask: stepMask, context: forward), targets: stepLabels)
            }
            try measure("bert_graft_sgd_step_b2_t40") {
                let loop = try TrainingLoop(config: TrainingConfig(length: .steps(1)), optimizer: sgd, parameters: trainable)
                _ = try loop.run(.stream { _, _ in () }, loss: { _, _ in StepLoss(stepLoss()) })
            }
            measure("bert_graft_sgd_step_b2_t40_without_loop") {
                sgd.zeroGradients()
                stepLoss().backward()
                sgd.step()
            }
            sgd.zeroGradients()

            // One mask epoch, k = 16: 32 training examples, 128 dev examples.
            let names = trainable.map(\.name)
            var pre: [String: Tensor] = [:], ft: [String: Tensor] = [:]
            for p in trainable {
                pre[p.name] = p.value
                ft[p.name] = p.value + Tensor.normal(p.value.shape, std: 1e-3, using: &rng)
            }
            let space = try GraftSpace(names: names, pretrained: pre, finetuned: ft)
            let base = try BasePatch.make(delta: space.delta, sparsity: 1e-4, rule: .strict)
            let initial = MaskScores(basePatch: base, names: names, rng: &rng)
            let trainIds = ids(32, t), devIds = ids(128, t)
            let labels = NDArray<Int32>((0..<32).map { Int32($0 % 2) }, shape: [32])
            func rows(_ a: NDArray<Int32>, _ r: [Int]) -> NDArray<Int32> {
                NDArray(r.flatMap { i in (0..<t).map { a[i, $0] } }, shape: [r.count, t])
            }
            func accuracy(_ x: NDArray<Int32>) -> Double {
                withoutGradient {
                    var correct = 0
                    for start in stride(from: 0, to: x.shape[0], by: 32) {
                        let r = Array(start..<min(start + 32, x.shape[0]))
                        let predictions = model(inputIds: rows(x, r), attentionMask: NDArray(shape: [r.count, t], repeating: 1)).value.argmax(axis: -1)
                        for (k, i) in r.enumerated() where Int(predictions[k]) == i % 2 { correct += 1 }
                    }
                    return Double(correct) / Double(x.shape[0])
                }
            }
            var epochRandom = RandomGenerator(seed: 5)
            measure("bert_graft_mask_epoch_k16_t40") {
                _ = MaskTrainer.train(space: space, parameters: trainable, initial: initial, config: MaskTrainingConfig(epochs: 1),
                                      trainCount: 32, rng: &epochRandom,
                                      loss: { r in
                                          Variable.crossEntropy(model(inputIds: rows(trainIds, r), attentionMask: NDArray(shape: [r.count, t], repeating: 1)),
                                                                targets: NDArray(r.map { labels[$0] }, shape: [r.count]))
                                      },
                                      evaluate: { (accuracy(trainIds), accuracy(devIds)) })
            }
            var report = Report(tool: "graft", command: "bench")
            report.paper = paperCitation
            report.config = ["tokens": .int(t)]  // and every option (reflecting)
            try report.setMetrics(BenchMetrics(results: results, peakRssMb: ResourceUsage.peakResidentMiB))
            report.units = ["median_s": "s", "peak_rss_mb": "MB"]
            return report
        }
    }
}

/// One timed case, in the record shape `mlcore-bench` writes (Benchmarks/compare.py and the peer read it).
struct BenchRecord: Encodable {
    var name: String
    var group: String
    /// Median wall seconds of the timed repetitions.
    var medianS: Double
    /// 1 / median.
    var throughput: Double
    var unit: String
    /// Every repetition's wall seconds.
    var repeatsS: [Double]
}

/// `graft bench`'s metrics.
struct BenchMetrics: Encodable {
    var results: [BenchRecord]
    /// Peak resident set size of the process (MiB).
    var peakRssMb: Double
}
