import Foundation
import MLCore
import XCTest
@testable import PROP

final class EvaluationTests: XCTestCase {
    /// The brief's vectors: nDCG@4 of levels [2, 0, 1, 0] = (2 + 1/log2 4)/(2 + 1/log2 3) = 0.950234
    /// (linear gain), (3 + 1/2)/(3 + 1/log2 3) = 0.963940 (exponential); AP of [1, 0, 1, 0] with R = 3
    /// = (1 + 2/3)/3 = 0.555556; P@4 = 0.5.
    func testMeasureVectors() throws {
        let ranked = ["a", "b", "c", "d"]
        let graded = ["a": 2, "b": 0, "c": 1, "d": 0]
        XCTAssertEqual(try Retrieval.value(.ndcg(k: 4, gain: .linear), ranked: ranked, judgments: graded), 0.950234, accuracy: 1e-6)
        XCTAssertEqual(try Retrieval.value(.ndcg(k: 4, gain: .exponential), ranked: ranked, judgments: graded), 0.963940, accuracy: 1e-6)
        let binary = ["a": 1, "c": 1, "e": 1]
        XCTAssertEqual(try Retrieval.value(.averagePrecision, ranked: ranked, judgments: binary), 0.555556, accuracy: 1e-6)
        XCTAssertEqual(try Retrieval.value(.precision(k: 4), ranked: ranked, judgments: binary), 0.5)
    }

    /// formatRun then parseRun gives back the documents and scores; the ranks follow trec_eval's order
    /// (score decreasing, ties by document id decreasing).
    func testRunFileRoundTrip() throws {
        let run: [(query: String, documents: [ScoredDocument])] = [
            ("q1", [ScoredDocument(id: "d1", score: 0.1), ScoredDocument(id: "d3", score: 2.5), ScoredDocument(id: "d2", score: 2.5)]),
            ("q2", [ScoredDocument(id: "x", score: -1.0 / 3.0)]),
        ]
        let text = try TRECFiles.formatRun(run, tag: "t")
        XCTAssertEqual(text.split(separator: "\n").first, "q1 Q0 d3 1 2.5 t")
        XCTAssertEqual(text.split(separator: "\n")[1], "q1 Q0 d2 2 2.5 t")
        let parsed = try TRECFiles.parseRun(text)
        XCTAssertEqual(Set(parsed["q1"]!.map(\.id)), ["d1", "d2", "d3"])
        XCTAssertEqual(parsed["q2"]![0].score, -1.0 / 3.0)  // %.17g round-trips a Double
        let qrels = TRECFiles.formatQrels([("q1", ["d2": 1, "d1": 0])])
        XCTAssertEqual(qrels, "q1 0 d1 0\nq1 0 d2 1\n")
        XCTAssertEqual(try TRECFiles.parseQrels(qrels), ["q1": ["d1": 0, "d2": 1]])
    }

    /// Bad inputs: a malformed run or qrels line names its line number.
    func testMalformedLinesNameTheLine() {
        XCTAssertThrowsError(try TRECFiles.parseRun("q Q0 d 1 1.0 t\nq Q0 e 2 t\n", source: "bad.run")) { error in
            XCTAssertTrue("\(error)".hasPrefix("bad.run:2:"), "\(error)")
        }
        XCTAssertThrowsError(try TRECFiles.parseQrels("q 0 d 1\nq 0 e one\n", source: "bad.qrels")) { error in
            XCTAssertTrue("\(error)".hasPrefix("bad.qrels:2:"), "\(error)")
        }
    }

    /// Queries of the run without judgements are skipped (as trec_eval does) and counted.
    func testQueriesWithoutJudgementsAreSkippedAndCounted() throws {
        let run = ["q1": [ScoredDocument(id: "a", score: 1), ScoredDocument(id: "b", score: 0)],
                   "q2": [ScoredDocument(id: "a", score: 1)]]
        let e = try RunEvaluation.evaluate(run: run, qrels: ["q1": ["b": 1]])
        XCTAssertEqual(e.mean["map"], 0.5)
        XCTAssertEqual(e.perQuery["map"]!.count, 1)
        XCTAssertEqual(RunEvaluation.unjudgedQueries(run: run, qrels: ["q1": ["b": 1]]), ["q2"])
        XCTAssertThrowsError(try RunEvaluation.evaluate(run: run, qrels: ["q9": ["b": 1]]))
    }

    /// The random baseline of one query with 1 relevant among 2 documents: MAP = (1 + 1/2)/2 = 0.75
    /// in expectation; 4000 shuffles land within 0.02.
    func testRandomBaseline() throws {
        let run = ["q": [ScoredDocument(id: "a", score: 1), ScoredDocument(id: "b", score: 0)]]
        let r = try RunEvaluation.randomBaseline(run: run, qrels: ["q": ["b": 1]], permutations: 4000, seed: 3)
        XCTAssertEqual(r["map"]!, 0.75, accuracy: 0.02)
    }

    /// Lee judgements from the similarity rule, on a 3-document toy matrix.
    func testLeeJudgementRule() {
        // s(0,1) = 0.8 → level 2; s(0,2) = 0.5 → level 1; s(1,2) = 0.2 → 0 (query 2 still has doc 0).
        let sim: [Double] = [1, 0.8, 0.5, 0, 1, 0.2, 0, 0, 1]
        let c = LeeCollection.build(texts: ["a", "b", "c"], similarity: sim, background: ["x"])
        XCTAssertEqual(c.qrels["lee-00"], ["lee-01": 2, "lee-02": 1])
        XCTAssertEqual(c.qrels["lee-01"], ["lee-00": 2, "lee-02": 0])
        XCTAssertEqual(c.excluded["lee-02"], ["lee-02"])
        let lonely = LeeCollection.build(texts: ["a", "b"], similarity: [1, 0.3, 0, 1], background: [])
        XCTAssertEqual(lonely.skippedQueries, ["lee-00", "lee-01"])
        XCTAssertTrue(lonely.queryIds.isEmpty)
    }

    /// Openclipart known items: items without keywords and description are no documents; every 8th
    /// item with a title and a document is a query whose one relevant document is its own.
    func testOpenclipartKnownItems() {
        let n = 20
        var titles = (0..<n).map { "title \($0)" }, keywords = (0..<n).map { "kw\($0)" }
        let descriptions = (0..<n).map { $0 == 3 ? "a description" : "" }
        titles[0] = ""  // no title: a document, never a query
        keywords[5] = ""  // no keywords and no description: not a document
        let c = OpenclipartCollection.build(titles: titles, descriptions: descriptions, keywords: keywords)
        XCTAssertEqual(c.documentIds.count, 19)
        XCTAssertFalse(c.documentIds.contains("oc-0005"))
        XCTAssertEqual(c.documentTexts[c.documentIds.firstIndex(of: "oc-0003")!], "kw3. a description")
        // Eligible (title and document): 1, 2, 3, 4, 6, 7, ..., 19 (18 items) → the 0th, 8th and 16th: items 1, 10, 18.
        XCTAssertEqual(c.queryIds, ["q-oc-0001", "q-oc-0010", "q-oc-0018"])
        XCTAssertEqual(c.qrels["q-oc-0010"], ["oc-0010": 1])
        XCTAssertEqual(c.queryText("q-oc-0010"), "title 10")
    }
}
