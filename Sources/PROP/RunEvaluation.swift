import MLCore

/// The measures PROP's tables report, with trec_eval semantics through MLCore's `Retrieval`
/// (Docs/METRICS.md §3): MAP, nDCG@20 (linear gain, trec_eval `ndcg_cut_20`) and P@20.
public enum RunEvaluation {
    /// The measures in table order, with their trec_eval names.
    public static let measures: [(name: String, measure: Retrieval.Measure)] = [
        ("map", .averagePrecision), ("ndcg_cut_20", .ndcg(k: 20, gain: .linear)), ("P_20", .precision(k: 20)),
    ]

    /// Mean and per-query values of every measure over the queries in both the run and the qrels.
    /// - Throws: `MetricsError` (no common query, non-finite scores, repeated documents).
    public static func evaluate(run: [String: [ScoredDocument]], qrels: [String: [String: Int]]) throws
        -> (mean: [String: Double], perQuery: [String: [String: Double]]) {
        var mean: [String: Double] = [:], perQuery: [String: [String: Double]] = [:]
        for (name, measure) in measures {
            let e = try Retrieval.evaluate(measure, run: run, qrels: qrels)
            mean[name] = e.mean
            perQuery[name] = e.perQuery
        }
        return (mean, perQuery)
    }

    /// Queries of the run that have no judgements (skipped by `evaluate`, as trec_eval skips them),
    /// sorted.
    public static func unjudgedQueries(run: [String: [ScoredDocument]], qrels: [String: [String: Int]]) -> [String] {
        run.keys.filter { qrels[$0] == nil }.sorted()
    }

    /// The expected value of each measure under a uniformly random ordering of each query's
    /// documents, estimated over `permutations` seeded shuffles (the power check: a system must be
    /// clearly above it).
    /// - Throws: as `evaluate`.
    public static func randomBaseline(run: [String: [ScoredDocument]], qrels: [String: [String: Int]], permutations: Int,
                                      seed: UInt64) throws -> [String: Double] {
        var rng = RandomGenerator(seed: seed)
        var sums: [String: Double] = [:]
        let queries = run.keys.sorted()
        for _ in 0..<max(1, permutations) {
            var shuffled: [String: [ScoredDocument]] = [:]
            for q in queries {
                var docs = run[q]!
                for i in stride(from: docs.count - 1, to: 0, by: -1) { docs.swapAt(i, rng.nextInt(below: i + 1)) }
                shuffled[q] = docs.enumerated().map { ScoredDocument(id: $0.element.id, score: Double(docs.count - $0.offset)) }
            }
            for (k, v) in try evaluate(run: shuffled, qrels: qrels).mean { sums[k, default: 0] += v }
        }
        return sums.mapValues { $0 / Double(max(1, permutations)) }
    }
}
