/// Element-wise kernels: a kernel type supplies the 8-lane operation, the loops here apply it to
/// contiguous, scalar-broadcast and strided runs. Generic over the kernel type so that each
/// operation is specialised into its own tight loop.

/// A one-input element-wise operation.
public protocol UnaryKernel {
    /// The operation on 8 lanes.
    static func apply(_ x: Vec8) -> Vec8
}

/// A two-input element-wise operation.
public protocol BinaryKernel {
    /// The operation on 8 lanes.
    static func apply(_ a: Vec8, _ b: Vec8) -> Vec8
}

@inlinable @inline(__always)
func load8(_ p: UnsafePointer<Float>) -> Vec8 { UnsafeRawPointer(p).loadUnaligned(as: Vec8.self) }

@inlinable @inline(__always)
func store8(_ v: Vec8, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec8.self) }

/// Loads `n < 8` elements spaced `stride` apart into the low lanes (the rest are 0).
@inlinable @inline(__always)
func loadPartial(_ p: UnsafePointer<Float>, _ n: Int, stride: Int) -> Vec8 {
    var v = Vec8()
    for i in 0..<n { v[i] = p[i &* stride] }
    return v
}

/// Loads 8 elements spaced `stride` apart.
@inlinable @inline(__always)
func loadStrided(_ p: UnsafePointer<Float>, stride: Int) -> Vec8 {
    Vec8(p[0], p[stride], p[2 &* stride], p[3 &* stride], p[4 &* stride], p[5 &* stride],
         p[6 &* stride], p[7 &* stride])
}

@inlinable @inline(__always)
func storePartial(_ v: Vec8, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { p[i] = v[i] }
}

/// out[i·so] = K(x[i·sx]) for i in 0..<n.
@inlinable
func unaryRun<K: UnaryKernel>(_: K.Type, _ x: UnsafePointer<Float>, _ sx: Int,
                              _ out: UnsafeMutablePointer<Float>, _ so: Int, _ n: Int) {
    var i = 0
    if so == 1 && sx == 1 {
        while i &+ 8 <= n { store8(K.apply(load8(x + i)), out + i); i &+= 8 }
    } else if so == 1 {
        while i &+ 8 <= n { store8(K.apply(loadStrided(x + i &* sx, stride: sx)), out + i); i &+= 8 }
    }
    while i < n {
        let r = Swift.min(8, n &- i)
        let v = K.apply(loadPartial(x + i &* sx, r, stride: sx))
        for j in 0..<r { out[(i &+ j) &* so] = v[j] }
        i &+= r
    }
}

/// out[i] = K(a[i·sa], b[i·sb]) for i in 0..<n; `out` is contiguous; a stride of 0 broadcasts.
@inlinable
func binaryRun<K: BinaryKernel>(_: K.Type, _ a: UnsafePointer<Float>, _ sa: Int,
                                _ b: UnsafePointer<Float>, _ sb: Int,
                                _ out: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    if sa == 1 && sb == 1 {
        while i &+ 8 <= n { store8(K.apply(load8(a + i), load8(b + i)), out + i); i &+= 8 }
    } else if sa == 1 && sb == 0 {
        let vb = Vec8(repeating: b[0])
        while i &+ 8 <= n { store8(K.apply(load8(a + i), vb), out + i); i &+= 8 }
    } else if sa == 0 && sb == 1 {
        let va = Vec8(repeating: a[0])
        while i &+ 8 <= n { store8(K.apply(va, load8(b + i)), out + i); i &+= 8 }
    } else {
        while i &+ 8 <= n {
            store8(K.apply(loadStrided(a + i &* sa, stride: sa), loadStrided(b + i &* sb, stride: sb)), out + i)
            i &+= 8
        }
    }
    if i < n {
        let r = n &- i
        storePartial(K.apply(loadPartial(a + i &* sa, r, stride: sa), loadPartial(b + i &* sb, r, stride: sb)),
                     out + i, r)
    }
}

// MARK: Kernels

