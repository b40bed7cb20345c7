import MLCore

/// What `graft finetune` records in a fine-tuned checkpoint's config under `graft`: the task and
/// training split it was fine-tuned on, and the pre-trained checkpoint it started from.
public struct FineTuneProvenance: Sendable, Equatable {
    /// The task fine-tuned on.
    public var task: SkillTask
    /// k per class, nil for the full training split.
    public var k: Int?
    /// The seed of the k-shot split.
    public var dataSeed: UInt64
    /// The pre-trained checkpoint's path and sha256.
    public var pretrainedPath: String, pretrainedSHA256: String

    /// Provenance from its parts.
    public init(task: SkillTask, k: Int?, dataSeed: UInt64, pretrainedPath: String, pretrainedSHA256: String) {
        self.task = task; self.k = k; self.dataSeed = dataSeed
        self.pretrainedPath = pretrainedPath; self.pretrainedSHA256 = pretrainedSHA256
    }

    /// As JSON (the `graft` object of the config).
    public var json: JSONValue {
        ["task": .string(task.rawValue), "k": k.map(JSONValue.int) ?? .null, "data_seed": .int(Int(dataSeed)),
         "pretrained": ["path": .string(pretrainedPath), "sha256": .string(pretrainedSHA256)]]
    }

    /// Reads the `graft` object of a config.
    /// - Throws: `SkillLocalizationError.malformedFile` when it is absent or malformed,
    ///   `.unknownTask` for an unknown task name.
    public init(config: JSONValue, file: String) throws {
        guard let g = config["graft"], let task = g["task"]?.stringValue, let seed = g["data_seed"]?.intValue,
              let path = g["pretrained"]?["path"]?.stringValue, let sha = g["pretrained"]?["sha256"]?.stringValue else {
            throw SkillLocalizationError.malformedFile(file: file, detail: "config has no valid `graft` object (not written by graft finetune)")
        }
        self.init(task: try SkillTask(named: task), k: g["k"]?.intValue, dataSeed: UInt64(seed),
                  pretrainedPath: path, pretrainedSHA256: sha)
    }
}

/// A pre-trained checkpoint and its fine-tuned classifier, loaded and checked against each other:
/// one model (`classifier`) whose graftable parameters can be set to the pre-trained, fine-tuned
/// or any grafted values; everything else is the pre-trained encoder's (embeddings, pooler) and the
/// fine-tuned head, shared by all three models (Docs/graft.md, "Adaptation to this project").
public final class ModelPair {
    /// The two checkpoint files, as given.
    public let pretrainedPath: String, finetunedPath: String
    /// The model; its graftable parameters hold the fine-tuned values after loading.
    public let classifier: SentenceClassifier
    /// θ_pre, θ_ft and Δ of the graftable parameters.
    public let space: GraftSpace
    /// The model's parameters for `space.names`, in order.
    public let graftParameters: [Parameter]
    /// The fine-tuned checkpoint's `graft` provenance.
    public let provenance: FineTuneProvenance
    /// The shared head's kind (config `classification_head`; checkpoints written before heads had
    /// kinds hold a probe).
    public let head: HeadKind
    /// max |θ_ft − θ_pre| over the non-graftable encoder parameters (0 when fine-tuning froze them,
    /// as `graft finetune` does; the grafted models use θ_pre there).
    public let nonGraftableMaxChange: Float

