/// Cross-entropy from logits with integer targets: fused log-softmax + negative log-likelihood,
/// forward and backward in one sweep per row each (PyTorch's torch.nn.functional.cross_entropy).

/// How a loss reduces its per-element values (torch's `reduction`).
public enum LossReduction: String, Sendable, CaseIterable {
    /// Per-element losses, in the shape of the targets.
    case none
    /// Their (weighted) mean: a scalar.
    case mean
    /// Their sum: a scalar.
    case sum
}

extension Variable {
    /// Cross-entropy between logits and integer class targets (torch.nn.functional.cross_entropy with
    /// integer targets; aten/src/ATen/native/LossNLL.cpp `cross_entropy_loss_label_smoothing`).
    ///
    /// With p = softmax over the class axis, C classes, class weights w (torch's `weight`, all 1 when
    /// nil), per-sample weights s (all 1 when nil), smoothing ε and target y ≠ `ignoreIndex`:
    ///
    ///     ℓ = s · [ (1 − ε) · w_y · (−log p_y) + (ε / C) · Σ_c w_c · (−log p_c) ]
    ///
    /// and ℓ = 0 where y == `ignoreIndex` (the smoothing term too). Reductions: `.none` returns ℓ in
    /// the targets' shape; `.sum` returns Σ ℓ; `.mean` returns Σ ℓ / Σ s · w_y over the non-ignored
    /// targets (torch's weighted mean, which also divides the smoothing term by Σ w_y; NaN when every
    /// target is ignored, as in torch).
    ///
    /// Per-sample weights are an MLCore extension (torch has none): they equal torch's
    /// `(cross_entropy(..., reduction='none') * s).sum() / (s * weight[y])[y != ignore].sum()` for the
    /// mean.
    ///
    /// Computed stably: log p_c = z_c − (m + log Σ exp(z − m)) with m the row maximum; the backward pass
    /// recomputes p from the saved log-sum-exp (one value per row):
    /// ∂ℓ/∂z_k = s · [((1 − ε) w_y + ε W / C) · p_k − (1 − ε) w_y · [k = y] − (ε / C) w_k], W = Σ w_c.
    ///
    /// - Parameters:
    ///   - logits: [N, C] or [N, C, d₁, …] (classes on axis 1, torch's layout) by default; with
    ///     `classAxis: -1`, [..., C] (classes last, e.g. language-model logits [B, T, V]).
    ///   - targets: class indices in [0, C) or `ignoreIndex`, shape = logits' shape without the class
    ///     axis ([N], [N, d₁, …] or [...]).
    ///   - classWeights: [C] (torch's `weight`), or nil.
    ///   - sampleWeights: the targets' shape, or nil.
    ///   - ignoreIndex: targets with this value contribute nothing (default −100, as torch).
    ///   - labelSmoothing: ε in [0, 1] (torch's `label_smoothing`).
    ///   - reduction: `.mean` (default), `.sum` or `.none`.
    ///   - classAxis: the class axis of `logits` (default 1; negative counts from the end).
    /// - Returns: a scalar (mean, sum) or the targets' shape (none).
    /// - Precondition: shapes as above; every target not ignored is in [0, C).
    public static func crossEntropy(_ logits: Variable, targets: NDArray<Int32>, classWeights: Tensor? = nil,
                                    sampleWeights: Tensor? = nil, ignoreIndex: Int32 = -100,
                                    labelSmoothing: Float = 0, reduction: LossReduction = .mean,
                                    classAxis: Int = 1) -> Variable {
        let shape = logits.shape
        require(shape.count >= 1, "crossEntropy: logits need a class axis, got shape \(shape)")
        let axis = logits.value.axisIndex(classAxis, op: "crossEntropy")
        let classes = shape[axis]
        var targetShape = shape
        targetShape.remove(at: axis)
        require(targets.shape == targetShape,
                "crossEntropy: targets of shape \(targets.shape) for logits \(shape) with classes on axis \(axis) (expected \(targetShape))")
        require(classWeights.map { $0.shape == [classes] } ?? true,
                "crossEntropy: class weights of shape \(classWeights!.shape), expected [\(classes)]")
        require(sampleWeights.map { $0.shape == targetShape } ?? true,
                "crossEntropy: sample weights of shape \(sampleWeights!.shape), expected \(targetShape)")
        require(labelSmoothing >= 0 && labelSmoothing <= 1, "crossEntropy: label smoothing \(labelSmoothing) outside [0, 1]")

        // Rows of C logits: move the class axis last (a copy only when it is not last already).
        let lastAxis = axis == shape.count - 1
        var order = Array(0..<shape.count)
        order.remove(at: axis)
        order.append(axis)
        let rowsTensor = (lastAxis ? logits.value : logits.value.permuted(order)).contiguous()
        let rows = targets.count
        let kernel = CrossEntropyKernel(classes: classes, ignoreIndex: ignoreIndex, smoothing: labelSmoothing,
                                        classWeights: classWeights?.contiguous(), sampleWeights: sampleWeights?.contiguous())
        let perRow = Tensor(uninitializedShape: targetShape)
        let lse = Tensor(uninitializedShape: [rows])
        let denominator = targets.withUnsafeBufferPointer { t in
            kernel.forward(rowsTensor, t, rows: rows, loss: perRow.storage.pointer, lse: lse.storage.pointer)
        }
        let out: Tensor
        switch reduction {
        case .none: out = perRow
        case .sum: out = Tensor(scalar: Float(perRow.scalars.reduce(0.0) { $0 + Double($1) }))
        case .mean: out = Tensor(scalar: Float(perRow.scalars.reduce(0.0) { $0 + Double($1) } / denominator))
        }
        return record(out, op: "crossEntropy", [logits]) { g, _ in
            // Upstream gradient per row: g itself (none), or the scalar (sum) divided by Σ s·w_y (mean).
            let scale: Float = reduction == .mean ? Float(1 / denominator) : 1
            let gRows = reduction == .none ? g.contiguous() : Tensor(shape: [rows], repeating: g.item * scale)
            let dRows = Tensor(uninitializedShape: rowsTensor.shape)
            targets.withUnsafeBufferPointer { t in
                withExtendedLifetime(gRows) {
                    kernel.backward(rowsTensor, t, rows: rows, upstream: gRows.storage.pointer + gRows.offset,
                                    lse: lse.storage.pointer, out: dRows.storage.pointer)
                }
            }
            if lastAxis { return [dRows] }
            var inverse = [Int](repeating: 0, count: order.count)
            for (i, o) in order.enumerated() { inverse[o] = i }
            return [dRows.permuted(inverse).contiguous()]
        }
    }
}

