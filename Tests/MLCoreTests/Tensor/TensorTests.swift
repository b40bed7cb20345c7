import XCTest
@testable import MLCore

/// Hand-computed cases for layout, views, copy-on-write and broadcasting edge cases.
final class TensorTests: XCTestCase {
    func testValueSemanticsCopyOnWrite() {
        let a = Tensor([1, 2, 3, 4], shape: [2, 2])
        var b = a
        b[0, 1] = 20
        XCTAssertEqual(a.scalars, [1, 2, 3, 4], "writing a copy must not change the original")
        XCTAssertEqual(b.scalars, [1, 20, 3, 4])
        // A view shares storage until written.
        var v = a.transposed()
        XCTAssertFalse(v.isContiguous)
        v[0, 1] = 30                        // element (1, 0) of a
        XCTAssertEqual(a.scalars, [1, 2, 3, 4])
        XCTAssertEqual(v.scalars, [1, 30, 2, 4])
    }

    func testWriteToBroadcastViewDoesNotAlias() {
        var e = Tensor([1, 2]).expanded(to: [3, 2])
        XCTAssertEqual(e.strides, [0, 1])
        e[1, 0] = 9
        XCTAssertEqual(e.scalars, [1, 2, 9, 2, 1, 2])
    }

    func testStridesAndViews() {
        let x = Tensor.arange(24).reshaped([2, 3, 4])
        XCTAssertEqual(x.strides, [12, 4, 1])
        let p = x.permuted([2, 0, 1])
        XCTAssertEqual(p.shape, [4, 2, 3])
        XCTAssertEqual(p.strides, [1, 12, 4])
        XCTAssertEqual(p[3, 1, 2], 23)          // x[1, 2, 3] = 12 + 8 + 3
        let s = x.sliced(1..<3, axis: 1)
        XCTAssertEqual(s.shape, [2, 2, 4])
        XCTAssertEqual(s.offset, 4)
        XCTAssertEqual(s.scalars, [4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23])
        XCTAssertEqual(x.selected(-1, axis: 2).scalars, [3, 7, 11, 15, 19, 23])
        XCTAssertEqual(x.reshaped([4, -1]).shape, [4, 6])
        XCTAssertEqual(p.reshaped([4, 6]).scalars[0..<6], [0, 4, 8, 12, 16, 20], "reshape of a non-contiguous view copies")
        XCTAssertEqual(x.unsqueezed(0).shape, [1, 2, 3, 4])
        XCTAssertEqual(x.unsqueezed(-1).shape, [2, 3, 4, 1])
        XCTAssertEqual(x.unsqueezed(1).squeezed(1).shape, [2, 3, 4])
        XCTAssertEqual(x.flattened(from: 1).shape, [2, 12])
        XCTAssertTrue(x.sliced(0..<1, axis: 0).isContiguous)
        XCTAssertFalse(x.sliced(0..<2, axis: 2).isContiguous)
    }

    func testBroadcastingEdgeCases() {
        // [2,1] + [3] → [2,3]: a[i] + b[j].
        let a = Tensor([10, 20], shape: [2, 1]), b = Tensor([1, 2, 3])
        XCTAssertEqual((a + b).scalars, [11, 12, 13, 21, 22, 23])
        // Rank-0 with rank-0.
        XCTAssertEqual((Tensor(scalar: 2) * Tensor(scalar: 4)).shape, [])
        XCTAssertEqual((Tensor(scalar: 2) * Tensor(scalar: 4)).item, 8)
        // Empty extents broadcast to empty results.
        XCTAssertEqual((Tensor.zeros([0, 3]) + Tensor.ones([3])).shape, [0, 3])
        // Strided operands on both sides, inner stride ≠ 1.
        let m = Tensor.arange(6).reshaped([2, 3])
        XCTAssertEqual((m.transposed() + m.transposed()).scalars, [0, 6, 2, 8, 4, 10])
        // A column of width 1 sliced out of the last axis (inner stride 3 after coalescing).
        XCTAssertEqual((m.sliced(1..<2, axis: 1) * 2).scalars, [2, 8])
        XCTAssertEqual(Tensor.broadcastShape([8, 1, 6, 1], [7, 1, 5], op: "t"), [8, 7, 6, 5])
    }

