/// Differentiable reductions and (log-)softmax. Axes follow Tensor's conventions (nil = all,
/// negative counts from the end).
extension Variable {
    /// The gradient of a reduction, broadcast back over the reduced axes of `inputShape`.
    static func spread(_ g: Tensor, over axes: [Int], of inputShape: [Int]) -> Tensor {
        var kept = inputShape
        for a in axes { kept[a] = 1 }
        return g.reshaped(kept).expanded(to: inputShape)
    }

    /// Σ over `axes` (all by default).
    public func sum(axes: [Int]? = nil, keepingDimensions: Bool = false) -> Variable {
        let list = value.reductionAxes(axes, op: "sum"), s = shape
        return Variable.record(value.sum(axes: axes, keepingDimensions: keepingDimensions), op: "sum", [self]) { g, _ in
            [Variable.spread(g, over: list, of: s).contiguous()]
        }
    }
    public func sum(axis: Int, keepingDimensions: Bool = false) -> Variable {
        sum(axes: [axis], keepingDimensions: keepingDimensions)
    }

    /// Mean over `axes` (all by default).
    public func mean(axes: [Int]? = nil, keepingDimensions: Bool = false) -> Variable {
        let list = value.reductionAxes(axes, op: "mean"), s = shape
        let n = Float(list.reduce(1) { $0 * s[$1] })
        return Variable.record(value.mean(axes: axes, keepingDimensions: keepingDimensions), op: "mean", [self]) { g, _ in
            [Variable.spread(g, over: list, of: s) / n]
        }
    }
    public func mean(axis: Int, keepingDimensions: Bool = false) -> Variable {
        mean(axes: [axis], keepingDimensions: keepingDimensions)
    }

    /// Σ(x − mean)² / (N − correction) over `axes`; ∂/∂x = 2(x − mean)/(N − correction).
    public func variance(axes: [Int]? = nil, correction: Int = 0, keepingDimensions: Bool = false) -> Variable {
        let list = value.reductionAxes(axes, op: "variance"), x = value
        let n = Float(list.reduce(1) { $0 * x.shape[$1] } - correction)
        let out = value.variance(axes: axes, correction: correction, keepingDimensions: keepingDimensions)
        return Variable.record(out, op: "variance", [self]) { g, _ in
            let centred = x - x.mean(axes: list, keepingDimensions: true)
            return [Variable.spread(g, over: list, of: x.shape) * centred * (2 / n)]
        }
    }

    /// Maximum along `axis`; the gradient is split evenly between tied maxima (torch.amax).
    public func max(axis: Int, keepingDimensions: Bool = false) -> Variable { extreme(axis, keepingDimensions, isMax: true) }
    /// Minimum along `axis`; the gradient is split evenly between tied minima (torch.amin).
    public func min(axis: Int, keepingDimensions: Bool = false) -> Variable { extreme(axis, keepingDimensions, isMax: false) }

    private func extreme(_ axis: Int, _ keep: Bool, isMax: Bool) -> Variable {
        let x = value, a = x.axisIndex(axis, op: isMax ? "max" : "min")
        let kept = isMax ? x.max(axis: a, keepingDimensions: true) : x.min(axis: a, keepingDimensions: true)
        let out = keep ? kept : kept.squeezed(a)
        return Variable.record(out, op: isMax ? "max" : "min", [self]) { g, _ in
            let hit = x.equal(kept)
            let share = hit / hit.sum(axis: a, keepingDimensions: true)
            return [Variable.spread(g, over: [a], of: x.shape) * share]
        }
    }

    /// log Σ exp over `axes`, computed stably; ∂/∂x = softmax(x).
    public func logSumExp(axes: [Int]? = nil, keepingDimensions: Bool = false) -> Variable {
        let list = value.reductionAxes(axes, op: "logSumExp"), x = value
        let kept = x.logSumExp(axes: list, keepingDimensions: true)
        let out = keepingDimensions ? kept : kept.reshaped(x.shape.indices.filter { !list.contains($0) }.map { x.shape[$0] })
        return Variable.record(out, op: "logSumExp", [self]) { g, _ in
            [Variable.spread(g, over: list, of: x.shape) * (x - kept).exp()]
        }
    }
    public func logSumExp(axis: Int, keepingDimensions: Bool = false) -> Variable {
        logSumExp(axes: [axis], keepingDimensions: keepingDimensions)
    }

    /// Softmax along `axis`; ∂/∂x = y ⊙ (g − Σ g ⊙ y).
    public func softmax(axis: Int = -1) -> Variable {
        let a = value.axisIndex(axis, op: "softmax"), y = value.softmax(axis: a)
        return Variable.record(y, op: "softmax", [self]) { g, _ in [Tensor.softmaxBackward(y, g, axis: a)] }
    }

    /// log-softmax along `axis`; ∂/∂x = g − softmax(x) · Σ g.
    public func logSoftmax(axis: Int = -1) -> Variable {
        let a = value.axisIndex(axis, op: "logSoftmax"), y = value.logSoftmax(axis: a)
        return Variable.record(y, op: "logSoftmax", [self]) { g, _ in
            [g - y.exp() * g.sum(axis: a, keepingDimensions: true)]
        }
    }
}

extension Tensor {
    /// ∂L/∂x of y = softmax(x) along `axis` given g = ∂L/∂y: y ⊙ (g − Σ_axis g ⊙ y). Fused per row
    /// for the last axis.
    static func softmaxBackward(_ y: Tensor, _ g: Tensor, axis a: Int) -> Tensor {
        guard a == y.rank - 1 else { return y * (g - (g * y).sum(axis: a, keepingDimensions: true)) }
        let yc = y.contiguous(), gc = g.contiguous()
        let n = y.shape.last ?? 1, rows = n == 0 ? 0 : y.count / n
        let out = Tensor(uninitializedShape: y.shape)
        let py = yc.storage.pointer + yc.offset, pg = gc.storage.pointer + gc.offset, po = out.storage.pointer
        withExtendedLifetime((yc, gc)) {
            Threading.parallelFor(rows, grain: Swift.max(1, (1 << 14) / Swift.max(n, 1))) { range in
                for row in range {
                    let yr = py + row * n, gr = pg + row * n, or = po + row * n
                    var dot: Float = 0
                    for i in 0..<n { dot += yr[i] * gr[i] }
                    for i in 0..<n { or[i] = yr[i] * (gr[i] - dot) }
                }
            }
        }
        return out
    }
}
