import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI

/// `mlcore inspect FILE.h5`: the tree of groups and datasets with shapes, dtypes, bytes and attributes.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the groups, datasets (shape, dtype, bytes) and attributes of an HDF5 file.",
        discussion: """
            Works on any HDF5 file; for MLCore checkpoints it also counts parameters. Attributes keep \
            their shape (nested JSON arrays); integers are exact (uint64 too); NaN and infinities are \
            the strings "NaN", "Infinity" and "-Infinity" in JSON; a null dataspace is null; types \
            without a value (compound, opaque) are shown as {"dtype", "shape"}; a filter this HDF5 \
            lacks is named in the storage. Exit 66 for a missing file, 65 for a file that is not HDF5 \
            or is corrupt.
            """)

    @Argument(help: ArgumentHelp("The HDF5 file (or a datasets.toml name).", valueName: "file.h5"))
    var file: String

    @Flag(help: "Print JSON for machines instead of the tree.")
    var json = false

    @Flag(help: "Only the root attributes and totals, not every dataset.")
    var summary = false

    @Option(help: "Truncate attribute values longer than this many characters in the tree (0: never).")
    var width = 100

    func validate() throws {
        guard width >= 0 else { throw ValidationError("--width must be ≥ 0 (0: never truncate), got \(width)") }
    }

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

/// Everything `inspect` shows about one file, read once. Attributes of any type are listed: values
/// that `HDF5AttributeValue` cannot hold (compound, opaque, ...) by their type and shape, never failing
/// the whole listing.
struct HDF5Listing {
    struct Attribute {
        let name: String
        let dtype: String
        /// nil: a null dataspace.
        let shape: [Int]?
        /// nil: a null dataspace, or a type shown by its description only.
        let value: HDF5AttributeValue?

        /// Reads attribute `name` of `attributes`.
        init(_ name: String, of attributes: HDF5Attributes) throws {
            self.name = name
            let info = try attributes.info(name)
            dtype = "\(info.elementType)"
            shape = info.shape
            value = info.shape == nil ? nil : try? attributes.value(name)
        }
    }

    struct Object {
        let path: String
        let kind: HDF5ObjectKind
        /// nil: a null dataspace.
        let shape: [Int]?
        let dtype: String
        let storageBytes: Int
        let storage: String
        let attributes: [Attribute]
        var elements: Int { shape?.reduce(1, *) ?? 0 }
    }

    let path: String
    let fileBytes: Int
    let rootAttributes: [Attribute]
    let objects: [Object]

