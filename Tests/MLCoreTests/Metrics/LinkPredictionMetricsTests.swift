import XCTest
@testable import MLCore

final class LinkPredictionMetricsTests: XCTestCase {
    /// numpy fixtures of filtered ranks (three tie policies) and MR / MRR / Hits@{1,3,10}.
    func testAgreesWithFixtures() throws {
        var checks = 0
        for c in try MetricsFixture.cases("metrics_link_prediction.json") {
            let name = c["name"] as! String
            var ranks: [LinkPrediction.Rank] = []
            for q in c["queries"] as! [[String: Any]] {
                let rank = try LinkPrediction.filteredRank(scores: MetricsFixture.doubles(q["scores"]),
                                                           gold: (q["gold"] as! NSNumber).intValue,
                                                           knownTrue: MetricsFixture.ints(q["known"]),
                                                           higherIsBetter: q["higher"] as! Bool)
                XCTAssertEqual(rank.optimistic, (q["optimistic"] as! NSNumber).intValue, name)
                XCTAssertEqual(rank.pessimistic, (q["pessimistic"] as! NSNumber).intValue, name)
                ranks.append(rank)
                checks += 1
            }
            let summaries = c["summaries"] as! [String: [String: Any]]
            for policy in LinkPrediction.TiePolicy.allCases {
                let e = summaries["\(policy)"]!
                let s = try LinkPrediction.summarize(ranks, policy: policy)
                assertNear(s.meanRank, MetricsFixture.double(e["mr"]!), "\(name) \(policy) MR")
                assertNear(s.meanReciprocalRank, MetricsFixture.double(e["mrr"]!), "\(name) \(policy) MRR")
                assertNear([s.hits[1]!, s.hits[3]!, s.hits[10]!], MetricsFixture.doubles(e["hits"]), "\(name) \(policy) Hits")
            }
        }
        XCTAssertGreaterThan(checks, 42)
    }

    /// scores [0.9, 0.5, 0.7, 0.7, 0.1], gold 2 (0.7), known true [0, 2]: candidate 0 (0.9) is filtered,
    /// gold is kept. Remaining others: 0.5, 0.7 (tie), 0.1 → better 0, tied 1 → optimistic 1,
    /// pessimistic 2, realistic 1.5. Unfiltered, 0.9 would be better: ranks 2 / 3.
    /// Summary of ranks {1.5, 4} (realistic): MR 2.75, MRR (1/1.5 + 1/4)/2 = 11/24, Hits@1 0, Hits@3 ½.
    func testHandComputedFilteredRanks() throws {
        let s = [0.9, 0.5, 0.7, 0.7, 0.1]
        let r = try LinkPrediction.filteredRank(scores: s, gold: 2, knownTrue: [0, 2])
        XCTAssertEqual(r, .init(optimistic: 1, pessimistic: 2))
        XCTAssertEqual(r.realistic, 1.5)
        XCTAssertEqual(try LinkPrediction.filteredRank(scores: s, gold: 2), .init(optimistic: 2, pessimistic: 3))
        // As distances (lower is better): 0.5 and 0.1 are better, 0.7 tied → 3 / 4.
        XCTAssertEqual(try LinkPrediction.filteredRank(scores: s, gold: 2, higherIsBetter: false), .init(optimistic: 3, pessimistic: 4))
        let summary = try LinkPrediction.summarize([r, .init(optimistic: 4, pessimistic: 4)], hitsAt: [1, 3])
        XCTAssertEqual(summary.meanRank, 2.75)
        XCTAssertEqual(summary.meanReciprocalRank, 11.0 / 24, accuracy: 1e-15)
        XCTAssertEqual(summary.hits, [1: 0, 3: 0.5])
    }

    func testBadInput() {
        XCTAssertThrowsError(try LinkPrediction.filteredRank(scores: [0.1, 0.2], gold: 2))
        XCTAssertThrowsError(try LinkPrediction.filteredRank(scores: [0.1, .nan], gold: 0))
        XCTAssertThrowsError(try LinkPrediction.filteredRank(scores: [0.1, 0.2], gold: 0, knownTrue: [-1]))
        XCTAssertThrowsError(try LinkPrediction.summarize([]))
        XCTAssertThrowsError(try LinkPrediction.summarize([.init(optimistic: 1, pessimistic: 1)], hitsAt: [0])) { error in
            XCTAssertEqual((error as? MetricsError)?.category, .usage)
        }
    }
}
