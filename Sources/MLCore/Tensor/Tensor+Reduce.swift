/// Reductions along axes. `axes: nil` reduces every axis; `keepingDimensions` keeps reduced axes with
/// extent 1 (numpy keepdims). Negative axes count from the end.
extension Tensor {
    /// Sorted, de-duplicated, non-negative axes (all axes for nil).
    func reductionAxes(_ axes: [Int]?, op: String) -> [Int] {
        guard let axes else { return Array(0..<rank) }
        let normal = Set(axes.map { axisIndex($0, op: op) })
        require(normal.count == axes.count, "\(op): repeated axis in \(axes) for shape \(shape)")
        return normal.sorted()
    }

    /// Reduces one axis with a kernel, keeping it with extent 1.
    func reduceOne(_ axis: Int, _ kind: ReductionKind) -> Tensor {
        let x = contiguous()
        let outer = shape[..<axis].reduce(1, *), r = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        var outShape = shape
        outShape[axis] = 1
        let out = Tensor(uninitializedShape: outShape)
        withExtendedLifetime(x) {
            reduceAxis(x.storage.pointer + x.offset, outer: outer, reduced: r, inner: inner, kind: kind,
                       into: out.storage.pointer)
        }
        return out
    }

    func reduce(_ axes: [Int]?, keepingDimensions keep: Bool, _ kind: ReductionKind, op: String) -> Tensor {
        let list = reductionAxes(axes, op: op)
        var out: Tensor
        if list.count == rank && rank > 1 {
            out = reshaped([count]).reduceOne(0, kind).reshaped(Array(repeating: 1, count: rank))
        } else {
            out = self
            for a in list.reversed() { out = out.reduceOne(a, kind) }
            if list.isEmpty { out = out.contiguousCopy() }
        }
        return keep ? out : out.reshaped(shape.indices.filter { !list.contains($0) }.map { shape[$0] })
    }

    /// Σ over `axes`.
    public func sum(axes: [Int]? = nil, keepingDimensions: Bool = false) -> Tensor {
        reduce(axes, keepingDimensions: keepingDimensions, .sum, op: "sum")
    }
    /// Σ over one axis.
    public func sum(axis: Int, keepingDimensions: Bool = false) -> Tensor {
        sum(axes: [axis], keepingDimensions: keepingDimensions)
    }

    /// Arithmetic mean over `axes` (NaN for an empty reduction, as numpy).
    public func mean(axes: [Int]? = nil, keepingDimensions: Bool = false) -> Tensor {
        let n = reductionAxes(axes, op: "mean").reduce(1) { $0 * shape[$1] }
        return sum(axes: axes, keepingDimensions: keepingDimensions) / Float(n)
    }
    public func mean(axis: Int, keepingDimensions: Bool = false) -> Tensor {
        mean(axes: [axis], keepingDimensions: keepingDimensions)
    }

    /// Variance over `axes`: Σ(x − mean)² / (N − correction). correction 0 is the population
    /// variance (numpy's default, LayerNorm's), 1 the unbiased sample variance (torch.var's default).
    public func variance(axes: [Int]? = nil, correction: Int = 0, keepingDimensions: Bool = false) -> Tensor {
        let n = reductionAxes(axes, op: "variance").reduce(1) { $0 * shape[$1] }
        let centered = self - mean(axes: axes, keepingDimensions: true)
        return centered.square().sum(axes: axes, keepingDimensions: keepingDimensions) / Float(n - correction)
    }
    public func variance(axis: Int, correction: Int = 0, keepingDimensions: Bool = false) -> Tensor {
        variance(axes: [axis], correction: correction, keepingDimensions: keepingDimensions)
    }

    /// Maximum over `axes` (NaN if any element is NaN; −inf for an empty reduction).
    public func max(axes: [Int]? = nil, keepingDimensions: Bool = false) -> Tensor {
        reduce(axes, keepingDimensions: keepingDimensions, .max, op: "max")
    }
    public func max(axis: Int, keepingDimensions: Bool = false) -> Tensor {
        max(axes: [axis], keepingDimensions: keepingDimensions)
    }
    /// Minimum over `axes` (NaN if any element is NaN; +inf for an empty reduction).
    public func min(axes: [Int]? = nil, keepingDimensions: Bool = false) -> Tensor {
        reduce(axes, keepingDimensions: keepingDimensions, .min, op: "min")
    }
    public func min(axis: Int, keepingDimensions: Bool = false) -> Tensor {
        min(axes: [axis], keepingDimensions: keepingDimensions)
    }

    /// log Σ exp over `axes`, computed as m + log Σ exp(x − m) with m the maximum; −inf when every
    /// element is −inf and +inf when any is +inf (as torch.logsumexp).
    public func logSumExp(axes: [Int]? = nil, keepingDimensions: Bool = false) -> Tensor {
        let m = max(axes: axes, keepingDimensions: true)
        // Shift by the maximum where it is finite; ±inf maxima shift by 0 (all −inf → −inf, any +inf → +inf).
        let shift = Tensor.select(m.abs().equal(.infinity), Tensor(scalar: 0), m)
        let out = (self - shift).exp().sum(axes: axes, keepingDimensions: true).log() + shift
        let list = reductionAxes(axes, op: "logSumExp")
        return keepingDimensions ? out : out.reshaped(shape.indices.filter { !list.contains($0) }.map { shape[$0] })
    }
    public func logSumExp(axis: Int, keepingDimensions: Bool = false) -> Tensor {
        logSumExp(axes: [axis], keepingDimensions: keepingDimensions)
    }

