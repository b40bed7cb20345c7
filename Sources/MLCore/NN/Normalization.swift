/// Layer normalisation and RMS normalisation over the last axis, with fused forward and backward
/// passes (one sweep per row; statistics accumulated in Double, or in 8 float lanes summed in Double
/// for LayerNorm's forward).

extension Variable {
    /// LayerNorm over the last axis (Ba et al. 2016; torch.nn.functional.layer_norm):
    /// y = (x − μ) / √(σ² + ε) · γ + β with the population variance σ².
    /// - Parameters: x [..., D]; weight γ and bias β [D] (either may be nil).
    /// - Precondition: γ and β have shape [D].
    public static func layerNorm(_ x: Variable, weight: Variable?, bias: Variable?, epsilon: Float) -> Variable {
        let d = x.shape.last ?? 0
        require(weight.map { $0.shape == [d] } ?? true, "layerNorm: weight \(weight!.shape) for input \(x.shape)")
        require(bias.map { $0.shape == [d] } ?? true, "layerNorm: bias \(bias!.shape) for input \(x.shape)")
        let xc = x.value.contiguous(), rows = d == 0 ? 0 : xc.count / d
        let w = weight?.value.contiguous(), b = bias?.value.contiguous()
        let out = Tensor(uninitializedShape: x.shape)
        let mean = Tensor(uninitializedShape: [rows]), rstd = Tensor(uninitializedShape: [rows])
        let px = xc.storage.pointer + xc.offset, po = out.storage.pointer
        let pm = mean.storage.pointer, pr = rstd.storage.pointer
        let pw = w.map { UnsafePointer($0.storage.pointer + $0.offset) }, pb = b.map { UnsafePointer($0.storage.pointer + $0.offset) }
        withExtendedLifetime((xc, w, b)) {
            Threading.parallelFor(rows, grain: Swift.max(1, 4096 / Swift.max(d, 1))) { range in
                for r in range {
                    let (m, inv) = layerNormRow(px + r * d, po + r * d, d, weight: pw, bias: pb, epsilon: epsilon)
                    pm[r] = m; pr[r] = inv
                }
            }
        }
        var inputs = [x]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        let hasWeight = weight != nil
        return record(out, op: "layerNorm", inputs) { g, needs in
            let gc = g.contiguous()
            let pg = gc.storage.pointer + gc.offset
            let dx = needs[0] ? Tensor(uninitializedShape: xc.shape) : nil
            let pdx = dx?.storage.pointer
            // Per-thread partial sums of Σ g·x̂ and Σ g for γ and β.
            let chunks = Swift.max(1, Swift.min(Threading.count, rows))
            let partial = Tensor(shape: [chunks, 2, d], repeating: 0)
            let pp = partial.storage.pointer
            withExtendedLifetime((gc, xc, w, dx, mean, rstd)) {
                Threading.parallelFor(chunks, grain: 1) { cr in
                    for c in cr {
                        let lo = rows * c / chunks, hi = rows * (c + 1) / chunks
                        let dgamma = pp + c * 2 * d, dbeta = dgamma + d
                        for r in lo..<hi {
                            let row = px + r * d, gr = pg + r * d
                            let m = pm[r], inv = pr[r]
                            var sumG = 0.0, sumGX = 0.0
                            for i in 0..<d {
                                let xhat = (row[i] - m) * inv
                                let gx = gr[i] * (pw?[i] ?? 1)
                                sumG += Double(gx); sumGX += Double(gx * xhat)
                                dgamma[i] += gr[i] * xhat
                                dbeta[i] += gr[i]
                            }
                            if let pdx {
                                let meanG = Float(sumG / Double(d)), meanGX = Float(sumGX / Double(d))
                                let o = pdx + r * d
                                for i in 0..<d {
                                    let xhat = (row[i] - m) * inv
                                    let gx = gr[i] * (pw?[i] ?? 1)
                                    o[i] = inv * (gx - meanG - xhat * meanGX)
                                }
                            }
                        }
                    }
                }
            }
            let sums = partial.sum(axis: 0)
            var grads: [Tensor?] = [dx]
            if hasWeight { grads.append(needs[grads.count] ? sums.selected(0) : nil) }
            if inputs.count > grads.count { grads.append(needs[grads.count] ? sums.selected(1) : nil) }
            return grads
        }
    }