    func testLargeTensorsTakeTheParallelPath() {
        // 2^20 elements is above the parallel grain; the result must equal the serial formula.
        let n = 1 << 20
        let x = Tensor(shape: [n]) { Float($0 % 1000) / 1000 }
        let y = (x * 2 + 1).scalars
        for i in stride(from: 0, to: n, by: 9973) { XCTAssertEqual(y[i], Float(i % 1000) / 1000 * 2 + 1) }
        XCTAssertEqual(Tensor.ones([1024, 1024]).sum().item, 1_048_576)
        XCTAssertEqual(Tensor.ones([3, 1 << 18]).sum(axis: 1).scalars, [262_144, 262_144, 262_144])
    }

    func testMatmulUsesFlagsForViewsAndFoldsBatch() {
        // [[1,2],[3,4]] · [[5,6],[7,8]] = [[19,22],[43,50]].
        let a = Tensor([1, 2, 3, 4], shape: [2, 2]), b = Tensor([5, 6, 7, 8], shape: [2, 2])
        XCTAssertEqual(Tensor.matmul(a, b).scalars, [19, 22, 43, 50])
        // Aᵀ·B = [[1,3],[2,4]]·B = [[26,30],[38,44]], by flag and by view.
        XCTAssertEqual(Tensor.matmul(a, b, transposeA: true).scalars, [26, 30, 38, 44])
        XCTAssertEqual(Tensor.matmul(a.transposed(), b).scalars, [26, 30, 38, 44])
        // A view transposed and flagged: (Aᵀ)ᵀ = A.
        XCTAssertEqual(Tensor.matmul(a.transposed(), b, transposeA: true).scalars, [19, 22, 43, 50])
        // Linear: x [2,2] · Wᵀ + bias.
        let y = Tensor.linear(a, weight: b, bias: Tensor([1, -1]))
        XCTAssertEqual(y.scalars, [18, 22, 40, 52])  // [1·5+2·6+1, 1·7+2·8−1, 3·5+4·6+1, 3·7+4·8−1]
        // A stride-2 column slice cannot go to BLAS as is: it is copied, with the same result.
        let wide = Tensor.arange(8).reshaped([2, 4])
        let strided = wide.sliced(0..<4, axis: 1).permuted([0, 1])
        XCTAssertEqual(Tensor.matmul(strided, Tensor.ones([4, 1])).scalars, [6, 22])
        XCTAssertEqual(Tensor.matmul(Tensor.zeros([2, 0]), Tensor.zeros([0, 3])).scalars, [0, 0, 0, 0, 0, 0])
    }

    func testSoftmaxMaskedRowsAndMaskedFill() {
        let scores = Tensor([0, 0, 0, 0], shape: [1, 4])
        let mask = Tensor([0, 0, 1, 1])
        let p = scores.maskedFill(mask, with: -.infinity).softmax()
        XCTAssertEqual(p.scalars, [0.5, 0.5, 0, 0])
        // where with infinities keeps them (no inf·0).
        let w = Tensor.select(Tensor([1, 0]), Tensor([.infinity, 1]), Tensor([2, -.infinity]))
        XCTAssertEqual(w.scalars, [.infinity, -.infinity])
    }

    func testIntegerArrays() {
        var ids = NDArray<Int32>([1, 2, 3, 4, 5, 6], shape: [2, 3])
        ids[1, 2] = 60
        XCTAssertEqual(ids.rows(1..<2).elements, [4, 5, 60])
        XCTAssertEqual(Tensor(NDArray<UInt8>([0, 128, 255])).scalars, [0, 128, 255])
    }
}

