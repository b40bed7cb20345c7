import Foundation
import MLCore

/// How `GenerativeTraining` trains one model (Docs/pfami.md, "Training").
public struct GenerativeTrainingConfig: Sendable, Equatable {
    /// Optimizer steps (batches continue across epochs of the member set).
    public var steps: Int
    /// Member images per step (at most the member count).
    public var batchSize: Int
    /// Adam's learning rate (constant).
    public var learningRate: Float
    /// Largest global gradient norm (nil: none).
    public var clipNorm: Float?

    /// - Parameters: as the properties; clipping at norm 1 by default (`pfami train --clip`).
    public init(steps: Int, batchSize: Int, learningRate: Float, clipNorm: Float? = 1) {
        (self.steps, self.batchSize, self.learningRate, self.clipNorm) = (steps, batchSize, learningRate, clipNorm)
    }
}

/// Is the model over-fit measurably? Per-record mean probe losses of its members and of its hold-out
/// (Docs/pfami.md, "Training"): the gap is hold-out mean − member mean, its standard error
/// √(s²_m/n_m + s²_h/n_h); the gap is measurable when it exceeds two standard errors.
public struct GeneralizationGap: Sendable, Equatable, Codable {
    /// Mean per-record loss of the members and of the hold-out records.
    public var memberLoss: Double, holdoutLoss: Double
    /// holdoutLoss − memberLoss, and its standard error.
    public var gap: Double, standardError: Double
    /// gap > 2 · standardError.
    public var measurable: Bool
    /// The AUC of the Loss attack on these records (members positive, score −loss).
    public var lossAUC: Double

    /// - Throws: `MetricsError` for empty or non-finite losses.
    public init(memberLosses: [Double], holdoutLosses: [Double]) throws {
        func meanVar(_ v: [Double]) -> (Double, Double) {
            let m = v.reduce(0, +) / Double(v.count)
            return (m, v.count > 1 ? v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1) : 0)
        }
        let (mm, vm) = meanVar(memberLosses), (mh, vh) = meanVar(holdoutLosses)
        memberLoss = mm
        holdoutLoss = mh
        gap = mh - mm
        standardError = (vm / Double(memberLosses.count) + vh / Double(holdoutLosses.count)).squareRoot()
        measurable = gap > 2 * standardError
        lossAUC = try ROC.auroc(scores: (memberLosses + holdoutLosses).map { -$0 },
                                labels: Array(repeating: 1, count: memberLosses.count) + Array(repeating: 0, count: holdoutLosses.count))
    }
}

/// Trains a VAE or DDPM on its member images with MLCore's `TrainingLoop` (Adam, seeded shuffled
/// batches, the model's own objective), and measures the train / hold-out gap.
public enum GenerativeTraining {
    /// Trains `model` on `images` rows `members`; `onEvent` receives the loop's events.
    /// - Throws: `TrainingError`, `PFAMIError.emptySet` for no member.
    public static func train(_ model: ProbeModel, images: ImageSet, members: [Int], config: GenerativeTrainingConfig,
                             rng: inout RandomGenerator, onEvent: (TrainingEvent) -> Void = { _ in }) throws -> TrainingResult {
        guard !members.isEmpty else { throw PFAMIError.emptySet(what: "the member set", reason: "nothing to train on") }
        let batch = Swift.min(config.batchSize, members.count)
        let optimizer = Adam(model.parameters, learningRate: config.learningRate)
        let loop = try TrainingLoop(config: TrainingConfig(length: .steps(config.steps), clipNorm: config.clipNorm), optimizer: optimizer)
        let data = TrainingData<[Int]>.epochs { _, g in
            g.shuffledBatches(count: members.count, batchSize: batch, dropLast: true).map { $0.map { members[$0] } }
        }
        // The objective's noise (timesteps, ε) has its own generator, seeded from `rng`.
        var noise = RandomGenerator(seed: rng.next(), stream: 7)
        return try loop.run(data, rng: &rng, prepare: { rows, _ in images.batch(rows) },
                            loss: { x, _ in StepLoss(model.trainingLoss(x, rng: &noise)) }, onEvent: onEvent)
    }

    /// Mean probe loss per record over `probes` (noise seeded by row and probe), in batches.
    public static func recordLosses(_ model: ProbeModel, images: ImageSet, rows: [Int], probes: [Int], batchSize: Int, seed: UInt64) -> [Double] {
        var out: [Double] = []
        var start = 0
        while start < rows.count {
            let part = Array(rows[start..<Swift.min(start + batchSize, rows.count)])
            let x = images.batch(part)
            let seeds = part.map { FluctuationFeatures.noiseSeed(seed: seed, row: $0, neighbour: 0, common: true) }
            var sums = [Double](repeating: 0, count: part.count)
            for p in probes {
                for (i, l) in model.losses(x, probe: p, noiseSeeds: seeds).enumerated() { sums[i] += Double(l) }
            }
            out += sums.map { $0 / Double(probes.count) }
            start += part.count
        }
        return out
    }
}
