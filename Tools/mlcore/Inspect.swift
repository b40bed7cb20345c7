import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI

/// `mlcore inspect FILE.h5`: the tree of groups and datasets with shapes, dtypes, bytes and attributes.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the groups, datasets (shape, dtype, bytes) and attributes of an HDF5 file.",
        discussion: "Works on any HDF5 file; for MLCore checkpoints it also counts parameters. Exit 66 for a missing file, 65 for a file that is not HDF5 or is corrupt.")

    @Argument(help: ArgumentHelp("The HDF5 file (or a datasets.toml name).", valueName: "file.h5"))
    var file: String

    @Flag(help: "Print JSON for machines instead of the tree.")
    var json = false

    @Flag(help: "Only the root attributes and totals, not every dataset.")
    var summary = false

    @Option(help: "Truncate attribute values longer than this many characters in the tree (0: never).")
    var width = 100

    func run() throws {
        do {
            let path = FileManager.default.fileExists(atPath: file) ? file : try resolveNameOrPath(file)
            let listing = try HDF5Listing(path: path)
            if json {
                print(try listing.json(includeObjects: !summary).jsonText())
            } else {
                print(listing.text(includeObjects: !summary, width: width), terminator: "")
            }
        } catch {
            ToolRunner.fail(tool: "mlcore inspect", error)
        }
    }
}

/// Everything `inspect` shows about one file, read once.
struct HDF5Listing {
    struct Object {
        let path: String
        let kind: HDF5ObjectKind
        let shape: [Int]
        let dtype: String
        let storageBytes: Int
        let storage: String
        let attributes: [(name: String, value: HDF5AttributeValue)]
    }

    let path: String
    let fileBytes: Int
    let rootAttributes: [(name: String, value: HDF5AttributeValue)]
    let objects: [Object]

    init(path: String) throws {
        self.path = path
        let file = try HDF5File(path: path, mode: .readOnly)
        fileBytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        rootAttributes = try file.root.attributes.all()
        var objects: [Object] = []
        for entry in try file.root.walk() {
            switch entry.kind {
            case .dataset:
                let d = try file.dataset(entry.path)
                let info = try d.storageInfo()
                objects.append(Object(path: entry.path, kind: .dataset, shape: d.shape, dtype: "\(d.elementType)",
                                      storageBytes: info.storageBytes, storage: info.description,
                                      attributes: try d.attributes.all()))
            case .group:
                objects.append(Object(path: entry.path, kind: .group, shape: [], dtype: "", storageBytes: 0,
                                      storage: "", attributes: try file.group(entry.path).attributes.all()))
            case .other:
                objects.append(Object(path: entry.path, kind: .other, shape: [], dtype: "", storageBytes: 0,
                                      storage: "", attributes: []))
            }
        }
        self.objects = objects
        try file.close()
    }

    var datasets: [Object] { objects.filter { $0.kind == .dataset } }
    /// Datasets under /params (the state dict of a checkpoint).
    var parameters: [Object] { datasets.filter { $0.path.hasPrefix("/params/") } }

    func json(includeObjects: Bool) throws -> JSONValue {
        func attrs(_ list: [(name: String, value: HDF5AttributeValue)]) -> JSONValue {
            .object(Dictionary(uniqueKeysWithValues: list.map { ($0.name, jsonValue($0.value)) }))
        }
        var doc: [String: JSONValue] = [
            "file": .string(path), "file_bytes": .int(fileBytes), "attributes": attrs(rootAttributes),
            "summary": .object([
                "groups": .int(objects.filter { $0.kind == .group }.count), "datasets": .int(datasets.count),
                "parameters": .int(parameters.count),
                "parameter_elements": .int(parameters.reduce(0) { $0 + $1.shape.reduce(1, *) }),
                "stored_bytes": .int(datasets.reduce(0) { $0 + $1.storageBytes }),
            ]),
        ]
        if includeObjects {
            doc["objects"] = .array(objects.map { o in
                var fields: [String: JSONValue] = ["path": .string(o.path), "kind": .string("\(o.kind)")]
                if o.kind == .dataset {
                    fields["shape"] = JSONValue(o.shape)
                    fields["dtype"] = .string(o.dtype)
                    fields["bytes"] = .int(o.storageBytes)
                    fields["storage"] = .string(o.storage)
                }
                if !o.attributes.isEmpty { fields["attributes"] = attrs(o.attributes) }
                return .object(fields)
            })
        }
        return .object(doc)
    }

    func text(includeObjects: Bool, width: Int) -> String {
        var out = "\(path)  (\(formatBytes(fileBytes)))\n"
        for (name, value) in rootAttributes { out += "  @\(name) = \(clip(value.description, width))\n" }
        if includeObjects {
            for o in objects {
                let depth = o.path.split(separator: "/").count - 1
                let indent = String(repeating: "  ", count: depth + 1)
                let name = o.path.split(separator: "/").last.map(String.init) ?? o.path
                switch o.kind {
                case .group: out += "\(indent)\(name)/\n"
                case .dataset:
                    let shape = "[" + o.shape.map(String.init).joined(separator: ", ") + "]"
                    out += "\(indent)\(name)  \(o.dtype) \(shape)  \(formatBytes(o.storageBytes))\n"
                case .other: out += "\(indent)\(name)  (other)\n"
                }
                for (attr, value) in o.attributes {
                    out += "\(indent)  @\(attr) = \(clip(value.description, width))\n"
                }
            }
        }
        let elements = parameters.reduce(0) { $0 + $1.shape.reduce(1, *) }
        out += "\(datasets.count) datasets, \(objects.filter { $0.kind == .group }.count) groups"
        if !parameters.isEmpty { out += "; \(parameters.count) parameter tensors, \(elements) parameters" }
        out += "; \(formatBytes(datasets.reduce(0) { $0 + $1.storageBytes })) stored\n"
        return out
    }

    private func clip(_ s: String, _ width: Int) -> String {
        let flat = s.replacingOccurrences(of: "\n", with: "\\n")
        return width > 0 && flat.count > width ? String(flat.prefix(width)) + "…" : flat
    }
}

/// An attribute value as JSON: integers exact (uint64 above Int.max included), and the one spelling
/// of non-finite floats that JSON lacks: the strings "NaN", "Infinity" and "-Infinity".
func jsonValue(_ value: HDF5AttributeValue) -> JSONValue {
    switch value {
    case .string(let s): return .string(s)
    case .int(let i): return .int(i)
    case .uint(let u): return .uint(u)
    case .double(let d): return jsonNumber(d)
    case .strings(let a): return JSONValue(a)
    case .ints(let a): return JSONValue(a)
    case .uints(let a): return .array(a.map(JSONValue.uint))
    case .doubles(let a): return .array(a.map(jsonNumber))
    }
}

/// A finite double as a number; NaN (any payload or sign), +∞ and −∞ as "NaN", "Infinity", "-Infinity".
func jsonNumber(_ d: Double) -> JSONValue {
    if d.isNaN { return .string("NaN") }
    if d.isInfinite { return .string(d > 0 ? "Infinity" : "-Infinity") }
    return .double(d)
}

func formatBytes(_ n: Int) -> String {
    let units = ["B", "KB", "MB", "GB"]
    var value = Double(n), i = 0
    while value >= 1000 && i < units.count - 1 { value /= 1000; i += 1 }
    return i == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[i])
}