/// The fused per-row computation of `crossEntropy` on contiguous rows of `classes` logits.
struct CrossEntropyKernel: @unchecked Sendable {
    let classes: Int
    let ignoreIndex: Int32
    let smoothing: Float
    let classWeights: Tensor?
    let sampleWeights: Tensor?

    /// Fills `loss[r]` (weighted per-row loss, 0 for ignored rows) and `lse[r]` (log Σ exp of the row);
    /// returns Σ s·w_y over non-ignored rows (the mean's denominator).
    func forward(_ logits: Tensor, _ targets: UnsafeBufferPointer<Int32>, rows: Int,
                 loss: UnsafeMutablePointer<Float>, lse: UnsafeMutablePointer<Float>) -> Double {
        let c = classes, eps = smoothing, ignore = ignoreIndex
        let pz = logits.storage.pointer + logits.offset
        let pw = classWeights.map { $0.storage.pointer + $0.offset }
        let ps = sampleWeights.map { $0.storage.pointer + $0.offset }
        let totalWeight = pw.map { p in (0..<c).reduce(Float(0)) { $0 + p[$1] } } ?? Float(c)
        let chunks = Swift.max(1, Swift.min(Threading.count, rows))
        var partial = [Double](repeating: 0, count: chunks)
        partial.withUnsafeMutableBufferPointer { partialBuffer in
            let denominators = partialBuffer.baseAddress!
            withExtendedLifetime((logits, classWeights, sampleWeights)) {
                Threading.parallelFor(chunks, grain: 1) { range in
                    for chunk in range {
                        var den = 0.0
                        let lo = rows * chunk / chunks, hi = rows * (chunk + 1) / chunks
                        for r in lo..<hi {
                            let z = pz + r * c
                            let m = rowMax(z, c)
                            let (sumExp, weightedSum) = expSumAndDot(z, c, max: m, weights: pw, needsDot: eps != 0)
                            let l = m + scalarLog(sumExp)
                            lse[r] = l
                            let y = targets[r]
                            if y == ignore { loss[r] = 0; continue }
                            require(y >= 0 && Int(y) < c, "crossEntropy: target \(y) out of range [0, \(c)) (ignore index \(ignore))")
                            let wy = pw?[Int(y)] ?? 1, s = ps?[r] ?? 1
                            var value = (1 - eps) * wy * (l - z[Int(y)])
                            if eps != 0 { value += eps / Float(c) * (totalWeight * l - weightedSum) }
                            loss[r] = s * value
                            den += Double(s) * Double(wy)
                        }
                        denominators[chunk] = den
                    }
                }
            }
        }
        return partial.reduce(0, +)
    }

