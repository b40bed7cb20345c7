import Foundation
import MLCore
import XCTest
@testable import PROP

final class BM25Tests: XCTestCase {
    /// A hand-computed corpus: d0 = "apple apple banana" (|d| 3), d1 = "banana cherry" (2),
    /// d2 = "cherry" (1); avgdl = 2, N = 3.
    /// df: apple 1, banana 2, cherry 2 → idf(apple) = ln(2.5/1.5) = 0.5108256, idf(banana) =
    /// idf(cherry) = ln(1.5/2.5) = −0.5108256 < 0, so both become ε·mean idf = 0.25·(−0.5108256/3)
    /// = −0.0425688 (rank-bm25 floors with ε times the mean, which is negative here).
    /// k1 = 1.5, b = 0.75: K(d) = 1.5·(0.25 + 0.75·|d|/2) → K0 = 2.0625, K1 = 1.5, K2 = 0.9375.
    /// Query "apple banana": d0 = 0.5108256·(2·2.5/(2 + 2.0625)) + (−0.0425688)·(1·2.5/(1 + 2.0625))
    ///   = 0.5108256·1.2307692 − 0.0425688·0.8163265 = 0.6287084 − 0.0347500 = 0.5939584;
    /// d1 = −0.0425688·(2.5/2.5) = −0.0425688; d2 = 0.
    func testHandComputedScores() throws {
        let index = try CorpusIndex(ids: ["d0", "d1", "d2"], terms: [["apple", "apple", "banana"], ["banana", "cherry"], ["cherry"]])
        XCTAssertEqual(index.averageLength, 2)
        XCTAssertEqual(index.documentFrequency, [1, 2, 2])
        XCTAssertEqual(index.collectionFrequency, [2, 2, 2])
        let bm25 = try BM25(index: index)
        let idfApple = log(2.5 / 1.5), floor = 0.25 * (idfApple - 2 * idfApple) / 3
        XCTAssertEqual(bm25.idf[0], idfApple, accuracy: 1e-12)
        XCTAssertEqual(bm25.idf[1], floor, accuracy: 1e-12)
        let s = bm25.scores(terms: ["apple", "banana"])
        XCTAssertEqual(s[0], idfApple * (2 * 2.5 / (2 + 2.0625)) + floor * (2.5 / 3.0625), accuracy: 1e-12)
        XCTAssertEqual(s[0], 0.5939584, accuracy: 1e-6)
        XCTAssertEqual(s[1], -0.0425688, accuracy: 1e-6)
        XCTAssertEqual(s[2], 0)
        // A repeated query term counts twice; unknown terms add nothing.
        let twice = bm25.scores(terms: ["apple", "apple", "durian"])
        XCTAssertEqual(twice[0], 2 * idfApple * (2 * 2.5 / 4.0625), accuracy: 1e-12)
        // search: score decreasing, the excluded document left out.
        XCTAssertEqual(bm25.search(terms: ["apple", "banana"], depth: 5, excluding: ["d1"]).map(\.id), ["d0", "d2"])
    }

    /// rank-bm25 0.2.2 (BM25Okapi) scores and pytrec_eval's MAP, nDCG@20, P@20 on the Lee collection,
    /// Tests/Fixtures/prop_bm25_lee.json from Tools/reference/make_prop_bm25_fixture.py.
    func testAgainstRankBM25AndTrecEvalOnLee() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/prop_bm25_lee.json")
        let fixture = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let texts = fixture["texts"] as! [String]
        let similarity = (fixture["similarity"] as! [NSNumber]).map(\.doubleValue)
        let tokens = fixture["tokens"] as! [[String]]
        let tokenizer = TermTokenizer()
        XCTAssertEqual(texts.map(tokenizer.terms), tokens)
        let collection = LeeCollection.build(texts: texts, similarity: similarity, background: [])
        XCTAssertEqual(collection.queryIds, fixture["queries_kept"] as! [String])
        let index = try CorpusIndex(ids: collection.documentIds, texts: texts)
        for case let c as [String: Any] in fixture["cases"] as! [Any] {
            let k1 = (c["k1"] as! NSNumber).doubleValue, b = (c["b"] as! NSNumber).doubleValue
            let bm25 = try BM25(index: index, k1: k1, b: b)
            let expected = (c["scores"] as! [[NSNumber]]).map { $0.map(\.doubleValue) }
            for (q, text) in texts.enumerated() {
                let got = bm25.scores(terms: tokenizer.terms(text))
                for (g, e) in zip(got, expected[q]) { XCTAssertEqual(g, e, accuracy: 1e-6, "k1 \(k1) b \(b) query \(q)") }
            }
            var run: [String: [ScoredDocument]] = [:]
            for (q, text) in zip(collection.queryIds, collection.queryTexts) {
                run[q] = bm25.search(terms: tokenizer.terms(text), depth: 1000, excluding: collection.excluded[q]!)
            }
            let e = try RunEvaluation.evaluate(run: run, qrels: collection.qrels)
            for (name, value) in c["mean"] as! [String: NSNumber] {
                XCTAssertEqual(e.mean[name]!, value.doubleValue, accuracy: 1e-6, "\(name) k1 \(k1) b \(b)")
            }
            for (q, values) in c["per_query"] as! [String: [String: NSNumber]] {
                for (name, value) in values { XCTAssertEqual(e.perQuery[name]![q]!, value.doubleValue, accuracy: 1e-6) }
            }
        }
    }

    func testBadSettingsAndEmptyCorpus() throws {
        XCTAssertThrowsError(try CorpusIndex(ids: [], terms: [])) { XCTAssertEqual($0 as? PROPError, .emptyCorpus(what: "the corpus")) }
        XCTAssertThrowsError(try CorpusIndex(ids: ["a", "a"], terms: [["x"], ["y"]]))
        let index = try CorpusIndex(ids: ["a"], terms: [["x"]])
        XCTAssertThrowsError(try BM25(index: index, k1: -1))
        XCTAssertThrowsError(try BM25(index: index, b: 1.5))
        // A corpus of empty documents: avgdl 0 is allowed, every score is 0.
        let empty = try BM25(index: try CorpusIndex(ids: ["a", "b"], terms: [[], []]))
        XCTAssertEqual(empty.scores(terms: ["x"]), [0, 0])
    }
}
