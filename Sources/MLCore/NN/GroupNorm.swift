/// Group normalisation (Wu & He 2018; torch.nn.GroupNorm, torch.nn.functional.group_norm) with a
/// fused forward and backward, and BatchNorm1d (torch.nn.BatchNorm1d) on top of BatchNorm.swift.

extension Variable {
    /// GroupNorm of x [N, C, *] (any trailing spatial axes, L values each) in G groups of C/G
    /// channels: per sample n and group g, μ and the population variance σ² over its C/G·L values,
    /// y = (x − μ)/√(σ² + ε)·γ_c + β_c (Wu & He 2018, eq. 1–2; statistics in Double).
    /// - Parameters: weight γ and bias β [C] or nil.
    /// - Precondition: rank ≥ 2; G divides C.
    public static func groupNorm(_ x: Variable, groups: Int, weight: Variable?, bias: Variable?, epsilon: Float = 1e-5) -> Variable {
        require(x.rank >= 2, "groupNorm: input \(x.shape) must be [N, C, ...]")
        let n = x.shape[0], c = x.shape[1], l = x.shape[2...].reduce(1, *)
        require(groups > 0 && c % groups == 0, "groupNorm: \(groups) groups do not divide \(c) channels")
        require(weight.map { $0.shape == [c] } ?? true, "groupNorm: weight \(weight!.shape) for input \(x.shape)")
        require(bias.map { $0.shape == [c] } ?? true, "groupNorm: bias \(bias!.shape) for input \(x.shape)")
        let cg = c / groups, rowLength = cg * l, rows = n * groups
        let xc = x.value.contiguous(), px = xc.storage.pointer + xc.offset
        let gamma = weight?.value.scalars, beta = bias?.value.scalars
        var mean = [Float](repeating: 0, count: rows), rstd = [Float](repeating: 0, count: rows)
        let out = Tensor(uninitializedShape: x.shape), po = out.storage.pointer
        mean.withUnsafeMutableBufferPointer { pm in
            rstd.withUnsafeMutableBufferPointer { pr in
                withExtendedLifetime(xc) {
                    Threading.parallelFor(rows, grain: Swift.max(1, 16384 / Swift.max(rowLength, 1))) { range in
                        for r in range {
                            let row = px + r * rowLength
                            let mu = rowSum(row, rowLength) / Double(rowLength)
                            let v = rowSquaredDeviation(row, rowLength, mean: Float(mu)) / Double(rowLength)
                            let inv = Float(1 / (v + Double(epsilon)).squareRoot())
                            pm[r] = Float(mu); pr[r] = inv
                            for ch in 0..<cg {
                                let channel = (r % groups) * cg + ch
                                let a = inv * (gamma?[channel] ?? 1), s = (beta?[channel] ?? 0) - Float(mu) * a
                                let src = row + ch * l, dst = po + r * rowLength + ch * l
                                for i in 0..<l { dst[i] = src[i] * a + s }
                            }
                        }
                    }
                }
            }
        }
        var inputs = [x]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        let hasWeight = weight != nil, hasBias = bias != nil
        return record(out, op: "groupNorm", inputs) { g, needs in
            let gc = g.contiguous(), pg = gc.storage.pointer + gc.offset
            // Per (n, c): Σ g and Σ g·x̂, the pieces of dγ, dβ and dx.
            let sums = Tensor(uninitializedShape: [2, n * c]), ps = sums.storage.pointer, psx = ps + n * c
            withExtendedLifetime((gc, xc)) {
                Threading.parallelFor(n * c, grain: Swift.max(1, 16384 / Swift.max(l, 1))) { range in
                    for p in range {
                        let r = (p / c) * groups + (p % c) / cg
                        let (s, sx) = rowSumAndCenteredDot(pg + p * l, px + p * l, l, mean: mean[r])
                        ps[p] = Float(s); psx[p] = Float(sx) * rstd[r]
                    }
                }
            }
            var dx: Tensor? = nil
            if needs[0] {
                let d = Tensor(uninitializedShape: xc.shape), pd = d.storage.pointer
                withExtendedLifetime((gc, xc, sums)) {
                    Threading.parallelFor(rows, grain: Swift.max(1, 16384 / Swift.max(rowLength, 1))) { range in
                        for r in range {
                            // With ĝ = g·γ: dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) over the group.
                            let b = r / groups, c0 = (r % groups) * cg
                            var sg = 0.0, sgx = 0.0
                            for ch in c0..<(c0 + cg) {
                                let gam = Double(gamma?[ch] ?? 1)
                                sg += gam * Double(ps[b * c + ch]); sgx += gam * Double(psx[b * c + ch])
                            }
                            let mg = Float(sg / Double(rowLength)), mgx = Float(sgx / Double(rowLength))
                            let mu = mean[r], inv = rstd[r]
                            for ch in 0..<cg {
                                let gam = gamma?[c0 + ch] ?? 1, off = r * rowLength + ch * l
                                let xr = px + off, gr = pg + off, o = pd + off
                                for i in 0..<l { o[i] = inv * (gam * gr[i] - mg - (xr[i] - mu) * inv * mgx) }
                            }
                        }
                    }
                }
                dx = d
            }
            var grads: [Tensor?] = [dx]
            let perChannel = sums.reshaped([2, n, c]).sum(axis: 1)
            if hasWeight { grads.append(needs[grads.count] ? perChannel.selected(1) : nil) }
            if hasBias { grads.append(needs[grads.count] ? perChannel.selected(0) : nil) }
            return grads
        }
    }
}

