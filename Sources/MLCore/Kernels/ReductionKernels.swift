/// Reduction kernels over one axis of a contiguous tensor seen as [outer, R, inner]: R is reduced.
/// Sums are accumulated in blocks of Float SIMD lanes added into Double, so a 16M-element sum has
/// the accuracy of a pairwise sum (numpy) rather than of a single running Float.

/// Rows per block before a Float partial sum is flushed into Double.
@usableFromInline let sumBlock = 4096

/// Σ x[i·stride] for i in 0..<n, in blocks (Double across blocks).
@inlinable
func rowSum(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
    var total = 0.0
    var start = 0
    while start < n {
        let m = Swift.min(sumBlock, n &- start)
        let p = x + start
        var a0 = Vec8(), a1 = Vec8(), a2 = Vec8(), a3 = Vec8()
        var i = 0
        while i &+ 32 <= m {
            a0 += load8(p + i); a1 += load8(p + (i &+ 8)); a2 += load8(p + (i &+ 16)); a3 += load8(p + (i &+ 24))
            i &+= 32
        }
        while i &+ 8 <= m { a0 += load8(p + i); i &+= 8 }
        var s = ((a0 + a1) + (a2 + a3)).sum()
        while i < m { s += p[i]; i &+= 1 }
        total += Double(s)
        start &+= m
    }
    return total
}

/// Σ (x[i] − μ)² over n contiguous elements, in blocks as `rowSum` (BatchNorm's two-pass variance).
@inlinable
func rowSquaredDeviation(_ x: UnsafePointer<Float>, _ n: Int, mean mu: Float) -> Double {
    var total = 0.0
    var start = 0
    let vmu = Vec8(repeating: mu)
    while start < n {
        let m = Swift.min(sumBlock, n &- start)
        let p = x + start
        var a0 = Vec8(), a1 = Vec8()
        var i = 0
        while i &+ 16 <= m {
            let d0 = load8(p + i) - vmu, d1 = load8(p + (i &+ 8)) - vmu
            a0 = a0.addingProduct(d0, d0); a1 = a1.addingProduct(d1, d1)
            i &+= 16
        }
        while i &+ 8 <= m { let d = load8(p + i) - vmu; a0 = a0.addingProduct(d, d); i &+= 8 }
        var s = (a0 + a1).sum()
        while i < m { let d = p[i] - mu; s += d * d; i &+= 1 }
        total += Double(s)
        start &+= m
    }
    return total
}

/// (Σ g[i], Σ g[i]·(x[i] − μ)) over n contiguous elements, in blocks as `rowSum` (BatchNorm's backward).
@inlinable
func rowSumAndCenteredDot(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, mean mu: Float) -> (Double, Double) {
    var sum = 0.0, dot = 0.0
    var start = 0
    let vmu = Vec8(repeating: mu)
    while start < n {
        let m = Swift.min(sumBlock, n &- start)
        let gp = g + start, xp = x + start
        var s0 = Vec8(), s1 = Vec8(), d0 = Vec8(), d1 = Vec8()
        var i = 0
        while i &+ 16 <= m {
            let g0 = load8(gp + i), g1 = load8(gp + (i &+ 8))
            s0 += g0; s1 += g1
            d0 = d0.addingProduct(g0, load8(xp + i) - vmu); d1 = d1.addingProduct(g1, load8(xp + (i &+ 8)) - vmu)
            i &+= 16
        }
        var s = (s0 + s1).sum(), d = (d0 + d1).sum()
        while i < m { s += gp[i]; d += gp[i] * (xp[i] - mu); i &+= 1 }
        sum += Double(s); dot += Double(d)
        start &+= m
    }
    return (sum, dot)
}

