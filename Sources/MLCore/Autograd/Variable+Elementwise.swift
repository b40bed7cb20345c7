/// Differentiable element-wise ops. Broadcasting follows Tensor's rules; gradients of broadcast
/// inputs are summed back to the input's shape.
extension Tensor {
    /// Sums a broadcast gradient back to `target` (the shape of the input that was broadcast):
    /// leading extra axes and axes where `target` is 1 are summed.
    func unbroadcast(to target: [Int]) -> Tensor {
        if shape == target { return self }
        let extra = rank - target.count
        var axes = Array(0..<extra)
        for (i, t) in target.enumerated() where t == 1 && shape[extra + i] != 1 { axes.append(extra + i) }
        var g = axes.isEmpty ? self : sum(axes: axes, keepingDimensions: true)
        if extra > 0 { g = g.reshaped(target) }
        return g.shape == target ? g : g.reshaped(target)
    }
}

extension Variable {
    /// A unary op y = f(x) whose gradient is `K(saved, g)` with `saved` the input (or output when
    /// `savesOutput`).
    @inline(__always)
    func unary<K: BinaryKernel>(_ op: String, _ y: Tensor, _ grad: K.Type, savesOutput: Bool = false) -> Variable {
        guard Variable.recording(self) else { return Variable(y) }
        let saved = savesOutput ? y : value
        return Variable.record(y, op: op, [self]) { g, _ in [Tensor.zipKernel(saved, g, K.self, op: op)] }
    }

    public static func + (a: Variable, b: Variable) -> Variable {
        let sa = a.shape, sb = b.shape
        return record(a.value + b.value, op: "add", [a, b]) { g, n in
            [n[0] ? g.unbroadcast(to: sa) : nil, n[1] ? g.unbroadcast(to: sb) : nil]
        }
    }

    public static func - (a: Variable, b: Variable) -> Variable {
        let sa = a.shape, sb = b.shape
        return record(a.value - b.value, op: "sub", [a, b]) { g, n in
            [n[0] ? g.unbroadcast(to: sa) : nil, n[1] ? (-g).unbroadcast(to: sb) : nil]
        }
    }

    public static func * (a: Variable, b: Variable) -> Variable {
        let out = a.value * b.value
        guard recording(a, b) else { return Variable(out) }
        let x = a.value, y = b.value
        return record(out, op: "mul", [a, b]) { g, n in
            [n[0] ? (g * y).unbroadcast(to: x.shape) : nil, n[1] ? (g * x).unbroadcast(to: y.shape) : nil]
        }
    }

    public static func / (a: Variable, b: Variable) -> Variable {
        let out = a.value / b.value
        guard recording(a, b) else { return Variable(out) }
        let x = a.value, y = b.value
        return record(out, op: "div", [a, b]) { g, n in
            [n[0] ? (g / y).unbroadcast(to: x.shape) : nil,
             n[1] ? (-(g * out) / y).unbroadcast(to: y.shape) : nil]
        }
    }

    public static prefix func - (a: Variable) -> Variable {
        record(-a.value, op: "neg", [a]) { g, _ in [-g] }
    }

    public static func + (a: Variable, b: Float) -> Variable { record(a.value + b, op: "add", [a]) { g, _ in [g] } }
    public static func - (a: Variable, b: Float) -> Variable { record(a.value - b, op: "sub", [a]) { g, _ in [g] } }
    public static func * (a: Variable, b: Float) -> Variable { record(a.value * b, op: "mul", [a]) { g, _ in [g * b] } }
    public static func / (a: Variable, b: Float) -> Variable { record(a.value / b, op: "div", [a]) { g, _ in [g / b] } }
    public static func + (a: Float, b: Variable) -> Variable { b + a }
    public static func * (a: Float, b: Variable) -> Variable { b * a }
    public static func - (a: Float, b: Variable) -> Variable { record(a - b.value, op: "rsub", [b]) { g, _ in [-g] } }
    public static func / (a: Float, b: Variable) -> Variable {
        let out = a / b.value
        return record(out, op: "rdiv", [b]) { g, _ in [-(g * out) / b.value] }
    }
    public static func + (a: Variable, b: Tensor) -> Variable { a + Variable(b) }
    public static func - (a: Variable, b: Tensor) -> Variable { a - Variable(b) }
    public static func * (a: Variable, b: Tensor) -> Variable { a * Variable(b) }
    public static func / (a: Variable, b: Tensor) -> Variable { a / Variable(b) }

    /// Element-wise maximum; the gradient goes to the larger input (split evenly on ties, as torch).
    public static func maximum(_ a: Variable, _ b: Variable) -> Variable { extremum(a, b, isMax: true) }
    /// Element-wise minimum; the gradient goes to the smaller input (split evenly on ties).
    public static func minimum(_ a: Variable, _ b: Variable) -> Variable { extremum(a, b, isMax: false) }

