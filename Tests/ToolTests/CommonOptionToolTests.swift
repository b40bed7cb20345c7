import Foundation
import XCTest

/// One validation of the common options in every executable: every command of every tool (found
/// from Package.swift's papers and each tool's --help, so a new tool or subcommand is covered without
/// editing this test) refuses the same bad `--threads` values with exit 64 and the same one line.
final class CommonOptionToolTests: XCTestCase {
    /// "mlcore" and each paper tool of Package.swift.
    func executables() throws -> [String] {
        let package = try String(contentsOf: repositoryRoot.appendingPathComponent("Package.swift"), encoding: .utf8)
        let regex = try NSRegularExpression(pattern: #"Paper\(library: "[A-Za-z]+", tool: "([a-z0-9-]+)""#)
        let tools = regex.matches(in: package, range: NSRange(package.startIndex..., in: package)).map {
            String(package[Range($0.range(at: 1), in: package)!])
        }
        XCTAssertFalse(tools.isEmpty)
        return ["mlcore"] + tools
    }

    /// The subcommand names listed under SUBCOMMANDS: in a help text.
    func subcommands(_ help: String) -> [String] {
        guard let start = help.range(of: "SUBCOMMANDS:\n") else { return [] }
        var names: [String] = []
        for line in help[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty || !line.hasPrefix("  ") { break }
            // "  name (default)   text" or a continuation line indented further.
            guard !line.hasPrefix("   "), let name = line.split(separator: " ").first else { continue }
            names.append(String(name))
        }
        return names
    }

    /// Every command path (tool and subcommands, nested) with its help text.
    func commands(_ tool: String) throws -> [([String], String)] {
        var out: [([String], String)] = []
        var pending: [[String]] = [[]]
        while let path = pending.popLast() {
            let help = try runTool(tool, path + ["--help"])
            XCTAssertEqual(help.status, 0, "\(tool) \(path) --help")
            out.append((path, help.stdout))
            for name in subcommands(help.stdout) where name != "help" { pending.append(path + [name]) }
        }
        return out
    }

    func testEveryCommandRefusesTheSameBadThreadCounts() throws {
        var checked = 0
        for tool in try executables() {
            for (path, help) in try commands(tool) where help.contains("\n  --threads <") {
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
}
