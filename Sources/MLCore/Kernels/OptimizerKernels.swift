/// Fused, in-place optimizer updates over contiguous buffers: one sweep reads the parameter, its
/// gradient and the moment buffers and writes them back (8 lanes at a time, threads over chunks).
/// Operation order follows PyTorch's single-tensor implementations (torch/optim/adam.py, sgd.py) so
/// trajectories agree to a few ulp.

/// Elements per thread chunk below which an update runs on one thread.
let optimizerGrain = 1 << 15

/// Scalars of one Adam/AdamW step (computed in Double as torch does, then rounded).
struct AdamScalars {
    /// 1 − lr·wd (AdamW's decoupled decay; 1 otherwise).
    var decay: Float
    /// wd for Adam's L2 penalty g + wd·θ (0 otherwise).
    var l2: Float
    /// 1 − β₁ (the lerp weight of the first moment).
    var oneMinusBeta1: Float
    var beta2: Float
    var oneMinusBeta2: Float
    /// lr / (1 − β₁ᵗ).
    var stepSize: Float
    /// √(1 − β₂ᵗ).
    var biasCorrection2Sqrt: Float
    var epsilon: Float
}

/// θ, m, v (and v̂max when `vmax` is given) ← one Adam step for `n` elements:
/// θ ← θ·decay; g ← g + l2·θ; m ← m + (1 − β₁)(g − m); v ← β₂v + (1 − β₂)g²; v̂max ← max(v̂max, v);
/// θ ← θ − stepSize · m / (√v̂ / √(1 − β₂ᵗ) + ε).
func adamUpdate(_ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                _ v: UnsafeMutablePointer<Float>, _ vmax: UnsafeMutablePointer<Float>?, _ n: Int, _ s: AdamScalars) {
    let task = UncheckedSendable((p, g, m, v, vmax))
    Threading.parallelFor(n, grain: optimizerGrain) { range in
        let (p, g, m, v, vmax) = task.value
        if let vmax {
            adamRange(p, g, m, v, vmax, range, s, amsgrad: true)
        } else {
            adamRange(p, g, m, v, v, range, s, amsgrad: false)
        }
    }
}

@inline(__always)
private func adamRange(_ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                       _ v: UnsafeMutablePointer<Float>, _ vmax: UnsafeMutablePointer<Float>, _ range: Range<Int>,
                       _ s: AdamScalars, amsgrad: Bool) {
    let decay = Vec8(repeating: s.decay), l2 = Vec8(repeating: s.l2)
    let b1 = Vec8(repeating: s.oneMinusBeta1), b2 = Vec8(repeating: s.beta2), c2 = Vec8(repeating: s.oneMinusBeta2)
    let step = Vec8(repeating: -s.stepSize), bc2 = Vec8(repeating: s.biasCorrection2Sqrt), eps = Vec8(repeating: s.epsilon)
    let decoupled = s.decay != 1, penalised = s.l2 != 0
    var i = range.lowerBound
    while i + 8 <= range.upperBound {
        var pv = load8(p + i), gv = load8(g + i)
        if decoupled { pv = pv * decay }
        if penalised { gv = gv.addingProduct(l2, pv) }
        let mv = load8(m + i).addingProduct(b1, gv - load8(m + i))
        let vv = (load8(v + i) * b2).addingProduct(c2 * gv, gv)
        store8(mv, m + i)
        store8(vv, v + i)
        var vhat = vv
        if amsgrad {
            let old = load8(vmax + i)
            vhat = vv.replacing(with: old, where: old .> vv)
            store8(vhat, vmax + i)
        }
        let denom = vhat.squareRoot() / bc2 + eps
        store8(pv.addingProduct(step, mv / denom), p + i)
        i += 8
    }
    while i < range.upperBound {
        var pv = p[i], gv = g[i]
        if decoupled { pv = pv * s.decay }
        if penalised { gv = gv.addingProduct(s.l2, pv) }
        let mv = m[i].addingProduct(s.oneMinusBeta1, gv - m[i])
        let vv = (v[i] * s.beta2).addingProduct(s.oneMinusBeta2 * gv, gv)
        m[i] = mv
        v[i] = vv
        var vhat = vv
        if amsgrad { vhat = Swift.max(vmax[i], vv); vmax[i] = vhat }
        let denom = vhat.squareRoot() / s.biasCorrection2Sqrt + s.epsilon
        p[i] = pv.addingProduct(-s.stepSize, mv / denom)
        i += 1
    }
}

/// One SGD step for `n` elements (torch.optim.SGD): d ← g + wd·θ; with momentum μ, the buffer
/// b ← d on the first step, else b ← μb + (1 − dampening)d; d ← d + μb (Nesterov) or b; θ ← θ − lr·d.
func sgdUpdate(_ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ buffer: UnsafeMutablePointer<Float>?,
               _ n: Int, learningRate: Float, weightDecay: Float, momentum: Float, dampening: Float,
               nesterov: Bool, firstStep: Bool) {
    let task = UncheckedSendable((p, g, buffer))
    Threading.parallelFor(n, grain: optimizerGrain) { range in
        let (p, g, buffer) = task.value
        let lr = Vec8(repeating: -learningRate), wd = Vec8(repeating: weightDecay)
        let mu = Vec8(repeating: momentum), keep = Vec8(repeating: 1 - dampening)
        var i = range.lowerBound
        @inline(__always) func direction(_ gv: Vec8, _ pv: Vec8, _ b: UnsafeMutablePointer<Float>?) -> Vec8 {
            var d = weightDecay != 0 ? gv.addingProduct(wd, pv) : gv
            if let b {
                let bv = firstStep ? d : (load8(b) * mu).addingProduct(keep, d)
                store8(bv, b)
                d = nesterov ? d.addingProduct(mu, bv) : bv
            }
            return d
        }
        while i + 8 <= range.upperBound {
            let pv = load8(p + i)
            store8(pv.addingProduct(lr, direction(load8(g + i), pv, buffer.map { $0 + i })), p + i)
            i += 8
        }
        while i < range.upperBound {
            let pv = p[i]
            var d = weightDecay != 0 ? g[i].addingProduct(weightDecay, pv) : g[i]
            if let b = buffer {
                let bv = firstStep ? d : (b[i] * momentum).addingProduct(1 - dampening, d)
                b[i] = bv
                d = nesterov ? d.addingProduct(momentum, bv) : bv
            }
            p[i] = pv.addingProduct(-learningRate, d)
            i += 1
        }
    }
}

/// Σ x² over `n` floats, accumulated in Double per 8-lane block.
func sumOfSquares(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
    var total = 0.0, i = 0
    while i + 8 <= n {
        var acc = Vec8(repeating: 0)
        let end = Swift.min(n, i + 4096)
        while i + 8 <= end { let v = load8(x + i); acc = acc.addingProduct(v, v); i += 8 }
        total += Double(acc.sum())
    }
    while i < n { total += Double(x[i]) * Double(x[i]); i += 1 }
    return total
}

/// x ← c·x for `n` floats.
func scaleInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int, by c: Float) {
    let vc = Vec8(repeating: c)
    var i = 0
    while i + 8 <= n { store8(load8(x + i) * vc, x + i); i += 8 }
    while i < n { x[i] *= c; i += 1 }
}
