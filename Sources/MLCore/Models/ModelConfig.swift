/// Reading model configurations from a checkpoint's `config` JSON attribute, with errors naming
/// the file and key.
public struct ConfigReader: Sendable {
    public let config: JSONValue
    /// The checkpoint path, for error messages.
    public let file: String

    public init(_ checkpoint: Checkpoint) {
        config = checkpoint.config
        file = checkpoint.path
    }

    public init(config: JSONValue, file: String) {
        self.config = config
        self.file = file
    }

    /// An integer entry. - Throws: `CheckpointError.badConfig` when missing or not an integer.
    public func int(_ key: String) throws -> Int {
        guard let v = config[key]?.intValue else { throw CheckpointError.badConfig(file: file, key: key, expected: "an integer") }
        return v
    }

    /// A number entry. - Throws: `CheckpointError.badConfig` when missing or not a number.
    public func float(_ key: String) throws -> Float {
        guard let v = config[key]?.doubleValue else { throw CheckpointError.badConfig(file: file, key: key, expected: "a number") }
        return Float(v)
    }

    /// A string entry. - Throws: `CheckpointError.badConfig` when missing or not a string.
    public func string(_ key: String) throws -> String {
        guard let v = config[key]?.stringValue else { throw CheckpointError.badConfig(file: file, key: key, expected: "a string") }
        return v
    }

    /// An optional entry: nil when absent, else the value (throws when present with another type).
    public func optionalFloat(_ key: String) throws -> Float? { config[key] == nil ? nil : try float(key) }
    public func optionalInt(_ key: String) throws -> Int? { config[key] == nil ? nil : try int(key) }
    public func optionalString(_ key: String) throws -> String? { config[key] == nil ? nil : try string(key) }
}

extension Checkpoint {
    /// Checks the checkpoint's `architecture` attribute.
    /// - Throws: `CheckpointError.badConfig` naming the expected architecture.
    public func requireArchitecture(_ names: String...) throws {
        guard names.contains(architecture) else {
            throw CheckpointError.badConfig(file: path, key: "architecture",
                                            expected: names.map { "'\($0)'" }.joined(separator: " or ") + " (found '\(architecture)')")
        }
    }
}
