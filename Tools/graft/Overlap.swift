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
        try ToolRunner.run(tool: "graft", command: "overlap", options: common) { context in
            let loaded = try context.timer.measure("load") { try masks.map { try GraftMask.read(from: $0) } }
            func describe(_ o: MaskOverlap) -> JSONValue {
                ["size_a": .int(o.sizeA), "size_b": .int(o.sizeB), "intersection": .int(o.intersection),
                 "union": .int(o.union), "parameters": .int(o.total), "jaccard": .double(o.jaccard),
                 "overlap_coefficient": .double(o.overlapCoefficient)]
            }
            var pairs: [JSONValue] = []
            for i in loaded.indices {
                for j in loaded.indices where j > i {
                    let (total, layers) = try MaskOverlap.compare(loaded[i].mask, loaded[j].mask, fileB: masks[j])
                    log("graft overlap: \(masks[i]) vs \(masks[j]): Jaccard \(total.jaccard), overlap coefficient \(total.overlapCoefficient)", quiet: common.quiet)
                    pairs.append(["a": .string(masks[i]), "b": .string(masks[j]), "total": describe(total),
                                  "per_layer": .object(Dictionary(uniqueKeysWithValues: layers.map { ("\($0.key)", describe($0.value)) }))])
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
            report.config = ["masks": JSONValue(masks)]
            report.metrics = ["pairs": .array(pairs)]
            report.units = ["jaccard": "fraction", "overlap_coefficient": "fraction", "intersection": "count", "union": "count"]
            return report
        }
    }
}
