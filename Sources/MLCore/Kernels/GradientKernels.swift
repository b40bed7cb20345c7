/// Derivative kernels for the backward pass of element-wise ops: each maps (saved value, upstream
/// gradient g) to the input gradient in one SIMD pass. "x" is the op's input, "y" its output.

/// g·y (exp: y = eˣ).
@usableFromInline enum ExpGradKernel: BinaryKernel {
    @inlinable @inline(__always) static func apply(_ y: Vec8, _ g: Vec8) -> Vec8 { g * y }
}
/// g/x (log).
@usableFromInline enum LogGradKernel: BinaryKernel {
    @inlinable @inline(__always) static func apply(_ x: Vec8, _ g: Vec8) -> Vec8 { g / x }
}
/// g/(2y) (sqrt).
@usableFromInline enum SqrtGradKernel: BinaryKernel {
    @inlinable @inline(__always) static func apply(_ y: Vec8, _ g: Vec8) -> Vec8 { 0.5 * g / y }
}
/// −g·y³/2 (rsqrt: y = x^(−1/2)).
@usableFromInline enum RsqrtGradKernel: BinaryKernel {
    @inlinable @inline(__always) static func apply(_ y: Vec8, _ g: Vec8) -> Vec8 { -0.5 * g * y * y * y }
}
/// 2x·g (square).
@usableFromInline enum SquareGradKernel: BinaryKernel {
    @inlinable @inline(__always) static func apply(_ x: Vec8, _ g: Vec8) -> Vec8 { 2 * x * g }
}
/// −g·y² (reciprocal: y = 1/x).
@usableFromInline enum ReciprocalGradKernel: BinaryKernel {
    @inlinable @inline(__always) static func apply(_ y: Vec8, _ g: Vec8) -> Vec8 { -g * y * y }
}
/// g·sign(x), 0 at 0 (abs, as torch).
@usableFromInline enum AbsGradKernel: BinaryKernel {
    @inlinable @inline(__always) static func apply(_ x: Vec8, _ g: Vec8) -> Vec8 {
        Vec8(repeating: 0).replacing(with: g, where: x .> 0).replacing(with: -g, where: x .< 0)
    }
}
/// g·(1 − y²) (tanh).
@usableFromInline enum TanhGradKernel: BinaryKernel {
    @inlinable @inline(__always) static func apply(_ y: Vec8, _ g: Vec8) -> Vec8 { g * (1 - y * y) }
}
/// g·2/√π·e^(−x²) (erf).
@usableFromInline enum ErfGradKernel: BinaryKernel {
    @inlinable @inline(__always) static func apply(_ x: Vec8, _ g: Vec8) -> Vec8 {
        g * 1.1283791670955126 * vexp(-x * x)
    }
}
/// g·y(1 − y) (sigmoid).
@usableFromInline enum SigmoidGradKernel: BinaryKernel {
    @inlinable @inline(__always) static func apply(_ y: Vec8, _ g: Vec8) -> Vec8 { g * y * (1 - y) }
}
/// g·(Φ(x) + x·φ(x)) (GELU, erf form).
@usableFromInline enum GELUGradKernel: BinaryKernel {
    @inlinable @inline(__always) static func apply(_ x: Vec8, _ g: Vec8) -> Vec8 {
        let cdf = 0.5 * (1 + verf(x * 0.70710678118654752))
        let pdf = 0.3989422804014327 * vexp(-0.5 * x * x)
        return g * (cdf + x * pdf)
    }
}
/// Derivative of 0.5·x·(1 + tanh(u)), u = √(2/π)(x + 0.044715x³) (GELU, tanh form).
@usableFromInline enum GELUTanhGradKernel: BinaryKernel {
    @inlinable @inline(__always) static func apply(_ x: Vec8, _ g: Vec8) -> Vec8 {
        let x2 = x * x
        let t = vtanh(0.7978845608028654 * x * (1 + 0.044715 * x2))
        let du = 0.7978845608028654 * (1 + 0.134145 * x2)
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
    }
}
/// g·s(1 + x(1 − s)), s = σ(x) (SiLU).
@usableFromInline enum SiLUGradKernel: BinaryKernel {
    @inlinable @inline(__always) static func apply(_ x: Vec8, _ g: Vec8) -> Vec8 {
        let s = vsigmoid(x)
        return g * s * (1 + x * (1 - s))
    }
}
/// g where x > 0, else 0 (ReLU; 0 at 0 as torch).
@usableFromInline enum ReLUGradKernel: BinaryKernel {
    @inlinable @inline(__always) static func apply(_ x: Vec8, _ g: Vec8) -> Vec8 {
        Vec8(repeating: 0).replacing(with: g, where: x .> 0)
    }
}
/// g where 0 < x < 6, else 0 (ReLU6, as torch's hardtanh backward).
@usableFromInline enum ReLU6GradKernel: BinaryKernel {
    @inlinable @inline(__always) static func apply(_ x: Vec8, _ g: Vec8) -> Vec8 {
        Vec8(repeating: 0).replacing(with: g, where: (x .> 0) .& (x .< 6))
    }
}
