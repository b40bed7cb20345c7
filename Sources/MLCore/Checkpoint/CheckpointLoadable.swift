/// A model family's hyper-parameters, decoded (`Decodable`, snake_case coding keys) from a
/// checkpoint's `config` JSON attribute (Docs/CHECKPOINT_FORMAT.md). A config's `init(from:)` throws
/// `DecodingError`s; `init(json:file:)` turns them into `CheckpointError.badConfig` naming the file,
/// the key path (`blocks[3].kernel_size`) and what was expected.
public protocol CheckpointConfig: Decodable, Sendable {}

extension CheckpointConfig {
    /// Decodes the config JSON of the checkpoint file `file` (the name is for errors only).
    /// - Throws: `CheckpointError.badConfig` for a missing, mistyped or invalid value.
    public init(json: JSONValue, file: String) throws {
        self = try CheckpointConfigDecoder.decode(Self.self, from: json, file: file)
    }

    /// Decodes the `config` attribute of `checkpoint`.
    /// - Throws: `CheckpointError.badConfig`.
    public init(checkpoint: Checkpoint) throws { try self.init(json: checkpoint.config, file: checkpoint.path) }
}

/// JSON → `CheckpointConfig` with errors in `CheckpointError.badConfig` form.
public enum CheckpointConfigDecoder {
    /// Decodes `type` from `json`.
    /// - Throws: `CheckpointError.badConfig(file:key:expected:)`: for a missing or mistyped key the
    ///   expected JSON type ("an integer", "a number", "a string", "true or false", "an array", "an
    ///   object"); for a value a config rejects, the config's own description.
    public static func decode<T: Decodable>(_ type: T.Type, from json: JSONValue, file: String) throws -> T {
        do {
            return try T(from: JSONValueDecoder(value: json, codingPath: []))
        } catch let error as DecodingError {
            throw badConfig(error, file: file)
        }
    }

    /// The dotted key path of a coding path: `blocks[3].kernel_size`.
    public static func keyPath(_ path: [any CodingKey]) -> String {
        var out = ""
        for key in path {
            if let i = key.intValue, key.stringValue.hasPrefix("Index") || Int(key.stringValue) == i {
                out += "[\(i)]"
            } else {
                out += (out.isEmpty ? "" : ".") + key.stringValue
            }
        }
        return out
    }

    static func expected(_ type: Any.Type) -> String {
        switch type {
        case is any BinaryInteger.Type: return "an integer"
        case is any BinaryFloatingPoint.Type: return "a number"
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is any Sequence.Type: return "an array"
        default: return "an object"
        }
    }

    static func badConfig(_ error: DecodingError, file: String) -> CheckpointError {
        switch error {
        case .keyNotFound(let key, let context):
            return .badConfig(file: file, key: keyPath(context.codingPath + [key]), expected: "a value")
        case .valueNotFound(let type, let context), .typeMismatch(let type, let context):
            return .badConfig(file: file, key: keyPath(context.codingPath), expected: expected(type))
        case .dataCorrupted(let context):
            // A value the config rejects; its message says what was expected.
            return .badConfig(file: file, key: context.codingPath.isEmpty ? "config" : keyPath(context.codingPath),
                              expected: context.debugDescription)
        @unknown default:
            return .badConfig(file: file, key: "config", expected: "a valid config (\(error))")
        }
    }
}

extension KeyedDecodingContainer {
    /// The value of a required key; a missing key is reported with the expected type (so the error
    /// reads "config 'hidden_size' missing or not an integer").
    /// - Throws: `DecodingError.valueNotFound` when absent, `.typeMismatch` when of another type.
    public func require<T: Decodable>(_ key: Key, as type: T.Type = T.self) throws -> T {
        guard contains(key) else {
            throw DecodingError.valueNotFound(T.self, .init(codingPath: codingPath + [key], debugDescription: "missing"))
        }
        return try decode(T.self, forKey: key)
    }

    /// A required number as Float, parsed as Double and rounded once (as the checkpoint's JSON
    /// numbers were read before configs were decoded).
    public func requireFloat(_ key: Key) throws -> Float { Float(try require(key, as: Double.self)) }

    /// An optional number as Float (nil when absent or null).
    public func optionalFloat(_ key: Key) throws -> Float? { try decodeIfPresent(Double.self, forKey: key).map { Float($0) } }