    /// out = ∂(Σ_r upstream[r] · loss[r]) / ∂logits, rows of `classes`.
    func backward(_ logits: Tensor, _ targets: UnsafeBufferPointer<Int32>, rows: Int, upstream: UnsafePointer<Float>,
                  lse: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
        let c = classes, eps = smoothing, ignore = ignoreIndex
        let pz = logits.storage.pointer + logits.offset
        let pw = classWeights.map { $0.storage.pointer + $0.offset }
        let ps = sampleWeights.map { $0.storage.pointer + $0.offset }
        let totalWeight = pw.map { p in (0..<c).reduce(Float(0)) { $0 + p[$1] } } ?? Float(c)
        withExtendedLifetime((logits, classWeights, sampleWeights)) {
            Threading.parallelFor(rows, grain: Swift.max(1, 8192 / Swift.max(c, 1))) { range in
                for r in range {
                    let z = pz + r * c, o = out + r * c
                    let y = targets[r]
                    if y == ignore {
                        o.update(repeating: 0, count: c)
                        continue
                    }
                    let wy = pw?[Int(y)] ?? 1
                    let a = upstream[r] * (ps?[r] ?? 1)
                    let coefficient = Vec8(repeating: a * ((1 - eps) * wy + eps * totalWeight / Float(c)))
                    let smooth = a * eps / Float(c)
                    let l = Vec8(repeating: lse[r])
                    var i = 0
                    if let pw {
                        let vs = Vec8(repeating: smooth)
                        while i + 8 <= c {
                            store8(coefficient * vexp(load8(z + i) - l) - vs * load8(pw + i), o + i)
                            i += 8
                        }
                        while i < c { o[i] = coefficient[0] * scalarExp(z[i] - l[0]) - smooth * pw[i]; i += 1 }
                    } else {
                        let vs = Vec8(repeating: smooth)
                        while i + 8 <= c { store8(coefficient * vexp(load8(z + i) - l) - vs, o + i); i += 8 }
                        while i < c { o[i] = coefficient[0] * scalarExp(z[i] - l[0]) - smooth; i += 1 }
                    }
                    o[Int(y)] -= a * (1 - eps) * wy
                }
            }
        }
    }
}

/// The largest of `n` floats (−inf for none).
@inline(__always)
func rowMax(_ z: UnsafePointer<Float>, _ n: Int) -> Float {
    var v = Vec8(repeating: -.infinity), i = 0
    while i + 8 <= n {
        let x = load8(z + i)
        v = v.replacing(with: x, where: x .> v)
        i += 8
    }
    var m = v.max()
    while i < n { if z[i] > m { m = z[i] }; i += 1 }
    return m
}

/// (Σ exp(z − max), Σ w·z) over `n` floats (w = 1 when nil; the dot only when `needsDot`).
@inline(__always)
func expSumAndDot(_ z: UnsafePointer<Float>, _ n: Int, max m: Float, weights: UnsafeMutablePointer<Float>?,
                  needsDot: Bool) -> (Float, Float) {
    let vm = Vec8(repeating: m)
    var s = Vec8(repeating: 0), d = Vec8(repeating: 0), i = 0
    while i + 8 <= n {
        let x = load8(z + i)
        s += vexp(x - vm)
        if needsDot { d = d.addingProduct(x, weights.map { load8($0 + i) } ?? Vec8(repeating: 1)) }
        i += 8
    }
    var sum = s.sum(), dot = d.sum()
    while i < n {
        sum += scalarExp(z[i] - m)
        if needsDot { dot += z[i] * (weights?[i] ?? 1) }
        i += 1
    }
    return (sum, dot)
}

/// e^x for one float through the vector kernel (same rounding as the SIMD lanes).
@inline(__always)
func scalarExp(_ x: Float) -> Float { vexp(Vec8(repeating: x))[0] }
