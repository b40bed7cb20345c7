/// Singular value decomposition of a 3×3 Double matrix by one-sided Jacobi rotations, for the
/// Procrustes alignment of `Pose` (Docs/METRICS.md §6).
///
/// A = U · diag(σ) · Vᵀ with σ₀ ≥ σ₁ ≥ σ₂ ≥ 0 and U, V orthogonal. Columns of A·V are orthogonalized
/// pairwise (Hestenes 1958; Demmel & Veselić 1992) until every pair is orthogonal to ~1e-15 relative;
/// σ are the column norms and U the normalized columns. For rank-deficient A the missing columns of U
/// are completed to an orthonormal basis (cross products), so U is always orthogonal.
struct SVD3 {
    /// The left singular vectors as columns: u[column][row].
    var u: [SIMD3<Double>]
    /// The singular values, non-increasing.
    var singularValues: SIMD3<Double>
    /// The right singular vectors as columns: v[column][row].
    var v: [SIMD3<Double>]

    /// Decomposes the matrix given by its columns (`columns[j][i]` = A[i][j]).
    init(columns: [SIMD3<Double>]) {
        require(columns.count == 3, "SVD3: expected 3 columns, got \(columns.count)")
        var a = columns
        var v: [SIMD3<Double>] = [SIMD3(1, 0, 0), SIMD3(0, 1, 0), SIMD3(0, 0, 1)]
        for _ in 0..<60 {
            var rotated = false
            for (p, q) in [(0, 1), (0, 2), (1, 2)] {
                let alpha = (a[p] * a[p]).sum(), beta = (a[q] * a[q]).sum(), gamma = (a[p] * a[q]).sum()
                if gamma == 0 || abs(gamma) <= 1e-15 * (alpha * beta).squareRoot() { continue }
                rotated = true
                let zeta = (beta - alpha) / (2 * gamma)
                let t = (zeta >= 0 ? 1.0 : -1.0) / (abs(zeta) + (1 + zeta * zeta).squareRoot())
                let c = 1 / (1 + t * t).squareRoot(), s = c * t
                let ap = a[p], aq = a[q]
                a[p] = c * ap - s * aq
                a[q] = s * ap + c * aq
                let vp = v[p], vq = v[q]
                v[p] = c * vp - s * vq
                v[q] = s * vp + c * vq
            }
            if !rotated { break }
        }
        var sigma = a.map { ($0 * $0).sum().squareRoot() }
        let order = [0, 1, 2].sorted { sigma[$0] > sigma[$1] }
        a = order.map { a[$0] }
        v = order.map { v[$0] }
        sigma = order.map { sigma[$0] }
        let tolerance = 1e-13 * max(sigma[0], .leastNormalMagnitude)
        var u: [SIMD3<Double>] = []
        for j in 0..<3 {
            if sigma[j] > tolerance {
                u.append(a[j] / sigma[j])
            } else if j == 0 {
                u.append(SIMD3(1, 0, 0))
            } else if j == 1 {
                u.append(SVD3.unitOrthogonal(to: u[0]))
            } else {
                u.append(SVD3.cross(u[0], u[1]))
            }
        }
        self.u = u
        self.singularValues = SIMD3(sigma[0], sigma[1], sigma[2])
        self.v = v
    }

    static func cross(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
    }

    /// A unit vector orthogonal to the unit vector `a` (crossed with the axis it is least aligned with).
    static func unitOrthogonal(to a: SIMD3<Double>) -> SIMD3<Double> {
        let m = SIMD3(abs(a.x), abs(a.y), abs(a.z))
        let axis: SIMD3<Double> = m.x <= m.y && m.x <= m.z ? SIMD3(1, 0, 0) : (m.y <= m.z ? SIMD3(0, 1, 0) : SIMD3(0, 0, 1))
        let c = cross(a, axis)
        return c / (c * c).sum().squareRoot()
    }

    static func determinant(_ c: [SIMD3<Double>]) -> Double { (cross(c[0], c[1]) * c[2]).sum() }
}
