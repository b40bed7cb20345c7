import XCTest
@testable import PROP

final class TermTokenizerTests: XCTestCase {
    func testNLTKListHas179Words() {
        XCTAssertEqual(Stopwords.nltkEnglish.count, 179)
    }

    /// Lower-case [a-zA-Z]+ runs: digits, apostrophes, hyphens and non-ASCII letters separate tokens;
    /// "the", "s", "and", "is" are NLTK stop words.
    func testTokenisationRule() {
        let t = TermTokenizer()
        XCTAssertEqual(t.terms("The U.S. bank's 3 loans -- £3,000 and café is Re-Opened"),
                       ["u", "bank", "loans", "caf", "opened"])
        XCTAssertEqual(t.terms(""), [])
        XCTAssertEqual(TermTokenizer(stopwords: []).terms("A b"), ["a", "b"])
    }

    func testStopListFileParsing() {
        XCTAssertEqual(Stopwords.parse("# comment\nThe\n a an\n\n"), ["the", "a", "an"])
    }
}
