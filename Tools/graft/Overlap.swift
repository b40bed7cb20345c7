import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import SkillLocalization

/// `graft overlap MASK...`: how much the masks of different tasks (or seeds) share.
struct Overlap: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Jaccard and overlap coefficient between masks, per transformer layer and in total, for every pair.",
        discussion: """
            Example:
              graft overlap polarity.h5 subjectivity.h5
            Jaccard = |a∧b| / |a∨b|, overlap coefficient = |a∧b| / min(|a|, |b|) (0 when the \
            denominator is 0). The masks must cover the same parameters (same model).
            """)

    @OptionGroup var common: CommonOptions

    @Argument(help: ArgumentHelp("Mask files written by `graft localize` (two or more).", valueName: "mask"))
    var masks: [String]

    func validate() throws {
        guard masks.count >= 2 else { throw ValidationError("give at least two masks, got \(masks.count)") }
    }

    func run() throws {
        try ToolRunner.run(tool: "graft", command: "overlap", options: common, reflecting: self) { context in
            let loaded = try context.timer.measure("load") { try masks.map { try GraftMask.read(from: $0) } }
            var pairs: [OverlapMetrics.Pair] = []
            for i in loaded.indices {
                for j in loaded.indices where j > i {
                    let (total, layers) = try MaskOverlap.compare(loaded[i].mask, loaded[j].mask, fileB: masks[j])
                    log("graft overlap: \(masks[i]) vs \(masks[j]): Jaccard \(total.jaccard), overlap coefficient \(total.overlapCoefficient)", quiet: common.quiet)
                    pairs.append(OverlapMetrics.Pair(a: masks[i], b: masks[j], total: total,
                                                     perLayer: Dictionary(uniqueKeysWithValues: layers.map { ("\($0.key)", $0.value) })))
                }
            }
            var report = Report(tool: "graft", command: "overlap")
            report.paper = paperCitation
            report.inputs = ["masks": .array(try zip(masks, loaded).map { path, entry in
                var object: [String: JSONValue] = ["path": .string(path), "sha256": .string(try SHA256.hexDigest(ofFile: path)),
                                                   "selected": .int(entry.mask.selectedCount)]
                if let task = entry.attributes["task"]?.stringValue { object["task"] = .string(task) }
                if let seed = entry.attributes["data_seed"]?.intValue { object["data_seed"] = .int(seed) }
                return .object(object)
            })]
            try report.setMetrics(OverlapMetrics(pairs: pairs))
            report.units = ["jaccard": "fraction", "overlap_coefficient": "fraction", "intersection": "count", "union": "count"]
            return report
        }
    }
}

/// `graft overlap`'s metrics (snake_case keys in the report).
struct OverlapMetrics: Encodable {
    /// Two masks' overlap, in total and per transformer layer (key K of `encoder.layer.K`, −1 for others).
    struct Pair: Encodable {
        var a: String, b: String
        var total: MaskOverlap
        var perLayer: [String: MaskOverlap]
    }
    var pairs: [Pair]
}