/// Group normalisation layer (torch.nn.GroupNorm(num_groups, num_channels, eps, affine)):
/// `prefix.weight` γ (ones) and `prefix.bias` β (zeros), [C] each, when affine.
public final class GroupNorm: Module {
    /// γ [C], or nil when not affine.
    public let weight: Parameter?
    /// β [C], or nil when not affine.
    public let bias: Parameter?
    /// Groups G (divides C).
    public let groups: Int
    /// Added to the variance.
    public let epsilon: Float
    /// weight, bias.
    public var parameters: [Parameter] { [weight, bias].compactMap { $0 } }

    /// - Precondition: `groups` divides `channels`.
    public init(_ prefix: String, groups: Int, channels: Int, epsilon: Float = 1e-5, affine: Bool = true, factory: ParameterFactory) {
        require(groups > 0 && channels % groups == 0, "GroupNorm \(prefix): \(groups) groups do not divide \(channels) channels")
        self.groups = groups
        self.epsilon = epsilon
        weight = affine ? factory.make(joinKey(prefix, "weight"), [channels], .constant(1)) : nil
        bias = affine ? factory.make(joinKey(prefix, "bias"), [channels], .constant(0)) : nil
    }

    /// x [N, C, *] → same shape.
    public func callAsFunction(_ x: Variable) -> Variable {
        Variable.groupNorm(x, groups: groups, weight: weight, bias: bias, epsilon: epsilon)
    }
}

/// Batch normalisation of [N, C] or [N, C, L] (torch.nn.BatchNorm1d): the statistics per channel over
/// N (and L), computed by `Variable.batchNorm2d` on the input viewed as [N, C, L, 1]. Parameters and
/// buffers as `BatchNorm2d`: `weight`, `bias`, `running_mean`, `running_var`, `num_batches_tracked`.
public final class BatchNorm1d: Module {
    /// The same parameters, buffers and update rule as the 2-D layer.
    private let inner: BatchNorm2d
    /// γ [C] (`prefix.weight`).
    public var weight: Parameter { inner.weight }
    /// β [C] (`prefix.bias`).
    public var bias: Parameter { inner.bias }
    /// Running mean [C] (`prefix.running_mean`), not trainable.
    public var runningMean: Parameter { inner.runningMean }
    /// Running unbiased variance [C] (`prefix.running_var`), not trainable.
    public var runningVar: Parameter { inner.runningVar }
    /// Training batches seen (`prefix.num_batches_tracked`), 0-d.
    public var numBatchesTracked: Parameter { inner.numBatchesTracked }
    /// In torch's state-dict order.
    public var parameters: [Parameter] { inner.parameters }

    /// γ = 1, β = 0, running mean 0, running variance 1; torch's defaults ε = 1e-5, momentum 0.1.
    public init(_ prefix: String, features: Int, epsilon: Float = 1e-5, momentum: Float = 0.1, factory: ParameterFactory) {
        inner = BatchNorm2d(prefix, features: features, epsilon: epsilon, momentum: momentum, factory: factory)
    }

    /// x [N, C] or [N, C, L] → same shape; batch statistics and a running update when `context` is
    /// training, running statistics otherwise.
    public func callAsFunction(_ x: Variable, context: ForwardContext?) -> Variable {
        require(x.rank == 2 || x.rank == 3, "BatchNorm1d: input \(x.shape) must be [N, C] or [N, C, L]")
        let shape = x.shape
        let planes = x.reshaped([shape[0], shape[1], x.rank == 3 ? shape[2] : 1, 1])
        return inner(planes, context: context).reshaped(shape)
    }
}