    /// Loads both checkpoints.
    /// - Throws: `SkillLocalizationError.modelMismatch` when the architectures, configs, parameter
    ///   names or shapes differ or the fine-tuned file has no classification head;
    ///   `CheckpointError`/`HDF5Error` for unreadable files (missing → exit 66);
    ///   `.malformedFile` when the fine-tuned checkpoint lacks its `graft` provenance.
    public init(pretrained: String, finetuned: String, maxLength: Int = 128) throws {
        pretrainedPath = pretrained
        finetunedPath = finetuned
        let pre = try Checkpoint(path: pretrained), ft = try Checkpoint(path: finetuned)
        func mismatch(_ detail: String) -> SkillLocalizationError {
            .modelMismatch(pretrained: pretrained, finetuned: finetuned, detail: detail)
        }
        guard pre.architecture == ft.architecture else {
            throw mismatch("architecture \(pre.architecture) vs \(ft.architecture)")
        }
        try pre.requireArchitecture("bert")
        let preConfig = try BertConfig(checkpoint: pre), ftConfig = try BertConfig(checkpoint: ft)
        guard preConfig == ftConfig else { throw mismatch("configs differ (\(preConfig) vs \(ftConfig))") }
        guard let headShape = ft.shape(of: "classifier.weight"), headShape.count == 2, ft.shape(of: "classifier.bias") == [headShape[0]] else {
            throw mismatch("the fine-tuned checkpoint has no classifier.weight [C, D] / classifier.bias [C] (run graft finetune)")
        }
        let ignored = BertEncoder.nonParameterKeys
        let preKeys = Set(pre.keys).subtracting(ignored)
        let ftKeys = Set(ft.keys).subtracting(ignored).subtracting(["classifier.weight", "classifier.bias"])
        if preKeys != ftKeys {
            let onlyPre = preKeys.subtracting(ftKeys).sorted(), onlyFt = ftKeys.subtracting(preKeys).sorted()
            throw mismatch("parameter names differ: \(onlyPre.count) only in the pre-trained (\(onlyPre.prefix(3).joined(separator: ", "))), \(onlyFt.count) only in the fine-tuned (\(onlyFt.prefix(3).joined(separator: ", ")))")
        }
        let shapeDiffs = preKeys.sorted().filter { pre.shape(of: $0) != ft.shape(of: $0) }
        if let first = shapeDiffs.first {
            throw mismatch("\(shapeDiffs.count) shapes differ (first: \(first) \(pre.shape(of: first)!) vs \(ft.shape(of: first)!))")
        }
        provenance = try FineTuneProvenance(config: ft.config, file: finetuned)
        let headName = ft.config["classification_head"]?.stringValue ?? HeadKind.probe.rawValue
        guard let kind = HeadKind(rawValue: headName) else {
            throw SkillLocalizationError.malformedFile(file: finetuned, detail: "unknown classification_head '\(headName)'")
        }
        head = kind

        let encoder = BertEncoder.build(config: ftConfig, checkpointKeys: Set(ft.keys), factory: .placeholders())
        let model = BertClassifier(encoder: encoder, labels: headShape[0], input: .mean, factory: .placeholders())
        try model.load(from: ft, ignoring: ignored)
        let tokenizer = try WordPieceTokenizer(checkpoint: pre)
        classifier = SentenceClassifier(model: model, tokenizer: tokenizer, maxLength: maxLength,
                                        normalizesFeatures: head.normalizesFeatures)

        // Pre-trained values everywhere but the head; graftable ones kept aside for the space.
        var preValues: [String: Tensor] = [:], ftValues: [String: Tensor] = [:]
        var change: Float = 0
        for p in encoder.parameters {
            let value = try pre.tensor(p.name)
            if GraftSpace.isGraftable(p.name) {
                preValues[p.name] = value
                ftValues[p.name] = p.value
            } else {
                change = max(change, (p.value - value).abs().max().item)
                p.value = value
            }
        }
        nonGraftableMaxChange = change
        let names = encoder.parameters.map(\.name).filter(GraftSpace.isGraftable)
        space = try GraftSpace(names: names, pretrained: preValues, finetuned: ftValues,
                               pretrainedFile: pretrained, finetunedFile: finetuned)
        let byName = model.namedParameters
        graftParameters = names.map { byName[$0]! }
    }

    /// Sets the graftable parameters to θ_pre (the pre-trained model with the shared head).
    public func usePretrained() { GraftSpace.assign(space.pretrained, to: graftParameters) }
    /// Sets the graftable parameters to θ_ft (the fine-tuned model).
    public func useFinetuned() { GraftSpace.assign(space.finetuned, to: graftParameters) }
    /// Sets the graftable parameters to the graft of `mask`.
    public func use(_ mask: GraftMask) { GraftSpace.assign(space.grafted(mask), to: graftParameters) }

    /// Freezes every parameter but the graftable ones (for mask training: no gradient is computed
    /// for embeddings or the head).
    public func freezeAllButGraftable() {
        for p in classifier.model.parameters { p.isTrainable = GraftSpace.isGraftable(p.name) }
    }
}
