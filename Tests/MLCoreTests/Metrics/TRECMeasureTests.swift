import XCTest
@testable import MLCore

/// trec_eval's `-m` names (`Retrieval.measures(named:)`), the measures added for `mlcore metric trec`
/// (Rprec, success, map_cut; hand-computed), several measures in one pass, and the line-by-line TREC
/// readers. pytrec_eval agreement of all of them on real data: Tests/ToolTests/MetricToolTests.swift.
final class TRECMeasureTests: XCTestCase {
    func testMeasureNames() throws {
        XCTAssertEqual(try Retrieval.measures(named: "map"), [.averagePrecision])
        XCTAssertEqual(try Retrieval.measures(named: "recip_rank"), [.reciprocalRank])
        XCTAssertEqual(try Retrieval.measures(named: "Rprec"), [.rPrecision])
        XCTAssertEqual(try Retrieval.measures(named: "ndcg"), [.ndcg(k: nil, gain: .linear)])
        XCTAssertEqual(try Retrieval.measures(named: "P.5,10,5"), [.precision(k: 5), .precision(k: 10)])
        XCTAssertEqual(try Retrieval.measures(named: "P_20"), [.precision(k: 20)])
        XCTAssertEqual(try Retrieval.measures(named: "ndcg_cut.20"), [.ndcg(k: 20, gain: .linear)])
        XCTAssertEqual(try Retrieval.measures(named: "ndcg_cut_3"), [.ndcg(k: 3, gain: .linear)])
        XCTAssertEqual(try Retrieval.measures(named: "map_cut.100"), [.averagePrecisionCut(k: 100)])
        XCTAssertEqual(try Retrieval.measures(named: "recall").map(\.description),
                       ["recall_5", "recall_10", "recall_15", "recall_20", "recall_30", "recall_100", "recall_200", "recall_500", "recall_1000"])
        XCTAssertEqual(try Retrieval.measures(named: "success").map(\.description), ["success_1", "success_5", "success_10"])
        for bad in ["mAP", "P.0", "P.x", "P.", "ndcg_cut_0", "bpref", "", "P.5,,10"] {
            XCTAssertThrowsError(try Retrieval.measures(named: bad), bad) { error in
                guard case .invalidArgument = error as? MetricsError else { return XCTFail("\(bad): \(error)") }
            }
        }
    }

