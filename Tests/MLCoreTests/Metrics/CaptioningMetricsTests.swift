import XCTest
@testable import MLCore

final class CaptioningMetricsTests: XCTestCase {
    /// pycocoevalcap 1.2 fixtures (Bleu(4), Rouge, Cider on PTBTokenizer output).
    func testAgreesWithPycocoevalcapFixtures() throws {
        var checks = 0
        for c in try MetricsFixture.cases("metrics_captioning.json") {
            let name = c["name"] as! String
            let candidates = (c["candidates"] as! [[String]])
            let references = (c["references"] as! [[[String]]])
            assertNear(try Captioning.bleu(candidates: candidates, references: references), MetricsFixture.doubles(c["bleu"]), "\(name) BLEU")
            let rouge = c["rouge_l"] as! [Any], cider = c["cider_d"] as! [Any]
            let r = try Captioning.rougeL(candidates: candidates, references: references)
            assertNear(r.mean, MetricsFixture.double(rouge[0]), "\(name) ROUGE-L")
            assertNear(r.perImage, MetricsFixture.doubles(rouge[1]), "\(name) ROUGE-L per image")
            let d = try Captioning.ciderD(candidates: candidates, references: references)
            assertNear(d.mean, MetricsFixture.double(cider[0]), "\(name) CIDEr-D")
            assertNear(d.perImage, MetricsFixture.doubles(cider[1]), "\(name) CIDEr-D per image")
            checks += 5
        }
        XCTAssertGreaterThanOrEqual(checks, 28 * 5)
    }

    /// Candidate "the cat sat" (3 tokens), references "the cat sat down" (4) and "a cat" (2).
    /// BLEU: closest reference length to 3 is 2 or 4 (tie → the shorter, 2), so no brevity penalty.
    /// Clipped matches: 1-grams 3/3, 2-grams 2/2, 3-grams 1/1 → BLEU-1..3 ≈ 1; 4-grams 0/0 →
    /// (1e-15 / 1e-9)^{1/4}-scaled ≈ 0.0316. ROUGE-L: LCS 3 with the first reference: P = max(3/3, 1/3) = 1,
    /// R = max(3/4, 1/2) = 3/4 → F = 2.44·0.75 / (0.75 + 1.44) = 1.83 / 2.19 = 0.8356164.
    func testHandComputedBLEUAndROUGE() throws {
        let cand = [["the", "cat", "sat"]], refs = [[["the", "cat", "sat", "down"], ["a", "cat"]]]
        let b = try Captioning.bleu(candidates: cand, references: refs)
        XCTAssertEqual(b[0], 1, accuracy: 1e-6)
        XCTAssertEqual(b[2], 1, accuracy: 1e-6)
        XCTAssertEqual(b[3], Foundation.pow(1e-15 / 1e-9, 0.25), accuracy: 1e-6)
        XCTAssertEqual(try Captioning.rougeL(candidates: cand, references: refs).mean, 1.83 / 2.19, accuracy: 1e-12)
        // A single image: idf = log(1) − log(1) = 0 for every n-gram, so CIDEr-D is 0.
        XCTAssertEqual(try Captioning.ciderD(candidates: cand, references: refs).mean, 0)
    }

    func testBadInput() {
        XCTAssertThrowsError(try Captioning.bleu(candidates: [["a"]], references: []))
        XCTAssertThrowsError(try Captioning.rougeL(candidates: [["a"]], references: [[]]))
        XCTAssertThrowsError(try Captioning.ciderD(candidates: [], references: []))
    }
}

final class CaptionTokenizerMetricsTests: XCTestCase {
    /// Java PTBTokenizer (pycocoevalcap) output for the fixture captions and a list of tricky strings.
    func testAgreesWithPycocoevalcapTokenizer() throws {
        var mismatches: [String] = []
        let cases = try MetricsFixture.cases("metrics_ptb_tokenization.json")
        for c in cases {
            let tokens = CaptionTokenizer.tokenize(c["raw"] as! String)
            if tokens != c["tokens"] as! [String] { mismatches.append("\(c["raw"]!): \(tokens) != \(c["tokens"]!)") }
        }
        XCTAssertEqual(mismatches, [], "\(mismatches.count) of \(cases.count) differ")
    }
}
