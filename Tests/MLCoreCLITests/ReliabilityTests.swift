import Foundation
import ArgumentParser
import XCTest
@testable import MLCore
@testable import MLCoreCLI

/// The argument rewriting and the HDF5 check's error text (Docs/RELIABILITY.md); the check itself runs
/// in the executables (Tests/ToolTests/FuzzToolTests.swift).
final class ReliabilityTests: XCTestCase {
    func testNegativeNumbersAfterALongOptionAreAttached() {
        XCTAssertEqual(withAttachedNegativeValues(["generate", "--seed", "-1", "--temperature", "-0.5", "--top-p", "-inf"]),
                       ["generate", "--seed=-1", "--temperature=-0.5", "--top-p=-inf"])
        // Options, short options, words that are not numbers, values already attached, and anything after "--" stay.
        XCTAssertEqual(withAttachedNegativeValues(["--quiet", "-q", "-o", "-1", "--seed=-2", "--name", "-x", "--", "--k", "-3"]),
                       ["--quiet", "-q", "-o", "-1", "--seed=-2", "--name", "-x", "--", "--k", "-3"])
        XCTAssertEqual(withAttachedNegativeValues(["--k", "-"]), ["--k", "-"])
        XCTAssertEqual(withAttachedNegativeValues(["--k"]), ["--k"])
    }

    func testSeedsParseTheirWholeRangeAndNameItOtherwise() throws {
        XCTAssertEqual(try parseSeed("18446744073709551615"), UInt64.max)
        XCTAssertEqual(try parseSeed("0"), 0)
        for bad in ["-1", "18446744073709551616", "1.5", "", "x"] {
            XCTAssertThrowsError(try parseSeed(bad)) { error in
                XCTAssertEqual((error as? ValidationError)?.message, "expected an integer in 0...18446744073709551615", bad)
            }
        }
    }

    func testHDF5LibraryFailureIsBadDataWithOneLine() {
        let crashed = HDF5LibraryFailure(file: "bad.h5", signal: 11, seconds: 60)
        XCTAssertEqual(crashed.description, "bad.h5: HDF5 library crashed reading it (signal 11); corrupt file?")
        XCTAssertEqual(ToolRunner.describe(crashed).1, 65)
        let hung = HDF5LibraryFailure(file: "bad.h5", signal: nil, seconds: 5)
        XCTAssertEqual(hung.description, "bad.h5: HDF5 library hung reading it (stopped after 5 s); corrupt file?")
    }
}
