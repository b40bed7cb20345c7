import Foundation

/// Summary statistics for reported metrics (Docs/METRICS.md §7), in Double.
public enum Statistics {
    /// A point estimate with a two-sided confidence interval.
    public struct Interval: Sendable, Equatable {
        /// The estimate on the full data (for Wilson: the observed proportion).
        public var estimate: Double
        /// Lower bound of the interval.
        public var lower: Double
        /// Upper bound of the interval.
        public var upper: Double
    }

    /// z for a two-sided 95% normal interval: Φ⁻¹(0.975) (scipy `norm.ppf(0.975)`).
    public static let z95 = 1.959963984540054

    /// Perplexity exp(−(1/T) Σ log p_t) from natural-log token probabilities log p_t ≤ 0.
    /// Source: Jelinek et al. 1977; the per-token definition of Hugging Face's perplexity guide.
    /// - Throws: `MetricsError.empty` for T = 0, `.notFinite` (a −∞ log-probability is an error, not an
    ///   infinite perplexity), `.outOfRange` for a positive log-probability.
    public static func perplexity(logProbabilities: [Double]) throws -> Double {
        let metric = "perplexity"
        try MetricsError.checkNonEmpty(metric, "logProbabilities", logProbabilities.count)
        try MetricsError.checkFinite(metric, "logProbabilities", logProbabilities)
        if let i = logProbabilities.firstIndex(where: { $0 > 0 }) {
            throw MetricsError.outOfRange(metric: metric, what: "logProbabilities", index: i,
                                          value: logProbabilities[i], expected: "a log-probability ≤ 0")
        }
        return Foundation.exp(-logProbabilities.reduce(0, +) / Double(logProbabilities.count))
    }

    /// Harmonic mean n / Σ 1/x_i of non-negative values; 0 when any value is 0 (scipy `stats.hmean`).
    /// - Throws: `MetricsError.empty`, `.notFinite`, `.outOfRange` for a negative value.
    public static func harmonicMean(_ values: [Double]) throws -> Double {
        let metric = "harmonic mean"
        try MetricsError.checkNonEmpty(metric, "values", values.count)
        try MetricsError.checkFinite(metric, "values", values)
        if let i = values.firstIndex(where: { $0 < 0 }) {
            throw MetricsError.outOfRange(metric: metric, what: "values", index: i, value: values[i], expected: "a value ≥ 0")
        }
        if values.contains(0) { return 0 }
        return Double(values.count) / values.reduce(0) { $0 + 1 / $1 }
    }

    /// The Wilson score interval for a binomial proportion (default 95%, z = 1.95996…):
    /// (p̂ + z²/2n ± z·√(p̂(1 − p̂)/n + z²/4n²)) / (1 + z²/n).
    /// Source: Wilson, JASA 1927; scipy `binomtest(k, n).proportion_ci(method="wilson")`.
    /// - Throws: `MetricsError.outOfRange` for negative counts or successes > trials, `.undefined` for
    ///   zero trials, `.invalidArgument` for z ≤ 0.
    public static func wilsonInterval(successes: Int, trials: Int, z: Double = z95) throws -> Interval {
        let metric = "Wilson interval"
        if !(z > 0 && z.isFinite) { throw MetricsError.invalidArgument(metric: metric, reason: "z = \(z), expected > 0") }
        if trials < 0 { throw MetricsError.outOfRange(metric: metric, what: "trials", index: 0, value: Double(trials), expected: "a count ≥ 0") }
        if successes < 0 || successes > trials {
            throw MetricsError.outOfRange(metric: metric, what: "successes", index: 0, value: Double(successes),
                                          expected: "a count in 0...\(trials)")
        }
        if trials == 0 { throw MetricsError.undefined(metric: metric, reason: "zero trials") }
        let n = Double(trials), p = Double(successes) / n, z2 = z * z
        let denominator = 1 + z2 / n
        let center = (p + z2 / (2 * n)) / denominator
        let half = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot() / denominator
        return Interval(estimate: p, lower: max(0, center - half), upper: min(1, center + half))
    }

