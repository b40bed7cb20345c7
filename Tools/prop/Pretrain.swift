import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import PROP

/// Reads `prop sample-sets` output (unsharded or merged; shard headers are refused) into instances.
/// - Throws: `PROPError.malformedData` naming the line.
func readWordSets(path: String, documentIds: [String]) throws -> [PretrainingInstance] {
    try requireFile(path, "word-set file")
    let text = try String(contentsOfFile: path, encoding: .utf8)
    var out: [PretrainingInstance] = []
    for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
        func bad(_ what: String) -> PROPError { .malformedData(file: path, detail: "line \(n + 1): \(what)") }
        let value: JSONValue
        do { value = try JSONValue.parse(String(line)) } catch { throw bad("not JSON") }
        if value[ShardHeader.key] != nil { throw bad("a shard header: join the shards with `prop merge` first") }
        guard let d = value["doc_index"]?.intValue, let id = value["doc_id"]?.stringValue, case .array(let pairs)? = value["rep_word_sets"] else {
            throw bad("expected {\"doc_index\", \"doc_id\", \"rep_word_sets\"}")
        }
        guard d >= 0, d < documentIds.count, documentIds[d] == id else {
            throw bad("document \(d) '\(id)' is not document \(d) of this corpus (sample-sets run on another corpus?)")
        }
        for case .array(let sets) in pairs {
            guard sets.count == 2, case .array(let a) = sets[0], case .array(let b) = sets[1], a.count == 2, b.count == 2,
                  let wa = a[0].stringValue, let sa = a[1].doubleValue, let wb = b[0].stringValue, let sb = b[1].doubleValue else {
                throw bad("a pair is not [[words, score], [words, score]]")
            }
            let pair = WordSetPair(sets: [wa.split(separator: " ").map(String.init), wb.split(separator: " ").map(String.init)], scores: [sa, sb])
            out.append(PretrainingInstance(document: d, positive: pair.sets[pair.positive], negative: pair.sets[1 - pair.positive]))
        }
    }
    return out
}

/// Loads a BERT encoder from a checkpoint that may hold more than the encoder (a `prop pretrain`
/// output): the encoder's keys strictly, others ignored.
func loadEncoder(path: String) throws -> (BertEncoder, Checkpoint) {
    try requireFile(path, "model")
    let checkpoint = try Checkpoint(path: path)
    let config = try BertEncoder.config(of: checkpoint)
    let encoder = BertEncoder.build(config: config, checkpointKeys: Set(checkpoint.keys), factory: .placeholders())
    try encoder.load(from: checkpoint, allowUnexpected: true)
    return (encoder, checkpoint)
}

