import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import PFAMI

/// `pfami attack`: scores the records of a feature file and reports the attack's quality.
struct Attack: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score records from a feature file (PFAMI_Met, Loss, LiRA-style): JSON lines on stdout, metrics in the report.",
        discussion: """
            Example:
              pfami attack --features features.h5 --method met --control control.h5 -o attack.json > scores.jsonl
              mlcore score auroc < scores.jsonl
            Methods: met (PFAMI_Met: mean over probes of D at neighbour --k, the reference code's k* = 5, \
            or --k all, the paper's mean over neighbours), met-uncalibrated (no reference model), loss \
            (−mean L_θ), lira (mean L_φ − L_θ, one reference model), nns (PFAMI_NNs: a small CNN on D \
            trained on --shadow, the shadow model's features), secmi (−SecMI's DDIM round-trip error, \
            DDPM features only). Higher scores mean member. Each \
            stdout line is {"row", "label", "score"} (label 1 = member). The report gives AUC, ASR (TPR at \
            the point minimising |TPR − (1 − FPR)|, on the full curve and, as the reference code, on the thinned one), the maximum balanced accuracy, TPR at 1% FPR (the \
            achievable max{TPR : FPR ≤ 1%} and the reference's nearest point on the thinned curve), the \
            queries per record and the ROC curve (scikit-learn's thinned points); with --control, the same method's AUC on the \
            positive-control features.
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: ArgumentHelp("Feature file of `pfami features` (merged when run in shards).", valueName: "file"))
    var features: String

    @Option(help: "Attack: met, met-uncalibrated, loss, lira, nns or secmi.")
    var method = "met"

    @Option(help: ArgumentHelp("PFAMI_Met's neighbour k* (0-based) or 'all'.", valueName: "k|all"))
    var k = "5"

    @Option(help: ArgumentHelp("Positive-control feature file (the KDE models): its AUC under the same method (PFAMI_Met for nns and secmi) goes into the report.", valueName: "file"))
    var control: String?

    @Option(help: ArgumentHelp("nns: features of the shadow model's members and hold-out (`pfami features --target shadow.h5`), to train the classifier on.", valueName: "file"))
    var shadow: String?

    @Option(help: "nns: full-batch Adam steps of the classifier.")
    var nnSteps = 300

    @Option(help: "nns: the classifier's learning rate.")
    var nnLearningRate = 0.01

    @Flag(help: "nns: sort D over the probes (the VAE's exchangeable passes) before the classifier, as the reference code meant to; off reproduces its published, unsorted numbers.")
    var nnSortProbes = false

    /// The method's `AttackMethod`; nns is scored by `FluctuationClassifier`, and PFAMI_Met stands in for it.
    func attackMethod(neighbours: Int) throws -> AttackMethod {
        let neighbour: Int? = k == "all" ? nil : Int(k)
        switch method {
        case "nns": return .met(neighbour: neighbour)
        case "secmi": return .secmi
        case "met": return .met(neighbour: neighbour)
        case "met-uncalibrated": return .metUncalibrated(neighbour: neighbour)
        case "loss": return .loss
        case "lira": return .lira
        default: throw ValidationError("--method must be met, met-uncalibrated, loss, lira, nns or secmi, got '\(method)'")
        }
    }

    func validate() throws {
        guard k == "all" || (Int(k).map { $0 >= 0 } ?? false) else { throw ValidationError("--k must be a neighbour index ≥ 0 or 'all', got '\(k)'") }
        _ = try attackMethod(neighbours: 10)
        if method == "nns" && shadow == nil { throw ValidationError("--method nns needs --shadow FILE (the shadow model's features)") }
        if method != "nns" && (shadow != nil || nnSortProbes) { throw ValidationError("--shadow and --nn-sort-probes are for --method nns") }
        guard nnSteps >= 1, nnLearningRate > 0 else { throw ValidationError("--nn-steps must be ≥ 1 and --nn-learning-rate > 0") }
    }

    func run() throws {
        var quietCommon = common
        if common.output == nil { quietCommon.output = "/dev/null" }  // stdout carries the JSON lines
        try ToolRunner.run(tool: "pfami", command: "attack", options: quietCommon, reflecting: self) { context in
            let (block, provenance) = try context.timer.measure("read") { try FeatureFile.read(features) }
            let attack = try attackMethod(neighbours: block.neighbourCount)
            var inputs: [String: JSONValue] = ["features": try fileInput(features)]
            var scores: [Double]
            var queries = attack.queries(probes: block.probeCount, neighbours: block.neighbourCount)
            var nn: NNReport? = nil
            if method == "nns", let shadow {
                let (shadowBlock, shadowProvenance) = try FeatureFile.read(shadow)
                guard shadowBlock.probeCount == block.probeCount, shadowBlock.neighbourCount == block.neighbourCount else {
                    throw PFAMIError.badFeatures(file: shadow, reason: "J = \(shadowBlock.probeCount), K = \(shadowBlock.neighbourCount); the target's features have J = \(block.probeCount), K = \(block.neighbourCount)")
                }
                // Training on the attacked model's own members and hold-out would leak the labels being scored.
                let role = { (p: JSONValue) in p["attacked_role"]?.stringValue ?? "?" }, kind = { (p: JSONValue) in p["model_kind"]?.stringValue ?? "?" }
                guard role(shadowProvenance) != role(provenance), kind(shadowProvenance) == kind(provenance) else {
                    throw PFAMIError.badFeatures(file: shadow, reason: "its records are those of a \(kind(shadowProvenance)) \(role(shadowProvenance)) model; PFAMI_NNs needs another model of the attacked \(kind(provenance)) \(role(provenance))'s kind (the shadow)")
                }
                let classifier = FluctuationClassifier(sortProbes: nnSortProbes, factory: ParameterFactory(seed: common.seed))
                let result = try context.timer.measure("nns") { try classifier.train(shadow: shadowBlock, steps: nnSteps, learningRate: Float(nnLearningRate)) }
                scores = classifier.scores(block)
                nn = NNReport(shadowRecords: shadowBlock.count, finalLoss: result.steps.last?.loss ?? .nan,
                              shadowAuc: try ROC.auroc(scores: classifier.scores(shadowBlock), labels: shadowBlock.labels))
                inputs["shadow"] = try fileInput(shadow)
            } else {
                scores = try attack.scores(block)
            }
            if method == "nns" { queries = AttackMethod.met(neighbour: nil).queries(probes: block.probeCount, neighbours: block.neighbourCount) }
            let metrics = try AttackMetrics(scores: scores, labels: block.labels)
            var text = ""
            for (i, s) in scores.enumerated() {
                let line: JSONValue = ["row": .int(block.rows[i]), "label": .int(block.labels[i]), "score": .double(s)]
                text += try line.jsonText() + "\n"
            }
            FileHandle.standardOutput.write(Data(text.utf8))
            var controlAUC: Double? = nil
            // SecMI needs a DDPM; the control (an analytic KDE) is scored by PFAMI_Met with the same k*.
            let controlMethod: AttackMethod = attack == .secmi ? .met(neighbour: k == "all" ? nil : Int(k)) : attack
            if let control {
                let (controlBlock, _) = try FeatureFile.read(control)
                controlAUC = try ROC.auroc(scores: try controlMethod.scores(controlBlock), labels: controlBlock.labels)
                inputs["control"] = try fileInput(control)
            }
            let curve = try ROC.thinnedCurve(scores: scores, labels: block.labels)
            var report = Report(tool: "pfami", command: "attack")
            report.paper = paperCitation
            report.inputs = inputs
            report.config = ["method": .string(method == "nns" ? "nns" : attack.description), "feature_provenance": provenance,
                             "control_method": .string(controlMethod.description)]
            try report.setMetrics(AttackReport(auc: metrics.auc, asr: metrics.asr, asrReference: metrics.asrReference, maxBalancedAccuracy: metrics.maxBalancedAccuracy,
                                               tprAt1PctFpr: metrics.tprAt1Fpr, tprAt1PctFprReference: metrics.tprAt1FprReference,
                                               members: metrics.members, nonMembers: metrics.nonMembers, queriesPerRecord: queries,
                                               controlAuc: controlAUC, nns: nn,
                                               roc: .init(fpr: curve.falsePositiveRates, tpr: curve.truePositiveRates)))
            report.units = ["auc": "fraction (members positive)", "asr": "TPR at the equal-error point", "asr_reference": "TPR at the thinned curve's equal-error corner (the reference's ASR)", "queries_per_record": "model queries"]
            return report
        }
    }
}

/// `pfami attack`'s metrics.
struct AttackReport: Encodable {
    struct Curve: Encodable { var fpr: [Double], tpr: [Double] }
    /// ASR on the full curve and the reference's rule on the thinned curve.
    var auc: Double, asr: Double, asrReference: Double, maxBalancedAccuracy: Double
    /// max{TPR : FPR ≤ 1%} and the reference's nearest-point variant.
    var tprAt1PctFpr: Double, tprAt1PctFprReference: Double
    var members: Int, nonMembers: Int
    var queriesPerRecord: Int
    @NullWhenAbsent var controlAuc: Double?
    @NullWhenAbsent var nns: NNReport?
    var roc: Curve
}

/// PFAMI_NNs' training facts: shadow records, the last full-batch loss, the AUC on its own training set.
struct NNReport: Encodable {
    var shadowRecords: Int, finalLoss: Double, shadowAuc: Double
}