    init(path: String) throws {
        self.path = path
        let file = try HDF5File(path: path, mode: .readOnly)
        fileBytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let root = file.root.attributes
        rootAttributes = try root.names().map { try Attribute($0, of: root) }
        var objects: [Object] = []
        for entry in try file.root.walk() {
            switch entry.kind {
            case .dataset:
                let d = try file.dataset(entry.path)
                let info = try d.storageInfo()
                let attributes = d.attributes
                objects.append(Object(path: entry.path, kind: .dataset, shape: d.isNull ? nil : d.shape, dtype: "\(d.elementType)",
                                      storageBytes: info.storageBytes, storage: info.description,
                                      attributes: try attributes.names().map { try Attribute($0, of: attributes) }))
            case .group:
                let attributes = try file.group(entry.path).attributes
                objects.append(Object(path: entry.path, kind: .group, shape: [], dtype: "", storageBytes: 0,
                                      storage: "", attributes: try attributes.names().map { try Attribute($0, of: attributes) }))
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
        func attrs(_ list: [Attribute]) -> JSONValue {
            .object(Dictionary(uniqueKeysWithValues: list.map { ($0.name, attributeJSON($0)) }))
        }
        var doc: [String: JSONValue] = [
            "file": .string(path), "file_bytes": .int(fileBytes), "attributes": attrs(rootAttributes),
            "summary": .object([
                "groups": .int(objects.filter { $0.kind == .group }.count), "datasets": .int(datasets.count),
                "parameters": .int(parameters.count),
                "parameter_elements": .int(parameters.reduce(0) { $0 + $1.elements }),
                "stored_bytes": .int(datasets.reduce(0) { $0 + $1.storageBytes }),
            ]),
        ]
        if includeObjects {
            doc["objects"] = .array(objects.map { o in
                var fields: [String: JSONValue] = ["path": .string(o.path), "kind": .string("\(o.kind)")]
                if o.kind == .dataset {
                    fields["shape"] = o.shape.map(JSONValue.init) ?? .null
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
        for a in rootAttributes { out += "  @\(escaped(a.name)) = \(clip(attributeText(a), width))\n" }
        if includeObjects {
            for o in objects {
                let depth = o.path.split(separator: "/").count - 1
                let indent = String(repeating: "  ", count: depth + 1)
                let name = escaped(o.path.split(separator: "/").last.map(String.init) ?? o.path)
                switch o.kind {
                case .group: out += "\(indent)\(name)/\n"
                case .dataset:
                    let shape = o.shape.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" } ?? "null (no dataspace)"
                    // A filter this HDF5 lacks is worth a look before reading: show the storage then.
                    let storage = o.storage.contains("not available in this HDF5") ? "  (\(o.storage))" : ""
                    out += "\(indent)\(name)  \(o.dtype) \(shape)  \(formatBytes(o.storageBytes))\(storage)\n"
                case .other: out += "\(indent)\(name)  (other)\n"
                }
                for a in o.attributes {
                    out += "\(indent)  @\(escaped(a.name)) = \(clip(attributeText(a), width))\n"
                }
            }
        }
        let elements = parameters.reduce(0) { $0 + $1.elements }
        out += "\(datasets.count) datasets, \(objects.filter { $0.kind == .group }.count) groups"
        if !parameters.isEmpty { out += "; \(parameters.count) parameter tensors, \(elements) parameters" }
        out += "; \(formatBytes(datasets.reduce(0) { $0 + $1.storageBytes })) stored\n"
        return out
    }

    private func clip(_ s: String, _ width: Int) -> String {
        let flat = escaped(s)
        return width > 0 && flat.count > width ? String(flat.prefix(width)) + "…" : flat
    }
}

/// An attribute as JSON: its value (integers exact, uint64 above Int.max included; arrays nested to
/// the attribute's shape; non-finite floats as the strings "NaN", "Infinity", "-Infinity"), null for
/// a null dataspace, or `{"dtype", "shape"}` for a type without a JSON value (compound, opaque, ...).
func attributeJSON(_ a: HDF5Listing.Attribute) -> JSONValue {
    guard let shape = a.shape else { return .null }
    guard let value = a.value else { return ["dtype": .string(a.dtype), "shape": JSONValue(shape)] }
    let flat: [JSONValue]
    switch value {
    case .string(let s): return .string(s)
    case .int(let i): return .int(i)
    case .uint(let u): return .uint(u)
    case .double(let d): return jsonNumber(d)
    case .strings(let a): flat = a.map(JSONValue.string)
    case .ints(let a): flat = a.map(JSONValue.int)
    case .uints(let a): flat = a.map(JSONValue.uint)
    case .doubles(let a): flat = a.map(jsonNumber)
    }
    return nested(flat, shape: shape)
}

/// A flat row-major array as nested arrays of `shape` (rank ≤ 1: the flat array).
func nested(_ flat: [JSONValue], shape: [Int]) -> JSONValue {
    guard shape.count > 1, shape.reduce(1, *) == flat.count, let first = shape.first, first > 0 else { return .array(flat) }
    let step = flat.count / first
    return .array((0..<first).map { nested(Array(flat[($0 * step)..<(($0 + 1) * step)]), shape: Array(shape.dropFirst())) })
}

/// An attribute as tree text: its value as in JSON (compact), "null (no dataspace, dtype)", or
/// "<dtype, shape [...]>" for a type without a value.
func attributeText(_ a: HDF5Listing.Attribute) -> String {
    guard let shape = a.shape else { return "null (no dataspace, \(a.dtype))" }
    guard a.value != nil else { return "<\(a.dtype), shape \(shape)>" }
    if case .string(let s) = a.value { return s.debugDescription }
    return (try? attributeJSON(a).jsonText()) ?? "?"
}

/// A finite double as a number; NaN (any payload or sign), +∞ and −∞ as "NaN", "Infinity", "-Infinity".
func jsonNumber(_ d: Double) -> JSONValue {
    if d.isNaN { return .string("NaN") }
    if d.isInfinite { return .string(d > 0 ? "Infinity" : "-Infinity") }
    return .double(d)
}

/// `s` with control characters (C0, DEL, C1) written as escapes (\n, \t, \r, \u{1B}), so that a
/// name cannot break or recolour the tree.
func escaped(_ s: String) -> String {
    var out = ""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        case "\u{00}"..."\u{1F}", "\u{7F}"..."\u{9F}": out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}

func formatBytes(_ n: Int) -> String {
    let units = ["B", "KB", "MB", "GB"]
    var value = Double(n), i = 0
    while value >= 1000 && i < units.count - 1 { value /= 1000; i += 1 }
    return i == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[i])
}
