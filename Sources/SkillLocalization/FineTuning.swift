import Foundation
import MLCore

/// Settings of encoder fine-tuning (the paper's few-shot recipe: SGD lr 1e-3 without momentum,
/// batch 2, weight decay 1e-4, 1000 steps, evaluation every 100 steps; Docs/graft.md).
public struct FineTuningConfig: Sendable, Equatable {
    /// SGD steps.
    public var steps = 1000
    /// SGD learning rate (no momentum).
    public var learningRate: Float = 1e-3
    /// Examples per step.
    public var batchSize = 2
    /// L2 weight decay of SGD (torch's `weight_decay`), not applied to biases and LayerNorm weights
    /// (HF Trainer's grouping, `ParameterGroup.decayAndNoDecay`).
    public var weightDecay: Float = 1e-4
    /// Dev evaluation every this many steps (and at the last step); the best dev accuracy's
    /// parameters are kept (LM-BFF saves the best dev checkpoint).
    public var evalEvery = 100
    /// Dropout during fine-tuning (the encoder's configured rates).
    public var dropout = true

    /// The paper's few-shot recipe by default.
    public init(steps: Int = 1000, learningRate: Float = 1e-3, batchSize: Int = 2, weightDecay: Float = 1e-4,
                evalEvery: Int = 100, dropout: Bool = true) {
        self.steps = steps; self.learningRate = learningRate; self.batchSize = batchSize
        self.weightDecay = weightDecay; self.evalEvery = evalEvery; self.dropout = dropout
    }
}

/// One dev evaluation during fine-tuning.
public struct FineTuningCheckpoint: Sendable, Equatable {
    /// 1-based step after which the evaluation ran.
    public var step: Int
    /// Mean training loss since the previous evaluation (nats).
    public var trainLoss: Double
    /// Accuracy on the dev split (inference mode).
    public var devAccuracy: Double
}

/// What fine-tuning returns.
public struct FineTuningResult: Sendable {
    /// The evaluation whose parameters were kept.
    public var best: FineTuningCheckpoint?
    /// Every dev evaluation, in order.
    public var history: [FineTuningCheckpoint]
    /// Mean wall seconds of one optimisation step (forward + backward + update).
    public var secondsPerStep: Double
}

/// Fine-tunes the encoder layers of a sentence classifier with the head fixed: only the graftable
/// parameters (`encoder.layer.*`) are trained, so θ_ft − θ_pre is zero outside the graftable set
/// and a full graft reproduces the fine-tuned model exactly (Docs/graft.md, "Adaptation to this project").
public enum FineTuner {
    /// Runs SGD over shuffled epochs of `train`; the parameters end at the best dev evaluation.
    /// - Parameter onEvaluation: called after each dev evaluation (progress, logging).
    /// - Precondition: non-empty train and dev splits, positive steps and batch size.
    public static func run(_ classifier: SentenceClassifier, train: LabelledTexts, dev: LabelledTexts,
                           config: FineTuningConfig, rng: inout RandomGenerator,
                           onEvaluation: (FineTuningCheckpoint) -> Void = { _ in }) -> FineTuningResult {
        require(!train.isEmpty && !dev.isEmpty && config.steps > 0 && config.batchSize > 0 && config.evalEvery > 0,
                "FineTuner: empty split or non-positive steps/batch size/evaluation interval")
        let model = classifier.model
        for p in model.parameters { p.isTrainable = GraftSpace.isGraftable(p.name) }
        let trainable = model.parameters.filter(\.isTrainable)
        let optimizer = SGD(ParameterGroup.decayAndNoDecay(trainable, learningRate: config.learningRate,
                                                           weightDecay: config.weightDecay))
        let context = ForwardContext(training: config.dropout, seed: rng.next())
        var batches: [[Int]] = [], history: [FineTuningCheckpoint] = []
        var best: FineTuningCheckpoint?, bestValues: [Tensor] = trainable.map(\.value)
        var lossSum = 0.0, lossCount = 0, stepSeconds = 0.0
        for step in 1...config.steps {
            if batches.isEmpty { batches = rng.shuffledBatches(count: train.count, batchSize: config.batchSize).reversed() }
            let batch = batches.removeLast()
            let started = DispatchTime.now().uptimeNanoseconds
            optimizer.zeroGradients()
            let loss = classifier.loss(train, indices: batch, context: context)
            lossSum += Double(loss.value.item)
            lossCount += 1
            loss.backward()
            optimizer.step()
            stepSeconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            if step % config.evalEvery == 0 || step == config.steps {
                let record = FineTuningCheckpoint(step: step, trainLoss: lossSum / Double(lossCount),
                                                  devAccuracy: classifier.accuracy(dev))
                lossSum = 0; lossCount = 0
                history.append(record)
                if best == nil || record.devAccuracy > best!.devAccuracy {
                    best = record
                    bestValues = trainable.map(\.value)
                }
                onEvaluation(record)
            }
        }
        optimizer.zeroGradients()
        for (p, v) in zip(trainable, bestValues) { p.value = v }
        return FineTuningResult(best: best, history: history, secondsPerStep: stepSeconds / Double(config.steps))
    }
}
