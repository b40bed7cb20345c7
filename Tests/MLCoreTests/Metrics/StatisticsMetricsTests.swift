import XCTest
@testable import MLCore

final class StatisticsMetricsTests: XCTestCase {
    /// scipy (binomtest Wilson interval, hmean), numpy (quantile, perplexity) and a Python PCG32
    /// replaying the bootstrap's draws.
    func testAgreesWithFixtures() throws {
        var checks = 0
        for c in try MetricsFixture.cases("metrics_statistics.json") {
            let name = c["name"] as! String
            checkFixture(c["perplexity"], "\(name) perplexity", counter: &checks) {
                try Statistics.perplexity(logProbabilities: MetricsFixture.doubles(c["log_probabilities"]))
            }
            checkFixture(c["harmonic_mean"], "\(name) harmonic mean", counter: &checks) {
                try Statistics.harmonicMean(MetricsFixture.doubles(c["values"]))
            }
            let successes = (c["successes"] as! NSNumber).intValue, trials = (c["trials"] as! NSNumber).intValue
            if MetricsFixture.isError(c["wilson"]) {
                XCTAssertThrowsError(try Statistics.wilsonInterval(successes: successes, trials: trials), name)
            } else {
                let w = try Statistics.wilsonInterval(successes: successes, trials: trials)
                assertNear([w.estimate, w.lower, w.upper], MetricsFixture.doubles(c["wilson"]), "\(name) Wilson")
            }
            let data = MetricsFixture.doubles(c["data"])
            var g = RandomGenerator(seed: (c["seed"] as! NSNumber).uint64Value)
            let b = try Statistics.bootstrapInterval(data, resamples: (c["resamples"] as! NSNumber).intValue, using: &g)
            assertNear([b.estimate, b.lower, b.upper], MetricsFixture.doubles(c["bootstrap"]), "\(name) bootstrap")
            assertNear(try Statistics.quantile(data, MetricsFixture.double(c["q"]!)), MetricsFixture.double(c["quantile"]!), "\(name) quantile")
            checks += 3
        }
        XCTAssertGreaterThanOrEqual(checks, 30 * 5)
    }

    /// 8 of 10: p̂ = 0.8, z² = 3.8414588; center (0.8 + 0.19207294)/1.38414588 = 0.7167..., half-width
    /// 1.95996·√(0.016 + 0.0096036)/1.38414588 = 0.2265... → [0.4902, 0.9433] (the textbook value).
    /// Perplexity of log p = [ln ½, ln ¼] is exp((ln 2 + ln 4)/2) = √8. hmean(1, 2, 4) = 3 / 1.75 = 12/7.
    func testHandComputed() throws {
        let w = try Statistics.wilsonInterval(successes: 8, trials: 10)
        XCTAssertEqual(w.lower, 0.4901624, accuracy: 1e-6)
        XCTAssertEqual(w.upper, 0.9433178, accuracy: 1e-6)
        XCTAssertEqual(try Statistics.perplexity(logProbabilities: [log(0.5), log(0.25)]), 8.0.squareRoot(), accuracy: 1e-14)
        XCTAssertEqual(try Statistics.harmonicMean([1, 2, 4]), 12.0 / 7, accuracy: 1e-15)
        XCTAssertEqual(try Statistics.harmonicMean([1, 0]), 0)
        XCTAssertEqual(try Statistics.quantile([1, 2, 3, 4], 0.5), 2.5)
        // Same seed, same interval; constant data gives a zero-width interval.
        var g1 = RandomGenerator(seed: 5), g2 = RandomGenerator(seed: 5)
        let data = [0.1, 0.5, 0.2, 0.9, 0.3]
        XCTAssertEqual(try Statistics.bootstrapInterval(data, using: &g1), try Statistics.bootstrapInterval(data, using: &g2))
        var g3 = RandomGenerator(seed: 5)
        XCTAssertEqual(try Statistics.bootstrapInterval([2, 2, 2], resamples: 50, using: &g3), .init(estimate: 2, lower: 2, upper: 2))
    }

    /// McNemar's exact p-value by hand: 2·Σ_{i≤min(b,c)} C(b+c, i)/2^(b+c), capped at 1
    /// (b = 1, c = 5: 2·7/64; b = 2, c = 10: 2·79/4096; b = 40, c = 60 and 300/360 from exact
    /// integer binomial sums in Python).
    func testMcNemarExactByHand() throws {
        XCTAssertEqual(try Statistics.mcNemarExactPValue(b: 1, c: 5), 14.0 / 64, accuracy: 1e-14)
        XCTAssertEqual(try Statistics.mcNemarExactPValue(b: 5, c: 1), 14.0 / 64, accuracy: 1e-14)
        XCTAssertEqual(try Statistics.mcNemarExactPValue(b: 2, c: 10), 158.0 / 4096, accuracy: 1e-14)
        XCTAssertEqual(try Statistics.mcNemarExactPValue(b: 3, c: 3), 1)
        XCTAssertEqual(try Statistics.mcNemarExactPValue(b: 0, c: 0), 1)
        XCTAssertEqual(try Statistics.mcNemarExactPValue(b: 40, c: 60), 0.05688793364098079, accuracy: 1e-12)
        XCTAssertEqual(try Statistics.mcNemarExactPValue(b: 300, c: 360), 0.02157234823197102, accuracy: 1e-12)
        XCTAssertThrowsError(try Statistics.mcNemarExactPValue(b: -1, c: 2))
    }

    func testBadInput() {
        XCTAssertThrowsError(try Statistics.perplexity(logProbabilities: []))
        XCTAssertThrowsError(try Statistics.perplexity(logProbabilities: [0.5]))
        XCTAssertThrowsError(try Statistics.perplexity(logProbabilities: [-.infinity]))
        XCTAssertThrowsError(try Statistics.harmonicMean([1, -1]))
        XCTAssertThrowsError(try Statistics.wilsonInterval(successes: -1, trials: 3)) { error in
            XCTAssertEqual("\(error)", "Wilson interval: successes[0] = -1.0, expected a count in 0...3")
        }
        XCTAssertThrowsError(try Statistics.wilsonInterval(successes: 4, trials: 3))
        XCTAssertThrowsError(try Statistics.wilsonInterval(successes: 0, trials: 0))
        var g = RandomGenerator(seed: 1)
        XCTAssertThrowsError(try Statistics.bootstrapInterval([1], confidence: 1, using: &g)) { error in
            XCTAssertEqual((error as? MetricsError)?.category, .usage)
        }
    }
}
