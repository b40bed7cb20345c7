/// Filtered ranking metrics for link prediction / knowledge-base completion (Docs/METRICS.md §4).
///
/// For one test triple the model scores every candidate entity; the rank of the gold entity is taken
/// after removing the other known true answers (from train, valid and test: the "filtered" setting of
/// Bordes et al., "Translating Embeddings for Modeling Multi-relational Data", NeurIPS 2013, §4.2).
/// Ties with the gold score are resolved by a policy (Berrendorf et al., "On the Ambiguity of Rank-Based
/// Evaluation of Entity Alignment or Link Prediction Methods", 2020; PyKEEN's `RankBasedEvaluator`).
public enum LinkPrediction {
    /// How candidates scoring exactly the gold score are counted.
    public enum TiePolicy: Sendable, Equatable, CaseIterable {
        /// Gold ranks before every tied candidate: 1 + #better.
        case optimistic
        /// Gold ranks after every tied candidate: 1 + #better + #tied.
        case pessimistic
        /// The mean of the two (the expected rank under a random order of ties).
        case realistic
    }

    /// The filtered rank of the gold candidate under the three tie policies.
    public struct Rank: Sendable, Equatable {
        /// 1 + number of unfiltered candidates strictly better than gold.
        public var optimistic: Int
        /// 1 + number of unfiltered candidates better than or tied with gold.
        public var pessimistic: Int
        /// (optimistic + pessimistic) / 2.
        public var realistic: Double { Double(optimistic + pessimistic) / 2 }

        public init(optimistic: Int, pessimistic: Int) {
            self.optimistic = optimistic
            self.pessimistic = pessimistic
        }

        /// The rank under `policy`.
        public func value(_ policy: TiePolicy) -> Double {
            switch policy {
            case .optimistic: return Double(optimistic)
            case .pessimistic: return Double(pessimistic)
            case .realistic: return realistic
            }
        }
    }

    /// MR, MRR and Hits@k over a set of ranks.
    public struct Summary: Sendable, Equatable {
        /// Mean rank, ≥ 1 (lower is better).
        public var meanRank: Double
        /// Mean of 1 / rank, in (0, 1] (for the realistic policy: of 1 / realistic rank, as PyKEEN).
        public var meanReciprocalRank: Double
        /// k → fraction of ranks ≤ k.
        public var hits: [Int: Double]
    }

    /// The filtered rank of `gold` among `scores` (one per candidate entity).
    /// - Parameters:
    ///   - scores: the model's score for every candidate, [N].
    ///   - gold: the index of the correct candidate.
    ///   - knownTrue: indices of all known true answers for this query; they are removed from the
    ///     candidates except `gold` itself, which is kept even when listed. Duplicates are allowed.
    ///   - higherIsBetter: false for distance-like scores (TransE's ‖h + r − t‖).
    /// - Throws: `MetricsError.empty` for N = 0, `.notFinite` for a NaN/infinite score,
    ///   `.outOfRange` for `gold` or a known index outside 0..<N.
    public static func filteredRank(scores: [Double], gold: Int, knownTrue: [Int] = [],
                                    higherIsBetter: Bool = true) throws -> Rank {
        let metric = "filtered rank"
        try MetricsError.checkNonEmpty(metric, "scores", scores.count)
        try MetricsError.checkFinite(metric, "scores", scores)
        try MetricsError.checkClasses(metric, "gold", [gold], classCount: scores.count)
        try MetricsError.checkClasses(metric, "knownTrue", knownTrue, classCount: scores.count)
        var filtered = [Bool](repeating: false, count: scores.count)
        for k in knownTrue where k != gold { filtered[k] = true }
        let g = scores[gold]
        var better = 0, tied = 0
        for (j, s) in scores.enumerated() where j != gold && !filtered[j] {
            if higherIsBetter ? s > g : s < g { better += 1 } else if s == g { tied += 1 }
        }
        return Rank(optimistic: 1 + better, pessimistic: 1 + better + tied)
    }

    /// Mean rank, mean reciprocal rank and Hits@k of `ranks` under `policy`.
    /// - Throws: `MetricsError.empty` for no ranks, `.invalidArgument` for k ≤ 0.
    public static func summarize(_ ranks: [Rank], policy: TiePolicy = .realistic,
                                 hitsAt ks: [Int] = [1, 3, 10]) throws -> Summary {
        let metric = "link prediction summary"
        try MetricsError.checkNonEmpty(metric, "ranks", ranks.count)
        for k in ks { try MetricsError.checkPositive(metric, "Hits@k", k) }
        let values = ranks.map { $0.value(policy) }
        let n = Double(values.count)
        var hits: [Int: Double] = [:]
        for k in ks { hits[k] = Double(values.filter { $0 <= Double(k) }.count) / n }
        return Summary(meanRank: values.reduce(0, +) / n,
                       meanReciprocalRank: values.reduce(0) { $0 + 1 / $1 } / n, hits: hits)
    }
}
