import Foundation
import XCTest
@testable import PROP

final class PorterStemmerTests: XCTestCase {
    /// NLTK 3.10.4's PorterStemmer() on every distinct word of the Lee corpora and the paper's examples
    /// (Tests/Fixtures/prop_porter.json from Tools/reference/make_prop_porter_fixture.py).
    func testAgainstNLTK() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/prop_porter.json")
        let fixture = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let words = fixture["words"] as! [String], stems = fixture["stems"] as! [String]
        XCTAssertGreaterThan(words.count, 7000)
        var wrong: [String] = []
        for (w, s) in zip(words, stems) where PorterStemmer.stem(w) != s { wrong.append("\(w): \(PorterStemmer.stem(w)) ≠ \(s)") }
        XCTAssertEqual(wrong.count, 0, wrong.prefix(20).joined(separator: "; "))
    }

    /// Porter (1980)'s own examples and NLTK's pool.
    func testExamples() {
        for (w, s) in [("caresses", "caress"), ("ponies", "poni"), ("relational", "relat"), ("hopping", "hop"), ("filing", "file"),
                       ("happy", "happi"), ("skies", "sky"), ("dying", "die"), ("by", "by")] {
            XCTAssertEqual(PorterStemmer.stem(w), s, w)
        }
        XCTAssertEqual(TermTokenizer(stemming: true).terms("The ponies were running"), ["poni", "run"])
    }
}
