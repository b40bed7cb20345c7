import Foundation
import MLCore

/// Settings of REB's DefectMaker self-supervised fine-tuning (Stage 1; reference
/// projects/reb_mvtec_loco/param_space.py `set_dm6_param` and src/module.py `train_SSL`), with the
/// scale as options: the reference takes 300 SGD steps of 1,008 images (3 accumulated forward passes
/// of 48 normal images × 7 versions) at 256², the backbone frozen for the first 39 (`epo < 40` with
/// epochs counted from 1); here the step count and batch are chosen for a CPU and the frozen
/// fraction, the warm-restart period and the optimiser follow them.
public struct SSLTrainingConfig: Sendable, Equatable {
    /// Optimiser steps.
    public var steps: Int
    /// Normal images per step; each brings its 6 DefectMaker versions (a batch of 7× this).
    public var normalsPerStep: Int
    /// Steps with the backbone frozen (evaluation mode, no gradient) at the start: the reference's
    /// `AdjustEpochResHook(freeze_epoch=40)` freezes 39 of 300 steps; nil: the same fraction,
    /// ⌈steps · 39/300⌉.
    public var frozenSteps: Int?
    /// SGD learning rate (reference 0.03), momentum (0.9) and L2 weight decay on every parameter (3e-5).
    public var learningRate: Float, momentum: Float, weightDecay: Float
    /// The period T₀ of cosine annealing with warm restarts (stepped once per step; the reference's
    /// T₀ = 330 for 300 steps: one decay that does not quite reach η_min); nil: ⌈1.1 · steps⌉.
    public var restartPeriod: Int?
    /// η_min of the schedule (reference 1e-5).
    public var minimumLearningRate: Float
    /// Square network input side (images are resized to it, as `reb fit` does).
    public var inputSize: Int
    /// The defect versions of each normal image, in class order (class c + 1 is `kinds[c]`): all six
    /// (the reference's 7-way `set_dm6_param`) or, e.g., the three noise fills only (its 4-way
    /// `set_dm3_noise`, `dm_com3_noise`).
    public var kinds: [DefectKind]

    /// The reference's optimiser and schedule at a CPU scale: 120 steps of 4 normal images (28
    /// images, 3,360 in all, against the reference's 302,400), 224² inputs.
    public init(steps: Int = 120, normalsPerStep: Int = 4, frozenSteps: Int? = nil, learningRate: Float = 0.03,
                momentum: Float = 0.9, weightDecay: Float = 3e-5, restartPeriod: Int? = nil,
                minimumLearningRate: Float = 1e-5, inputSize: Int = 224, kinds: [DefectKind] = DefectKind.all) {
        self.steps = steps
        self.normalsPerStep = normalsPerStep
        self.frozenSteps = frozenSteps
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.restartPeriod = restartPeriod
        self.minimumLearningRate = minimumLearningRate
        self.inputSize = inputSize
        self.kinds = kinds
    }

    /// The noise-fill versions only (rect, scar and clump shapes): the reference's `set_dm3_noise`.
    public static let noiseKinds = DefectKind.all.filter { $0.fill == .noise }

    /// The frozen steps in effect.
    public var effectiveFrozenSteps: Int { frozenSteps ?? (steps * 39 + 299) / 300 }
    /// The warm-restart period in effect.
    public var effectiveRestartPeriod: Int { restartPeriod ?? Swift.max(1, (steps * 11 + 9) / 10) }