final class MatmulIntoTests: XCTestCase {
    func testMatmulIntoReusesAndAccumulates() {
        let a = Tensor([1, 2, 3, 4], shape: [2, 2]), b = Tensor([5, 6, 7, 8], shape: [2, 2])
        var out = Tensor.ones([2, 2])
        Tensor.matmul(a, b, into: &out)
        XCTAssertEqual(out.scalars, [19, 22, 43, 50])
        Tensor.matmul(a, b, transposeA: true, into: &out, accumulate: true)   // + [[26,30],[38,44]]
        XCTAssertEqual(out.scalars, [45, 52, 81, 94])
        // Output sharing storage with an operand is copied first, so the operand is not overwritten.
        var alias = a
        Tensor.matmul(a, b, into: &alias)
        XCTAssertEqual(a.scalars, [1, 2, 3, 4])
        XCTAssertEqual(alias.scalars, [19, 22, 43, 50])
        // Batched with broadcasting: [2, 2, 2] · [2, 2].
        var batched = Tensor.zeros([2, 2, 2])
        Tensor.matmul(Tensor.stack([a, a.transposed()]), b, into: &batched)
        XCTAssertEqual(batched.scalars, [19, 22, 43, 50, 26, 30, 38, 44])
    }
}

final class BufferCacheTests: XCTestCase {
    func testFreedBuffersAreReusedBySize() {
        BufferCache.clear()
        let count = 1 << 16                       // 256 KiB: cached
        var first: UnsafeMutablePointer<Float>?
        do {
            let t = Tensor.zeros([count])
            first = t.storage.pointer
        }
        XCTAssertEqual(BufferCache.cachedBytes, count * 4)
        let again = Tensor(uninitializedShape: [count])
        XCTAssertEqual(again.storage.pointer, first, "same-size allocation takes the cached buffer")
        XCTAssertEqual(BufferCache.cachedBytes, 0)
        // Small buffers are not cached; a zero limit disables the cache.
        do { _ = Tensor.zeros([16]) }
        XCTAssertEqual(BufferCache.cachedBytes, 0)
        let saved = BufferCache.limitBytes
        BufferCache.limitBytes = 0
        do { _ = Tensor.zeros([count]) }
        XCTAssertEqual(BufferCache.cachedBytes, 0)
        BufferCache.limitBytes = saved
        // A reused buffer is fully rewritten by the op that takes it.
        let x = Tensor(shape: [count]) { Float($0 % 7) }
        XCTAssertEqual((x + 1).scalars.prefix(8), [1, 2, 3, 4, 5, 6, 7, 1])
    }
}

/// Regressions found in review (2026-11-30).
final class TensorEdgeCaseTests: XCTestCase {
    func testZeroSizedTensorsReshapeAndReduce() {
        let empty = Tensor.zeros([2, 0])
        XCTAssertTrue(empty.isContiguous)
        XCTAssertEqual(empty.reshaped([0]).shape, [0])
        XCTAssertEqual(empty.sum().item, 0)
        XCTAssertEqual(empty.sum(axis: 1).scalars, [0, 0])
        XCTAssertEqual(Tensor.zeros([3, 0, 2]).sum(axis: 2).shape, [3, 0])
        XCTAssertEqual(Tensor.zeros([4, 0]).flattened().shape, [0])
        XCTAssertEqual(empty.max(axis: 1).scalars, [-.infinity, -.infinity])
    }

    func testLogSumExpWithInfinities() {
        XCTAssertEqual(Tensor([.infinity, 0]).logSumExp().item, .infinity)
        XCTAssertEqual(Tensor([-.infinity, -.infinity]).logSumExp().item, -.infinity)
        XCTAssertEqual(Tensor([0, 0]).logSumExp().item, Float(2).squareRoot() * 0 + 0.6931472, accuracy: 1e-6)
    }

    func testPowFollowsPowf() {
        let x = Tensor([-0.0, -.infinity, 4])
        let y = x.pow(0.5).scalars
        XCTAssertEqual(y[0], 0)
        XCTAssertEqual(y[0].sign, .plus)
        XCTAssertEqual(y[1], .infinity)
        XCTAssertEqual(y[2], 2)
    }
}
