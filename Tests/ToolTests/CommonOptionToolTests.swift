import Foundation
import XCTest

/// One validation of the common options in every executable: every command of every tool (found
/// from Package.swift's papers and each tool's --help, so a new tool or subcommand is covered without
/// editing this test) refuses the same bad `--threads` values with exit 64 and the same one line.
final class CommonOptionToolTests: XCTestCase {
    func testEveryCommandRefusesTheSameBadThreadCounts() throws {
        var checked = 0
        for tool in try CommandDiscovery.executables() {
            for (path, help) in try CommandDiscovery.commands(tool) where help.contains("\n  --threads <") {
                for bad in [["--threads", "-1"], ["--threads=-1"], ["--threads", "0"], ["--threads", "x"]] {
                    let result = try runTool(tool, path + bad)
                    let what = "\(tool) \(path.joined(separator: " ")) \(bad.joined(separator: " "))"
                    XCTAssertEqual(result.status, 64, "\(what): \(result.stderr)")
                    XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "\(what): \(result.stderr)")
                    XCTAssertTrue(result.stderr.contains("is invalid for '--threads <threads>': expected an integer ≥ 1"),
                                  "\(what): \(result.stderr)")
                    XCTAssertEqual(result.stdout, "", what)
                }
                checked += 1
            }
        }
        // mlcore's tokenize, embed, score, generate and classify-image, and the paper tools' commands.
        XCTAssertGreaterThan(checked, 15)
    }

    /// An --output that is a directory is refused before any work, as a usage error naming it.
    func testOutputDirectoryIsAUsageError() throws {
        let directory = FileManager.default.temporaryDirectory.path
        let auroc = try runTool("mlcore", ["score", "auroc", "--output", directory], stdin: "{\"score\": 1, \"label\": 1}\n")
        XCTAssertEqual(auroc.status, 64, auroc.stderr)
        XCTAssertTrue(auroc.stderr.contains("--output \(directory) is a directory"), auroc.stderr)
        let reb = try runTool("reb", ["fit", "--save", "bank.h5", "--output", directory])
        XCTAssertEqual(reb.status, 64, reb.stderr)
        XCTAssertTrue(reb.stderr.contains("--output \(directory) is a directory"), reb.stderr)
        let seed = try runTool("reb", ["fit", "--save", "bank.h5", "--seed", "-1"])
        XCTAssertEqual(seed.status, 64, seed.stderr)
        XCTAssertTrue(seed.stderr.contains("'-1' is invalid for '--seed <seed>'"), seed.stderr)
    }

    /// A negative value after a space (`--seed -1`) is the option's value, so it gets the same message
    /// as `--seed=-1` (not "Missing value"): seeds name their range, checked options their rule, and an
    /// option that takes negatives (a float) gets them.
    func testNegativeValuesAfterASpaceGetTheOptionsOwnMessage() throws {
        let cases: [(String, [String], String)] = [
            ("mlcore", ["generate", "--weights", "smollm2", "--prompt", "x", "--seed", "-1"],
             "The value '-1' is invalid for '--seed <seed>': expected an integer in 0...18446744073709551615"),
            ("mlcore", ["generate", "--weights", "smollm2", "--prompt", "x", "--temperature", "-1"],
             "--temperature must be finite and ≥ 0 (0: greedy), got -1.0"),
            ("mlcore", ["generate", "--weights", "smollm2", "--prompt", "x", "--temperature", "-inf"],
             "--temperature must be finite and ≥ 0 (0: greedy), got -inf"),
            ("reb", ["fit", "--save", "bank.h5", "--seed", "-1"],
             "The value '-1' is invalid for '--seed <seed>': expected an integer in 0...18446744073709551615"),
            ("graft", ["finetune", "--data-seed", "-2"],
             "The value '-2' is invalid for '--data-seed <data-seed>': expected an integer in 0...18446744073709551615"),
            ("mlcore", ["score", "--batch", "-1"], "--batch must be at least 1, got -1"),
            ("mlcore", ["inspect", "data/models/minilm-l6.h5", "--width", "-5"], "--width must be ≥ 0 (0: never truncate), got -5"),
            ("graft", ["continual", "--probe-learning-rate", "-1"], "--probe-learning-rate must be finite and > 0, got -1.0"),
        ]
        for (tool, arguments, message) in cases {
            for spelling in [arguments, withEquals(arguments)] {
                let result = try runTool(tool, spelling)
                let what = "\(tool) \(spelling.joined(separator: " "))"
                XCTAssertEqual(result.status, 64, "\(what): \(result.stderr)")
                XCTAssertTrue(result.stderr.contains(message), "\(what): \(result.stderr)")
                XCTAssertFalse(result.stderr.contains("Missing value"), "\(what): \(result.stderr)")
            }
        }
    }

    /// The last option and its value joined by "=".
    private func withEquals(_ arguments: [String]) -> [String] {
        arguments.dropLast(2) + [arguments[arguments.count - 2] + "=" + arguments[arguments.count - 1]]
    }
}