    private static func extremum(_ a: Variable, _ b: Variable, isMax: Bool) -> Variable {
        let out = isMax ? Tensor.maximum(a.value, b.value) : Tensor.minimum(a.value, b.value)
        guard recording(a, b) else { return Variable(out) }
        let x = a.value, y = b.value
        return record(out, op: isMax ? "maximum" : "minimum", [a, b]) { g, n in
            let wins = isMax ? x.greater(y) : x.less(y)
            let ties = x.equal(y) * 0.5
            let wa = wins + ties
            return [n[0] ? (g * wa).unbroadcast(to: x.shape) : nil,
                    n[1] ? (g * (1 - wa)).unbroadcast(to: y.shape) : nil]
        }
    }

    /// xᵖ with a constant exponent.
    public func pow(_ p: Float) -> Variable {
        let x = value
        return Variable.record(x.pow(p), op: "pow", [self]) { g, _ in [g * x.pow(p - 1) * p] }
    }

    /// aᵇ element-wise with both operands differentiable: ∂/∂a = b·aᵇ⁻¹, ∂/∂b = aᵇ·ln a (a > 0 for
    /// the exponent's gradient).
    public static func pow(_ a: Variable, _ b: Variable) -> Variable {
        let out = Tensor.pow(a.value, b.value)
        guard recording(a, b) else { return Variable(out) }
        let x = a.value, y = b.value
        return record(out, op: "pow", [a, b]) { g, n in
            [n[0] ? (g * y * Tensor.pow(x, y - 1)).unbroadcast(to: x.shape) : nil,
             n[1] ? (g * out * x.log()).unbroadcast(to: y.shape) : nil]
        }
    }

    public func exp() -> Variable { unary("exp", value.exp(), ExpGradKernel.self, savesOutput: true) }
    public func log() -> Variable { unary("log", value.log(), LogGradKernel.self) }
    public func sqrt() -> Variable { unary("sqrt", value.sqrt(), SqrtGradKernel.self, savesOutput: true) }
    public func rsqrt() -> Variable { unary("rsqrt", value.rsqrt(), RsqrtGradKernel.self, savesOutput: true) }
    public func square() -> Variable { unary("square", value.square(), SquareGradKernel.self) }
    public func reciprocal() -> Variable { unary("reciprocal", value.reciprocal(), ReciprocalGradKernel.self, savesOutput: true) }
    public func abs() -> Variable { unary("abs", value.abs(), AbsGradKernel.self) }
    public func tanh() -> Variable { unary("tanh", value.tanh(), TanhGradKernel.self, savesOutput: true) }
    public func erf() -> Variable { unary("erf", value.erf(), ErfGradKernel.self) }
    public func sigmoid() -> Variable { unary("sigmoid", value.sigmoid(), SigmoidGradKernel.self, savesOutput: true) }
    /// GELU, erf form (BERT).
    public func gelu() -> Variable { unary("gelu", value.gelu(), GELUGradKernel.self) }
    /// GELU, tanh approximation.
    public func geluTanh() -> Variable { unary("geluTanh", value.geluTanh(), GELUTanhGradKernel.self) }
    public func silu() -> Variable { unary("silu", value.silu(), SiLUGradKernel.self) }
    public func relu() -> Variable { unary("relu", value.relu(), ReLUGradKernel.self) }
    public func relu6() -> Variable { unary("relu6", value.relu6(), ReLU6GradKernel.self) }

    /// Values limited to [lower, upper]; the gradient passes where lower ≤ x ≤ upper (torch.clamp).
    public func clamped(_ lower: Float, _ upper: Float) -> Variable {
        let x = value
        return Variable.record(x.clamped(lower, upper), op: "clamp", [self]) { g, _ in
            [g * x.greaterEqual(Tensor(scalar: lower)) * x.lessEqual(Tensor(scalar: upper))]
        }
    }

    /// `condition ? a : b` element-wise (torch.where); the condition is a constant (non-zero = true).
    public static func select(_ condition: Tensor, _ a: Variable, _ b: Variable) -> Variable {
        let out = Tensor.select(condition, a.value, b.value)
        let sa = a.shape, sb = b.shape
        return record(out, op: "where", [a, b]) { g, n in
            let zero = Tensor(scalar: 0)
            return [n[0] ? Tensor.select(condition, g, zero).unbroadcast(to: sa) : nil,
                    n[1] ? Tensor.select(condition, zero, g).unbroadcast(to: sb) : nil]
        }
    }

    /// A copy with `value` where `mask` is non-zero; no gradient flows to the filled positions.
    public func maskedFill(_ mask: Tensor, with fill: Float) -> Variable {
        Variable.record(value.maskedFill(mask, with: fill), op: "maskedFill", [self]) { g, _ in [g.maskedFill(mask, with: 0)] }
    }
}
