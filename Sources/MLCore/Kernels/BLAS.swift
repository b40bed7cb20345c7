internal import CBLAS

/// Thin, checked wrappers over OpenBLAS's CBLAS interface (row-major only). Callers pass raw
/// pointers and leading dimensions; transposes are flags, never copies.
///
/// OpenBLAS runs single-threaded and MLCore splits each large product over its own threads
/// (`Threading.parallelFor`: row blocks of C, or column blocks when C has few rows). With OpenBLAS's
/// own pool, its idle workers spin (sched_yield) for a while after every GEMM, on the cores that
/// MLCore's element-wise passes run on next: perf showed 10–17% of a 2-thread BERT forward's samples
/// in that spinning, and the element-wise passes between GEMMs ran 1.5× slower than with OpenBLAS
/// single-threaded (Docs/PERFORMANCE.md). One pool also lets a kernel run many small products at once
/// (attention heads) without nested thread pools.
@usableFromInline
enum BLAS {
    /// Pins OpenBLAS to one thread, once, before its first use.
    private static let singleThreaded: Void = { openblas_set_num_threads(1) }()

    /// Products with fewer multiply-adds than this run on the calling thread (about 15 µs of work:
    /// less than handing a chunk to another thread is worth).
    static let splitThreshold = 1 << 20

    /// C ← α·op(A)·op(B) + β·C, row-major; op(A) is M×K, op(B) is K×N, C is M×N with leading dimension ldc.
    ///
    /// With `split` (the default) a product of at least `splitThreshold` multiply-adds is divided over
    /// `Threading.count` threads: blocks of 16 rows of C when M allows, else blocks of 16 columns.
    /// Pass `split: false` from code that already runs on several threads.
    ///
    /// One row (M = 1, e.g. a decoding step through a Linear layer) goes to `sgemv`: OpenBLAS 0.3.21's
    /// sgemm packs all of op(B) for every call, which perf showed to be 40% of SmolLM2's decode time
    /// (sgemm_incopy) — more than the product itself.
    @usableFromInline
    static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, split: Bool = true) {
        _ = singleThreaded
        let threads = split && m * n * k >= splitThreshold ? Threading.count : 1
        if m == 1 && n > 1 && k > 0 {
            // y = op(B)ᵀ·x with x = row 0 of op(A) (stride lda when A is stored transposed), in column blocks.
            forEachBlock(n, threads: threads) { c0, c1 in
                gemv(transB: transB, n: c1 - c0, k: k, alpha: alpha, x: a, incx: transA ? lda : 1,
                     b: transB ? b + c0 * ldb : b + c0, ldb: ldb, beta: beta, y: c + c0)
            }
            return
        }
        if threads > 1 && m >= 32 * threads {
            forEachBlock(m, threads: threads) { r0, r1 in
                gemm(transA: transA, transB: transB, m: r1 - r0, n: n, k: k, alpha: alpha,
                     a: transA ? a + r0 : a + r0 * lda, lda: lda, b: b, ldb: ldb, beta: beta, c: c + r0 * ldc, ldc: ldc)
            }
        } else if threads > 1 && n >= 32 * threads {
            forEachBlock(n, threads: threads) { c0, c1 in
                gemm(transA: transA, transB: transB, m: m, n: c1 - c0, k: k, alpha: alpha, a: a, lda: lda,
                     b: transB ? b + c0 * ldb : b + c0, ldb: ldb, beta: beta, c: c + c0, ldc: ldc)
            }
        } else {
            gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                 beta: beta, c: c, ldc: ldc)
        }
    }

    /// Runs `body(lo, hi)` over `0..<count` cut into `threads` ranges at multiples of 16 (the SIMD
    /// kernels' row/column unroll), one per thread; inline when `threads` is 1.
    private static func forEachBlock(_ count: Int, threads: Int, _ body: (Int, Int) -> Void) {
        if threads <= 1 { body(0, count); return }
        let blocks = (count + 15) / 16
        Threading.parallelFor(threads, grain: 1) { range in
            for t in range {
                let lo = Swift.min(count, blocks * t / threads * 16), hi = Swift.min(count, blocks * (t + 1) / threads * 16)
                if lo < hi { body(lo, hi) }
            }
        }
    }

    private static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// y[0..<n] ← α·op(B)ᵀ·x + β·y where op(B) is K×N (B stored [N, K] when `transB`, else [K, N]).
    private static func gemv(transB: Bool, n: Int, k: Int, alpha: Float, x: UnsafePointer<Float>, incx: Int,
                             b: UnsafePointer<Float>, ldb: Int, beta: Float, y: UnsafeMutablePointer<Float>) {
        // β = 0 must ignore y's (uninitialised) contents: zero it rather than trust sgemv's scaling.
        if beta == 0 { y.update(repeating: 0, count: n) }
        cblas_sgemv(CblasRowMajor, transB ? CblasNoTrans : CblasTrans, Int32(transB ? n : k), Int32(transB ? k : n),
                    alpha, b, Int32(ldb), x, Int32(incx), beta, y, 1)
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
