import Foundation

/// Element-wise losses between an input and a target of the same shape: binary cross-entropy with
/// logits, MSE, L1, smooth L1, margin ranking and hinge embedding, each mirroring the PyTorch loss of
/// the same name (torch.nn.functional, aten/src/ATen/native/Loss.cpp). Reductions: `.mean` divides by
/// the number of elements, `.sum` adds them, `.none` keeps the input's shape.

extension Variable {
    /// Binary cross-entropy on logits (torch.nn.functional.binary_cross_entropy_with_logits), in the
    /// stable form with softplus(−x) = max(−x, 0) + log(1 + e^−|x|):
    ///
    ///     ℓ = w · [ (1 − y) · x + (1 + (p − 1) · y) · softplus(−x) ]
    ///
    /// (= −w·[p·y·log σ(x) + (1 − y)·log(1 − σ(x))]).
    /// - Parameters:
    ///   - logits: x, any shape.
    ///   - targets: y in [0, 1], x's shape (gradients flow to it when it requires them).
    ///   - weight: w, broadcastable to x's shape (torch's `weight`), or nil.
    ///   - positiveWeight: p, broadcastable to x's shape (torch's `pos_weight`, e.g. [C] for logits
    ///     [N, C]), or nil (p = 1).
    ///   - reduction: `.mean` (over all elements, weighted or not, as torch), `.sum`, `.none`.
    public static func binaryCrossEntropyWithLogits(_ logits: Variable, targets: Variable, weight: Tensor? = nil,
                                                    positiveWeight: Tensor? = nil,
                                                    reduction: LossReduction = .mean) -> Variable {
        let w = weight.map { broadcastOperand($0, to: logits.shape, op: "binaryCrossEntropyWithLogits weight") }
        let pw = positiveWeight.map { broadcastOperand($0, to: logits.shape, op: "binaryCrossEntropyWithLogits positiveWeight") }
        return pointwiseLoss("binaryCrossEntropyWithLogits", logits, targets, reduction: reduction) { x, y, i in
            let xd = Double(x), yd = Double(y)
            let softplusNeg = Swift.max(-xd, 0) + log1p(Foundation.exp(-Swift.abs(xd)))   // log(1 + e^−x)
            let sigmoidNeg = xd >= 0 ? Foundation.exp(-xd) / (1 + Foundation.exp(-xd)) : 1 / (1 + Foundation.exp(xd))
            let p = Double(pw?[i] ?? 1), wi = Double(w?[i] ?? 1)
            let lw = 1 + (p - 1) * yd
            return (wi * ((1 - yd) * xd + lw * softplusNeg),
                    wi * ((1 - yd) - lw * sigmoidNeg),
                    wi * (-xd + (p - 1) * softplusNeg))
        }
    }

    /// Mean squared error (torch.nn.functional.mse_loss): ℓ = (x − y)².
    /// - Parameters: input x and target y of the same shape (gradients flow to both when they require them).
    public static func meanSquaredError(_ input: Variable, _ target: Variable, reduction: LossReduction = .mean) -> Variable {
        pointwiseLoss("meanSquaredError", input, target, reduction: reduction) { x, y, _ in
            let d = Double(x) - Double(y)
            return (d * d, 2 * d, -2 * d)
        }
    }

    /// Mean absolute error (torch.nn.functional.l1_loss): ℓ = |x − y|; ∂ℓ/∂x = sign(x − y) (0 at 0).
    /// - Parameters: input x and target y of the same shape.
    public static func l1Loss(_ input: Variable, _ target: Variable, reduction: LossReduction = .mean) -> Variable {
        pointwiseLoss("l1Loss", input, target, reduction: reduction) { x, y, _ in
            let d = Double(x) - Double(y), s: Double = d > 0 ? 1 : (d < 0 ? -1 : 0)
            return (Swift.abs(d), s, -s)
        }
    }

    /// Smooth L1 (torch.nn.functional.smooth_l1_loss, Huber scaled by 1/β): with d = x − y,
    /// ℓ = 0.5·d²/β if |d| < β, else |d| − 0.5·β; β = 0 is the L1 loss.
    /// - Parameters: input x and target y of the same shape; `beta` β ≥ 0 (default 1, as torch).
    public static func smoothL1Loss(_ input: Variable, _ target: Variable, beta: Float = 1,
                                    reduction: LossReduction = .mean) -> Variable {
        require(beta >= 0, "smoothL1Loss: beta \(beta) < 0")
        let b = Double(beta)
        return pointwiseLoss("smoothL1Loss", input, target, reduction: reduction) { x, y, _ in
            let d = Double(x) - Double(y), a = Swift.abs(d)
            if a < b { return (0.5 * d * d / b, d / b, -d / b) }
            let s: Double = d > 0 ? 1 : (d < 0 ? -1 : 0)
            return (a - 0.5 * b, s, -s)
        }
    }

