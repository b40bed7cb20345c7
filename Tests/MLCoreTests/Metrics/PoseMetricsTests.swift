import XCTest
@testable import MLCore

final class PoseMetricsTests: XCTestCase {
    /// Fixtures from the SPIN/VIBE `compute_similarity_transform` (numpy SVD): random, near-similar,
    /// reflected, planar, collinear, two-joint and millimetre-scale poses.
    func testAgreesWithSPINFixtures() throws {
        var checks = 0
        for c in try MetricsFixture.cases("metrics_pose.json") {
            let name = c["name"] as! String
            let j = (c["joints"] as! NSNumber).intValue
            let p = MetricsFixture.doubles(c["predicted"]), t = MetricsFixture.doubles(c["target"])
            let scale = max(1, t.map(abs).max()!)
            assertNear(try Pose.mpjpe(predicted: p, target: t, jointCount: j), MetricsFixture.double(c["mpjpe"]!),
                       tolerance: 1e-6 * scale, "\(name) MPJPE")
            assertNear(try Pose.pve(predicted: p, target: t, vertexCount: j), MetricsFixture.double(c["mpjpe"]!),
                       tolerance: 1e-6 * scale, "\(name) PVE")
            assertNear(try Pose.paMPJPE(predicted: p, target: t, jointCount: j), MetricsFixture.double(c["pa_mpjpe"]!),
                       tolerance: 1e-6 * scale, "\(name) PA-MPJPE")
            checks += 3
        }
        XCTAssertGreaterThanOrEqual(checks, 60)
    }

    /// A target scaled by 2, rotated 90° about z and shifted aligns exactly: PA-MPJPE 0. Its MPJPE is
    /// hand-computed: target (1,0,0), (0,1,0), (0,0,0); prediction 2·Rz(90°)·x + (1,1,1) =
    /// (1,3,1), (−1,1,1), (1,1,1) → distances √(0+9+1), √(1+0+1), √(1+1+1) → mean (√10 + √2 + √3)/3.
    func testHandComputedSimilarityIsRemoved() throws {
        let t: [Double] = [1, 0, 0, 0, 1, 0, 0, 0, 0]
        let p: [Double] = [1, 3, 1, -1, 1, 1, 1, 1, 1]
        XCTAssertEqual(try Pose.mpjpe(predicted: p, target: t, jointCount: 3), (10.0.squareRoot() + 2.0.squareRoot() + 3.0.squareRoot()) / 3,
                       accuracy: 1e-15)
        XCTAssertEqual(try Pose.paMPJPE(predicted: p, target: t, jointCount: 3), 0, accuracy: 1e-12)
        // A mirror image is not a rotation: x → −x of an asymmetric tetrahedron keeps a positive error.
        let tet: [Double] = [0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]
        let mirrored = tet.enumerated().map { $0.offset % 3 == 0 ? -$0.element : $0.element }
        XCTAssertGreaterThan(try Pose.paMPJPE(predicted: mirrored, target: tet, jointCount: 4), 0.1)
        // All predicted joints at one point: aligned to the target centroid (1/3, 1/3, 0).
        let collapsed = try Pose.paMPJPE(predicted: [5, 5, 5, 5, 5, 5, 5, 5, 5], target: t, jointCount: 3)
        let d1 = (4.0 / 9 + 1.0 / 9).squareRoot(), d3 = (2.0 / 9).squareRoot()
        XCTAssertEqual(collapsed, (2 * d1 + d3) / 3, accuracy: 1e-12)
    }

    /// The Jacobi SVD reconstructs A, has orthonormal U and V, non-increasing σ ≥ 0, and handles
    /// rank 2, rank 1 and zero matrices.
    func testJacobiSVD3() {
        var g = RandomGenerator(seed: 11)
        var matrices: [[SIMD3<Double>]] = (0..<200).map { _ in
            (0..<3).map { _ in SIMD3(Double(g.normal()), Double(g.normal()), Double(g.normal())) }
        }
        let a = SIMD3<Double>(1, 2, 3), b = SIMD3<Double>(-1, 0.5, 2)
        matrices += [[a, b, a + b], [a, 2 * a, -a], [SIMD3(), SIMD3(), SIMD3()], [SIMD3(3, 0, 0), SIMD3(0, 3, 0), SIMD3(0, 0, 3)],
                     [SIMD3(0, 0, 1), SIMD3(0, 5, 0), SIMD3(2, 0, 0)]]
        for m in matrices {
            let svd = SVD3(columns: m)
            let s = svd.singularValues
            XCTAssert(s[0] >= s[1] && s[1] >= s[2] && s[2] >= 0, "\(s)")
            for i in 0..<3 {
                for j in 0..<3 {
                    let expected: Double = i == j ? 1 : 0
                    XCTAssertEqual((svd.u[i] * svd.u[j]).sum(), expected, accuracy: 1e-12, "UᵀU of \(m)")
                    XCTAssertEqual((svd.v[i] * svd.v[j]).sum(), expected, accuracy: 1e-12, "VᵀV of \(m)")
                }
            }
            // A[:, j] = Σ_c u_c σ_c V[j][c].
            for j in 0..<3 {
                var column = SIMD3<Double>()
                for c in 0..<3 { column += svd.u[c] * (s[c] * svd.v[c][j]) }
                for i in 0..<3 { XCTAssertEqual(column[i], m[j][i], accuracy: 1e-12, "reconstruction of \(m)") }
            }
        }
        // Known values: diag(1, 5, 2) permuted → σ = (5, 2, 1).
        XCTAssertEqual(SVD3(columns: [SIMD3(0, 0, 1), SIMD3(0, 5, 0), SIMD3(2, 0, 0)]).singularValues, SIMD3(5, 2, 1))
    }

    func testBadInput() {
        XCTAssertThrowsError(try Pose.mpjpe(predicted: [0, 0, 0], target: [0, 0, 0, 1, 1, 1], jointCount: 1))
        XCTAssertThrowsError(try Pose.mpjpe(predicted: [0, 0, 0, 0], target: [0, 0, 0, 0], jointCount: 1))
        XCTAssertThrowsError(try Pose.paMPJPE(predicted: [.nan, 0, 0], target: [0, 0, 0], jointCount: 1))
        XCTAssertThrowsError(try Pose.pve(predicted: [], target: [], vertexCount: 1))
        XCTAssertThrowsError(try Pose.mpjpe(predicted: [0, 0, 0], target: [0, 0, 0], jointCount: 0)) { error in
            XCTAssertEqual((error as? MetricsError)?.category, .usage)
        }
    }
}
