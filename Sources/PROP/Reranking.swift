import Foundation
import MLCore

/// Settings of re-ranker fine-tuning (PROP §4.3: softmax cross-entropy over a positive and sampled
/// negatives of BM25's ranking; Docs/prop.md, "Re-ranking").
public struct RerankConfig: Sendable, Equatable {
    /// Optimizer steps, query groups per step, negatives per group.
    public var steps: Int
    public var groupsPerStep: Int
    public var negatives: Int
    /// AdamW peak learning rate, weight decay (not on biases and LayerNorm), warm-up fraction (then linear decay).
    public var learningRate: Float
    public var weightDecay: Float
    public var warmupFraction: Double
    /// Tokens per `[CLS] query [SEP] document [SEP]` (longest-first truncation).
    public var maxLength: Int
    /// BM25 documents re-ranked per query (k) and the pool negatives are drawn from.
    public var depth: Int
    /// Pairs per inference batch.
    public var inferenceBatch: Int

    public init(steps: Int = 200, groupsPerStep: Int = 2, negatives: Int = 3, learningRate: Float = 2e-5, weightDecay: Float = 0.01,
                warmupFraction: Double = 0.1, maxLength: Int = 256, depth: Int = 20, inferenceBatch: Int = 32) {
        self.steps = steps; self.groupsPerStep = groupsPerStep; self.negatives = negatives; self.learningRate = learningRate
        self.weightDecay = weightDecay; self.warmupFraction = warmupFraction; self.maxLength = maxLength; self.depth = depth
        self.inferenceBatch = inferenceBatch
    }

    /// - Throws: `PROPError.invalidSetting` for steps < 0, groups, negatives, depth or batch < 1, a
    ///   learning rate ≤ 0, maxLength < 8.
    public func validate() throws {
        guard steps >= 0, groupsPerStep >= 1, negatives >= 1, depth >= 1, inferenceBatch >= 1 else {
            throw PROPError.invalidSetting("re-ranking needs steps ≥ 0 and groups, negatives, depth and batch ≥ 1")
        }
        guard learningRate > 0 else { throw PROPError.invalidSetting("the learning rate must be > 0, got \(learningRate)") }
        guard maxLength >= 8 else { throw PROPError.invalidSetting("pairs need ≥ 8 tokens, got \(maxLength)") }
    }
}

/// A training query of the re-ranker: its tokens, its relevant documents and its non-relevant
/// candidates (BM25's top k without the relevant ones).
public struct RerankTrainingQuery: Sendable {
    public var query: [Int32]
    public var positives: [[Int32]]
    public var negatives: [[Int32]]

    public init(query: [Int32], positives: [[Int32]], negatives: [[Int32]]) {
        self.query = query; self.positives = positives; self.negatives = negatives
    }
}

/// A cross-encoder re-ranker: BERT over `[CLS] query [SEP] document [SEP]`, score = Linear(D → 1) on
/// the pooled [CLS] (`BertClassifier` with one output).
public final class Reranker {
    public let model: BertClassifier
    public let tokenizer: WordPieceTokenizer

    /// A re-ranker over `encoder` with a fresh head drawn from `seed` (N(0, 0.02), bias 0), or the head
    /// `head` (e.g. PROP's ROP head) when given.
    /// - Precondition: the encoder has a pooler.
    public init(encoder: BertEncoder, tokenizer: WordPieceTokenizer, seed: UInt64, head: (weight: Tensor, bias: Tensor)? = nil) {
        model = BertClassifier(encoder: encoder, labels: 1, input: .pooler, factory: ParameterFactory(seed: seed))
        if let head {
            model.classifier.weight.value = head.weight
            model.classifier.bias!.value = head.bias
        }
        self.tokenizer = tokenizer
    }

    func rows(_ query: [Int32], _ documents: [[Int32]], maxLength: Int) -> [TokenizedText] {
        documents.map { d in
            let (q, dd) = PairInputs.truncated(query, d, maxLength: maxLength)
            return PairInputs.make(q, dd, tokenizer: tokenizer)
        }
    }

    /// Scores [documents.count] of `documents` for `query` (inference, `batch` pairs at a time).
    public func scores(query: [Int32], documents: [[Int32]], maxLength: Int, batch: Int) -> [Double] {
        let all = rows(query, documents, maxLength: maxLength)
        let batcher = TextBatcher(wordPiece: tokenizer, maxLength: nil)
        var out: [Double] = []
        withoutGradient {
            for start in stride(from: 0, to: all.count, by: max(1, batch)) {
                let b = batcher.batch(Array(all[start..<min(all.count, start + batch)]))
                let s = model(inputIds: b.ids, tokenTypeIds: b.typeIds, attentionMask: b.attentionMask)
                out += s.value.scalars.map(Double.init)
            }
        }
        return out
    }

