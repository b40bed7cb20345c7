internal import CBLAS

/// Thin, checked wrappers over OpenBLAS's CBLAS interface (row-major only). Callers pass raw
/// pointers and leading dimensions; transposes are flags, never copies.
@usableFromInline
enum BLAS {
    /// C ← α·op(A)·op(B) + β·C, row-major; op(A) is M×K, op(B) is K×N, C is M×N with leading dimension ldc.
    @usableFromInline
    static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
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
