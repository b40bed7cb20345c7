/// PatchCore's two feature-width reductions (patchcore/common.py `MeanMapper` / `Preprocessing` /
/// `Aggregator`) as matrices: each stage's 3×3-neighbourhood vector (C·9 wide, torch `unfold` order
/// c·9 + i·3 + j) is adaptive-average-pooled to `pretrainDimension`, the stages' results are
/// concatenated and adaptive-average-pooled to `dimension`. Both steps are linear, so stage l's whole
/// reduction is one matrix A_l [C_l·9, D]; `PatchFeatureExtractor` applies it as a 3×3 convolution.
public enum PatchAggregation {
    /// torch `adaptive_avg_pool1d` from n to o values as a matrix [n, o] (row-major): output i is the
    /// mean of inputs ⌊i·n/o⌋ ..< ⌈(i + 1)·n/o⌉ (bins overlap or repeat inputs when o > n).
    public static func adaptiveAveragePooling(input n: Int, output o: Int) -> [Double] {
        var m = [Double](repeating: 0, count: n * o)
        for i in 0..<o {
            let lo = i * n / o, hi = ((i + 1) * n + o - 1) / o
            for j in lo..<hi { m[j * o + i] = 1 / Double(hi - lo) }
        }
        return m
    }

    /// The per-stage reduction matrices A_l [widths[l], dimension] (row-major, Float32): A_l =
    /// P(widths[l] → pretrain) · rows l·pretrain ..< (l + 1)·pretrain of P(L·pretrain → dimension).
    /// - Parameters:
    ///   - widths: C_l·9 of each stage.
    ///   - pretrainDimension: PatchCore's `pretrain_embed_dimension`.
    ///   - dimension: `target_embed_dimension` (D).
    public static func matrices(widths: [Int], pretrainDimension: Int, dimension: Int) -> [[Float]] {
        let total = widths.count * pretrainDimension
        let aggregate = adaptiveAveragePooling(input: total, output: dimension)
        return widths.enumerated().map { l, width in
            let pool = adaptiveAveragePooling(input: width, output: pretrainDimension)
            var a = [Float](repeating: 0, count: width * dimension)
            for r in 0..<width {
                for p in 0..<pretrainDimension where pool[r * pretrainDimension + p] != 0 {
                    let w = pool[r * pretrainDimension + p], row = (l * pretrainDimension + p) * dimension
                    for d in 0..<dimension { a[r * dimension + d] += Float(w * aggregate[row + d]) }
                }
            }
            return a
        }
    }
}
