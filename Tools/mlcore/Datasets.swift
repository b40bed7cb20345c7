import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI

/// `mlcore datasets`: the datasets.toml entries and whether each is prepared.
struct Datasets: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the models and datasets of datasets.toml and whether each is prepared (run `make data`).")

    @Flag(help: "Print JSON (one object per entry) instead of a table.")
    var json = false

    func run() throws {
        do {
            let registry = try DatasetRegistry.locate()
            if json {
                let rows: [JSONValue] = registry.entries.map { e in
                    .object(["name": .string(e.name), "kind": .string(e.kind), "package": .string(e.package),
                             "version": .string(e.version), "registry": .string(e.registry), "license": .string(e.license),
                             "output": .string(e.output), "prepared": .bool(registry.isPrepared(e)),
                             "description": .string(e.description)])
                }
                print(try JSONValue.array(rows).jsonText())
                return
            }
            let header = ["name", "kind", "source", "license", "prepared", "output"]
            let rows = registry.entries.map { e in
                [e.name, e.kind, "\(e.package) \(e.version) (\(e.registry))", e.license,
                 registry.isPrepared(e) ? "yes" : "no", e.output]
            }
            print(formatTable(header: header, rows: rows))
            if registry.entries.contains(where: { !registry.isPrepared($0) }) {
                FileHandle.standardError.write(Data("some entries are not prepared: run `make data`\n".utf8))
            }
        } catch {
            ToolRunner.fail(tool: "mlcore datasets", error)
        }
    }
}

/// Left-aligned plain-text columns separated by two spaces.
func formatTable(header: [String], rows: [[String]]) -> String {
    let all = [header] + rows
    let widths = header.indices.map { i in all.map { $0[i].count }.max() ?? 0 }
    return all.map { row in
        row.enumerated().map { i, cell in
            i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }.joined(separator: "\n")
}
