import Foundation
import MLCore

/// What pre-training optimises (Docs/prop.md, "Pre-training").
public enum PretrainingObjective: String, CaseIterable, Sendable {
    /// PROP: L = L_MLM + L_ROP.
    case prop
    /// The control: L = L_MLM on the same instances, masks and steps (no ROP term).
    case mlm
}

/// Settings of PROP pre-training (the reference's run_pretraining.py defaults where they apply).
public struct PretrainingConfig: Sendable, Equatable {
    /// Optimizer steps.
    public var steps: Int
    /// Word-set pairs per step (rows = 2 × pairs: positive and negative adjacent).
    public var pairsPerStep: Int
    /// AdamW peak learning rate (reference 2e-5), weight decay 0.01 (not on biases and LayerNorm).
    public var learningRate: Float
    public var weightDecay: Float
    /// Fraction of the steps of linear warm-up, then linear decay to 0 (reference 0.1).
    public var warmupFraction: Double
    /// Tokens per instance `[CLS] set [SEP] document [SEP]` (reference 512).
    public var maxLength: Int
    /// Fraction of document tokens masked (whole words; 0.15) and the cap of predictions (60).
    public var maskProbability: Double
    public var maxPredictions: Int
    /// L_MLM + L_ROP or L_MLM alone.
    public var objective: PretrainingObjective

    public init(steps: Int = 1000, pairsPerStep: Int = 4, learningRate: Float = 2e-5, weightDecay: Float = 0.01,
                warmupFraction: Double = 0.1, maxLength: Int = 512, maskProbability: Double = 0.15, maxPredictions: Int = 60,
                objective: PretrainingObjective = .prop) {
        self.steps = steps; self.pairsPerStep = pairsPerStep; self.learningRate = learningRate; self.weightDecay = weightDecay
        self.warmupFraction = warmupFraction; self.maxLength = maxLength; self.maskProbability = maskProbability
        self.maxPredictions = maxPredictions; self.objective = objective
    }

    /// - Throws: `PROPError.invalidSetting` for non-positive steps, pairs or learning rate, a
    ///   warm-up fraction outside [0, 1), a mask probability outside (0, 1], maxLength < 8.
    public func validate() throws {
        guard steps >= 1, pairsPerStep >= 1 else { throw PROPError.invalidSetting("pre-training needs ≥ 1 step and ≥ 1 pair per step") }
        guard learningRate > 0 else { throw PROPError.invalidSetting("the learning rate must be > 0, got \(learningRate)") }
        guard warmupFraction >= 0 && warmupFraction < 1 else { throw PROPError.invalidSetting("the warm-up fraction must be in [0, 1), got \(warmupFraction)") }
        guard maskProbability > 0 && maskProbability <= 1, maxPredictions >= 1 else {
            throw PROPError.invalidSetting("the mask probability must be in (0, 1] and the predictions ≥ 1")
        }
        guard maxLength >= 8 else { throw PROPError.invalidSetting("instances need ≥ 8 tokens, got \(maxLength)") }
    }
}

/// One ROP training instance: a document and its positive and negative word sets.
public struct PretrainingInstance: Sendable, Equatable {
    /// Index of the document in the pre-training corpus.
    public var document: Int
    /// The higher-likelihood set and the other (words, space-joined when tokenised).
    public var positive: [String]
    public var negative: [String]

    public init(document: Int, positive: [String], negative: [String]) {
        self.document = document; self.positive = positive; self.negative = negative
    }
}

/// The ROP loss of score pairs (PROP §3.3, Eq. 3; the reference's `pairwise hinge on softmax`):
/// (p₊, p₋) = softmax(s₊, s₋), L = mean over pairs of max(0, 1 − p₊ + p₋) (= 1 − tanh((s₊ − s₋)/2)).
/// - Parameter scores: [2P] with the positive of pair i at row 2i and its negative at 2i + 1.
/// - Returns: a scalar.
public func ropLoss(_ scores: Variable) -> Variable {
    let n = scores.shape.reduce(1, *)
    require(n % 2 == 0 && n > 0, "ropLoss: \(n) scores, expected an even positive number")
    let p = scores.reshaped([n / 2, 2]).softmax(axis: 1)
    let margin = p.selected(0, axis: 1) - p.selected(1, axis: 1)
    return (1 - margin).relu().mean()
}