/// NaN-propagating max (`isMax`) or min of n contiguous elements; −inf/+inf for n = 0.
@inlinable
func rowExtreme(_ x: UnsafePointer<Float>, _ n: Int, isMax: Bool) -> Float {
    var acc = Vec8(repeating: isMax ? -.infinity : .infinity)
    var i = 0
    if isMax {
        while i &+ 8 <= n { acc = MaxKernel.apply(acc, load8(x + i)); i &+= 8 }
    } else {
        while i &+ 8 <= n { acc = MinKernel.apply(acc, load8(x + i)); i &+= 8 }
    }
    var m = acc[0]
    for j in 1..<8 { m = extreme(m, acc[j], isMax: isMax) }
    while i < n { m = extreme(m, x[i], isMax: isMax); i &+= 1 }
    return m
}

@inlinable @inline(__always)
func extreme(_ a: Float, _ b: Float, isMax: Bool) -> Float {
    if a.isNaN || b.isNaN { return .nan }
    return isMax ? Swift.max(a, b) : Swift.min(a, b)
}

/// The kinds of reduction `reduceAxis` performs.
@usableFromInline
enum ReductionKind { case sum, max, min }

/// Reduces the middle axis of a contiguous [outer, R, inner] block into `out` [outer, inner].
@inlinable
func reduceAxis(_ x: UnsafePointer<Float>, outer: Int, reduced r: Int, inner: Int,
                kind: ReductionKind, into out: UnsafeMutablePointer<Float>) {
    if inner == 1 {
        if outer >= Threading.count || r < 1 << 16 {
            Threading.parallelFor(outer, grain: Swift.max(1, (1 << 15) / Swift.max(r, 1))) { rows in
                for o in rows { out[o] = reduceRow(x + o &* r, r, kind) }
            }
        } else {
            // Few long rows: split each row across threads and combine the partial results.
            for o in 0..<outer {
                let chunks = Threading.count
                var partial = [Double](repeating: 0, count: chunks)
                partial.withUnsafeMutableBufferPointer { part in
                    Threading.parallelFor(chunks, grain: 1) { cs in
                        for c in cs {
                            let lo = r * c / chunks, hi = r * (c + 1) / chunks
                            part[c] = kind == .sum ? rowSum(x + o &* r + lo, hi - lo)
                                : Double(rowExtreme(x + o &* r + lo, hi - lo, isMax: kind == .max))
                        }
                    }
                }
                switch kind {
                case .sum: out[o] = Float(partial.reduce(0, +))
                case .max: out[o] = partial.dropFirst().reduce(Float(partial[0])) { extreme($0, Float($1), isMax: true) }
                case .min: out[o] = partial.dropFirst().reduce(Float(partial[0])) { extreme($0, Float($1), isMax: false) }
                }
            }
        }
        return
    }
    // Column reduction: accumulate whole rows of `inner` elements, vectorised along `inner`.
    let work = outer * inner
    Threading.parallelFor(work, grain: 1 << 12) { range in
        // Split the flat [outer, inner] range into per-outer column spans.
        var flat = range.lowerBound
        while flat < range.upperBound {
            let o = flat / inner, c0 = flat % inner
            let c1 = Swift.min(inner, c0 + (range.upperBound - flat))
            reduceColumns(x + o &* r &* inner, r: r, inner: inner, columns: c0..<c1, kind: kind,
                          into: out + o &* inner)
            flat += c1 - c0
        }
    }
}

@inlinable
func reduceRow(_ x: UnsafePointer<Float>, _ n: Int, _ kind: ReductionKind) -> Float {
    switch kind {
    case .sum: return Float(rowSum(x, n))
    case .max: return rowExtreme(x, n, isMax: true)
    case .min: return rowExtreme(x, n, isMax: false)
    }
}