    /// - Throws: `REBError.invalidArgument` for non-positive steps, batch, rates out of range or an
    ///   input under 32 pixels.
    public func validate() throws {
        guard steps >= 1 else { throw REBError.invalidArgument("SSL training needs at least 1 step, got \(steps)") }
        guard normalsPerStep >= 1 else { throw REBError.invalidArgument("SSL training needs at least 1 normal image per step, got \(normalsPerStep)") }
        guard effectiveFrozenSteps >= 0, effectiveFrozenSteps <= steps else {
            throw REBError.invalidArgument("the frozen steps (\(effectiveFrozenSteps)) must be in 0...\(steps), the number of steps")
        }
        guard learningRate > 0, learningRate.isFinite else { throw REBError.invalidArgument("the learning rate must be positive and finite, got \(learningRate)") }
        guard (0..<1).contains(momentum) else { throw REBError.invalidArgument("the SGD momentum must be in [0, 1), got \(momentum)") }
        guard weightDecay >= 0 else { throw REBError.invalidArgument("the weight decay must be non-negative, got \(weightDecay)") }
        guard effectiveRestartPeriod >= 1 else { throw REBError.invalidArgument("the warm-restart period must be at least 1 step") }
        guard minimumLearningRate >= 0, minimumLearningRate <= learningRate else {
            throw REBError.invalidArgument("the minimum learning rate must be in [0, learning rate \(learningRate)], got \(minimumLearningRate)")
        }
        guard inputSize >= 32 else { throw REBError.invalidArgument("the input size must be at least 32 pixels, got \(inputSize)") }
        guard !kinds.isEmpty, Set(kinds).count == kinds.count else {
            throw REBError.invalidArgument("SSL training needs at least one defect kind, each once, got [\(kinds.map(\.description).joined(separator: ", "))]")
        }
    }
}

/// A batch of the 7-way task: the normal images and their DefectMaker versions, with class labels
/// (0 normal, c + 1 for `DefectKind.all[c]`).
public struct SSLBatch: Sendable {
    /// Images, all of one size: for each normal image, the image then its six versions.
    public var images: [RGBImage]
    /// Class of each image, in 0..<7.
    public var labels: [Int]
}

/// REB's DefectMaker self-supervision (Lyu et al. 2023, §3.1; reference src/module.py `train_SSL`,
/// src/ADModels/ad_network.py `AdNetworkSSL`, src/ce_loss.py `SigCELoss`): the backbone's last stage
/// is global-average-pooled and classified by `SSLHead` into the normal image and its six DefectMaker
/// versions, with a sigmoid binary cross-entropy on one-hot targets averaged over the batch and the 7
/// outputs, SGD with momentum and weight decay, cosine annealing with warm restarts, and the backbone
/// frozen (evaluation mode, no gradient) for the first steps, then trained in training mode (batch
/// statistics) with the head.
///
/// Adaptation (Docs/reb.md): EfficientNet-Lite0 instead of ResNet18/VGG11, so the pooled last stage
/// has 320 channels (the reference pools ResNet18's 512 and projects to 512 by adaptive pooling);
/// no stochastic depth in the backbone (the reference's backbones have none); the loss is the stable
/// BCE on logits (the reference clamps σ to [1e-6, 1 − 1e-6], which differs only for |logit| > 13.8).
public final class DefectMakerSSL {
    /// The backbone being fine-tuned.
    public let backbone: EfficientNetLite
    /// The 7-way classifier on the pooled last stage.
    public let head: SSLHead
    /// The settings.
    public let config: SSLTrainingConfig
    let optimizer: SGD
    let context: ForwardContext
    let lastStage: Int

    /// Classes of the default task: the normal image and the six defect versions.
    public static let classNames = ["normal"] + DefectKind.all.map(\.description)

    /// Classes of this task: the normal image and `config.kinds`.
    public var classNames: [String] { ["normal"] + config.kinds.map(\.description) }

    /// - Parameters: `backbone` (its parameters are updated in place); `seed` initialises the head.
    /// - Throws: `REBError.invalidArgument` for invalid settings.
    public init(backbone: EfficientNetLite, config: SSLTrainingConfig, seed: UInt64) throws {
        try config.validate()
        self.backbone = backbone
        self.config = config
        lastStage = backbone.stageCount - 1
        head = SSLHead(inFeatures: backbone.config.blocks.last!.outChannels, classes: config.kinds.count + 1,
                       factory: ParameterFactory(seed: seed))
        optimizer = SGD(backbone.trainableParameters + head.trainableParameters, learningRate: config.learningRate,
                        momentum: config.momentum, weightDecay: config.weightDecay)
        context = ForwardContext(training: true, seed: seed &+ 1)
    }