    /// One query, ranking d1 d2 d3 d4 d5 with relevance 0 1 0 1 0 and a third relevant document never
    /// retrieved (R = 3):
    /// Rprec = relevant in top 3 / 3 = 1/3; success_1 = 0, success_2 = 1;
    /// map_cut_2 = (1/2) / 3 = 1/6; map_cut_4 = (1/2 + 2/4) / 3 = 1/3; map = map_cut_4.
    func testAddedMeasuresByHand() throws {
        let ranked = ["d1", "d2", "d3", "d4", "d5"]
        let judgments = ["d1": 0, "d2": 1, "d4": 2, "d9": 1, "d3": -1]
        func v(_ m: Retrieval.Measure) throws -> Double { try Retrieval.value(m, ranked: ranked, judgments: judgments) }
        XCTAssertEqual(try v(.rPrecision), 1.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(try v(.success(k: 1)), 0)
        XCTAssertEqual(try v(.success(k: 2)), 1)
        XCTAssertEqual(try v(.averagePrecisionCut(k: 2)), 1.0 / 6, accuracy: 1e-15)
        XCTAssertEqual(try v(.averagePrecisionCut(k: 4)), 1.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(try v(.averagePrecision), 1.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(try Retrieval.value(.rPrecision, ranked: ranked, judgments: ["d1": 0]), 0)
        XCTAssertThrowsError(try v(.success(k: 0)))
        XCTAssertThrowsError(try v(.averagePrecisionCut(k: -1)))
    }

    /// Several measures in one pass equal one measure at a time, on the committed pytrec_eval fixture runs.
    func testSeveralMeasuresAtOnceEqualOneAtATime() throws {
        let measures: [Retrieval.Measure] = [.averagePrecision, .precision(k: 3), .recall(k: 10), .ndcg(k: 5, gain: .linear),
                                             .ndcg(k: nil, gain: .exponential), .reciprocalRank, .rPrecision, .success(k: 5),
                                             .averagePrecisionCut(k: 10)]
        var compared = 0
        for c in try MetricsFixture.cases("metrics_retrieval.json") where !(c["error"] as! Bool) {
            let run = try TRECFiles.parseRun(c["run"] as! String), qrels = try TRECFiles.parseQrels(c["qrels"] as! String)
            guard let together = try? Retrieval.evaluate(measures, run: run, qrels: qrels) else {
                XCTAssertThrowsError(try Retrieval.evaluate(.averagePrecision, run: run, qrels: qrels))
                continue
            }
            for (m, e) in zip(measures, together) {
                XCTAssertEqual(e, try Retrieval.evaluate(m, run: run, qrels: qrels), "\(c["name"]!) \(m)")
                compared += 1
            }
        }
        XCTAssertGreaterThan(compared, 400)
    }

    /// The fast path for plain decimal scores gives exactly what Swift's (correctly rounded) parser
    /// gives, and leaves everything else to strtod.
    func testPlainDecimalScoresAreCorrectlyRounded() {
        var g = RandomGenerator(seed: 9)
        var texts = ["0", "-0", "+1", "5.", "0.1", "0.3", "-2.5e0", "1e5", ".5", "12345678901234567", "9007199254740993",
                     "0.1000000000000000055511151231257827", "123.456", "-0.0001", "1.7976931348623157"]
        for _ in 0..<20_000 {
            let digits = 1 + g.nextInt(below: 17), point = g.nextInt(below: digits + 1)
            var t = g.nextInt(below: 2) == 0 ? "-" : ""
            for k in 0..<digits {
                if k == point && k > 0 { t += "." }
                t += String(g.nextInt(below: 10))
            }
            texts.append(t)
        }
        var fast = 0
        for t in texts {
            let expected = Double(t)
            var buffer: [CChar] = []
            if let v = TRECFiles.plainDecimal(Array(t.utf8)[...]) {
                fast += 1
                XCTAssertEqual(v.bitPattern, expected?.bitPattern, t)
            }
            XCTAssertEqual(TRECFiles.finiteDouble(Array(t.utf8)[...], buffer: &buffer)?.bitPattern, expected?.bitPattern, t)
        }
        XCTAssertGreaterThan(fast, 15_000)
        XCTAssertNil(TRECFiles.plainDecimal(Array("1e5".utf8)[...]))
    }

    /// The readers fed line by line give what the text parsers give, also for a run whose queries are
    /// interleaved (not grouped), and refuse a document repeated across the interleaving.
    func testLineReaders() throws {
        let lines = ["q1 Q0 a 1 3.5 r", "q2 Q0 a 1 1 r", "", "q1 Q0 b 2 2e0 r", "q2\tQ0\tc\t2\t0.5\tr\r", "q1 Q0 c 3 -1 r"]
        var reader = TRECFiles.RunReader(source: "run.txt")
        for (i, line) in lines.enumerated() { try reader.add(Array(line.utf8)[...], line: i + 1) }
        let run = reader.finish()
        XCTAssertEqual(run, try TRECFiles.parseRun(lines.joined(separator: "\n")))
        XCTAssertEqual(run["q1"], [ScoredDocument(id: "a", score: 3.5), ScoredDocument(id: "b", score: 2), ScoredDocument(id: "c", score: -1)])
        XCTAssertEqual(run["q2"]?.map(\.id), ["a", "c"])
        var again = TRECFiles.RunReader(source: "run.txt")
        try again.add(Array("q1 Q0 a 1 1 r".utf8)[...], line: 1)
        try again.add(Array("q2 Q0 a 1 1 r".utf8)[...], line: 2)
        XCTAssertThrowsError(try again.add(Array("q1 Q0 a 2 0 r".utf8)[...], line: 3)) { error in
            XCTAssertEqual("\(error)", "run.txt:3: malformed line, expected document 'a' once in query 'q1' (duplicate)")
        }
        for (line, expected) in [("q1 Q0 a 1 nan r", "a finite score in field 5, found 'nan'"),
                                 ("q1 Q0 a 1 1e999 r", "a finite score in field 5, found '1e999'"),
                                 ("q1 Q0 a 1 0x r", "a finite score in field 5, found '0x'"),
                                 ("q1 Q0 a one 1 r", "an integer rank in field 4, found 'one'"),
                                 ("q1 Q0 a 1 1", "6 fields 'query Q0 document rank score tag', found 5")] {
            var r = TRECFiles.RunReader(source: "run.txt")
            XCTAssertThrowsError(try r.add(Array(line.utf8)[...], line: 7)) { error in
                XCTAssertEqual(error as? MetricsError, .malformedLine(file: "run.txt", line: 7, expected: expected))
            }
        }
        var qrels = TRECFiles.QrelsReader(source: "qrels.txt")
        try qrels.add(Array("q1 0 a 2".utf8)[...], line: 1)
        try qrels.add(Array("   ".utf8)[...], line: 2)
        XCTAssertEqual(qrels.qrels, ["q1": ["a": 2]])
        XCTAssertThrowsError(try qrels.add(Array("q1 0 b 1.5".utf8)[...], line: 3)) { error in
            XCTAssertEqual("\(error)", "qrels.txt:3: malformed line, expected an integer relevance in field 4, found '1.5'")
        }
    }
}
