import Foundation
import MLCore

/// What the base patch picks (Docs/graft.md, "What the base patch picks"): whether the largest |Δ|
/// are simply the largest pre-trained weights — as uniform weight decay would make them
/// (Δ ≈ −lr·wd·steps·θ_pre), the same entries for every task. Encodable for reports.
public struct BasePatchDiagnostics: Sendable, Equatable, Encodable {
    /// Entries in the patch.
    public var selected: Int
    /// Pearson correlation of |Δ| and |θ_pre| among the patch's entries (nil for fewer than 2
    /// entries or a constant column).
    public var pearsonAbsDeltaAbsPretrainedSelected: Double?
    /// The same correlation over all graftable entries.
    public var pearsonAbsDeltaAbsPretrainedAll: Double?
    /// Mean |θ_pre| among the patch's entries and over all entries.
    public var meanAbsPretrainedSelected: Double, meanAbsPretrainedAll: Double
    /// Pearson correlation of Δ and θ_pre (signed) among the patch's entries: −1 is pure shrinkage.
    public var pearsonDeltaPretrainedSelected: Double?
    /// |patch ∩ top-s |θ_pre|| / s: the fraction of the patch that is also among the s largest
    /// pre-trained weights (s = the patch's size; ~s/N by chance).
    public var overlapWithLargestPretrained: Double

    /// The diagnostics of `patch` over `space`.
    /// - Throws: `SkillLocalizationError.maskMismatch` when the patch does not fit the space.
    public init(space: GraftSpace, patch: GraftMask) throws {
        try patch.check(fits: space, file: "base patch")
        var selectedStats = PairStats(), signedStats = PairStats(), allStats = PairStats()
        for k in space.names.indices {
            space.pretrained[k].contiguous().withUnsafeBufferPointer { pre in
                space.delta[k].contiguous().withUnsafeBufferPointer { delta in
                    patch.values[k].withUnsafeBufferPointer { m in
                        for i in pre.indices {
                            let a = Double(abs(delta[i])), b = Double(abs(pre[i]))
                            allStats.add(a, b)
                            if m[i] != 0 {
                                selectedStats.add(a, b)
                                signedStats.add(Double(delta[i]), Double(pre[i]))
                            }
                        }
                    }
                }
            }
        }
        selected = Int(selectedStats.n)
        pearsonAbsDeltaAbsPretrainedSelected = selectedStats.pearson
        pearsonAbsDeltaAbsPretrainedAll = allStats.pearson
        pearsonDeltaPretrainedSelected = signedStats.pearson
        meanAbsPretrainedSelected = selectedStats.n > 0 ? selectedStats.sumY / selectedStats.n : 0
        meanAbsPretrainedAll = allStats.n > 0 ? allStats.sumY / allStats.n : 0
        let s = selected
        if s > 0 {
            let top = GraftMask(names: space.names,
                                values: try BasePatch.make(delta: space.pretrained,
                                                           sparsity: Double(s) / Double(space.parameterCount) * (1 + 1e-12), rule: .topS))
            overlapWithLargestPretrained = Double(try MaskOverlap.compare(patch, top).total.intersection) / Double(s)
        } else {
            overlapWithLargestPretrained = 0
        }
    }

    /// Running sums for a Pearson correlation (Double).
    struct PairStats {
        var n = 0.0, sumX = 0.0, sumY = 0.0, sumXX = 0.0, sumYY = 0.0, sumXY = 0.0
        mutating func add(_ x: Double, _ y: Double) {
            n += 1; sumX += x; sumY += y; sumXX += x * x; sumYY += y * y; sumXY += x * y
        }
        var pearson: Double? {
            guard n >= 2 else { return nil }
            let cov = sumXY - sumX * sumY / n, vx = sumXX - sumX * sumX / n, vy = sumYY - sumY * sumY / n
            guard vx > 0, vy > 0 else { return nil }
            return cov / (vx * vy).squareRoot()
        }
    }
}