    /// RMSNorm over the last axis (Zhang & Sennrich 2019; Llama): y = x / √(mean(x²) + ε) · γ.
    /// - Parameters: x [..., D]; weight γ [D].
    public static func rmsNorm(_ x: Variable, weight: Variable, epsilon: Float) -> Variable {
        let d = x.shape.last ?? 0
        require(weight.shape == [d], "rmsNorm: weight \(weight.shape) for input \(x.shape)")
        let xc = x.value.contiguous(), rows = d == 0 ? 0 : xc.count / d
        let w = weight.value.contiguous()
        let out = Tensor(uninitializedShape: x.shape), rstd = Tensor(uninitializedShape: [rows])
        let px = xc.storage.pointer + xc.offset, po = out.storage.pointer, pr = rstd.storage.pointer
        let pw = w.storage.pointer + w.offset
        withExtendedLifetime((xc, w)) {
            Threading.parallelFor(rows, grain: Swift.max(1, 4096 / Swift.max(d, 1))) { range in
                for r in range {
                    let row = px + r * d, o = po + r * d
                    var s = 0.0
                    for i in 0..<d { s += Double(row[i]) * Double(row[i]) }
                    let inv = Float(1 / (s / Double(d) + Double(epsilon)).squareRoot())
                    pr[r] = inv
                    for i in 0..<d { o[i] = row[i] * inv * pw[i] }
                }
            }
        }
        return record(out, op: "rmsNorm", [x, weight]) { g, needs in
            let gc = g.contiguous()
            let pg = gc.storage.pointer + gc.offset
            let dx = needs[0] ? Tensor(uninitializedShape: xc.shape) : nil
            let pdx = dx?.storage.pointer
            let chunks = Swift.max(1, Swift.min(Threading.count, rows))
            let partial = Tensor(shape: [chunks, d], repeating: 0)
            let pp = partial.storage.pointer
            withExtendedLifetime((gc, xc, w, dx, rstd)) {
                Threading.parallelFor(chunks, grain: 1) { cr in
                    for c in cr {
                        let lo = rows * c / chunks, hi = rows * (c + 1) / chunks
                        let dgamma = pp + c * d
                        for r in lo..<hi {
                            let row = px + r * d, gr = pg + r * d, inv = pr[r]
                            var dot = 0.0
                            for i in 0..<d {
                                let xn = row[i] * inv
                                dot += Double(gr[i] * pw[i] * xn)
                                dgamma[i] += gr[i] * xn
                            }
                            if let pdx {
                                let meanDot = Float(dot / Double(d))
                                let o = pdx + r * d
                                for i in 0..<d { o[i] = inv * (gr[i] * pw[i] - row[i] * inv * meanDot) }
                            }
                        }
                    }
                }
            }
            return [dx, needs[1] ? partial.sum(axis: 0) : nil]
        }
    }
}

/// LayerNorm over the last axis with learnable γ (`weight`) and β (`bias`) (torch.nn.LayerNorm).
public final class LayerNorm: Module {
    public let weight: Parameter
    public let bias: Parameter
    public let epsilon: Float
    public var parameters: [Parameter] { [weight, bias] }

    /// γ = 1, β = 0, named `prefix.weight` / `prefix.bias`.
    public init(_ prefix: String, features: Int, epsilon: Float = 1e-5, factory: ParameterFactory) {
        weight = factory.make(joinKey(prefix, "weight"), [features], .constant(1))
        bias = factory.make(joinKey(prefix, "bias"), [features], .constant(0))
        self.epsilon = epsilon
    }

    /// x [..., D] → [..., D].
    public func callAsFunction(_ x: Variable) -> Variable {
        Variable.layerNorm(x, weight: weight, bias: bias, epsilon: epsilon)
    }
}

/// RMSNorm with learnable γ (`weight`), as in Llama.
public final class RMSNorm: Module {
    public let weight: Parameter
    public let epsilon: Float
    public var parameters: [Parameter] { [weight] }

    /// γ = 1, named `name` (the full key: Llama checkpoints name norms differently).
    public init(name: String, features: Int, epsilon: Float = 1e-6, factory: ParameterFactory) {
        weight = factory.make(name, [features], .constant(1))
        self.epsilon = epsilon
    }

    /// x [..., D] → [..., D].
    public func callAsFunction(_ x: Variable) -> Variable { Variable.rmsNorm(x, weight: weight, epsilon: epsilon) }
}

/// One row of LayerNorm's forward, 8 lanes at a time: μ and the population variance by two passes
/// (8 float partial sums each, combined in Double; the second pass sums (x − μ)², so a large mean
/// does not cancel), then o = (x − μ)·rstd·γ + β. Returns (μ, rstd = 1/√(σ² + ε)).
@inline(__always)
func layerNormRow(_ x: UnsafePointer<Float>, _ o: UnsafeMutablePointer<Float>, _ d: Int,
                  weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?, epsilon: Float) -> (Float, Float) {
    var acc = Vec8(), i = 0
    while i &+ 8 <= d { acc += load8(x + i); i &+= 8 }
    var s = 0.0
    for l in 0..<8 { s += Double(acc[l]) }
    for j in i..<d { s += Double(x[j]) }
    let mu = Float(s / Double(d)), vmu = Vec8(repeating: mu)
    acc = Vec8(); i = 0
    while i &+ 8 <= d { let c = load8(x + i) - vmu; acc = acc.addingProduct(c, c); i &+= 8 }
    var v = 0.0
    for l in 0..<8 { v += Double(acc[l]) }
    for j in i..<d { let c = Double(x[j] - mu); v += c * c }
    let inv = Float(1 / (v / Double(d) + Double(epsilon)).squareRoot()), vinv = Vec8(repeating: inv)
    i = 0
    while i &+ 8 <= d {
        var y = (load8(x + i) - vmu) * vinv
        if let weight { y *= load8(weight + i) }
        if let bias { y += load8(bias + i) }
        store8(y, o + i)
        i &+= 8
    }
    for j in i..<d {
        var y = (x[j] - mu) * inv
        if let weight { y *= weight[j] }
        if let bias { y += bias[j] }
        o[j] = y
    }
    return (mu, inv)
}
