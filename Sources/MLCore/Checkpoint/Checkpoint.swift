import Foundation

/// An MLCore checkpoint file opened for reading (Docs/CHECKPOINT_FORMAT.md): root attributes, the
/// model config, and a state dict under `/params` whose tensors are read lazily, one at a time.
public final class Checkpoint: @unchecked Sendable {
    /// The file as the caller named it.
    public let path: String
    /// The model family ("bert", "llama", "efficientnet-lite").
    public let architecture: String
    /// The hyper-parameters (the `config` attribute, JSON).
    public let config: JSONValue
    /// Provenance (the `source` attribute, JSON), `.null` when absent.
    public let source: JSONValue
    /// Every parameter's dotted name, sorted.
    public let keys: [String]
    let file: HDF5File
    /// The parameter datasets, opened once while indexing and kept open for the reads.
    let datasets: [String: HDF5Dataset]

    /// Opens `path` and reads its index (names, shapes, dtypes) but no tensor data.
    /// - Throws: `HDF5Error` (missing, not HDF5, truncated); `CheckpointError.notACheckpoint` when the
    ///   root attribute `format` is not "mlcore-checkpoint"; `ReportError.invalidJSON` for a bad config.
    public init(path: String) throws {
        self.path = path
        file = try HDF5File(path: path, mode: .readOnly)
        let attributes = file.root.attributes
        let format = try attributes.contains("format") ? try attributes.string("format") : nil
        guard format == "mlcore-checkpoint" else { throw CheckpointError.notACheckpoint(file: path, format: format) }
        architecture = try attributes.contains("architecture") ? try attributes.string("architecture") : ""
        config = try attributes.contains("config") ? try JSONValue.parse(try attributes.string("config")) : .object([:])
        source = try attributes.contains("source") ? try JSONValue.parse(try attributes.string("source")) : .null
        var datasets: [String: HDF5Dataset] = [:]
        if try file.root.contains("params") {
            let params = try file.group("/params")
            for entry in try params.walk() where entry.kind == .dataset {
                let key = entry.path.dropFirst("/params/".count).replacingOccurrences(of: "/", with: ".")
                datasets[key] = try file.dataset(entry.path)
            }
        }
        self.datasets = datasets
        keys = datasets.keys.sorted()
    }

    /// The stored shape of `key`, nil when absent.
    public func shape(of key: String) -> [Int]? { datasets[key]?.shape }

    /// Total number of stored elements under `/params`: trainable parameters and buffers alike
    /// (BatchNorm running statistics, integer counts such as `num_batches_tracked`), as torch's
    /// `sum(t.numel() for t in state_dict().values())` counts them; a module's trainable count is
    /// `Module.trainableParameters`.
    public var parameterCount: Int { datasets.values.reduce(0) { $0 + $1.count } }

    /// Reads one parameter as Float32 (float16/float64/integer storage converted).
    /// - Throws: `CheckpointError.missingKey`; `HDF5Error` for unreadable data.
    public func tensor(_ key: String) throws -> Tensor {
        guard let dataset = datasets[key] else { throw CheckpointError.missingKey(file: path, key: key) }
        if dataset.elementType.isInteger {
            let values = try dataset.read(as: Int64.self)
            return Tensor(values.map { Float($0) }, shape: dataset.shape)
        }
        var t = Tensor(uninitializedShape: dataset.shape)
        try t.withUnsafeMutableBufferPointer { try dataset.read(into: $0) }
        return t
    }

    /// Reads an integer parameter or buffer (e.g. `num_batches_tracked`).
    public func integers(_ key: String) throws -> NDArray<Int64> {
        guard let dataset = datasets[key] else { throw CheckpointError.missingKey(file: path, key: key) }
        return NDArray(try dataset.read(as: Int64.self), shape: dataset.shape)
    }

    /// Checks the stored keys and shapes against what a model expects, without reading data.
    /// - Parameter allowUnexpected: tolerate keys the model does not use (e.g. a pooler it drops).
    /// - Throws: one `CheckpointError.stateDictMismatch` listing every missing key, unexpected key and
    ///   shape mismatch.
    public func validate(expected: [String: [Int]], allowUnexpected: Bool = false) throws {
        let missing = expected.keys.filter { datasets[$0] == nil }.sorted()
        let unexpected = allowUnexpected ? [] : datasets.keys.filter { expected[$0] == nil }.sorted()
        let mismatches = expected.keys.sorted().compactMap { key -> CheckpointError.ShapeMismatch? in
            guard let stored = datasets[key]?.shape, stored != expected[key]! else { return nil }
            return .init(key: key, file: stored, model: expected[key]!)
        }
        if !missing.isEmpty || !unexpected.isEmpty || !mismatches.isEmpty {
            throw CheckpointError.stateDictMismatch(file: path, missing: missing, unexpected: unexpected,
                                                    shapeMismatches: mismatches)
        }
    }