/// Reduces columns `columns` of a contiguous [r, inner] block into out[columns].
@inlinable
func reduceColumns(_ x: UnsafePointer<Float>, r: Int, inner: Int, columns: Range<Int>,
                   kind: ReductionKind, into out: UnsafeMutablePointer<Float>) {
    let width = 256
    var c = columns.lowerBound
    withUnsafeTemporaryAllocation(of: Float.self, capacity: width) { acc in
        withUnsafeTemporaryAllocation(of: Double.self, capacity: width) { total in
            while c < columns.upperBound {
                let w = Swift.min(width, columns.upperBound - c)
                let start: Float = kind == .sum ? 0 : (kind == .max ? -.infinity : .infinity)
                for j in 0..<w { acc[j] = start; total[j] = 0 }
                var row = 0
                while row < r {
                    let p = x + (row &* inner &+ c)
                    var j = 0
                    let a = acc.baseAddress!
                    switch kind {
                    case .sum:
                        while j &+ 8 <= w { store8(load8(a + j) + load8(p + j), a + j); j &+= 8 }
                        while j < w { a[j] += p[j]; j &+= 1 }
                    case .max:
                        while j &+ 8 <= w { store8(MaxKernel.apply(load8(a + j), load8(p + j)), a + j); j &+= 8 }
                        while j < w { a[j] = extreme(a[j], p[j], isMax: true); j &+= 1 }
                    case .min:
                        while j &+ 8 <= w { store8(MinKernel.apply(load8(a + j), load8(p + j)), a + j); j &+= 8 }
                        while j < w { a[j] = extreme(a[j], p[j], isMax: false); j &+= 1 }
                    }
                    row &+= 1
                    if kind == .sum && (row % sumBlock == 0 || row == r) {
                        for k in 0..<w { total[k] += Double(acc[k]); acc[k] = 0 }
                    }
                }
                for j in 0..<w { out[c + j] = kind == .sum ? Float(total[j]) : acc[j] }
                c += w
            }
        }
    }
}

/// Softmax (or log-softmax) of one contiguous row of n elements: max pass, exp-and-sum pass, scale pass.
/// A row whose maximum is −inf (fully masked) gives NaN for softmax, as PyTorch does.
@inlinable
func softmaxRow(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int, log: Bool) {
    let m = rowExtreme(x, n, isMax: true)
    let vm = Vec8(repeating: m)
    var acc = Vec8()
    var i = 0
    if log {
        while i &+ 8 <= n { acc += vexp(load8(x + i) - vm); i &+= 8 }
    } else {
        while i &+ 8 <= n { let e = vexp(load8(x + i) - vm); store8(e, out + i); acc += e; i &+= 8 }
    }
    if i < n {
        let r = n &- i
        var v = Vec8(repeating: -.infinity)
        for j in 0..<r { v[j] = x[i &+ j] }
        let e = vexp(v - vm)
        if !log { storePartial(e, out + i, r) }
        for j in 0..<r { acc[j] += e[j] }
    }
    let total = acc.sum()
    i = 0
    if log {
        let shift = Vec8(repeating: m + scalarLog(total))
        while i &+ 8 <= n { store8(load8(x + i) - shift, out + i); i &+= 8 }
        while i < n { out[i] = x[i] - shift[0]; i &+= 1 }
    } else {
        let scale = Vec8(repeating: 1 / total)
        while i &+ 8 <= n { store8(load8(out + i) * scale, out + i); i &+= 8 }
        while i < n { out[i] *= scale[0]; i &+= 1 }
    }
}

/// Σ (a[i] − b[i])² over `n` floats, eight lanes at a time: the direct squared Euclidean distance,
/// accurate relative to the distance itself (no cancellation, unlike ‖a‖² − 2a·b + ‖b‖²). Used by
/// `FlatL2Index` to re-rank and scan.
@inlinable
public func squaredDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = Vec8()
    var j = 0
    while j &+ 8 <= n {
        let diff = load8(a + j) - load8(b + j)
        acc = acc.addingProduct(diff, diff)
        j &+= 8
    }
    var s = acc.sum()
    while j < n {
        let diff = a[j] - b[j]
        s += diff * diff
        j &+= 1
    }
    return s
}
