import XCTest
@testable import MLCore

final class RetrievalMetricsTests: XCTestCase {
    static let measures: [(String, Retrieval.Measure)] = [
        ("P_1", .precision(k: 1)), ("P_3", .precision(k: 3)), ("P_5", .precision(k: 5)), ("P_10", .precision(k: 10)),
        ("recall_3", .recall(k: 3)), ("recall_10", .recall(k: 10)), ("map", .averagePrecision),
        ("ndcg_cut_3", .ndcg(k: 3, gain: .linear)), ("ndcg_cut_10", .ndcg(k: 10, gain: .linear)),
        ("ndcg", .ndcg(k: nil, gain: .linear)), ("recip_rank", .reciprocalRank),
        ("ndcg_exp_cut_3", .ndcg(k: 3, gain: .exponential)), ("ndcg_exp_cut_10", .ndcg(k: 10, gain: .exponential)),
    ]

    /// pytrec_eval (trec_eval) fixtures: run and qrels as TREC text, per-query values and means.
    func testAgreesWithTrecEvalFixtures() throws {
        var checks = 0
        for c in try MetricsFixture.cases("metrics_retrieval.json") {
            let name = c["name"] as! String
            if c["error"] as! Bool {
                XCTAssertThrowsError(try TRECFiles.parseRun(c["run"] as! String), name) { error in
                    guard case .malformedLine = error as? MetricsError else { return XCTFail("\(name): \(error)") }
                }
                checks += 1
                continue
            }
            let run = try TRECFiles.parseRun(c["run"] as! String)
            let qrels = try TRECFiles.parseQrels(c["qrels"] as! String)
            for (query, expected) in c["ranking"] as! [String: [String]] {
                XCTAssertEqual(try Retrieval.ranking(run[query] ?? []), expected, "\(name) ranking of \(query)")
            }
            let expectedMeasures = c["measures"] as! [String: Any]
            for (key, measure) in Self.measures {
                let expected = expectedMeasures[key]
                checks += 1
                if MetricsFixture.isError(expected) {
                    XCTAssertThrowsError(try Retrieval.evaluate(measure, run: run, qrels: qrels), "\(name) \(key)")
                    continue
                }
                let e = expected as! [String: Any]
                let result = try Retrieval.evaluate(measure, run: run, qrels: qrels)
                assertNear(result.mean, MetricsFixture.double(e["mean"]!), "\(name) \(key) mean")
                let perQuery = e["per_query"] as! [String: Any]
                XCTAssertEqual(Set(result.perQuery.keys), Set(perQuery.keys), "\(name) \(key) queries")
                for (q, v) in perQuery { assertNear(result.perQuery[q] ?? .nan, MetricsFixture.double(v), "\(name) \(key) \(q)") }
            }
        }
        XCTAssertGreaterThan(checks, 64 * 10)
    }

    /// Ties: d2 and d10 share score 0.5; trec_eval breaks ties by docno decreasing (strcmp), so
    /// "d2" > "d10" byte-wise comes first. Ranking: d9 (0.9), d2, d10 (0.5), d1 (0.1).
    /// qrels: d10 = 2, d1 = 1, d7 = 1 (not retrieved), d9 = 0 → R = 3.
    /// P@2 = 0, P@3 = 1/3, recall@3 = 1/3; AP = (1/3 + 2/4) / 3 = 5/18; RR = 1/3.
    /// nDCG@3 linear: DCG = 2 / log2(4) = 1; ideal [2, 1, 1]: 2 + 1/log2(3) + 1/2 → 1 / 3.1309298.
    /// Exponential: DCG = 3 / 2 = 1.5; ideal 3 + 1/log2(3) + 1/2 = 4.1309298 → 0.3631145.
    func testHandComputedTrecEvalSemantics() throws {
        let docs = [ScoredDocument(id: "d1", score: 0.1), ScoredDocument(id: "d10", score: 0.5),
                    ScoredDocument(id: "d2", score: 0.5), ScoredDocument(id: "d9", score: 0.9)]
        let ranked = try Retrieval.ranking(docs)
        XCTAssertEqual(ranked, ["d9", "d2", "d10", "d1"])
        let j = ["d10": 2, "d1": 1, "d7": 1, "d9": 0]
        XCTAssertEqual(try Retrieval.value(.precision(k: 2), ranked: ranked, judgments: j), 0)
        XCTAssertEqual(try Retrieval.value(.precision(k: 3), ranked: ranked, judgments: j), 1.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(try Retrieval.value(.recall(k: 3), ranked: ranked, judgments: j), 1.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(try Retrieval.value(.averagePrecision, ranked: ranked, judgments: j), 5.0 / 18, accuracy: 1e-15)
        XCTAssertEqual(try Retrieval.value(.reciprocalRank, ranked: ranked, judgments: j), 1.0 / 3, accuracy: 1e-15)
        let ideal = 2 + 1 / log2(3.0) + 0.5
        XCTAssertEqual(try Retrieval.value(.ndcg(k: 3, gain: .linear), ranked: ranked, judgments: j), 1 / ideal, accuracy: 1e-12)
        XCTAssertEqual(try Retrieval.value(.ndcg(k: 3, gain: .exponential), ranked: ranked, judgments: j),
                       1.5 / (ideal + 1), accuracy: 1e-12)
        // P@10 divides by 10 even though only 4 were retrieved.
        XCTAssertEqual(try Retrieval.value(.precision(k: 10), ranked: ranked, judgments: j), 0.2, accuracy: 1e-15)
    }

    func testMalformedFilesNameTheLine() {
        XCTAssertThrowsError(try TRECFiles.parseRun("q1 Q0 d1 1 0.5 tag\nq1 Q0 d2 2 abc tag\n", source: "r.txt")) { error in
            XCTAssertEqual("\(error)", "r.txt:2: malformed line, expected a finite score in field 5, found 'abc'")
            XCTAssertEqual((error as? MetricsError)?.category, .badData)
        }
        XCTAssertThrowsError(try TRECFiles.parseRun("\nq1 Q0 d1 1 0.5\n", source: "r.txt")) { error in
            XCTAssertEqual(error as? MetricsError, .malformedLine(file: "r.txt", line: 2,
                                                                 expected: "6 fields 'query Q0 document rank score tag', found 5"))
        }
        XCTAssertThrowsError(try TRECFiles.parseQrels("q1 0 d1 1\nq1 0 d1 2\n")) { error in
            guard case .malformedLine(_, 2, _) = error as? MetricsError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try TRECFiles.parseQrels("q1 0 d1 x\n"))
        XCTAssertThrowsError(try TRECFiles.readRun(path: "/nonexistent/run.txt")) { error in
            XCTAssertEqual((error as? MetricsError)?.category, .missingInput)
        }
        XCTAssertThrowsError(try Retrieval.value(.precision(k: 0), ranked: [], judgments: [:])) { error in
            XCTAssertEqual((error as? MetricsError)?.category, .usage)
        }
        // CRLF line endings are accepted.
        XCTAssertEqual(try TRECFiles.parseQrels("q1 0 d1 1\r\nq1 0 d2 0\r\n")["q1"], ["d1": 1, "d2": 0])
    }
}
