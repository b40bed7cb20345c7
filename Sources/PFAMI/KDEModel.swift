import Foundation
import MLCore

/// The positive control (Docs/pfami.md, "Positive control"): an analytic "generator" whose density is
/// a Gaussian kernel density estimate over its training images, p̂(x) = (1/n) Σ_i N(x; x_i, h²I).
/// Its loss is L(x) = −h²·log((1/n) Σ_i exp(−‖x − x_i‖²/(2h²))), the negative log-density up to its
/// normalising constant, scaled by h² (a soft minimum of ½‖x − x_i‖², ≥ 0). A member sits on a
/// kernel's peak, so any neighbour raises its loss by a large factor, while a non-member's loss
/// changes little: the calibrated fluctuation D is > 0 for members and PFAMI's AUC is ≈ 1. The loss
/// is deterministic: every probe gives the same value.
public final class KDEModel: ProbeModel {
    /// The training images [n, C, S, S] in [0, 1].
    public let points: Tensor
    /// Bandwidth h.
    public let bandwidth: Double

    /// - Precondition: points [n ≥ 1, C, S, S]; h > 0.
    public init(points: Tensor, bandwidth: Double = 0.1) {
        require(points.rank == 4 && points.shape[0] >= 1 && bandwidth > 0, "KDEModel: points \(points.shape), bandwidth \(bandwidth)")
        self.points = points.contiguous()
        self.bandwidth = bandwidth
    }

    public var kind: ModelKind { .kde }
    public var channels: Int { points.shape[1] }
    public var size: Int { points.shape[2] }
    public var parameters: [Parameter] { [] }
    public var configJSON: JSONValue {
        ["channels": .int(channels), "size": .int(size), "bandwidth": .double(bandwidth), "points": .int(points.shape[0])]
    }

    /// L(x) for each image (computed in Double with a log-sum-exp).
    public func losses(_ images: Tensor, probe: Int, noiseSeeds: [UInt64]) -> [Float] {
        let n = points.shape[0], d = points.count / n, m = images.shape[0]
        let x = images.contiguous().scalars, p = points.scalars
        let h2 = bandwidth * bandwidth
        var out = [Float](repeating: 0, count: m)
        for i in 0..<m {
            var exponents = [Double](repeating: 0, count: n)
            for j in 0..<n {
                var s = 0.0
                for k in 0..<d { let diff = Double(x[i * d + k] - p[j * d + k]); s += diff * diff }
                exponents[j] = -s / (2 * h2)
            }
            let top = exponents.max()!
            let logMean = top + Foundation.log(exponents.reduce(0) { $0 + Foundation.exp($1 - top) }) - Foundation.log(Double(n))
            out[i] = Float(-h2 * logMean)
        }
        return out
    }

    /// The KDE has no training loss (its "training" stores the points): a zero constant.
    public func trainingLoss(_ images: Tensor, rng: inout RandomGenerator) -> Variable { Variable(Tensor(scalar: 0)) }
}
