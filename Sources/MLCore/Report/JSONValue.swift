import Foundation

/// A JSON value for reports and configs: what a tool records is data, not Swift types.
/// Numbers that are not finite cannot be written (JSON has no NaN); `Report.encoded()` throws
/// `ReportError.nonFiniteNumber` naming the key instead of writing a wrong number.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    /// An unsigned integer above `Int.max` (exact; e.g. a uint64 value ≥ 2⁶³ read from HDF5).
    case uint(UInt64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The value as a Foundation object for `JSONSerialization`, checking numbers on the way.
    func foundationObject(path: String) throws -> Any {
        switch self {
        case .null: return NSNull()
        case .bool(let b): return b
        case .int(let i): return i
        case .uint(let u): return NSNumber(value: u)
        case .double(let d):
            guard d.isFinite else { throw ReportError.nonFiniteNumber(path: path, value: d) }
            return d
        case .string(let s): return s
        case .array(let a): return try a.enumerated().map { try $0.element.foundationObject(path: "\(path)[\($0.offset)]") }
        case .object(let o):
            var out: [String: Any] = [:]
            for (k, v) in o { out[k] = try v.foundationObject(path: path.isEmpty ? k : "\(path).\(k)") }
            return out
        }
    }

    /// Parses JSON text (e.g. a checkpoint's `config` attribute).
    /// - Throws: `ReportError.invalidJSON` with the parser's message.
    public static func parse(_ text: String) throws -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        } catch {
            throw ReportError.invalidJSON("\(error)")
        }
    }

    /// Compact JSON text with sorted keys.
    public func jsonText() throws -> String {
        let data = try JSONSerialization.data(withJSONObject: try foundationObject(path: ""),
                                              options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// The member `key` of an object, nil otherwise.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
    public var intValue: Int? {
        switch self {
        case .int(let i): return i
        case .uint(let u): return Int(exactly: u)
        case .double(let d): return Int(exactly: d)
        default: return nil
        }
    }
    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .uint(let u): return Double(u)
        case .double(let d): return d
        default: return nil
        }
    }
    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { $1 }))
    }
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue {
    /// A Float as the Double with the same shortest decimal form (0.1 stays 0.1, not 0.10000000149).
    public init(_ value: Float) { self = .double(Double("\(value)") ?? Double(value)) }
    public init(_ value: Double) { self = .double(value) }
    public init(_ value: Int) { self = .int(value) }
    public init(_ value: String) { self = .string(value) }
    public init(_ value: Bool) { self = .bool(value) }
    public init(_ values: [Double]) { self = .array(values.map(JSONValue.double)) }
    public init(_ values: [Int]) { self = .array(values.map(JSONValue.int)) }
    public init(_ values: [String]) { self = .array(values.map(JSONValue.string)) }
}

extension JSONValue: Decodable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let u = try? c.decode(UInt64.self) { self = .uint(u) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }
}

/// Encodes as the JSON it stands for (an object's keys as they are, whatever the encoder's key
/// strategy), so that a report struct can hold parts that are already JSON (e.g. `FileInput`'s).
extension JSONValue: Encodable {
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .uint(let u): try c.encode(u)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}
