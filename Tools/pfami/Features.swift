import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import PFAMI

/// `pfami features`: probe losses of the attacked model's members and hold-out records at each record
/// and its neighbours, under the attacked model and the reference model; the calibrated fluctuation D.
struct Features: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Probe losses at each record and its K crop neighbours under the target and reference models; D into an HDF5 file.",
        discussion: """
            Example:
              pfami features --target target.h5 --reference reference.h5 --save features.h5 -o features.json
              parallel pfami features --target t.h5 --reference r.h5 --shard {}/4 --save f-{}.h5 ::: 0 1 2 3
              pfami merge --save features.h5 f-*.h5
            The records are the attacked model's own members (label 1) and hold-out (label 0), from the \
            split recorded in its checkpoint; the reference model must come from the same dataset and \
            split and another role. Neighbour k is a centre crop to ⌊S·λ_k⌋ (λ = linspace(0.95, 0.70, K)) \
            resized back bilinearly. Each record costs (1 + K)·J·2 model queries. Noise is seeded by \
            --seed, the dataset row, the neighbour and the model, so shards reproduce the unsharded file \
            exactly; with --common-random-numbers a record and its neighbours share each probe's noise.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var sharding: ShardOption

    @Option(help: ArgumentHelp("The attacked model (a `pfami train` checkpoint).", valueName: "file"))
    var target: String

    @Option(help: ArgumentHelp("The reference model φ, trained on other data of the same split.", valueName: "file"))
    var reference: String

    @Option(help: ArgumentHelp("Probes (DDPM timesteps, VAE passes; default: 0,50,…,450 for a DDPM, 0..9 for a VAE, 0 for the KDE).", valueName: "j,j"))
    var probes: String?

    @Option(help: "Neighbours K.")
    var neighbours = 10

    @Option(help: "Crop strength λ of the first neighbour.")
    var strengthStart = 0.95

    @Option(help: "Crop strength λ of the last neighbour.")
    var strengthEnd = 0.70

    @Flag(help: "Common random numbers: the same noise for a record and its neighbours at each probe.")
    var commonRandomNumbers = false

    @Option(help: "At most this many members and this many hold-out records (the first of each, for quick runs).")
    var recordsPerClass: Int?

    @Option(help: "Records per forward pass.")
    var batchSize = 32

    @Option(help: ArgumentHelp("Where to write the features (HDF5).", valueName: "file"))
    var save: String

    func validate() throws {
        guard neighbours >= 1, neighbours <= 1000 else { throw ValidationError("--neighbours must be in 1...1000") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        if let recordsPerClass, recordsPerClass < 1 { throw ValidationError("--records-per-class must be at least 1") }
        if let probes { _ = try parseIntegers(probes, option: "probes") }
    }

    func run() throws {
        try ToolRunner.run(tool: "pfami", command: "features", options: common, reflecting: self) { context in
            let (targetModel, tp) = try context.timer.measure("load") { try PFAMICheckpoint.load(target) }
            let (referenceModel, rp) = try PFAMICheckpoint.load(reference)
            guard tp.datasetSHA256 == rp.datasetSHA256, tp.members == rp.members, tp.holdout == rp.holdout, tp.splitSeed == rp.splitSeed else {
                throw PFAMIError.modelMismatch("\(reference): the reference model was trained on another dataset or split than \(target) (dataset \(rp.dataset), members \(rp.members), hold-out \(rp.holdout), split seed \(rp.splitSeed) vs \(tp.dataset), \(tp.members), \(tp.holdout), \(tp.splitSeed))")
            }
            guard tp.role != rp.role else {
                throw PFAMIError.modelMismatch("\(reference): the reference model has the attacked model's role (\(tp.role.rawValue)); its members would be the records")
            }
            guard targetModel.kind == referenceModel.kind else {
                throw PFAMIError.modelMismatch("\(reference): a \(referenceModel.kind.rawValue) cannot calibrate a \(targetModel.kind.rawValue)")
            }
            let datasetSHA = try SHA256.hexDigest(ofFile: tp.dataset)
            guard datasetSHA == tp.datasetSHA256 else {
                throw PFAMIError.modelMismatch("\(tp.dataset): the dataset changed since \(target) was trained (SHA-256 \(datasetSHA), expected \(tp.datasetSHA256))")
            }
            let images = try context.timer.measure("data") { try ImageSet(path: tp.dataset, size: targetModel.size) }
            let splits = try tp.splits()
            let limit = recordsPerClass ?? Int.max
            let memberRows = Array(splits.members(of: tp.role).prefix(limit)), holdoutRows = Array(splits.holdout(of: tp.role).prefix(limit))
            let records = memberRows + holdoutRows
            let labels = Array(repeating: 1, count: memberRows.count) + Array(repeating: 0, count: holdoutRows.count)
            let probeList = try probes.map { try parseIntegers($0, option: "probes") } ?? defaultProbes(targetModel.kind)
            if targetModel.kind == .ddpm, let bad = probeList.first(where: { !(0..<1000).contains($0) }) {
                throw PFAMIError.invalidArgument("probe timestep \(bad) is outside the schedule's 0..<1000")
            }
            let neighbourhood = try Neighbourhood(start: strengthStart, end: strengthEnd, count: neighbours)
            let config = FeatureConfig(probes: probeList, neighbourhood: neighbourhood, commonRandomNumbers: commonRandomNumbers,
                                       seed: common.seed, batchSize: batchSize)
            let range = sharding.shard?.range(of: records.count, alignment: batchSize) ?? 0..<records.count
            let inputs: [String: JSONValue] = ["target": try fileInput(target), "reference": try fileInput(reference),
                                               "dataset": ["path": .string(tp.dataset), "sha256": .string(datasetSHA)]]
            let geometry = neighbourhood.geometry(size: images.size)
            let provenance: JSONValue = [
                "tool": "pfami features", "model_kind": .string(targetModel.kind.rawValue), "target": inputs["target"]!, "reference": inputs["reference"]!,
                "dataset": inputs["dataset"]!, "attacked_role": .string(tp.role.rawValue), "reference_role": .string(rp.role.rawValue),
                "probes": JSONValue(probeList.map(Double.init)), "strengths": JSONValue(neighbourhood.strengths),
                "crop_sizes": JSONValue(geometry.map { Double($0.crop) }), "crop_offsets": JSONValue(geometry.map { Double($0.offset) }),
                "common_random_numbers": .bool(commonRandomNumbers), "seed": .string(String(common.seed)),
                "records": .int(records.count), "members": .int(memberRows.count), "holdout": .int(holdoutRows.count),
            ]
            let rows = Array(records[range]), rowLabels = Array(labels[range])
            let bar = ProgressBar("pfami features", total: rows.count, unit: "records", quiet: common.quiet)
            let started = Date()
            let block = try context.timer.measure("features") {
                try FluctuationFeatures.compute(target: targetModel, reference: referenceModel, images: images, rows: rows, labels: rowLabels,
                                                config: config) { bar.advance(by: $0) }
            }
            bar.finish()
            let seconds = Date().timeIntervalSince(started)
            try context.timer.measure("save") {
                try HDF5File.createAtomically(save) { file in
                    try FeatureFile.write(block, provenance: provenance, to: file)
                    if let shard = sharding.shard {
                        let header = ShardHeader(shard: shard, records: records.count, alignment: batchSize,
                                                 job: ["tool": "pfami", "command": "features", "config": ShardOption.jobConfig(of: self, derived: ["save": .null]),
                                                       "inputs": .object(inputs)])
                        try ShardMerger.writeHeader(header, to: file)
                    }
                }
            }
            let queries = AttackMethod.met(neighbour: nil).queries(probes: probeList.count, neighbours: neighbours)
            var report = Report(tool: "pfami", command: "features")
            report.paper = paperCitation
            report.inputs = inputs
            report.config = ["probes": JSONValue(probeList.map(Double.init)), "strengths": JSONValue(neighbourhood.strengths),
                             "crop_sizes": JSONValue(geometry.map { Double($0.crop) }), "crop_offsets": JSONValue(geometry.map { Double($0.offset) })]
            try report.setMetrics(FeatureMetrics(records: rows.count, members: rowLabels.reduce(0, +), holdout: rowLabels.count - rowLabels.reduce(0, +),
                                                 queriesPerRecord: queries, recordsPerSecond: Double(rows.count) / Swift.max(seconds, 1e-9),
                                                 queriesPerSecond: Double(rows.count * queries) / Swift.max(seconds, 1e-9)))
            report.units = ["records_per_second": "records/s (wall, this process)", "queries_per_second": "model queries/s (one image at one probe)"]
            return report
        }
    }
}

/// `pfami features`' metrics.
struct FeatureMetrics: Encodable {
    var records: Int, members: Int, holdout: Int
    var queriesPerRecord: Int
    var recordsPerSecond: Double, queriesPerSecond: Double
}