/// `prop pretrain`: continued pre-training of MiniLM with ROP + MLM (or MLM alone).
struct Pretrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Continue pre-training a BERT encoder with PROP's ROP + MLM objective (or the MLM-only control) on sampled word-set pairs.",
        discussion: """
            Example:
              prop sample-sets --pairs 10 > sets.jsonl
              prop pretrain --sets sets.jsonl --steps 200 --save prop.h5 -o prop.json
              prop pretrain --sets sets.jsonl --steps 200 --objective mlm --save mlm.h5 -o mlm.json
            Instances are [CLS] word set [SEP] document [SEP] (the collection's pre-training corpus, as \
            sample-sets used it); the document is whole-word masked once per pair (15%, ≤ 60 \
            predictions) and shared by the positive and negative rows. ROP: a Linear(384 → 1) on the \
            pooled [CLS], hinge on the pair's softmax. MiniLM ships no MLM head: one is initialised with \
            its decoder tied to the word embeddings. The MLM-only control sees the same batches and masks \
            with the same seed; only the ROP term differs.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var collection: CollectionOptions
    @OptionGroup var weights: ModelWeightsOption<MiniLMDefault>
    @OptionGroup var optimizer: OptimizerOptions<PretrainDefaults>

    @Option(help: ArgumentHelp("The WordPiece tokenizer: a datasets.toml model name or .h5 path with a tokenizer (a `prop pretrain` checkpoint has none).",
                               valueName: "name|file"))
    var tokenizer = "minilm-l6"

    @Option(help: ArgumentHelp("Word-set pairs written by `prop sample-sets` (--corpus pretraining).", valueName: "file"))
    var sets: String

    @Option(help: "prop (ROP + MLM) or mlm (the MLM-only control).")
    var objective = "prop"

    @Option(help: "Word-set pairs per step (two rows each).")
    var pairsPerStep = 4

    @Option(help: "Tokens per instance.")
    var maxLength = 512

    @Option(help: ArgumentHelp("Write the pre-trained model (encoder, ROP head, MLM head) to this HDF5 checkpoint.", valueName: "file"))
    var save: String?

    func validate() throws {
        guard PretrainingObjective(rawValue: objective) != nil else { throw ValidationError("--objective must be prop or mlm, got '\(objective)'") }
        guard pairsPerStep >= 1 else { throw ValidationError("--pairs-per-step must be ≥ 1, got \(pairsPerStep)") }
        guard optimizer.learningRate.isFinite && optimizer.weightDecay.isFinite else { throw ValidationError("--learning-rate and --weight-decay must be finite") }
        guard maxLength >= 8 && maxLength <= 512 else { throw ValidationError("--max-length must be in 8...512, got \(maxLength)") }
    }

    func run() throws {
        try ToolRunner.run(tool: "prop", command: "pretrain", options: common, reflecting: self) { context in
            let (c, path) = try context.timer.measure("load") { try collection.load() }
            let ids = c.pretrainingTexts.indices.map { "bg-\($0)" }
            let instances = try readWordSets(path: sets, documentIds: ids)
            let modelPath = try weights.resolve()
            let (encoder, checkpoint) = try context.timer.measure("load") { try loadEncoder(path: modelPath) }
            let tokenizerPath = try resolveNameOrPath(tokenizer)
            try requireFile(tokenizerPath, "tokenizer")
            let wordPiece = try WordPieceTokenizer(checkpoint: try Checkpoint(path: tokenizerPath))
            let documents = wordPiece.encodeBatch(c.pretrainingTexts, addSpecialTokens: false).map { Array($0.ids.prefix(maxLength)) }
            let model = PROPModel(encoder: encoder, tokenizer: wordPiece, seed: common.seed &+ 1)
            let steps = optimizer.steps
            let config = PretrainingConfig(steps: steps, pairsPerStep: pairsPerStep, learningRate: Float(optimizer.learningRate),
                                           weightDecay: Float(optimizer.weightDecay), maxLength: maxLength,
                                           objective: PretrainingObjective(rawValue: objective)!)
            let progress = TrainingProgress("prop pretrain (\(objective))", steps: steps, logEvery: max(1, steps / 10), quiet: common.quiet)
            let result = try context.timer.measure("train") {
                try model.train(instances, documents: documents, config: config, rng: &context.random, onEvent: progress.handle)
            }
            progress.finish()
            if let save {
                guard case .object(var modelConfig) = checkpoint.config else {
                    throw PROPError.malformedData(file: modelPath, detail: "config is not a JSON object")
                }
                modelConfig["prop_pretraining"] = ["objective": .string(objective), "steps": .int(steps), "pairs_per_step": .int(pairsPerStep),
                                                   "learning_rate": .double(optimizer.learningRate), "max_length": .int(maxLength),
                                                   "seed": .string("\(common.seed)"), "base": .string(modelPath)]
                try context.timer.measure("save") {
                    try CheckpointWriter.save(model.stateDict(), to: save, architecture: checkpoint.architecture, config: .object(modelConfig),
                                              source: checkpoint.source)
                }
            }
            var report = Report(tool: "prop", command: "pretrain")
            report.paper = paperCitation
            report.inputs = try collection.inputs(c, path: path).merging(["sets": try fileInput(sets), "weights": try fileInput(modelPath)]) { a, _ in a }
            report.metrics = trainingSummary(result, instances: instances.count)
            report.units = ["seconds_per_step": "s", "mlm_loss": "nats per masked token", "rop_loss": "hinge on softmax probabilities"]
            return report
        }
    }
}

/// `prop pretrain`'s optimizer defaults (the reference's run_pretraining.py: AdamW lr 2e-5, weight
/// decay 0.01; 10% warm-up then linear decay).
enum PretrainDefaults: OptimizerDefaults {
    static var learningRate: Double? { 2e-5 }
    static var weightDecay: Double? { 0.01 }
    static var steps: Int? { 1000 }
}

/// `prop rerank`'s optimizer defaults (AdamW lr 2e-5, weight decay 0.01, 200 steps per fold).
enum RerankDefaults: OptimizerDefaults {
    static var learningRate: Double? { 2e-5 }
    static var weightDecay: Double? { 0.01 }
    static var steps: Int? { 200 }
}

/// Loss and metric means over the first and last tenth of a run's steps, and its speed.
func trainingSummary(_ result: TrainingResult, instances: Int) -> [String: JSONValue] {
    let steps = result.steps
    let tenth = max(1, steps.count / 10)
    func mean(_ records: ArraySlice<TrainingStepRecord>, _ key: String?) -> JSONValue {
        let values = records.compactMap { key == nil ? $0.loss : $0.metrics[key!] }
        return values.isEmpty ? .null : .double(values.reduce(0, +) / Double(values.count))
    }
    var summary: [String: JSONValue] = ["steps": .int(steps.count), "instances": .int(instances),
                                        "seconds_per_step": .double(result.secondsPerStep)]
    for (name, key) in [("loss", nil), ("mlm_loss", "mlm_loss"), ("rop_loss", "rop_loss"), ("rop_accuracy", "rop_accuracy"),
                        ("positive_first", "positive_first")] as [(String, String?)] {
        let first = mean(steps.prefix(tenth), key), last = mean(steps.suffix(tenth), key)
        if first != .null { summary[name] = ["first_tenth": first, "last_tenth": last] }
    }
    return summary
}
