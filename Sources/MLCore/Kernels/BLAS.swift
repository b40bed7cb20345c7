internal import CBLAS

/// Thin, checked wrappers over OpenBLAS's CBLAS interface (row-major only). Callers pass raw
/// pointers and leading dimensions; transposes are flags, never copies.
@usableFromInline
enum BLAS {
    /// C ← α·op(A)·op(B) + β·C, row-major; op(A) is M×K, op(B) is K×N, C is M×N with leading dimension ldc.
    ///
    /// One row (M = 1, e.g. a decoding step through a Linear layer) goes to `sgemv`: OpenBLAS 0.3.21's
    /// sgemm packs all of op(B) for every call, which perf showed to be 40% of SmolLM2's decode time
    /// (sgemm_incopy) — more than the product itself.
    @usableFromInline
    static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 1 && n > 1 && k > 0 {
            // y = op(B)ᵀ·x with x = row 0 of op(A) (stride lda when A is stored transposed).
            // β = 0 must ignore C's (uninitialised) contents: zero it rather than trust sgemv's scaling.
            if beta == 0 { c.update(repeating: 0, count: n) }
            cblas_sgemv(CblasRowMajor, transB ? CblasNoTrans : CblasTrans, Int32(transB ? n : k), Int32(transB ? k : n),
                        alpha, b, Int32(ldb), a, Int32(transA ? lda : 1), beta, c, 1)
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// The OpenBLAS build configuration and core type, e.g. "OpenBLAS 0.3.21 ... Haswell", for reports.
    static var configuration: String {
        let config = String(cString: openblas_get_config())
        let core = String(cString: openblas_get_corename())
        return "\(config) core=\(core)"
    }
}

/// A description of the BLAS library in use (version, build options, selected kernel), for reports.
public var blasDescription: String { BLAS.configuration }