/// BERT's whole-word masking (Google BERT `create_masked_lm_predictions` with `do_whole_word_mask`):
/// words (a token and its `##` continuations) in random order are masked whole while the count stays
/// ≤ min(maxPredictions, max(1, round(n · p))); each masked token becomes [MASK] with probability
/// 0.8, stays with 0.1, becomes a uniformly random vocabulary id with 0.1.
/// - Parameters: `ids`: the document's WordPiece ids; `isContinuation[i]`: token i starts with `##`.
/// - Returns: the masked ids, the masked positions (increasing) and their original ids.
public func wholeWordMask(_ ids: [Int32], isContinuation: [Bool], probability: Double, maxPredictions: Int,
                          maskId: Int32, vocabularySize: Int, rng: inout RandomGenerator) -> (ids: [Int32], positions: [Int], labels: [Int32]) {
    var words: [[Int]] = []
    for i in ids.indices {
        if isContinuation[i], !words.isEmpty { words[words.count - 1].append(i) } else { words.append([i]) }
    }
    for i in stride(from: words.count - 1, to: 0, by: -1) { words.swapAt(i, rng.nextInt(below: i + 1)) }
    let target = min(maxPredictions, max(1, Int((Double(ids.count) * probability).rounded(.toNearestOrEven))))
    var out = ids, positions: [Int] = []
    for word in words {
        if positions.count >= target { break }
        if positions.count + word.count > target { continue }
        for i in word {
            positions.append(i)
            let r = rng.uniformDouble()
            if r < 0.8 { out[i] = maskId } else if r >= 0.9 { out[i] = Int32(rng.nextInt(below: vocabularySize)) }
        }
    }
    positions.sort()
    return (out, positions, positions.map { ids[$0] })
}

/// A pre-training micro-batch: the padded rows and the MLM targets (flattened row-major positions
/// into [B·T] and their labels).
public struct PretrainingBatch {
    public var inputs: TextBatch
    public var maskedPositions: [Int32]
    public var maskedLabels: [Int32]
}

/// The model of PROP pre-training: MiniLM's encoder with its pooler, the ROP head Linear(D → 1) on
/// the pooled [CLS] (named `classifier.*`, so a re-ranker can start from it) and an MLM head tied to
/// the word embeddings (`cls.predictions.*`; MiniLM ships none, so its transform is initialised fresh,
/// `BertMLMHead`).
public final class PROPModel {
    public let classifier: BertClassifier
    public let mlmHead: BertMLMHead
    public let tokenizer: WordPieceTokenizer
    let continuation: [Bool]

    /// - Precondition: the encoder has a pooler.
    public init(encoder: BertEncoder, tokenizer: WordPieceTokenizer, seed: UInt64) {
        let factory = ParameterFactory(seed: seed)
        classifier = BertClassifier(encoder: encoder, labels: 1, input: .pooler, factory: factory)
        mlmHead = BertMLMHead(encoder: encoder, factory: factory)
        self.tokenizer = tokenizer
        continuation = tokenizer.vocabulary.map { $0.hasPrefix("##") }
    }

    /// Every parameter (encoder, ROP head, MLM head; the decoder is the tied word embedding).
    public var parameters: [Parameter] { classifier.parameters + mlmHead.parameters }

    /// The state dict written to a checkpoint.
    public func stateDict() -> [String: Tensor] {
        classifier.stateDict().merging(mlmHead.stateDict()) { a, _ in a }
    }

    /// Builds a batch: per instance the document (truncated so both rows fit `maxLength`) is masked
    /// once and shared by the positive row (2i) and the negative row (2i + 1).
    public func batch(_ instances: [PretrainingInstance], documents: [[Int32]], config: PretrainingConfig,
                      rng: inout RandomGenerator) -> PretrainingBatch {
        var rows: [TokenizedText] = [], positions: [(row: Int, index: Int)] = [], labels: [Int32] = []
        for instance in instances {
            let sets = [instance.positive, instance.negative].map {
                Array(PairInputs.ids($0.joined(separator: " "), tokenizer: tokenizer).prefix(config.maxLength / 4))
            }
            let room = config.maxLength - 3 - max(sets[0].count, sets[1].count)
            let doc = Array(documents[instance.document].prefix(max(1, room)))
            let masked = wholeWordMask(doc, isContinuation: doc.map { continuation[Int($0)] }, probability: config.maskProbability,
                                       maxPredictions: config.maxPredictions, maskId: tokenizer.maskId,
                                       vocabularySize: tokenizer.vocabulary.count, rng: &rng)
            for set in sets {
                let row = rows.count
                rows.append(PairInputs.make(set, masked.ids, tokenizer: tokenizer))
                for (p, l) in zip(masked.positions, masked.labels) {
                    positions.append((row, set.count + 2 + p))
                    labels.append(l)
                }
            }
        }
        let inputs = TextBatcher(wordPiece: tokenizer, maxLength: nil).batch(rows)
        let t = inputs.length
        return PretrainingBatch(inputs: inputs, maskedPositions: positions.map { Int32($0.row * t + $0.index) }, maskedLabels: labels)
    }

