import ArgumentParser
import Foundation
import MLCore

/// An option group that writes its own report config entries instead of being reflected (e.g. a
/// group whose stored properties are old spellings, or whose values have defaults per command).
public protocol ReportConfigurable {
    /// The entries, under snake_case keys.
    var reportConfig: [String: JSONValue] { get }
}

/// Report config from the parsed options themselves, so that an option is named once (its Swift
/// property; the report key is its snake_case form: `trainNormals` → `train_normals`).
public enum OptionReflection {
    /// Every `@Option`, `@Flag` and `@Argument` of `command` (a parsed command or option group)
    /// under its snake_case name; `@OptionGroup`s are flattened, a `ReportConfigurable` group
    /// contributing its own entries. Values: numbers, strings, booleans, arrays, null for an absent
    /// optional, `UInt64` as a decimal string (seeds exceed JSON's safe integers), `RawRepresentable`
    /// as the raw value, anything else as its description.
    public static func config(of command: Any) -> [String: JSONValue] {
        if let own = command as? ReportConfigurable { return own.reportConfig }
        var config: [String: JSONValue] = [:]
        for child in Mirror(reflecting: command).children {
            guard let label = child.label, label.hasPrefix("_") else { continue }
            let name = String(label.dropFirst())
            let wrapper = String(describing: type(of: child.value))
            guard let value = parsedValue(of: child.value) else { continue }
            if wrapper.hasPrefix("OptionGroup<") {
                config.merge(Self.config(of: value)) { a, _ in a }
            } else if wrapper.hasPrefix("Option<") || wrapper.hasPrefix("Flag<") || wrapper.hasPrefix("Argument<") {
                config[snakeCase(name)] = json(value)
            }
        }
        return config
    }

    /// The value inside an ArgumentParser property wrapper after parsing (its `.value` case).
    static func parsedValue(of wrapper: Any) -> Any? {
        for child in Mirror(reflecting: wrapper).children where child.label == "_parsedValue" {
            let parsed = Mirror(reflecting: child.value)
            if let value = parsed.children.first, value.label == "value" { return value.value }
        }
        return nil
    }

    /// `trainNormals` → `train_normals`, `maxK` → `max_k`.
    public static func snakeCase(_ name: String) -> String {
        var out = ""
        for c in name {
            if c.isUppercase {
                out += "_" + c.lowercased()
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// A JSON value for an option's value.
    static func json(_ value: Any) -> JSONValue {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return .null }
            return json(wrapped)
        }
        switch value {
        case let v as Bool: return .bool(v)
        case let v as Int: return .int(v)
        case let v as Int32: return .int(Int(v))
        case let v as UInt64: return .string(String(v))
        case let v as Double: return .double(v)
        case let v as Float: return JSONValue(v)
        case let v as String: return .string(v)
        case let v as any RawRepresentable<String>: return .string(v.rawValue)
        default: break
        }
        if mirror.displayStyle == .collection { return .array(mirror.children.map { json($0.value) }) }
        return .string(String(describing: value))
    }
}

extension CommonOptions: ReportConfigurable {}
extension ShardOption: ReportConfigurable {
    public var reportConfig: [String: JSONValue] { ["shard": shard.map { .string($0.description) } ?? .null] }
}
extension ModelWeightsOption: ReportConfigurable {
    public var reportConfig: [String: JSONValue] { ["weights": value.map(JSONValue.string) ?? .null] }
}
extension OptimizerOptions: ReportConfigurable {}

extension JSONValue {
    /// Stand-ins for non-finite numbers while encoding, turned back into numbers after decoding, so
    /// that `Report.encoded()` refuses them naming the key (`ReportError.nonFiniteNumber`).
    static let nonFiniteStandIns = (nan: "\u{FFFF}nan", plus: "\u{FFFF}+inf", minus: "\u{FFFF}-inf")

    /// The JSON of an `Encodable` value with snake_case keys (`JSONEncoder.KeyEncodingStrategy.convertToSnakeCase`:
    /// `top1Accuracy` → `top1_accuracy`, `peakRssMb` → `peak_rss_mb`): metrics and configs as Swift
    /// structs, each key named once. Dictionary keys are kept as they are. A NaN or infinite number
    /// stays a `.double`, so writing it as part of a report throws `ReportError.nonFiniteNumber`
    /// with its path (e.g. `metrics.pairs[0].jaccard`).
    /// - Throws: `EncodingError` from the value's `encode(to:)`, `ReportError.invalidJSON`.
    public init<T: Encodable>(encoding value: T) throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let s = Self.nonFiniteStandIns
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: s.plus, negativeInfinity: s.minus, nan: s.nan)
        let data = try encoder.encode(value)
        self = try JSONDecoder().decode(JSONValue.self, from: data).restoringNonFinite()
    }

    /// The stand-in strings of `init(encoding:)` back as non-finite numbers.
    func restoringNonFinite() -> JSONValue {
        let s = Self.nonFiniteStandIns
        switch self {
        case .string(s.nan): return .double(.nan)
        case .string(s.plus): return .double(.infinity)
        case .string(s.minus): return .double(-.infinity)
        case .array(let a): return .array(a.map { $0.restoringNonFinite() })
        case .object(let o): return .object(o.mapValues { $0.restoringNonFinite() })
        default: return self
        }
    }
}

/// An optional report value written as null when absent (a synthesized `Encodable` leaves absent
/// optionals out): `@NullWhenAbsent var heldOutLoss: Double?` → `"held_out_loss": null`.
@propertyWrapper
public struct NullWhenAbsent<Value: Encodable>: Encodable {
    public var wrappedValue: Value?

    public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let wrappedValue { try c.encode(wrappedValue) } else { try c.encodeNil() }
    }
}

extension Report {
    /// Sets `metrics` from an `Encodable` value (a tool's or method library's result struct) with
    /// snake_case keys (`JSONValue(encoding:)`), so that each metric is named once, by its property.
    /// A non-finite number is refused when the report is written (`ReportError.nonFiniteNumber`
    /// naming `metrics.<key>`).
    /// - Throws: `EncodingError`, `ReportError.invalidJSON` if `value` does not encode as a JSON object.
    public mutating func setMetrics<T: Encodable>(_ value: T) throws {
        guard case .object(let object) = try JSONValue(encoding: value) else {
            throw ReportError.invalidJSON("metrics of \(T.self) must encode as a JSON object")
        }
        metrics = object
    }
}