    /// The backbone of `checkpoint` ready for fine-tuning: as loaded, with stochastic depth off.
    /// - Throws: checkpoint errors (wrong architecture, missing keys).
    public static func loadBackbone(_ checkpoint: Checkpoint) throws -> EfficientNetLite {
        var config = try EfficientNetLite.config(of: checkpoint)
        config.dropConnectRate = 0
        return try EfficientNetLite.load(from: checkpoint, config: config)
    }

    /// The batch of `normals`: each augmented (`SSLAugmentation.augment`), then followed by its
    /// DefectMaker versions of `kinds` (in that order, labelled 1, 2, …). Each cut fill comes from a random image of
    /// `donors`, augmented on its own, as the reference's `CutFillMaker` draws a random training image.
    /// - Precondition: `normals` and `donors` are non-empty and all images share one square size.
    public static func makeBatch(_ normals: [RGBImage], donors: [RGBImage], kinds: [DefectKind] = DefectKind.all,
                                 maker: DefectMaker = DefectMaker(), rng: inout RandomGenerator) -> SSLBatch {
        require(!normals.isEmpty && !donors.isEmpty, "DefectMakerSSL.makeBatch: no normal or no donor image")
        require((normals + donors).allSatisfy { $0.width == normals[0].width && $0.height == normals[0].width },
                "DefectMakerSSL.makeBatch: the images must share one square size (rotations swap the sides)")
        var images: [RGBImage] = [], labels: [Int] = []
        for normal in normals {
            let image = SSLAugmentation.augment(normal, rng: &rng)
            images.append(image)
            labels.append(0)
            for (c, kind) in kinds.enumerated() {
                let donor = kind.fill == .cut ? SSLAugmentation.augment(donors[rng.nextInt(below: donors.count)], rng: &rng) : image
                images.append(maker.make(image, kind: kind, donor: donor, rng: &rng).image)
                labels.append(c + 1)
            }
        }
        return SSLBatch(images: images, labels: labels)
    }

    /// The network input of `images` (resized to inputSize², normalised) → [N, 3, S, S].
    public func input(_ images: [RGBImage]) -> Tensor {
        let s = config.inputSize
        return backbone.normalize(images.map { $0.width == s && $0.height == s ? $0 : $0.resized(width: s, height: s) })
    }

    /// Trains on `images` for the configured steps: each step takes the next `normalsPerStep` images of
    /// a shuffled pass (a fresh shuffle when fewer are left than a step needs; the rest dropped, as
    /// the reference's `drop_last`) and makes their 7-way batch (`makeBatch`, donors from `images`).
    /// - Parameter onStep: called after each step with its record (`metrics["accuracy"]`: the batch's
    ///   accuracy; frozen when `isFrozen(step:)`).
    /// - Throws: `TrainingError.nonFiniteLoss` for a NaN or infinite loss.
    /// - Precondition: at least `normalsPerStep` images, all of one square size.
    public func train(images: [RGBImage], rng: inout RandomGenerator,
                      onStep: (TrainingStepRecord) -> Void = { _ in }) throws -> TrainingResult {
        require(images.count >= config.normalsPerStep,
                "DefectMakerSSL.train: \(images.count) images for batches of \(config.normalsPerStep) normal images")
        let perStep = config.normalsPerStep
        return try train(.epochs { _, rng in rng.shuffledBatches(count: images.count, batchSize: perStep, dropLast: true) },
                         rng: &rng, prepare: { rows, rng in
                             Self.makeBatch(rows.map { images[$0] }, donors: images, kinds: self.config.kinds, rng: &rng)
                         },
                         onStep: onStep)
    }

    /// Trains on batches of `data` (indices or anything `prepare` turns into a batch) for the
    /// configured steps on MLCore's `TrainingLoop`: SGD at the learning rate of the warm-restart
    /// schedule for the step, the backbone frozen for the first `effectiveFrozenSteps` steps.
    /// - Throws: `TrainingError.nonFiniteLoss` for a NaN or infinite loss.
    public func train<Batch>(_ data: TrainingData<Batch>, rng: inout RandomGenerator,
                             prepare: (Batch, inout RandomGenerator) throws -> SSLBatch,
                             onStep: (TrainingStepRecord) -> Void = { _ in }) throws -> TrainingResult {
        let schedule = LearningRateSchedule.cosineWarmRestarts(period: config.effectiveRestartPeriod, periodMultiplier: 1,
                                                                minimum: config.minimumLearningRate)
        let loop = try TrainingLoop(config: TrainingConfig(length: .steps(config.steps), schedule: schedule),
                                    optimizer: optimizer, parameters: backbone.parameters + head.parameters, context: context)
        defer { backbone.invalidateInferenceCache() }
        return try loop.run(data, rng: &rng, prepare: prepare, loss: { batch, position in
            loss(batch, frozen: isFrozen(step: position.step))
        }, onEvent: { event in
            if case .step(let record) = event { onStep(record) }
        })
    }