    /// The softmax cross-entropy of groups [positive, negatives...] (target: the positive, index 0).
    public func groupLoss(_ groups: [(query: [Int32], documents: [[Int32]])], maxLength: Int, context: ForwardContext?) -> StepLoss {
        let size = groups[0].documents.count
        let all = groups.flatMap { rows($0.query, $0.documents, maxLength: maxLength) }
        let b = TextBatcher(wordPiece: tokenizer, maxLength: nil).batch(all)
        let scores = model(inputIds: b.ids, tokenTypeIds: b.typeIds, attentionMask: b.attentionMask, context: context)
            .reshaped([groups.count, size])
        let loss = Variable.crossEntropy(scores, targets: NDArray<Int32>(shape: [groups.count], repeating: 0))
        let s = scores.value.scalars
        var top = 0
        for g in 0..<groups.count where (1..<size).allSatisfy({ s[g * size] > s[g * size + $0] }) { top += 1 }
        return StepLoss(loss, metrics: ["positive_first": Double(top) / Double(groups.count)])
    }

    /// Fine-tunes on `queries` (those with a positive and at least one negative) for `config.steps`
    /// steps: each group takes a random positive and `negatives` random negatives (with replacement
    /// when the pool is smaller). AdamW, linear warm-up and decay, dropout on.
    /// - Throws: `PROPError.invalidSetting` (config, no usable query), `TrainingError`.
    public func train(_ queries: [RerankTrainingQuery], config: RerankConfig, rng: inout RandomGenerator,
                      onEvent: (TrainingEvent) -> Void = { _ in }) throws -> TrainingResult? {
        try config.validate()
        guard config.steps > 0 else { return nil }
        let usable = queries.filter { !$0.positives.isEmpty && !$0.negatives.isEmpty }
        guard !usable.isEmpty else { throw PROPError.invalidSetting("no training query has both a relevant and a non-relevant document") }
        let groups = ParameterGroup.decayAndNoDecay(model.parameters, learningRate: config.learningRate, weightDecay: config.weightDecay)
        let context = ForwardContext(training: true, seed: rng.next())
        let warmup = Int((Double(config.steps) * config.warmupFraction).rounded(.down))
        let loop = try TrainingLoop(config: TrainingConfig(length: .steps(config.steps),
                                                           schedule: .linearWarmupDecay(warmupSteps: warmup, totalSteps: config.steps)),
                                    optimizer: AdamW(groups), context: context)
        return try loop.run(
            .epochs { _, rng in rng.shuffledBatches(count: usable.count, batchSize: config.groupsPerStep) }, rng: &rng,
            prepare: { indices, rng -> [(query: [Int32], documents: [[Int32]])] in
                indices.map { i in
                    let q = usable[i]
                    var docs = [q.positives[rng.nextInt(below: q.positives.count)]]
                    var pool = Array(q.negatives.indices)
                    for _ in 0..<config.negatives {
                        if pool.isEmpty { pool = Array(q.negatives.indices) }
                        docs.append(q.negatives[pool.remove(at: rng.nextInt(below: pool.count))])
                    }
                    return (q.query, docs)
                }
            },
            loss: { batch, _ in self.groupLoss(batch, maxLength: config.maxLength, context: context) },
            onEvent: onEvent)
    }
}

/// Re-ranked runs.
public enum Reranking {
    /// A run whose first `depth` documents are ordered by `scores` (in their order) and the rest keep
    /// their order below them (scores lowest − 1, lowest − 2, ...).
    /// - Precondition: `scores.count == min(depth, ranked.count)`.
    public static func merged(_ ranked: [ScoredDocument], depth: Int, scores: [Double]) -> [ScoredDocument] {
        let k = min(depth, ranked.count)
        require(scores.count == k, "Reranking.merged: \(scores.count) scores for the top \(k)")
        var out = zip(ranked.prefix(k), scores).map { ScoredDocument(id: $0.0.id, score: $0.1) }
        let lowest = scores.min() ?? 0
        for (j, d) in ranked.dropFirst(k).enumerated() { out.append(ScoredDocument(id: d.id, score: lowest - Double(j + 1))) }
        return out
    }
}
