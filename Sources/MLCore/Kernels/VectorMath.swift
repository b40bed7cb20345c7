/// Vectorised single-precision math on 8 lanes (one AVX register).
///
/// The polynomials are Cephes' single-precision ones (S. L. Moshier, Cephes Math Library: expf.c,
/// logf.c, tanhf.c), the range reductions use the usual magic-number rounding; erf uses a Taylor
/// series near 0 and Abramowitz & Stegun 7.1.26 elsewhere. Accuracy against numpy/glibc float32:
/// exp, log ≤ 2 ulp on normal inputs; tanh, sigmoid ≤ 3 ulp; erf ≤ 2e-7 absolute.
/// Tested in Tests/MLCoreTests/Tensor against numpy fixtures.
public typealias Vec8 = SIMD8<Float>

@usableFromInline let magicRound: Float = 12582912.0  // 1.5 · 2^23: x + magic rounds x to an integer

/// The IEEE bits of each lane.
@inlinable @inline(__always)
public func vbits(_ v: Vec8) -> SIMD8<UInt32> { unsafeBitCast(v, to: SIMD8<UInt32>.self) }

/// Lanes from IEEE bits.
@inlinable @inline(__always)
public func vfloat(bits: SIMD8<UInt32>) -> Vec8 { unsafeBitCast(bits, to: Vec8.self) }

/// |x| per lane (clears the sign bit, so −0 → 0 and NaN stays NaN).
@inlinable @inline(__always)
public func vabs(_ x: Vec8) -> Vec8 { vfloat(bits: vbits(x) & 0x7FFF_FFFF) }

/// a·b + c per lane, one fused multiply-add (Swift does not contract `a * b + c` on its own).
@inlinable @inline(__always)
func fma(_ a: Vec8, _ b: Vec8, _ c: Float) -> Vec8 { Vec8(repeating: c).addingProduct(a, b) }

/// Lanes clamped to [lo, hi] by compare-and-blend (NaN lanes stay NaN; the stdlib's
/// `clamped(lowerBound:upperBound:)` is an out-of-line generic call).
@inlinable @inline(__always)
func vclamp(_ x: Vec8, _ lo: Float, _ hi: Float) -> Vec8 {
    x.replacing(with: lo, where: x .< lo).replacing(with: hi, where: x .> hi)
}

/// True when any lane of `mask` is set (an OR of its four 64-bit words; the stdlib's `any` is an
/// out-of-line reduction).
@inlinable @inline(__always)
func anyLane(_ mask: SIMDMask<SIMD8<Int32>>) -> Bool {
    let words = unsafeBitCast(mask, to: SIMD4<UInt64>.self)
    return (words[0] | words[1] | words[2] | words[3]) != 0
}

/// `magnitude` with the sign of `sign`, per lane.
@inlinable @inline(__always)
func vcopysign(_ magnitude: Vec8, _ sign: Vec8) -> Vec8 {
    vfloat(bits: (vbits(magnitude) & 0x7FFF_FFFF) | (vbits(sign) & 0x8000_0000))
}

/// e^x per lane: finite up to 88.72 (FLT_MAX), +inf above; subnormal results down to −103.97 and 0
/// below; NaN propagates.
@inlinable @inline(__always)
public func vexp(_ x: Vec8) -> Vec8 {
    let log2e: Float = 1.44269504088896341
    let c1: Float = 0.693359375, c2: Float = -2.12194440e-4
    let xc = vclamp(x, -104, 88.72283935546875)
    let t = fma(xc, Vec8(repeating: log2e), magicRound)
    let n = t - magicRound                                   // round(x · log2 e)
    let r = xc.addingProduct(n, Vec8(repeating: -c1)).addingProduct(n, Vec8(repeating: -c2))  // x − n ln 2
    var p = fma(Vec8(repeating: 1.9875691500e-4), r, 1.3981999507e-3)
    p = fma(p, r, 8.3334519073e-3)
    p = fma(p, r, 4.1665795894e-2)
    p = fma(p, r, 1.6666665459e-1)
    p = fma(p, r, 5.0000001201e-1)
    let y = (r + 1).addingProduct(p, r * r)
    // 2^n from the integer sitting in the low mantissa bits of t.
    let k = vbits(t) &- magicRound.bitPattern
    var out = y * vfloat(bits: (k &+ 127) &<< 23)
    let outside = (n .> 127) .| (n .< -126)
    if anyLane(outside) {
        // n = 128 (just below FLT_MAX): 2^127 · 2. n < −126 (subnormal result): 2^(n+64) · 2^−64,
        // so the final multiply rounds once into the subnormal range.
        let high = y * vfloat(bits: (k &+ 126) &<< 23) * 2
        let low = y * vfloat(bits: (k &+ (127 + 64)) &<< 23) * 0x1p-64
        out.replace(with: high, where: n .> 127)
        out.replace(with: low, where: n .< -126)
    }
    out.replace(with: Float.infinity, where: x .> 88.72283935546875)
    out.replace(with: 0, where: x .< -103.972084045410)
    out.replace(with: x, where: x .!= x)
    return out
}

