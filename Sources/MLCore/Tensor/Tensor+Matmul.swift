/// Matrix products through OpenBLAS `cblas_sgemm`.
extension Tensor {
    /// How BLAS can read the matrix view [rows, cols] with strides (s0, s1) in place: as row-major
    /// with leading dimension `ld`, or (`transposed`) as the row-major storage of its transpose.
    /// nil when the view needs a copy (e.g. a stride-2 slice along the last axis).
    static func blasLayout(rows r: Int, cols c: Int, s0: Int, s1: Int) -> (transposed: Bool, ld: Int)? {
        if (s1 == 1 || c <= 1) && (r <= 1 || s0 >= Swift.max(c, 1)) {
            return (false, r <= 1 ? Swift.max(c, 1) : s0)
        }
        if (s0 == 1 || r <= 1) && (c <= 1 || s1 >= Swift.max(r, 1)) {
            return (true, c <= 1 ? Swift.max(r, 1) : s1)
        }
        return nil
    }

    /// The matrix product with numpy `matmul` semantics: `a` [..., M, K] · `b` [..., K, N] →
    /// [..., M, N], leading (batch) axes broadcast; a rank-1 `a` is a row vector and a rank-1 `b` a
    /// column vector, their axis dropped from the result. `transposeA` / `transposeB` use the
    /// transpose of the last two axes of that operand (flags to sgemm; nothing is copied). Views
    /// produced by `transposed()` and row slices are also passed to BLAS without copies.
    /// - Precondition: inner extents agree; batch shapes broadcast.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        require(a.rank >= 1 && b.rank >= 1, "matmul: shapes \(a.shape) and \(b.shape) need rank ≥ 1")
        if a.rank == 1 {
            require(!transposeA, "matmul: transposeA needs a matrix, got shape \(a.shape)")
            let out = matmul(a.unsqueezed(0), b, transposeB: transposeB)
            return out.squeezed(out.rank - 2)
        }
        if b.rank == 1 {
            require(!transposeB, "matmul: transposeB needs a matrix, got shape \(b.shape)")
            let out = matmul(a, b.unsqueezed(1), transposeA: transposeA)
            return out.squeezed(out.rank - 1)
        }
        let shape = matmulShape(a, b, transposeA: transposeA, transposeB: transposeB)
        var out = Tensor(uninitializedShape: shape)
        gemm(a, b, transposeA: transposeA, transposeB: transposeB, into: &out, beta: 0)
        return out
    }

    /// The matrix product written into `output`, reusing its buffer (hot loops, Docs/PERFORMANCE.md): output ←
    /// a·b, or output ← output + a·b with `accumulate`. Same semantics as `matmul(_:_:transposeA:transposeB:)`
    /// for operands of rank ≥ 2.
    /// - Precondition: `output` has the result shape; operands have rank ≥ 2.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false,
                              into output: inout Tensor, accumulate: Bool = false) {
        require(a.rank >= 2 && b.rank >= 2, "matmul(into:): shapes \(a.shape) and \(b.shape) need rank ≥ 2")
        let shape = matmulShape(a, b, transposeA: transposeA, transposeB: transposeB)
        require(output.shape == shape, "matmul(into:): output shape \(output.shape), result shape \(shape)")
        if !output.isContiguous { output = output.contiguousCopy() }
        output.makeUnique()
        gemm(a, b, transposeA: transposeA, transposeB: transposeB, into: &output, beta: accumulate ? 1 : 0)
    }

    /// Result shape of a matmul of operands of rank ≥ 2. - Precondition: compatible shapes.
    static func matmulShape(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> [Int] {
        let ar = a.rank, br = b.rank
        let m = transposeA ? a.shape[ar - 1] : a.shape[ar - 2]
        let k = transposeA ? a.shape[ar - 2] : a.shape[ar - 1]
        let kb = transposeB ? b.shape[br - 1] : b.shape[br - 2]
        let n = transposeB ? b.shape[br - 2] : b.shape[br - 1]
        require(k == kb, "matmul: inner extents differ: shapes \(a.shape)\(transposeA ? "ᵀ" : "") and \(b.shape)\(transposeB ? "ᵀ" : "")")
        return broadcastShape(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2)), op: "matmul") + [m, n]
    }

    /// out ← a·b + β·out over the broadcast batch; `out` is contiguous with the result shape.
    static func gemm(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool, into out: inout Tensor, beta: Float) {
        let m = out.shape[out.rank - 2], n = out.shape[out.rank - 1]
        let k = transposeA ? a.shape[a.rank - 2] : a.shape[a.rank - 1]
        let batch = Array(out.shape.dropLast(2))
        let po = out.storage.pointer + out.offset
        if out.count == 0 { return }
        if k == 0 {
            if beta == 0 { po.update(repeating: 0, count: out.count) }
            return
        }

        // [..., M, K] · [K, N] with a contiguous and untransposed: one GEMM with M' = batch·M.
        if b.rank == 2 && !transposeA && a.isContiguous && a.shape.dropLast(2) == batch[...] {
            let bv = b.matrixOperand(transposed: transposeB)
            withExtendedLifetime((a, bv.tensor)) {
                BLAS.sgemm(transA: false, transB: bv.trans, m: a.count / k, n: n, k: k, alpha: 1,
                           a: a.storage.pointer + a.offset, lda: k, b: bv.pointer, ldb: bv.ld, beta: beta,
                           c: po, ldc: n)
            }
            return
        }

        let ax = a.expanded(to: batch + Array(a.shape.suffix(2)))
        let bx = b.expanded(to: batch + Array(b.shape.suffix(2)))
        let batches = batch.reduce(1, *)
        let batchStrides = Tensor.contiguousStrides(batch)
        // Small products (attention heads) run whole, several at once; large ones one after another,
        // each split over the threads by BLAS.sgemm.
        let concurrent = batches > 1 && m * n * k < BLAS.splitThreshold
        func product(_ i: Int) {
            var oa = ax.offset, ob = bx.offset, rest = i
            for d in 0..<batch.count {
                let idx = rest / batchStrides[d]
                rest %= batchStrides[d]
                oa += idx * ax.strides[d]
                ob += idx * bx.strides[d]
            }
            let am = Tensor(storage: ax.storage, shape: Array(ax.shape.suffix(2)), strides: Array(ax.strides.suffix(2)), offset: oa)
            let bm = Tensor(storage: bx.storage, shape: Array(bx.shape.suffix(2)), strides: Array(bx.strides.suffix(2)), offset: ob)
            let av = am.matrixOperand(transposed: transposeA), bv = bm.matrixOperand(transposed: transposeB)
            withExtendedLifetime((av.tensor, bv.tensor)) {
                BLAS.sgemm(transA: av.trans, transB: bv.trans, m: m, n: n, k: k, alpha: 1,
                           a: av.pointer, lda: av.ld, b: bv.pointer, ldb: bv.ld, beta: beta,
                           c: po + i * m * n, ldc: n, split: !concurrent)
            }
        }
        if concurrent {
            Threading.parallelFor(batches, grain: Swift.max(1, BLAS.splitThreshold / Swift.max(m * n * k, 1))) { range in
                for i in range { product(i) }
            }
        } else {
            for i in 0..<batches { product(i) }
        }
    }

    /// A rank-2 view as a BLAS operand: base pointer, leading dimension and transpose flag, copying
    /// only when the strides cannot be expressed. `tensor` keeps the memory alive.
    func matrixOperand(transposed: Bool) -> (tensor: Tensor, pointer: UnsafePointer<Float>, ld: Int, trans: Bool) {
        if let layout = Tensor.blasLayout(rows: shape[0], cols: shape[1], s0: strides[0], s1: strides[1]) {
            return (self, UnsafePointer(storage.pointer + offset), layout.ld, layout.transposed != transposed)
        }
        let c = contiguousCopy()
        return (c, UnsafePointer(c.storage.pointer), Swift.max(shape[1], 1), transposed)
    }

    /// The affine map of a Linear layer in PyTorch's layout: x [..., in] · Wᵀ + b, with `weight`
    /// [out, in] and `bias` [out] → [..., out]. The transpose is a GEMM flag.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
        require(weight.rank == 2 && x.shape.last == weight.shape[1],
                     "linear: input \(x.shape) does not match weight \(weight.shape) ([out, in])")
        guard let bias else { return matmul(x, weight, transposeB: true) }
        require(bias.shape == [weight.shape[0]], "linear: bias \(bias.shape) does not match weight \(weight.shape)")
        guard x.rank >= 2 else { return matmul(x, weight, transposeB: true) + bias }
        // The output starts as rows of b and the GEMM adds x·Wᵀ to it (β = 1): one write pass instead
        // of an add pass that reads and writes the whole output.
        var out = Tensor(uninitializedShape: matmulShape(x, weight, transposeA: false, transposeB: true))
        let n = bias.count, rows = n == 0 ? 0 : out.count / n
        let b = bias.contiguous()
        let pb = b.storage.pointer + b.offset, po = out.storage.pointer
        withExtendedLifetime(b) {
            Threading.parallelFor(rows, grain: Swift.max(1, (1 << 15) / Swift.max(n, 1))) { range in
                for r in range { (po + r * n).update(from: pb, count: n) }
            }
        }
        gemm(x, weight, transposeA: false, transposeB: true, into: &out, beta: 1)
        return out
    }
}
