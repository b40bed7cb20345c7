/// Differentiable matrix products. With C = op(A)·op(B) and G = ∂L/∂C:
/// ∂L/∂op(A) = G·op(B)ᵀ and ∂L/∂op(B) = op(A)ᵀ·G, written as GEMMs with transpose flags on the
/// stored operands (no transposed copies); broadcast batch axes are summed back.
extension Variable {
    /// The matrix product with Tensor.matmul's semantics (batch broadcasting, transpose flags,
    /// rank-1 operands as row/column vectors).
    public static func matmul(_ a: Variable, _ b: Variable, transposeA: Bool = false, transposeB: Bool = false) -> Variable {
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
        let x = a.value, y = b.value
        let out = Tensor.matmul(x, y, transposeA: transposeA, transposeB: transposeB)
        let tA = transposeA, tB = transposeB
        return record(out, op: "matmul", [a, b]) { g, n in
            var ga: Tensor? = nil, gb: Tensor? = nil
            if n[0] {
                // A stored [..., M, K] (or [..., K, M] when transposed).
                if y.rank == 2 && !tA && x.rank > 2 {
                    // Fold the batch: G [..., M, N] · op(B)ᵀ is one GEMM.
                    ga = Tensor.matmul(g, y, transposeB: !tB)
                } else {
                    ga = tA ? Tensor.matmul(y, g, transposeA: tB, transposeB: true)
                            : Tensor.matmul(g, y, transposeB: !tB)
                }
                ga = ga!.unbroadcast(to: x.shape)
            }
            if n[1] {
                if y.rank == 2 && x.rank > 2 && !tA && x.isContiguous {
                    // Weight shared over the batch: fold rows, one GEMM instead of a batch + sum.
                    let k = x.shape[x.rank - 1], nn = g.shape[g.rank - 1]
                    let x2 = x.reshaped([-1, k]), g2 = g.contiguous().reshaped([-1, nn])
                    gb = tB ? Tensor.matmul(g2, x2, transposeA: true) : Tensor.matmul(x2, g2, transposeA: true)
                } else {
                    gb = tB ? Tensor.matmul(g, x, transposeA: true, transposeB: tA)
                            : Tensor.matmul(x, g, transposeA: !tA)
                    gb = gb!.unbroadcast(to: y.shape)
                }
            }
            return [ga, gb]
        }
    }

    /// A Linear layer's affine map in PyTorch's layout: x [..., in] · Wᵀ + b with `weight` [out, in]
    /// and `bias` [out] → [..., out]. Gradients: ∂x = G·W, ∂W = Gᵀ·x (rows folded), ∂b = Σ_rows G.
    public static func linear(_ x: Variable, weight: Variable, bias: Variable? = nil) -> Variable {
        let xv = x.value, w = weight.value
        let out = Tensor.linear(xv, weight: w, bias: bias?.value)
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        return record(out, op: "linear", inputs) { g, n in
            let outFeatures = w.shape[0], inFeatures = w.shape[1]
            let g2 = g.contiguous().reshaped([-1, outFeatures])
            var grads: [Tensor?] = [nil, nil]
            if n[0] { grads[0] = Tensor.matmul(g2, w).reshaped(xv.shape) }
            if n[1] { grads[1] = Tensor.matmul(g2, xv.contiguous().reshaped([-1, inFeatures]), transposeA: true) }
            if inputs.count == 3 { grads.append(n[2] ? g2.sum(axis: 0) : nil) }
            return grads
        }
    }
}
