/// 3-D pose and mesh errors (Docs/METRICS.md §6), in the units of the input (millimetres in, millimetres
/// out). Poses are flat row-major `[Double]` of shape [N, J, 3] (N samples, J joints or vertices, xyz).
public enum Pose {
    /// MPJPE: mean over samples and joints of the Euclidean distance between predicted and target
    /// joints, without any alignment. Source: Ionescu et al., "Human3.6M", TPAMI 2014, Protocol #1.
    /// - Throws: `MetricsError.lengthMismatch` (the two inputs, or a length not N·J·3),
    ///   `.empty`, `.notFinite`, `.invalidArgument` for `jointCount ≤ 0`.
    public static func mpjpe(predicted: [Double], target: [Double], jointCount: Int) throws -> Double {
        let n = try check("MPJPE", predicted, target, jointCount)
        var total = 0.0
        for i in 0..<(n * jointCount) { total += distance(predicted, target, i) }
        return total / Double(n * jointCount)
    }

    /// PVE (per-vertex error): MPJPE computed over mesh vertices instead of joints, no alignment.
    /// Source: Pavlakos et al., "Expressive Body Capture" (SMPL-X), CVPR 2019, §5 ("v2v").
    /// - Throws: as `mpjpe`.
    public static func pve(predicted: [Double], target: [Double], vertexCount: Int) throws -> Double {
        let n = try check("PVE", predicted, target, vertexCount)
        var total = 0.0
        for i in 0..<(n * vertexCount) { total += distance(predicted, target, i) }
        return total / Double(n * vertexCount)
    }

    /// PA-MPJPE: MPJPE after aligning each predicted sample to its target by the similarity transform
    /// (scale, rotation without reflection, translation) minimizing the squared error (Umeyama 1991).
    /// Source: `compute_similarity_transform` of SPIN/VIBE (`utils/eval_utils.py`), Protocol #2 of
    /// Human3.6M. A sample whose predicted joints all coincide is aligned to the target centroid (scale 0).
    /// - Throws: as `mpjpe`.
    public static func paMPJPE(predicted: [Double], target: [Double], jointCount: Int) throws -> Double {
        let n = try check("PA-MPJPE", predicted, target, jointCount)
        var total = 0.0
        for s in 0..<n {
            let range = (s * jointCount)..<((s + 1) * jointCount)
            let p = range.map { point(predicted, $0) }, t = range.map { point(target, $0) }
            let aligned = procrustesAligned(p, to: t)
            for j in 0..<jointCount {
                let d = aligned[j] - t[j]
                total += (d * d).sum().squareRoot()
            }
        }
        return total / Double(n * jointCount)
    }

    /// `points` after the best similarity transform onto `target` (same count): s·R·x + t with
    /// R = V·diag(1, 1, sign det(V Uᵀ))·Uᵀ from the SVD K = U Σ Vᵀ of K = Σ (x − μx)(y − μy)ᵀ,
    /// s = tr(R K) / Σ‖x − μx‖², t = μy − s R μx (the SPIN code's steps).
    static func procrustesAligned(_ points: [SIMD3<Double>], to target: [SIMD3<Double>]) -> [SIMD3<Double>] {
        let count = Double(points.count)
        let mu1 = points.reduce(SIMD3<Double>(), +) / count, mu2 = target.reduce(SIMD3<Double>(), +) / count
        var k: [SIMD3<Double>] = [SIMD3(), SIMD3(), SIMD3()]  // columns of K = Σ x yᵀ
        var variance = 0.0
        for (p, q) in zip(points, target) {
            let x = p - mu1, y = q - mu2
            variance += (x * x).sum()
            for j in 0..<3 { k[j] += x * y[j] }
        }
        guard variance > 0 else { return Array(repeating: mu2, count: points.count) }
        let svd = SVD3(columns: k)
        let d: Double = SVD3.determinant(svd.u) * SVD3.determinant(svd.v) < 0 ? -1 : 1
        // R = V Z Uᵀ: R[i][j] = Σ_c v[c][i] z_c u[c][j].
        let z = SIMD3<Double>(1, 1, d)
        func rotate(_ x: SIMD3<Double>) -> SIMD3<Double> {
            var out = SIMD3<Double>()
            for c in 0..<3 { out += svd.v[c] * (z[c] * (svd.u[c] * x).sum()) }
            return out
        }
        // tr(R K) = Σ_c z_c σ_c.
        let scale = (z * svd.singularValues).sum() / variance
        let shift = mu2 - scale * rotate(mu1)
        return points.map { scale * rotate($0) + shift }
    }

    static func point(_ a: [Double], _ i: Int) -> SIMD3<Double> { SIMD3(a[3 * i], a[3 * i + 1], a[3 * i + 2]) }

    static func distance(_ a: [Double], _ b: [Double], _ i: Int) -> Double {
        let d = point(a, i) - point(b, i)
        return (d * d).sum().squareRoot()
    }

    /// Validates the inputs; returns N.
    static func check(_ metric: String, _ predicted: [Double], _ target: [Double], _ pointCount: Int) throws -> Int {
        try MetricsError.checkPositive(metric, "point count", pointCount)
        try MetricsError.checkSameCount(metric, "predicted", predicted.count, expected: target.count)
        try MetricsError.checkNonEmpty(metric, "target", target.count)
        let n = target.count / (3 * pointCount)
        try MetricsError.checkSameCount(metric, "target", target.count, expected: max(1, n) * 3 * pointCount)
        try MetricsError.checkFinite(metric, "predicted", predicted)
        try MetricsError.checkFinite(metric, "target", target)
        return n
    }
}
