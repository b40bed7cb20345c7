/// Batch normalisation over the channels of NCHW feature maps (torch.nn.BatchNorm2d,
/// torch.nn.functional.batch_norm), forward and backward, with the running-statistics update.

extension Variable {
    /// Batch normalisation of x [N, C, H, W] per channel c:
    /// y = (x − μ_c)/√(σ²_c + ε)·γ_c + β_c.
    ///
    /// Training (`training` true): μ and σ² are the batch statistics over N, H, W (biased σ² for the
    /// normalisation); when `runningMean`/`runningVar` are given they are updated as torch does,
    /// r ← (1 − momentum)·r + momentum·s with the unbiased variance (÷(M − 1), M = N·H·W) for the
    /// running variance. Evaluation: μ, σ² are the running statistics (required).
    /// - Parameters: weight γ and bias β [C] or nil; running statistics [C].
    /// - Source: torch/nn/modules/batchnorm.py, aten/src/ATen/native/Normalization.cpp.
    public static func batchNorm2d(_ x: Variable, weight: Variable?, bias: Variable?, runningMean: inout Tensor?,
                                   runningVar: inout Tensor?, training: Bool, momentum: Float = 0.1,
                                   epsilon: Float = 1e-5) -> Variable {
        require(x.rank == 4, "batchNorm2d: input \(x.shape) must be [N, C, H, W]")
        let n = x.shape[0], c = x.shape[1], l = x.shape[2] * x.shape[3], m = n * l
        require(weight.map { $0.shape == [c] } ?? true, "batchNorm2d: weight \(weight!.shape) for input \(x.shape)")
        require(bias.map { $0.shape == [c] } ?? true, "batchNorm2d: bias \(bias!.shape) for input \(x.shape)")
        let xc = x.value.contiguous(), px = xc.storage.pointer + xc.offset
        var meanValues = [Float](repeating: 0, count: c), invStd = [Float](repeating: 0, count: c)
        if training {
            require(m > 1 || runningVar == nil, "batchNorm2d: training needs more than one value per channel, input \(x.shape)")
            var unbiased = [Float](repeating: 0, count: c)
            meanValues.withUnsafeMutableBufferPointer { pm in
                invStd.withUnsafeMutableBufferPointer { pi in
                    unbiased.withUnsafeMutableBufferPointer { pu in
                        withExtendedLifetime(xc) {
                            Threading.parallelFor(c, grain: 1) { range in
                                for ch in range {
                                    // Two passes, SIMD lanes summed in Float blocks and across blocks in Double.
                                    var s = 0.0
                                    for b in 0..<n { s += rowSum(px + (b * c + ch) * l, l) }
                                    let mu = s / Double(m)
                                    var v = 0.0
                                    for b in 0..<n { v += rowSquaredDeviation(px + (b * c + ch) * l, l, mean: Float(mu)) }
                                    pm[ch] = Float(mu)
                                    pi[ch] = Float(1 / (v / Double(m) + Double(epsilon)).squareRoot())
                                    pu[ch] = m > 1 ? Float(v / Double(m - 1)) : 0
                                }
                            }
                        }
                    }
                }
            }
            if let rm = runningMean {
                runningMean = rm * (1 - momentum) + Tensor(meanValues) * momentum
            }
            if let rv = runningVar {
                runningVar = rv * (1 - momentum) + Tensor(unbiased) * momentum
            }
        } else {
            guard let rm = runningMean, let rv = runningVar else {
                fatalError("batchNorm2d: evaluation mode needs running statistics")
            }
            require(rm.shape == [c] && rv.shape == [c], "batchNorm2d: running statistics \(rm.shape), \(rv.shape) for \(c) channels")
            meanValues = rm.scalars
            invStd = rv.scalars.map { 1 / ($0 + epsilon).squareRoot() }
        }
        let gamma = weight?.value.scalars, beta = bias?.value.scalars
        // y = x·scale + shift per channel.
        let scale = (0..<c).map { invStd[$0] * (gamma?[$0] ?? 1) }
        let shift = (0..<c).map { (beta?[$0] ?? 0) - meanValues[$0] * scale[$0] }
        let out = Tensor(uninitializedShape: x.shape)
        let po = out.storage.pointer
        withExtendedLifetime(xc) {
            Threading.parallelFor(n * c, grain: Swift.max(1, 16384 / Swift.max(l, 1))) { range in
                for p in range {
                    let a = scale[p % c], s = shift[p % c], src = px + p * l, dst = po + p * l
                    for i in 0..<l { dst[i] = src[i] * a + s }
                }
            }
        }
        var inputs = [x]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        let hasWeight = weight != nil, hasBias = bias != nil
        return record(out, op: "batchNorm2d", inputs) { g, needs in
            let gc = g.contiguous(), pg = gc.storage.pointer + gc.offset
            // Σ g and Σ g·x̂ per channel.
            var sumG = [Float](repeating: 0, count: c), sumGX = [Float](repeating: 0, count: c)
            sumG.withUnsafeMutableBufferPointer { ps in
                sumGX.withUnsafeMutableBufferPointer { psx in
                    withExtendedLifetime((gc, xc)) {
                        Threading.parallelFor(c, grain: 1) { range in
                            for ch in range {
                                var s = 0.0, sx = 0.0
                                let mu = meanValues[ch], inv = invStd[ch]
                                for b in 0..<n {
                                    let (gs, gd) = rowSumAndCenteredDot(pg + (b * c + ch) * l, px + (b * c + ch) * l, l, mean: mu)
                                    s += gs; sx += gd
                                }
                                ps[ch] = Float(s); psx[ch] = Float(sx * Double(inv))
                            }
                        }
                    }
                }
            }
            var dx: Tensor? = nil
            if needs[0] {
                let d = Tensor(uninitializedShape: xc.shape)
                let pd = d.storage.pointer
                withExtendedLifetime((gc, xc)) {
                    Threading.parallelFor(n * c, grain: Swift.max(1, 16384 / Swift.max(l, 1))) { range in
                        for p in range {
                            let ch = p % c, mu = meanValues[ch], inv = invStd[ch], gam = gamma?[ch] ?? 1
                            let xp = px + p * l, gp = pg + p * l, o = pd + p * l
                            if training {
                                // dx = γ·inv/M · (M·g − Σg − x̂·Σ(g·x̂))
                                let k = gam * inv / Float(m), sg = sumG[ch], sgx = sumGX[ch], fm = Float(m)
                                for i in 0..<l { o[i] = k * (fm * gp[i] - sg - (xp[i] - mu) * inv * sgx) }
                            } else {
                                let k = gam * inv
                                for i in 0..<l { o[i] = k * gp[i] }
                            }
                        }
                    }
                }
                dx = d
            }
            var grads: [Tensor?] = [dx]
            if hasWeight { grads.append(needs[grads.count] ? Tensor(sumGX) : nil) }
            if hasBias { grads.append(needs[grads.count] ? Tensor(sumG) : nil) }
            return grads
        }
    }
}