    /// The error a config throws for a present value it rejects: `CheckpointError.badConfig` with
    /// `expected` as the description.
    public func invalid(_ key: Key, expected: String) -> DecodingError {
        DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: expected)
    }
}

/// One loading shape for every model family (mlx-swift-lm's model files, candle's `VarBuilder`): a
/// `CheckpointConfig` decoded from the checkpoint's `config` attribute, a model built from it with
/// placeholder parameters (named by a scoped `ParameterFactory`), then one strict load that lists
/// every missing key, unexpected key and shape mismatch. `load(from:)` is the single entry point.
public protocol CheckpointLoadable: Module {
    /// The family's configuration.
    associatedtype Config: CheckpointConfig
    /// The `architecture` attribute values this family loads (e.g. ["bert"]).
    static var architectures: [String] { get }
    /// Checkpoint keys that are not parameters and are skipped by strict loading (e.g. BERT's
    /// integer buffer `embeddings.position_ids`). Default: none.
    static var nonParameterKeys: Set<String> { get }
    /// A model of `config` with parameters from `factory`; `checkpointKeys` are the keys of the
    /// checkpoint being loaded (to choose optional parts, e.g. BERT's pooler), nil for a fresh model.
    static func build(config: Config, checkpointKeys: Set<String>?, factory: ParameterFactory) -> Self
}

extension CheckpointLoadable {
    public static var nonParameterKeys: Set<String> { [] }

    /// The config of `checkpoint` after checking its architecture.
    /// - Throws: `CheckpointError.badConfig` (another architecture; a missing, mistyped or invalid value).
    public static func config(of checkpoint: Checkpoint) throws -> Config {
        try checkpoint.requireArchitecture(architectures)
        return try Config(checkpoint: checkpoint)
    }

    /// The model of a prepared checkpoint: architecture checked, config decoded, built with
    /// placeholders, loaded strictly.
    /// - Throws: `CheckpointError` (wrong architecture, bad config, missing/unexpected keys, shapes), `HDF5Error`.
    public static func load(from checkpoint: Checkpoint) throws -> Self {
        try load(from: checkpoint, config: try config(of: checkpoint))
    }

    /// The model of `checkpoint` built from `config` (e.g. the checkpoint's own, adjusted for
    /// fine-tuning) and loaded strictly.
    /// - Throws: `CheckpointError`, `HDF5Error`.
    public static func load(from checkpoint: Checkpoint, config: Config) throws -> Self {
        let model = build(config: config, checkpointKeys: Set(checkpoint.keys), factory: .placeholders())
        try model.load(from: checkpoint, ignoring: nonParameterKeys)
        return model
    }

    /// Opens the checkpoint at `path` and loads it (`load(from:)`).
    /// - Throws: `HDF5Error` (missing or unreadable file), `CheckpointError`.
    public static func load(path: String) throws -> Self { try load(from: Checkpoint(path: path)) }
}

extension Checkpoint {
    /// Checks the checkpoint's `architecture` attribute.
    /// - Throws: `CheckpointError.badConfig` naming the expected architecture.
    public func requireArchitecture(_ names: String...) throws { try requireArchitecture(names) }

    /// Checks the checkpoint's `architecture` attribute against `names`.
    /// - Throws: `CheckpointError.badConfig` naming the expected architecture.
    public func requireArchitecture(_ names: [String]) throws {
        guard names.contains(architecture) else {
            throw CheckpointError.badConfig(file: path, key: "architecture",
                                            expected: names.map { "'\($0)'" }.joined(separator: " or ") + " (found '\(architecture)')")
        }
    }
}

extension ParameterFactory {
    /// How the names made through this factory (and its scoped views) differ from those `module`
    /// reports in `parameters`: `notReported` were created but are missing from `parameters` (a
    /// forgotten sub-module), `notCreated` are reported but were not made here (a parameter built
    /// by hand or by another factory). Both sorted; both empty for a consistent module.
    public func nameDiscrepancies(of module: any Module) -> (notReported: [String], notCreated: [String]) {
        let created = Set(createdNames), reported = Set(module.parameters.map(\.name))
        return (created.subtracting(reported).sorted(), reported.subtracting(created).sorted())
    }
}