    /// Whether the backbone is frozen at 1-based `step` (the reference's `epo < 40` with 39 of 300).
    public func isFrozen(step: Int) -> Bool { step <= config.effectiveFrozenSteps }

    /// The mean sigmoid BCE of `batch` over its images and the 7 outputs, with the batch's accuracy as
    /// `metrics["accuracy"]`. Frozen: the backbone in evaluation mode without a graph (the reference
    /// sets requires_grad False and calls backbone.eval()); otherwise in training mode up to its last
    /// stage (the ImageNet classifier head is not part of this model: its statistics stay as loaded).
    /// - Precondition: at least 2 images (the head's BatchNorm needs batch statistics).
    func loss(_ batch: SSLBatch, frozen: Bool) -> StepLoss {
        require(batch.images.count >= 2, "DefectMakerSSL: a batch needs at least 2 images, got \(batch.images.count)")
        let x = input(batch.images)
        let pooled: Variable
        if frozen {
            pooled = Variable(backbone.predict(x, taps: [lastStage]).taps[lastStage]!.mean(axes: [2, 3]))
        } else {
            pooled = backbone.stageOutputs(Variable(x), context: context, stages: [lastStage])[lastStage]!.mean(axes: [2, 3])
        }
        let logits = head(pooled, context: context)
        let loss = Variable.binaryCrossEntropyWithLogits(logits, targets: Variable(Self.oneHot(batch.labels, classes: config.kinds.count + 1)))
        return StepLoss(loss, metrics: ["accuracy": Double(Self.accuracy(logits.value, batch.labels))])
    }

    /// The mean loss and the predicted classes of `batch` in evaluation mode (the backbone's and the
    /// head's running statistics, no update).
    public func evaluate(_ batch: SSLBatch) -> (loss: Float, predictions: [Int]) {
        let x = input(batch.images)
        let pooled = backbone.predict(x, taps: [lastStage]).taps[lastStage]!.mean(axes: [2, 3])
        let logits = withoutGradient { head(Variable(pooled), context: nil) }.value
        let loss = Variable.binaryCrossEntropyWithLogits(Variable(logits), targets: Variable(Self.oneHot(batch.labels, classes: config.kinds.count + 1))).value.item
        return (loss, Self.predictions(logits))
    }

    /// Overall and per-class accuracy of `predictions` against `labels` for `classes` classes (a class
    /// without examples: NaN).
    public static func accuracy(predictions: [Int], labels: [Int], classes: Int = classNames.count) -> (overall: Float, perClass: [Float]) {
        let perClass = (0..<classes).map { c -> Float in
            let members = labels.indices.filter { labels[$0] == c }
            return members.isEmpty ? .nan : Float(members.filter { predictions[$0] == c }.count) / Float(members.count)
        }
        let correct = zip(predictions, labels).filter { $0 == $1 }.count
        return (Float(correct) / Float(Swift.max(labels.count, 1)), perClass)
    }

    /// One-hot targets [N, classes].
    static func oneHot(_ labels: [Int], classes k: Int = classNames.count) -> Tensor {
        return Tensor(shape: [labels.count, k]) { i in labels[i / k] == i % k ? 1 : 0 }
    }

    /// The arg-max class of each row of logits [N, K] (the first on ties).
    static func predictions(_ logits: Tensor) -> [Int] {
        logits.argmax(axis: 1).elements.map(Int.init)
    }

    static func accuracy(_ logits: Tensor, _ labels: [Int]) -> Float {
        accuracy(predictions: predictions(logits), labels: labels).overall
    }
}