/// Batch normalisation layer (torch.nn.BatchNorm2d): trainable `weight` (γ, ones) and `bias` (β, zeros);
/// buffers `running_mean` (zeros), `running_var` (ones) and `num_batches_tracked` (a 0-d count) are
/// non-trainable parameters so they load from and save to checkpoints under torch's names.
public final class BatchNorm2d: Module {
    /// γ [C] (`prefix.weight`), trainable.
    public let weight: Parameter
    /// β [C] (`prefix.bias`), trainable.
    public let bias: Parameter
    /// Running mean [C] (`prefix.running_mean`), a buffer: not trainable.
    public let runningMean: Parameter
    /// Running (unbiased) variance [C] (`prefix.running_var`), a buffer.
    public let runningVar: Parameter
    /// Training batches seen, a 0-d count (`prefix.num_batches_tracked`, int64 in torch files).
    public let numBatchesTracked: Parameter
    /// Added to the variance before the square root.
    public let epsilon: Float
    /// Weight of the newest batch statistic in the running averages (torch's default 0.1).
    public let momentum: Float
    /// weight, bias and the three buffers, in torch's state-dict order.
    public var parameters: [Parameter] { [weight, bias, runningMean, runningVar, numBatchesTracked] }

    /// γ = 1, β = 0 (from `factory`), running mean 0, running variance 1, count 0.
    public init(_ prefix: String, features: Int, epsilon: Float = 1e-5, momentum: Float = 0.1, factory: ParameterFactory) {
        weight = factory.make(joinKey(prefix, "weight"), [features], .constant(1))
        bias = factory.make(joinKey(prefix, "bias"), [features], .constant(0))
        runningMean = factory.buffer(joinKey(prefix, "running_mean"), Tensor.zeros([features]))
        runningVar = factory.buffer(joinKey(prefix, "running_var"), Tensor.ones([features]))
        numBatchesTracked = factory.buffer(joinKey(prefix, "num_batches_tracked"), Tensor(scalar: 0))
        self.epsilon = epsilon
        self.momentum = momentum
    }

    /// The per-channel affine map (scale, shift) of evaluation mode: y = x·scale + shift, for folding
    /// into a preceding convolution.
    public var inferenceAffine: (scale: [Float], shift: [Float]) {
        let g = weight.value.scalars, b = bias.value.scalars
        let m = runningMean.value.scalars, v = runningVar.value.scalars
        let scale = (0..<g.count).map { g[$0] / (v[$0] + epsilon).squareRoot() }
        return (scale, (0..<g.count).map { b[$0] - m[$0] * scale[$0] })
    }

    /// x [N, C, H, W] → same shape. Batch statistics (and a running-statistics update) when
    /// `context` is training, running statistics otherwise.
    public func callAsFunction(_ x: Variable, context: ForwardContext?) -> Variable {
        let training = context?.isTraining ?? false
        var rm: Tensor? = runningMean.value, rv: Tensor? = runningVar.value
        let y = Variable.batchNorm2d(x, weight: weight, bias: bias, runningMean: &rm, runningVar: &rv,
                                     training: training, momentum: momentum, epsilon: epsilon)
        if training {
            runningMean.value = rm!
            runningVar.value = rv!
            numBatchesTracked.value = numBatchesTracked.value.reshaped([]) + 1
        }
        return y
    }
}