    /// Margin ranking loss (torch.nn.MarginRankingLoss): ℓ = max(0, −y·(x₁ − x₂) + margin), y = ±1
    /// saying which input should rank higher.
    /// - Parameters: x₁, x₂ of one shape (or broadcastable to each other); `target` y of their
    ///   (broadcast) shape; `margin` (default 0).
    public static func marginRankingLoss(_ input1: Variable, _ input2: Variable, target: Tensor, margin: Float = 0,
                                         reduction: LossReduction = .mean) -> Variable {
        let difference = input1 - input2
        let y = broadcastOperand(target, to: difference.shape, op: "marginRankingLoss target")
        let m = Double(margin)
        return pointwiseLoss("marginRankingLoss", difference, nil, reduction: reduction) { d, _, i in
            let yi = Double(y[i]), v = -yi * Double(d) + m
            return v >= 0 ? (v, -yi, 0) : (0, 0, 0)  // clamp_min's gradient passes at 0, as torch
        }
    }

    /// Hinge embedding loss (torch.nn.HingeEmbeddingLoss): ℓ = x where y = 1, max(0, margin − x) where
    /// y = −1 (as torch computes it: [y ≠ −1]·x + [y ≠ 1]·max(0, margin − x), so other labels get both).
    /// - Parameters: input x (e.g. distances), `target` y ∈ {1, −1} of x's shape; `margin` (default 1).
    public static func hingeEmbeddingLoss(_ input: Variable, target: Tensor, margin: Float = 1,
                                          reduction: LossReduction = .mean) -> Variable {
        let y = broadcastOperand(target, to: input.shape, op: "hingeEmbeddingLoss target")
        let m = Double(margin)
        return pointwiseLoss("hingeEmbeddingLoss", input, nil, reduction: reduction) { x, _, i in
            let yi = y[i], xd = Double(x)
            var loss = 0.0, dx = 0.0
            if yi != -1 { loss += xd; dx += 1 }
            if yi != 1, m - xd >= 0 { loss += m - xd; dx -= 1 }
            return (loss, dx, 0)
        }
    }

    /// `t` expanded to `shape`, read by row-major element index.
    private static func broadcastOperand(_ t: Tensor, to shape: [Int], op: String) -> FlatOperand {
        FlatOperand(tensor: t.shape == shape ? t.contiguous() : t.expanded(to: shape).contiguousCopy())
    }

    /// The loss ℓ(x, y) element by element, reduced: `body(x, y, i)` returns (ℓ, ∂ℓ/∂x, ∂ℓ/∂y) for
    /// element i (in Double); the partial derivatives are kept for the backward pass.
    static func pointwiseLoss(_ op: String, _ input: Variable, _ target: Variable?, reduction: LossReduction,
                              _ body: (Float, Float, Int) -> (Double, Double, Double)) -> Variable {
        if let target {
            require(target.shape == input.shape, "\(op): target shape \(target.shape) differs from input shape \(input.shape)")
        }
        let x = input.value.contiguous(), y = target?.value.contiguous()
        let n = x.count
        let losses = Tensor(uninitializedShape: x.shape)
        let dx = Tensor(uninitializedShape: x.shape), dy = Tensor(uninitializedShape: x.shape)
        let px = x.storage.pointer + x.offset, py = y.map { $0.storage.pointer + $0.offset }
        let pl = losses.storage.pointer, pdx = dx.storage.pointer, pdy = dy.storage.pointer
        var total = 0.0
        withExtendedLifetime((x, y)) {
            for i in 0..<n {
                let (l, gx, gy) = body(px[i], py?[i] ?? 0, i)
                pl[i] = Float(l); pdx[i] = Float(gx); pdy[i] = Float(gy)
                total += l
            }
        }
        let out: Tensor
        switch reduction {
        case .none: out = losses
        case .sum: out = Tensor(scalar: Float(total))
        case .mean: out = Tensor(scalar: Float(total / Double(n)))
        }
        let inputs = target.map { [input, $0] } ?? [input]
        return record(out, op: op, inputs) { g, needs in
            let upstream: Tensor
            switch reduction {
            case .none: upstream = g
            case .sum: upstream = g
            case .mean: upstream = g / Float(n)
            }
            var grads: [Tensor?] = [needs[0] ? upstream * dx : nil]
            if inputs.count > 1 { grads.append(needs[1] ? upstream * dy : nil) }
            return grads
        }
    }
}

/// A contiguous tensor read by flat index (the operands of element-wise losses).
struct FlatOperand {
    let tensor: Tensor
    @inline(__always) subscript(_ i: Int) -> Float { tensor.storage.pointer[tensor.offset + i] }
}