    /// Strict load: validates every key and shape first (one error listing all problems), then reads
    /// the tensors.
    public func load(expected: [String: [Int]], allowUnexpected: Bool = false) throws -> [String: Tensor] {
        try validate(expected: expected, allowUnexpected: allowUnexpected)
        var out: [String: Tensor] = [:]
        for key in expected.keys { out[key] = try tensor(key) }
        return out
    }

    /// Every parameter, read in key order.
    public func loadAll() throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for key in keys { out[key] = try tensor(key) }
        return out
    }

    /// A loader whose keys are relative to `prefix` (e.g. "encoder.layer.0").
    public func scoped(_ prefix: String) -> ScopedLoader { ScopedLoader(checkpoint: self, prefix: prefix) }

    /// The `/tokenizer` group, when the checkpoint carries one.
    public func tokenizerGroup() throws -> HDF5Group? {
        try file.root.contains("tokenizer") ? try file.group("/tokenizer") : nil
    }
}

/// A view of a checkpoint under a key prefix, so a layer loads "attention.self.query.weight"
/// without knowing it is layer 3 of the encoder.
public struct ScopedLoader: Sendable {
    public let checkpoint: Checkpoint
    /// The dotted prefix, without a trailing dot ("" for the root).
    public let prefix: String

    /// A loader one level deeper: `scoped("encoder").scoped("layer.0")` reads "encoder.layer.0.*".
    public func scoped(_ sub: String) -> ScopedLoader { ScopedLoader(checkpoint: checkpoint, prefix: fullKey(sub)) }

    /// The absolute key of a relative one.
    public func fullKey(_ key: String) -> String { prefix.isEmpty ? key : "\(prefix).\(key)" }

    /// Keys below the prefix, relative to it.
    public var keys: [String] {
        prefix.isEmpty ? checkpoint.keys
            : checkpoint.keys.filter { $0.hasPrefix(prefix + ".") }.map { String($0.dropFirst(prefix.count + 1)) }
    }

    /// Reads `key` (relative) and checks its shape when given.
    /// - Throws: `CheckpointError.missingKey`, `.stateDictMismatch` for a wrong shape.
    public func tensor(_ key: String, shape: [Int]? = nil) throws -> Tensor {
        let full = fullKey(key)
        if let shape, let stored = checkpoint.shape(of: full), stored != shape {
            throw CheckpointError.stateDictMismatch(file: checkpoint.path, missing: [], unexpected: [],
                                                    shapeMismatches: [.init(key: full, file: stored, model: shape)])
        }
        return try checkpoint.tensor(full)
    }
}

/// Writes MLCore checkpoints (Docs/CHECKPOINT_FORMAT.md).
public enum CheckpointWriter {
    /// Saves a state dict with its architecture, config and provenance.
    /// - Parameters:
    ///   - stateDict: dotted names → tensors (written Float32, or Float16 with `halfPrecision`).
    ///   - deflate: gzip level for chunked (≤ 1 MiB chunks), compressed datasets (nil: contiguous).
    ///   - attributes: extra root attributes (e.g. `name`, `license`).
    /// - Throws: `HDF5Error` (cannot create, disk full), `ReportError.nonFiniteNumber` for a config
    ///   that cannot be JSON.
    public static func save(_ stateDict: [String: Tensor], to path: String, architecture: String,
                            config: JSONValue, source: JSONValue = .null,
                            attributes: [String: HDF5AttributeValue] = [:],
                            halfPrecision: Bool = false, deflate: Int? = nil) throws {
        // Written beside the target and renamed over it at the end, so a failure part-way leaves any
        // existing checkpoint intact.
        let configText = try config.jsonText()
        let sourceText = source == .null ? nil : try source.jsonText()
        try HDF5File.createAtomically(path) { file in
            let root = file.root.attributes
            try root.set("format", .string("mlcore-checkpoint"))
            try root.set("format_version", .int(1))
            try root.set("architecture", .string(architecture))
            try root.set("config", .string(configText))
            if let sourceText { try root.set("source", .string(sourceText)) }
            for (k, v) in attributes.sorted(by: { $0.key < $1.key }) { try root.set(k, v) }
            let params = try file.root.createGroup("params")
            for key in stateDict.keys.sorted() {
                let t = stateDict[key]!
                try t.withUnsafeBufferPointer { buffer in
                    _ = try params.createDataset(key.replacingOccurrences(of: ".", with: "/"), shape: t.shape,
                                                 data: buffer, storedAs: halfPrecision ? .float16 : .float32,
                                                 deflate: deflate)
                }
            }
        }
    }
}
