import Foundation
import MLCore

/// From a patch-score map to the image score and the pixel anomaly map (Docs/reb.md; Lyu et al. 2023;
/// the REB reference's image score and PatchCore's `RescaleSegmentor`).
public enum AnomalyMaps {
    /// The image score: the maximum of a 3×3 average pool with stride 3 (no padding; the last rows or
    /// columns that do not fill a window are dropped, as torch `avg_pool2d`) over the patch-score map
    /// [H, W] — not a plain maximum, so one isolated high patch counts for a ninth.
    /// Maps smaller than 3×3 fall back to their mean.
    /// - Precondition: `scores.count == height·width`.
    public static func imageScore(_ scores: [Float], height: Int, width: Int, window: Int = 3) -> Float {
        precondition(scores.count == height * width, "imageScore: \(scores.count) scores for \(height)×\(width)")
        let oh = height / window, ow = width / window
        guard oh > 0 && ow > 0 else { return scores.reduce(0, +) / Float(scores.count) }
        var best = -Float.infinity
        for y in 0..<oh {
            for x in 0..<ow {
                var s: Float = 0
                for i in 0..<window { for j in 0..<window { s += scores[(y * window + i) * width + x * window + j] } }
                best = Swift.max(best, s / Float(window * window))
            }
        }
        return best
    }

    /// The pixel anomaly map: the patch-score map [h, w] upsampled bilinearly (align_corners = false)
    /// to [size, size], then smoothed by a Gaussian of σ pixels (scipy `gaussian_filter`: separable,
    /// truncated at 4σ, 'reflect' borders d c b a | a b c d). σ = 4 as PatchCore.
    public static func pixelMap(_ scores: [Float], height: Int, width: Int, size: Int, sigma: Float = 4) -> [Float] {
        let up = Tensor(scores, shape: [1, 1, height, width]).resizeBilinear(to: (size, size), alignCorners: false).scalars
        return gaussianBlur(up, height: size, width: size, sigma: sigma)
    }

    /// scipy.ndimage `gaussian_filter(x, sigma, mode='reflect', truncate=4.0)` of an [H, W] map.
    public static func gaussianBlur(_ x: [Float], height: Int, width: Int, sigma: Float) -> [Float] {
        guard sigma > 0 else { return x }
        let radius = Int(4 * sigma + 0.5)
        var kernel = (-radius...radius).map { Float(exp(-Double($0 * $0) / (2 * Double(sigma * sigma)))) }
        let total = kernel.reduce(0, +)
        kernel = kernel.map { $0 / total }
        func reflect(_ i: Int, _ n: Int) -> Int {
            let period = 2 * n
            var j = i % period
            if j < 0 { j += period }
            return j < n ? j : period - 1 - j
        }
        var rows = [Float](repeating: 0, count: x.count)
        for y in 0..<height {
            for c in 0..<width {
                var s: Float = 0
                for (t, w) in kernel.enumerated() { s += w * x[y * width + reflect(c + t - radius, width)] }
                rows[y * width + c] = s
            }
        }
        var out = [Float](repeating: 0, count: x.count)
        for y in 0..<height {
            for c in 0..<width {
                var s: Float = 0
                for (t, w) in kernel.enumerated() { s += w * rows[reflect(y + t - radius, height) * width + c] }
                out[y * width + c] = s
            }
        }
        return out
    }
}