@usableFromInline enum AddKernel: BinaryKernel { @inlinable @inline(__always) static func apply(_ a: Vec8, _ b: Vec8) -> Vec8 { a + b } }
@usableFromInline enum SubKernel: BinaryKernel { @inlinable @inline(__always) static func apply(_ a: Vec8, _ b: Vec8) -> Vec8 { a - b } }
@usableFromInline enum MulKernel: BinaryKernel { @inlinable @inline(__always) static func apply(_ a: Vec8, _ b: Vec8) -> Vec8 { a * b } }
@usableFromInline enum DivKernel: BinaryKernel { @inlinable @inline(__always) static func apply(_ a: Vec8, _ b: Vec8) -> Vec8 { a / b } }
@usableFromInline enum MaxKernel: BinaryKernel {
    /// NaN-propagating maximum (as torch.maximum / numpy.maximum).
    @inlinable @inline(__always) static func apply(_ a: Vec8, _ b: Vec8) -> Vec8 {
        var m = a.replacing(with: b, where: b .> a)
        m.replace(with: a + b, where: (a .!= a) .| (b .!= b))
        return m
    }
}
@usableFromInline enum MinKernel: BinaryKernel {
    /// NaN-propagating minimum (as torch.minimum / numpy.minimum).
    @inlinable @inline(__always) static func apply(_ a: Vec8, _ b: Vec8) -> Vec8 {
        var m = a.replacing(with: b, where: b .< a)
        m.replace(with: a + b, where: (a .!= a) .| (b .!= b))
        return m
    }
}
@usableFromInline enum PowKernel: BinaryKernel {
    @inlinable @inline(__always) static func apply(_ a: Vec8, _ b: Vec8) -> Vec8 {
        var out = Vec8()
        for i in 0..<8 { out[i] = scalarPow(a[i], b[i]) }
        return out
    }
}
@usableFromInline enum EqualKernel: BinaryKernel { @inlinable @inline(__always) static func apply(_ a: Vec8, _ b: Vec8) -> Vec8 { Vec8(repeating: 0).replacing(with: 1, where: a .== b) } }
@usableFromInline enum NotEqualKernel: BinaryKernel { @inlinable @inline(__always) static func apply(_ a: Vec8, _ b: Vec8) -> Vec8 { Vec8(repeating: 0).replacing(with: 1, where: a .!= b) } }
@usableFromInline enum LessKernel: BinaryKernel { @inlinable @inline(__always) static func apply(_ a: Vec8, _ b: Vec8) -> Vec8 { Vec8(repeating: 0).replacing(with: 1, where: a .< b) } }
@usableFromInline enum LessEqualKernel: BinaryKernel { @inlinable @inline(__always) static func apply(_ a: Vec8, _ b: Vec8) -> Vec8 { Vec8(repeating: 0).replacing(with: 1, where: a .<= b) } }
@usableFromInline enum GreaterKernel: BinaryKernel { @inlinable @inline(__always) static func apply(_ a: Vec8, _ b: Vec8) -> Vec8 { Vec8(repeating: 0).replacing(with: 1, where: a .> b) } }
@usableFromInline enum GreaterEqualKernel: BinaryKernel { @inlinable @inline(__always) static func apply(_ a: Vec8, _ b: Vec8) -> Vec8 { Vec8(repeating: 0).replacing(with: 1, where: a .>= b) } }

@usableFromInline enum CopyKernel: UnaryKernel { @inlinable @inline(__always) static func apply(_ x: Vec8) -> Vec8 { x } }
@usableFromInline enum NegKernel: UnaryKernel { @inlinable @inline(__always) static func apply(_ x: Vec8) -> Vec8 { -x } }
@usableFromInline enum AbsKernel: UnaryKernel { @inlinable @inline(__always) static func apply(_ x: Vec8) -> Vec8 { vabs(x) } }
@usableFromInline enum ExpKernel: UnaryKernel { @inlinable @inline(__always) static func apply(_ x: Vec8) -> Vec8 { vexp(x) } }
@usableFromInline enum LogKernel: UnaryKernel { @inlinable @inline(__always) static func apply(_ x: Vec8) -> Vec8 { vlog(x) } }
@usableFromInline enum SqrtKernel: UnaryKernel { @inlinable @inline(__always) static func apply(_ x: Vec8) -> Vec8 { x.squareRoot() } }
@usableFromInline enum RsqrtKernel: UnaryKernel { @inlinable @inline(__always) static func apply(_ x: Vec8) -> Vec8 { 1 / x.squareRoot() } }
@usableFromInline enum SquareKernel: UnaryKernel { @inlinable @inline(__always) static func apply(_ x: Vec8) -> Vec8 { x * x } }
@usableFromInline enum ReciprocalKernel: UnaryKernel { @inlinable @inline(__always) static func apply(_ x: Vec8) -> Vec8 { 1 / x } }
@usableFromInline enum TanhKernel: UnaryKernel { @inlinable @inline(__always) static func apply(_ x: Vec8) -> Vec8 { vtanh(x) } }
@usableFromInline enum ErfKernel: UnaryKernel { @inlinable @inline(__always) static func apply(_ x: Vec8) -> Vec8 { verf(x) } }
@usableFromInline enum SigmoidKernel: UnaryKernel { @inlinable @inline(__always) static func apply(_ x: Vec8) -> Vec8 { vsigmoid(x) } }
@usableFromInline enum GELUKernel: UnaryKernel { @inlinable @inline(__always) static func apply(_ x: Vec8) -> Vec8 { vgelu(x) } }
@usableFromInline enum GELUTanhKernel: UnaryKernel { @inlinable @inline(__always) static func apply(_ x: Vec8) -> Vec8 { vgeluTanh(x) } }
@usableFromInline enum SiLUKernel: UnaryKernel { @inlinable @inline(__always) static func apply(_ x: Vec8) -> Vec8 { vsilu(x) } }
@usableFromInline enum ReLUKernel: UnaryKernel {
    @inlinable @inline(__always) static func apply(_ x: Vec8) -> Vec8 { x.replacing(with: 0, where: x .< 0) }
}
@usableFromInline enum ReLU6Kernel: UnaryKernel {
    @inlinable @inline(__always) static func apply(_ x: Vec8) -> Vec8 {
        x.replacing(with: 0, where: x .< 0).replacing(with: 6, where: x .> 6)
    }
}

/// C library powf, lane by lane (pow is not a hot path).
@usableFromInline
func scalarPow(_ a: Float, _ b: Float) -> Float {
    #if canImport(Glibc)
    return Glibc.powf(a, b)
    #else
    return Darwin.powf(a, b)
    #endif
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