/// Natural logarithm per lane; lanes that are not positive normal finite numbers (0, negatives,
/// subnormals, inf, NaN) take the scalar path of the C library, so they follow IEEE (−inf, NaN, inf).
@inlinable @inline(__always)
public func vlog(_ x: Vec8) -> Vec8 {
    let special = (x .< Float.leastNormalMagnitude) .| (x .>= Float.infinity) .| (x .!= x)
    let bits = vbits(x)
    let biased: SIMD8<UInt32> = ((bits &>> 23) &- 126) &+ 0x4B40_0000
    var e = vfloat(bits: biased) - magicRound                                 // exponent, m in [0.5, 1)
    var m = vfloat(bits: (bits & 0x007F_FFFF) | 0x3F00_0000)
    let small = m .< 0.707106781186547524
    e.replace(with: e - 1, where: small)
    m.replace(with: m + m - 1, where: small)
    m.replace(with: m - 1, where: .!small)
    let z = m * m
    var p = fma(Vec8(repeating: 7.0376836292e-2), m, -1.1514610310e-1)
    p = fma(p, m, 1.1676998740e-1)
    p = fma(p, m, -1.2420140846e-1)
    p = fma(p, m, 1.4249322787e-1)
    p = fma(p, m, -1.6668057665e-1)
    p = fma(p, m, 2.0000714765e-1)
    p = fma(p, m, -2.4999993993e-1)
    p = fma(p, m, 3.3333331174e-1)
    var y = p * m * z
    y += e * -2.12194440e-4
    y -= z * 0.5
    var out = m + y + e * 0.693359375
    if anyLane(special) {
        for i in 0..<8 where special[i] { out[i] = scalarLog(x[i]) }
    }
    return out
}

/// tanh per lane (Cephes tanhf: odd polynomial for |x| < 0.625, 1 − 2/(e^{2|x|} + 1) beyond).
@inlinable @inline(__always)
public func vtanh(_ x: Vec8) -> Vec8 {
    let ax = vabs(x)
    let z = x * x
    var p = fma(Vec8(repeating: -5.70498872745e-3), z, 2.06390887954e-2)
    p = fma(p, z, -5.37397155531e-2)
    p = fma(p, z, 1.33314422036e-1)
    p = fma(p, z, -3.33332819422e-1)
    let small = x.addingProduct(p * z, x)
    let big = 1 - 2 / (vexp(ax + ax) + 1)
    var out = vcopysign(big, x)
    out.replace(with: small, where: ax .< 0.625)
    out.replace(with: x, where: x .!= x)
    return out
}

/// The logistic function 1 / (1 + e^{−x}) per lane.
@inlinable @inline(__always)
public func vsigmoid(_ x: Vec8) -> Vec8 { 1 / (1 + vexp(-x)) }

/// The error function per lane: Taylor series to x^13 for |x| < 0.5 (relative error < 3e-8), and
/// Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7) for |x| ≥ 0.5.
@inlinable @inline(__always)
public func verf(_ x: Vec8) -> Vec8 {
    let ax = vabs(x)
    // A&S 7.1.26: erf(x) = 1 − (a1 t + a2 t² + … + a5 t⁵) e^{−x²}, t = 1 / (1 + p x).
    let t = 1 / (1 + 0.3275911 * ax)
    var poly = fma(Vec8(repeating: 1.061405429), t, -1.453152027)
    poly = fma(poly, t, 1.421413741)
    poly = fma(poly, t, -0.284496736)
    poly = fma(poly, t, 0.254829592)
    let tail = 1 - poly * t * vexp(-ax * ax)
    var big = vcopysign(tail, x)
    // Taylor: (2/√π) Σ (−1)^n x^{2n+1} / (n! (2n+1)).
    let z = x * x
    var s = fma(Vec8(repeating: 1.0 / 9360.0), z, -1.0 / 1320.0)  // n = 6: 1/(720·13)
    s = fma(s, z, 1.0 / 216.0)
    s = fma(s, z, -1.0 / 42.0)
    s = fma(s, z, 1.0 / 10.0)
    s = fma(s, z, -1.0 / 3.0)
    s = fma(s, z, 1)
    let small = s * x * 1.1283791670955126
    big.replace(with: small, where: ax .< 0.5)
    big.replace(with: x, where: x .!= x)
    return big
}

/// GELU, erf form: x · Φ(x) = ½ x (1 + erf(x / √2)) (Hendrycks & Gimpel 2016; BERT's "gelu").
@inlinable @inline(__always)
public func vgelu(_ x: Vec8) -> Vec8 { 0.5 * x * (1 + verf(x * 0.70710678118654752)) }

/// GELU, tanh approximation: ½ x (1 + tanh(√(2/π) (x + 0.044715 x³))) ("gelu_new", GPT-2).
@inlinable @inline(__always)
public func vgeluTanh(_ x: Vec8) -> Vec8 {
    0.5 * x * (1 + vtanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))
}

/// SiLU (swish): x · σ(x).
@inlinable @inline(__always)
public func vsilu(_ x: Vec8) -> Vec8 { x * vsigmoid(x) }

/// C library logf, for the special lanes of `vlog`.
@usableFromInline
func scalarLog(_ x: Float) -> Float {
    #if canImport(Glibc)
    return Glibc.logf(x)
    #else
    return Darwin.logf(x)
    #endif
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
