/// Inference attention fused per head: softmax(q·kᵀ·scale + bias)·v computed one head (and one block
/// of query rows) at a time, with the scores in a per-thread scratch block that stays in cache, and
/// the heads spread over `Threading.count` threads. The unfused path writes the whole [B, H, T, S]
/// score tensor, reads it back for the softmax, and again for the product with v (25 MB per BERT
/// layer at batch 32 × 128 tokens), and runs its 2·B·H small products one after another.

extension Tensor {
    /// Query rows per block: a block's scores (rows × S floats) stay in L2 for the two products.
    static let attentionRowBlock = 128

    /// softmax(q·kᵀ·scale + bias)·v for inference (nothing recorded).
    ///
    /// - Parameters:
    ///   - query: [B, H, T, Dh] (any strides; copied when its rows are not unit-stride).
    ///   - key, value: [B, Hkv, S, Dh], H a multiple of Hkv; query head h reads key/value head
    ///     h / (H/Hkv) (grouped-query attention, read in place rather than repeated).
    ///   - bias: additive, broadcastable to [B, H, T, S] (padding and/or causal mask), or nil.
    ///   - scale: multiplies q·kᵀ (the GEMM's α).
    /// - Returns: [B, H, T, Dh] as a view of a [B, T, H, Dh] buffer, so merging the heads back to
    ///   [B, T, H·Dh] needs no copy.
    /// - Precondition: the shapes agree (checked by `Variable.scaledDotProductAttention`).
    static func fusedAttention(query: Tensor, key: Tensor, value: Tensor, bias: Tensor?, scale: Float) -> Tensor {
        let (b, h, t, dh) = (query.shape[0], query.shape[1], query.shape[2], query.shape[3])
        let (hkv, s) = (key.shape[1], key.shape[2])
        let group = h / hkv
        let q = query.headRowsOperand(), k = key.headRowsOperand(), v = value.headRowsOperand()
        var bias = bias?.expanded(to: [b, h, t, s])
        if let m = bias, s > 1 && m.strides[3] != 1 { bias = m.contiguous() }
        let out = Tensor(uninitializedShape: [b, t, h, dh])
        if out.count == 0 { return out.transposed(1, 2) }
        let po = out.storage.pointer
        let rowBlock = Swift.min(t, attentionRowBlock)
        // Raw pointers and strides, so the per-head loop touches no class references.
        let pm = bias.map { UnsafePointer($0.storage.pointer + $0.offset) }
        let ms = bias?.strides ?? [0, 0, 0, 0]
        withExtendedLifetime((q, k, v, bias)) {
            Threading.parallelFor(b * h, grain: 1) { heads in
                let scores = UnsafeMutablePointer<Float>.allocate(capacity: rowBlock * Swift.max(s, 1))
                defer { scores.deallocate() }
                for head in heads {
                    let (bi, hi) = (head / h, head % h), kvh = hi / group
                    let pq = q.pointer(bi, hi), pk = k.pointer(bi, kvh), pv = v.pointer(bi, kvh)
                    for t0 in stride(from: 0, to: t, by: rowBlock) {
                        let rows = Swift.min(rowBlock, t - t0)
                        BLAS.sgemm(transA: false, transB: true, m: rows, n: s, k: dh, alpha: scale,
                                   a: pq + t0 * q.rowStride, lda: q.rowStride, b: pk, ldb: k.rowStride,
                                   beta: 0, c: scores, ldc: s, split: false)
                        for r in 0..<rows {
                            let row = scores + r * s
                            if let pm {
                                let mrow = pm + bi * ms[0] + hi * ms[1] + (t0 + r) * ms[2]
                                if s == 1 { row[0] += mrow[0] } else { for j in 0..<s { row[j] += mrow[j] } }
                            }
                            softmaxRow(row, row, s, log: false)
                        }
                        BLAS.sgemm(transA: false, transB: false, m: rows, n: dh, k: s, alpha: 1,
                                   a: scores, lda: s, b: pv, ldb: v.rowStride, beta: 0,
                                   c: po + ((bi * t + t0) * h + hi) * dh, ldc: h * dh, split: false)
                    }
                }
            }
        }
        return out.transposed(1, 2)
    }

    /// This [B, H, N, Dh] tensor as per-head row-major matrices [N, Dh] (unit stride along Dh, rows
    /// `rowStride` apart), copying only when its layout does not allow that.
    fileprivate func headRowsOperand() -> HeadRows {
        let n = shape[2], d = shape[3]
        let usable = (strides[3] == 1 || d <= 1) && (n <= 1 || strides[2] >= d)
        let x = usable ? self : contiguous()
        return HeadRows(tensor: x, rowStride: Swift.max(x.strides[2], d))
    }
}

/// A [B, H, N, Dh] tensor read as per-head matrices; `tensor` keeps the memory alive.
private struct HeadRows {
    let tensor: Tensor
    let base: UnsafePointer<Float>
    let batchStride: Int, headStride: Int, rowStride: Int

    init(tensor: Tensor, rowStride: Int) {
        self.tensor = tensor
        base = UnsafePointer(tensor.storage.pointer + tensor.offset)
        batchStride = tensor.strides[0]
        headStride = tensor.strides[1]
        self.rowStride = rowStride
    }

    /// The first element of head `h` of batch item `b`.
    func pointer(_ b: Int, _ h: Int) -> UnsafePointer<Float> { base + b * batchStride + h * headStride }
}