    /// The q-quantile of `values` with linear interpolation between order statistics (numpy
    /// `quantile`'s default "linear" method, Hyndman & Fan type 7).
    /// - Throws: `MetricsError.empty`, `.notFinite`, `.invalidArgument` for q outside [0, 1].
    public static func quantile(_ values: [Double], _ q: Double) throws -> Double {
        let metric = "quantile"
        try MetricsError.checkNonEmpty(metric, "values", values.count)
        try MetricsError.checkFinite(metric, "values", values)
        if !(q >= 0 && q <= 1) { throw MetricsError.invalidArgument(metric: metric, reason: "q = \(q), expected in [0, 1]") }
        let sorted = values.sorted()
        let position = q * Double(sorted.count - 1)
        let below = Int(position.rounded(.down)), above = min(below + 1, sorted.count - 1)
        return sorted[below] + (sorted[above] - sorted[below]) * (position - Double(below))
    }

    /// A percentile bootstrap confidence interval of `statistic` (Efron & Tibshirani, "An Introduction
    /// to the Bootstrap", 1993, §13.3): `resamples` resamples of N items drawn with replacement by
    /// `generator.nextInt(below: N)` (item by item, resample by resample), and the (1 − c)/2 and
    /// (1 + c)/2 quantiles (numpy "linear") of the statistic over them. The same seed gives the same interval.
    /// - Parameters:
    ///   - values: the N items (any per-item value: a loss, a 0/1 correctness, a score).
    ///   - statistic: maps a resample to the statistic; called `resamples + 1` times (once on `values`).
    /// - Throws: `MetricsError.empty`, `.notFinite` (in `values` or a statistic), `.invalidArgument` for
    ///   resamples ≤ 0 or confidence outside (0, 1); and whatever `statistic` throws.
    public static func bootstrapInterval(_ values: [Double], resamples: Int = 1000, confidence: Double = 0.95,
                                         using generator: inout RandomGenerator,
                                         statistic: ([Double]) throws -> Double = { $0.reduce(0, +) / Double($0.count) }) throws -> Interval {
        let metric = "bootstrap interval"
        try MetricsError.checkNonEmpty(metric, "values", values.count)
        try MetricsError.checkFinite(metric, "values", values)
        try MetricsError.checkPositive(metric, "resamples", resamples)
        if !(confidence > 0 && confidence < 1) {
            throw MetricsError.invalidArgument(metric: metric, reason: "confidence = \(confidence), expected in (0, 1)")
        }
        var stats: [Double] = []
        stats.reserveCapacity(resamples)
        var sample = [Double](repeating: 0, count: values.count)
        for _ in 0..<resamples {
            for i in sample.indices { sample[i] = values[generator.nextInt(below: values.count)] }
            stats.append(try statistic(sample))
        }
        try MetricsError.checkFinite(metric, "statistic over resamples", stats)
        let alpha = (1 - confidence) / 2
        return Interval(estimate: try statistic(values), lower: try quantile(stats, alpha), upper: try quantile(stats, 1 - alpha))
    }

    /// McNemar's exact test of paired binary outcomes (McNemar 1947; statsmodels
    /// `mcnemar(table, exact=True)`): of the `b + c` discordant pairs, `b` favour one model (right
    /// where the other is wrong) and `c` the other; under H₀ (equal accuracy) b ~ Binomial(b + c, ½),
    /// and the two-sided p-value is min(1, 2·P(X ≤ min(b, c))). No discordant pair gives p = 1.
    /// The binomial terms are summed in log space (`lgamma`), so n in the millions is fine.
    /// - Throws: `MetricsError.outOfRange` for a negative count.
    public static func mcNemarExactPValue(b: Int, c: Int) throws -> Double {
        let metric = "McNemar test"
        for (what, v) in [("b", b), ("c", c)] where v < 0 {
            throw MetricsError.outOfRange(metric: metric, what: what, index: 0, value: Double(v), expected: "a count ≥ 0")
        }
        let n = b + c, k = min(b, c)
        if n == 0 { return 1 }
        let logChoose = { (i: Int) in lgamma(Double(n + 1)) - lgamma(Double(i + 1)) - lgamma(Double(n - i + 1)) }
        var tail = 0.0
        for i in 0...k { tail += Foundation.exp(logChoose(i) - Double(n) * Foundation.log(2.0)) }
        return min(1, 2 * tail)
    }
}
