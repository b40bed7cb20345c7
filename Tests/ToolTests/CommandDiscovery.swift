import Foundation
import XCTest

/// Every executable and command of the toolkit, found from Package.swift's papers and each tool's
/// --help, so that tests over all commands cover a new tool or subcommand without being edited.
enum CommandDiscovery {
    /// Commands found so far, by tool (the tests of one run share them).
    final class Cache: @unchecked Sendable { var value: [String: [([String], String)]] = [:] }
    static let cache = Cache()

    /// "mlcore" and each paper tool of Package.swift.
    static func executables() throws -> [String] {
        let package = try String(contentsOf: repositoryRoot.appendingPathComponent("Package.swift"), encoding: .utf8)
        let regex = try NSRegularExpression(pattern: #"Paper\(library: "[A-Za-z]+", tool: "([a-z0-9-]+)""#)
        let tools = regex.matches(in: package, range: NSRange(package.startIndex..., in: package)).map {
            String(package[Range($0.range(at: 1), in: package)!])
        }
        XCTAssertFalse(tools.isEmpty)
        return ["mlcore"] + tools
    }

    /// The subcommand names listed under SUBCOMMANDS: in a help text.
    static func subcommands(_ help: String) -> [String] {
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
    static func commands(_ tool: String) throws -> [([String], String)] {
        if let known = cache.value[tool] { return known }
        var out: [([String], String)] = []
        var pending: [[String]] = [[]]
        while let path = pending.popLast() {
            let help = try runTool(tool, path + ["--help"])
            XCTAssertEqual(help.status, 0, "\(tool) \(path) --help")
            out.append((path, help.stdout))
            for name in subcommands(help.stdout) where name != "help" { pending.append(path + [name]) }
        }
        cache.value[tool] = out
        return out
    }
}
