/// Element-wise arithmetic, comparisons and unary math, with numpy broadcasting.
/// Every result is a new contiguous tensor; inputs may be any view.
extension Tensor {
    // MARK: Arithmetic

    /// Element-wise sum with broadcasting. - Precondition: broadcastable shapes.
    public static func + (a: Tensor, b: Tensor) -> Tensor { zipKernel(a, b, AddKernel.self, op: "add") }
    /// Element-wise difference with broadcasting.
    public static func - (a: Tensor, b: Tensor) -> Tensor { zipKernel(a, b, SubKernel.self, op: "sub") }
    /// Element-wise product with broadcasting.
    public static func * (a: Tensor, b: Tensor) -> Tensor { zipKernel(a, b, MulKernel.self, op: "mul") }
    /// Element-wise quotient with broadcasting (IEEE: x/0 = ±inf, 0/0 = NaN).
    public static func / (a: Tensor, b: Tensor) -> Tensor { zipKernel(a, b, DivKernel.self, op: "div") }

    public static func + (a: Tensor, b: Float) -> Tensor { a + Tensor(scalar: b) }
    public static func - (a: Tensor, b: Float) -> Tensor { a - Tensor(scalar: b) }
    public static func * (a: Tensor, b: Float) -> Tensor { a * Tensor(scalar: b) }
    public static func / (a: Tensor, b: Float) -> Tensor { a / Tensor(scalar: b) }
    public static func + (a: Float, b: Tensor) -> Tensor { Tensor(scalar: a) + b }
    public static func - (a: Float, b: Tensor) -> Tensor { Tensor(scalar: a) - b }
    public static func * (a: Float, b: Tensor) -> Tensor { Tensor(scalar: a) * b }
    public static func / (a: Float, b: Tensor) -> Tensor { Tensor(scalar: a) / b }
    public static prefix func - (a: Tensor) -> Tensor { a.mapKernel(NegKernel.self) }

    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
    public static func /= (a: inout Tensor, b: Tensor) { a = a / b }
    public static func += (a: inout Tensor, b: Float) { a = a + b }
    public static func -= (a: inout Tensor, b: Float) { a = a - b }
    public static func *= (a: inout Tensor, b: Float) { a = a * b }
    public static func /= (a: inout Tensor, b: Float) { a = a / b }

    /// Element-wise maximum with broadcasting; NaN in either input gives NaN (numpy.maximum).
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { zipKernel(a, b, MaxKernel.self, op: "maximum") }
    /// Element-wise minimum with broadcasting; NaN in either input gives NaN (numpy.minimum).
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { zipKernel(a, b, MinKernel.self, op: "minimum") }
    /// a^b element-wise with broadcasting (C powf semantics).
    public static func pow(_ a: Tensor, _ b: Tensor) -> Tensor { zipKernel(a, b, PowKernel.self, op: "pow") }
    /// Each element raised to `exponent` (C powf semantics; exponents 2 and −1 use x·x and 1/x, which agree with powf).
    public func pow(_ exponent: Float) -> Tensor {
        switch exponent {
        case 1: return contiguousCopy()
        case 2: return mapKernel(SquareKernel.self)
        case -1: return mapKernel(ReciprocalKernel.self)
        default: return Tensor.pow(self, Tensor(scalar: exponent))
        }
    }
    /// Each element clamped to `[lower, upper]` (NaN stays NaN).
    public func clamped(_ lower: Float, _ upper: Float) -> Tensor {
        require(lower <= upper, "clamp: lower bound \(lower) above upper bound \(upper)")
        return Tensor.minimum(Tensor.maximum(self, Tensor(scalar: lower)), Tensor(scalar: upper))
    }

    // MARK: Comparisons (1 where true, 0 where false; NaN compares false except in notEqual)

    public func equal(_ other: Tensor) -> Tensor { Tensor.zipKernel(self, other, EqualKernel.self, op: "equal") }
    public func notEqual(_ other: Tensor) -> Tensor { Tensor.zipKernel(self, other, NotEqualKernel.self, op: "notEqual") }
    public func less(_ other: Tensor) -> Tensor { Tensor.zipKernel(self, other, LessKernel.self, op: "less") }
    public func lessEqual(_ other: Tensor) -> Tensor { Tensor.zipKernel(self, other, LessEqualKernel.self, op: "lessEqual") }
    public func greater(_ other: Tensor) -> Tensor { Tensor.zipKernel(self, other, GreaterKernel.self, op: "greater") }
    public func greaterEqual(_ other: Tensor) -> Tensor { Tensor.zipKernel(self, other, GreaterEqualKernel.self, op: "greaterEqual") }
    public func equal(_ value: Float) -> Tensor { equal(Tensor(scalar: value)) }
    public func less(_ value: Float) -> Tensor { less(Tensor(scalar: value)) }
    public func greater(_ value: Float) -> Tensor { greater(Tensor(scalar: value)) }

    // MARK: Unary math

    /// e^x (vectorised; see `vexp`).
    public func exp() -> Tensor { mapKernel(ExpKernel.self) }
    /// Natural logarithm (log 0 = −inf, negative → NaN).
    public func log() -> Tensor { mapKernel(LogKernel.self) }
    public func sqrt() -> Tensor { mapKernel(SqrtKernel.self) }
    /// 1/√x.
    public func rsqrt() -> Tensor { mapKernel(RsqrtKernel.self) }
    public func square() -> Tensor { mapKernel(SquareKernel.self) }
    public func reciprocal() -> Tensor { mapKernel(ReciprocalKernel.self) }
    public func abs() -> Tensor { mapKernel(AbsKernel.self) }
    public func tanh() -> Tensor { mapKernel(TanhKernel.self) }
    /// The error function.
    public func erf() -> Tensor { mapKernel(ErfKernel.self) }
    /// The logistic sigmoid 1/(1+e^{−x}).
    public func sigmoid() -> Tensor { mapKernel(SigmoidKernel.self) }
    /// GELU, exact (erf) form — BERT's activation.
    public func gelu() -> Tensor { mapKernel(GELUKernel.self) }
    /// GELU, tanh approximation.
    public func geluTanh() -> Tensor { mapKernel(GELUTanhKernel.self) }
    /// SiLU / swish: x·σ(x) — Llama's FFN activation.
    public func silu() -> Tensor { mapKernel(SiLUKernel.self) }
    /// max(x, 0).
    public func relu() -> Tensor { mapKernel(ReLUKernel.self) }
    /// min(max(x, 0), 6) — EfficientNet-Lite's activation.
    public func relu6() -> Tensor { mapKernel(ReLU6Kernel.self) }
}