    /// Index of the maximum along `axis` (first occurrence; NaN counts as the maximum, as numpy);
    /// the result has the shape of `self` without `axis`.
    /// - Precondition: the axis is not empty.
    public func argmax(axis: Int = -1) -> NDArray<Int32> { argExtreme(axis: axis, isMax: true) }
    /// Index of the minimum along `axis` (first occurrence; NaN counts as the minimum).
    public func argmin(axis: Int = -1) -> NDArray<Int32> { argExtreme(axis: axis, isMax: false) }

    func argExtreme(axis: Int, isMax: Bool) -> NDArray<Int32> {
        let a = axisIndex(axis, op: isMax ? "argmax" : "argmin")
        require(shape[a] > 0, "\(isMax ? "argmax" : "argmin"): axis \(axis) of shape \(shape) is empty")
        let x = contiguous()
        let outer = shape[..<a].reduce(1, *), r = shape[a], inner = shape[(a + 1)...].reduce(1, *)
        var result = [Int32](repeating: 0, count: outer * inner)
        let p = x.storage.pointer + x.offset
        withExtendedLifetime(x) {
            for o in 0..<outer {
                for c in 0..<inner {
                    let base = p + o * r * inner + c
                    var best = base[0], index = 0
                    if !best.isNaN {
                        for i in 1..<r {
                            let v = base[i * inner]
                            if v.isNaN { index = i; break }
                            if isMax ? v > best : v < best { best = v; index = i }
                        }
                    }
                    result[o * inner + c] = Int32(index)
                }
            }
        }
        var outShape = shape
        outShape.remove(at: a)
        return NDArray(result, shape: outShape)
    }

    /// Softmax along `axis`, computed stably as exp(x − max) / Σ exp(x − max).
    public func softmax(axis: Int = -1) -> Tensor {
        let a = axisIndex(axis, op: "softmax")
        if a == rank - 1 { return lastAxisSoftmax(log: false) }
        let shifted = (self - max(axis: a, keepingDimensions: true)).exp()
        return shifted / shifted.sum(axis: a, keepingDimensions: true)
    }

    /// log softmax along `axis`: x − logsumexp(x).
    public func logSoftmax(axis: Int = -1) -> Tensor {
        let a = axisIndex(axis, op: "logSoftmax")
        if a == rank - 1 { return lastAxisSoftmax(log: true) }
        return self - logSumExp(axis: a, keepingDimensions: true)
    }

    /// softmax(self + bias) along the last axis, the bias added inside the softmax's row pass (one
    /// pass over the scores instead of an add pass and a softmax pass: attention with a padding or
    /// causal mask). `bias` broadcasts to `shape` (e.g. a padding mask [B, 1, 1, S] against scores
    /// [B, H, T, S]); the result equals `(self + bias).softmax(axis: -1)` exactly.
    /// - Precondition: `bias` broadcasts to `shape`.
    public func softmax(addingBias bias: Tensor) -> Tensor {
        require(rank >= 1 && Tensor.broadcastShape(shape, bias.shape, op: "softmax(addingBias:)") == shape,
                "softmax(addingBias:): bias \(bias.shape) does not broadcast to \(shape)")
        let n = shape[rank - 1]
        let b = bias.expanded(to: shape)
        // Bias rows must be contiguous (or one value repeated) to be read in place; otherwise add first.
        guard n > 0, b.strides[rank - 1] == 1 || n == 1 else { return (self + bias).softmax(axis: -1) }
        let x = contiguous()
        let rows = count / n
        let out = Tensor(uninitializedShape: shape)
        let px = x.storage.pointer + x.offset, pb = b.storage.pointer + b.offset, po = out.storage.pointer
        let leading = Array(shape.dropLast()), biasStrides = Array(b.strides.dropLast())
        withExtendedLifetime((x, b)) {
            Threading.parallelFor(rows, grain: Swift.max(1, (1 << 14) / n)) { range in
                for row in range {
                    var offset = 0, rest = row
                    for d in stride(from: leading.count - 1, through: 0, by: -1) {
                        offset += (rest % leading[d]) * biasStrides[d]
                        rest /= leading[d]
                    }
                    let o = po + row * n, xr = px + row * n, br = pb + offset
                    for i in 0..<n { o[i] = xr[i] + br[i] }
                    softmaxRow(o, o, n, log: false)
                }
            }
        }
        return out
    }

    /// Row-wise (last axis) softmax / log-softmax in one fused pass per row.
    func lastAxisSoftmax(log: Bool) -> Tensor {
        let x = contiguous()
        let n = shape.last ?? 1, rows = n == 0 ? 0 : count / n
        let out = Tensor(uninitializedShape: shape)
        let px = x.storage.pointer + x.offset, po = out.storage.pointer
        withExtendedLifetime(x) {
            Threading.parallelFor(rows, grain: Swift.max(1, (1 << 14) / Swift.max(n, 1))) { range in
                for row in range { softmaxRow(px + row * n, po + row * n, n, log: log) }
            }
        }
        return out
    }
}