    /// The loss of one batch and its parts: L_MLM (cross-entropy over the masked positions), L_ROP
    /// and ROP accuracy (s₊ > s₋); the loss is L_MLM + L_ROP for `.prop`, L_MLM for `.mlm`.
    public func loss(_ batch: PretrainingBatch, objective: PretrainingObjective, context: ForwardContext?) -> StepLoss {
        let encoder = classifier.encoder
        let hidden = encoder(inputIds: batch.inputs.ids, tokenTypeIds: batch.inputs.typeIds, attentionMask: batch.inputs.attentionMask,
                             context: context).lastHiddenState
        let d = hidden.shape[2]
        let maskedStates = hidden.reshaped([-1, d]).indexSelect(NDArray(batch.maskedPositions))
        let mlm = Variable.crossEntropy(mlmHead(maskedStates), targets: NDArray(batch.maskedLabels))
        let pooled = encoder.pooled(hidden).dropout(classifier.dropout, context: context)
        let scores = classifier.classifier(pooled).reshaped([-1])
        let rop = ropLoss(scores)
        let s = scores.value.scalars
        var correct = 0
        for i in stride(from: 0, to: s.count, by: 2) where s[i] > s[i + 1] { correct += 1 }
        let metrics = ["mlm_loss": Double(mlm.value.item), "rop_loss": Double(rop.value.item),
                       "rop_accuracy": Double(correct) / Double(s.count / 2)]
        return StepLoss(objective == .prop ? mlm + rop : mlm, metrics: metrics)
    }

    /// Trains on `instances` with AdamW (β 0.9/0.999, ε 1e-8), linear warm-up and decay, on MLCore's
    /// `TrainingLoop`; the batches are seeded shuffles of the instances, masks drawn per batch.
    /// - Parameters: `documents`: WordPiece ids (no special tokens) of the pre-training corpus.
    /// - Throws: `PROPError.invalidSetting` (config, no instances), `TrainingError` (non-finite loss).
    public func train(_ instances: [PretrainingInstance], documents: [[Int32]], config: PretrainingConfig, rng: inout RandomGenerator,
                      onEvent: (TrainingEvent) -> Void = { _ in }) throws -> TrainingResult {
        try config.validate()
        guard !instances.isEmpty else { throw PROPError.invalidSetting("no pre-training instances") }
        let groups = ParameterGroup.decayAndNoDecay(parameters, learningRate: config.learningRate, weightDecay: config.weightDecay)
        let context = ForwardContext(training: true, seed: rng.next())
        let warmup = Int((Double(config.steps) * config.warmupFraction).rounded(.down))
        let loop = try TrainingLoop(config: TrainingConfig(length: .steps(config.steps),
                                                           schedule: .linearWarmupDecay(warmupSteps: warmup, totalSteps: config.steps)),
                                    optimizer: AdamW(groups), context: context)
        let pairs = config.pairsPerStep
        return try loop.run(
            .epochs { _, rng in rng.shuffledBatches(count: instances.count, batchSize: pairs) }, rng: &rng,
            prepare: { indices, rng in self.batch(indices.map { instances[$0] }, documents: documents, config: config, rng: &rng) },
            loss: { batch, _ in self.loss(batch, objective: config.objective, context: context) },
            onEvent: onEvent)
    }
}

extension PretrainingInstance {
    /// The instances of sampled word sets: one per pair of every document that was not skipped, the
    /// positive being the higher-scored set (`WordSetPair.positive`).
    public static func from(_ sets: [DocumentWordSets]) -> [PretrainingInstance] {
        sets.flatMap { doc in
            doc.pairs.map { PretrainingInstance(document: doc.documentIndex, positive: $0.sets[$0.positive], negative: $0.sets[1 - $0.positive]) }
        }
    }
}
