import XCTest
@testable import MLCore

/// Products large enough for `BLAS.sgemm` to split them over threads (row blocks, column blocks, the
/// one-row sgemv path, many small products at once) against a float64 triple loop, on 1, 2 and 3
/// threads (3 gives blocks that are not halves), with every transpose combination.
final class MatmulSplitTests: XCTestCase {
    /// op(A)·op(B) in float64 from the logical (untransposed) operands a [M, K] and b [K, N].
    private func reference(_ a: Tensor, _ b: Tensor) -> Tensor {
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
        let pa = a.scalars, pb = b.scalars
        return Tensor(shape: [m, n]) { idx in
            let (i, j) = (idx / n, idx % n)
            var s = 0.0
            for p in 0..<k { s += Double(pa[i * k + p]) * Double(pb[p * n + j]) }
            return Float(s)
        }
    }

    func testSplitProductsMatchFloat64Reference() {
        let saved = Threading.count
        defer { Threading.count = saved }
        // (M, K, N): rows split (M·K·N ≥ 2²⁰, M ≥ 32·threads), columns split (few rows), one row
        // (sgemv in column blocks), and one below the threshold (never split).
        let shapes = [(301, 67, 71), (21, 257, 301), (1, 601, 2003), (7, 9, 11)]
        for (m, k, n) in shapes {
            let a = randomTensor([m, k], seed: UInt64(m)), b = randomTensor([k, n], seed: UInt64(n))
            let expected = reference(a, b)
            // The same logical operands stored transposed: matmul reads them through sgemm's flags.
            let at = a.transposed().contiguous(), bt = b.transposed().contiguous()
            for threads in [1, 2, 3] {
                Threading.count = threads
                let label = "\(m)×\(k)·\(k)×\(n) on \(threads) threads"
                assertClose(Tensor.matmul(a, b), expected, rtol: 1e-4, atol: 1e-4, label)
                assertClose(Tensor.matmul(at, b, transposeA: true), expected, rtol: 1e-4, atol: 1e-4, label + ", Aᵀ")
                assertClose(Tensor.matmul(a, bt, transposeB: true), expected, rtol: 1e-4, atol: 1e-4, label + ", Bᵀ")
                assertClose(Tensor.matmul(at, bt, transposeA: true, transposeB: true), expected, rtol: 1e-4, atol: 1e-4, label + ", AᵀBᵀ")
                // β = 1 (accumulate into an existing output), split the same way.
                var out = Tensor(shape: [m, n], repeating: 1)
                Tensor.matmul(a, b, into: &out, accumulate: true)
                assertClose(out, expected + 1, rtol: 1e-4, atol: 1e-4, label + ", accumulate")
            }
        }
    }

    func testManySmallProductsRunConcurrentlyAndMatchOneByOne() {
        let saved = Threading.count
        defer { Threading.count = saved }
        // 100·64·80 multiply-adds each: under the split threshold, two products per chunk.
        let a = randomTensor([5, 7, 100, 64], seed: 41), b = randomTensor([5, 1, 64, 80], seed: 42)
        Threading.count = 1
        let serial = Tensor.matmul(a, b)
        for threads in [2, 3] {
            Threading.count = threads
            XCTAssertEqual(Tensor.matmul(a, b).scalars, serial.scalars, "\(threads) threads")
        }
        // Each batch entry against its own float64 product.
        for i in [0, 17, 34] {
            let (x, y) = (i / 7, i % 7)
            let ai = a.selected(x, axis: 0).selected(y, axis: 0), bi = b.selected(x, axis: 0).selected(0, axis: 0)
            assertClose(serial.selected(x, axis: 0).selected(y, axis: 0), reference(ai, bi), rtol: 1e-4, atol: 1e-4, "entry \(i)")
        }
    }
}
