/// Sparse and graph ops on index arrays: row selection and accumulation along an axis
/// (torch.index_select, torch.Tensor.index_add), element-wise gather and scatter-add
/// (torch.gather, torch.Tensor.scatter_add), and segment reductions over a destination index
/// (torch_scatter's scatter_sum and scatter_softmax), the message-passing primitives of graph
/// networks. Differentiable versions are in Autograd/Variable+Graph.swift.
///
/// Every op views its tensors as [outer, extent, inner] around the indexed axis (inner = the
/// features of a graph's node or edge rows) and works on whole rows with 8-lane SIMD. Nothing is
/// allocated per index: accumulations go straight into the output. Scatters are race-free without
/// atomics or per-thread copies of the output: the threads split the output's columns (inner ≥ 16 per
/// thread), or else each thread owns a range of destination rows and skips the indices outside it.

/// A tensor seen as [outer, extent, inner] around one axis.
struct AxisGeometry {
    let outer: Int, extent: Int, inner: Int

    init(_ shape: [Int], axis a: Int) {
        outer = shape[..<a].reduce(1, *)
        extent = shape[a]
        inner = shape[(a + 1)...].reduce(1, *)
    }
}

enum GraphKernels {
    /// Below this many floats of work a scatter or gather runs on the calling thread.
    static let parallelWork = 1 << 15

    /// Runs `body(o, columns, destinations)` over race-free tasks that together cover outer slice o
    /// and every column: a task may write only columns `columns` of outer slice `o`, and when
    /// `destinations` is not nil only destination rows in that range (skipping the other indices).
    static func forEachScatterTask(outer: Int, rows n: Int, inner: Int, work: Int,
                                   _ body: (_ o: Int, _ columns: Range<Int>, _ destinations: Range<Int>?) -> Void) {
        let threads = work < parallelWork ? 1 : Threading.count
        if threads == 1 || outer >= threads {
            Threading.parallelFor(outer, grain: threads == 1 ? Swift.max(outer, 1) : 1) { r in
                for o in r { body(o, 0..<inner, nil) }
            }
        } else if inner >= 16 * threads {
            // Column chunks in whole 64-byte lines.
            let blocks = (inner + 15) / 16
            Threading.parallelFor(outer * threads, grain: 1) { r in
                for t in r {
                    let o = t / threads, c = t % threads
                    let lo = Swift.min(inner, blocks * c / threads * 16), hi = Swift.min(inner, blocks * (c + 1) / threads * 16)
                    if lo < hi { body(o, lo..<hi, nil) }
                }
            }
        } else {
            Threading.parallelFor(outer * threads, grain: 1) { r in
                for t in r {
                    let o = t / threads, c = t % threads
                    body(o, 0..<inner, (n * c / threads)..<(n * (c + 1) / threads))
                }
            }
        }
    }

    /// d[k] += s[k] for k < w.
    @inline(__always)
    static func addRow(_ d: UnsafeMutablePointer<Float>, _ s: UnsafePointer<Float>, _ w: Int) {
        var k = 0
        while k &+ 32 <= w {
            let dk = d + k, sk = s + k
            store8(load8(dk) + load8(sk), dk)
            store8(load8(dk + 8) + load8(sk + 8), dk + 8)
            store8(load8(dk + 16) + load8(sk + 16), dk + 16)
            store8(load8(dk + 24) + load8(sk + 24), dk + 24)
            k &+= 32
        }
        while k &+ 8 <= w { store8(load8(d + k) + load8(s + k), d + k); k &+= 8 }
        while k < w { d[k] += s[k]; k &+= 1 }
    }

    /// Whether idx[0..<w] all equal idx[0] (a row of an index expanded along the features).
    @inline(__always)
    static func isConstantRow(_ idx: UnsafePointer<Int32>, _ w: Int) -> Bool {
        let first = idx[0], v = SIMD8<Int32>(repeating: first)
        var k = 0
        while k &+ 8 <= w {
            if UnsafeRawPointer(idx + k).loadUnaligned(as: SIMD8<Int32>.self) != v { return false }
            k &+= 8
        }
        while k < w { if idx[k] != first { return false }; k &+= 1 }
        return true
    }

    /// Checks 0 ≤ index < n for every index (one pass; the kernels then read without checks).
    static func validate(_ index: UnsafeBufferPointer<Int32>, below n: Int, op: String) {
        var lo = Int32.max, hi = Int32.min
        for i in index { lo = Swift.min(lo, i); hi = Swift.max(hi, i) }
        if index.isEmpty { return }
        require(lo >= 0 && Int(hi) < n, "\(op): index values span \(lo)...\(hi), outside 0..<\(n)")
    }

    /// Stops with an error unless 0 ≤ i < n (checked inside the gather and scatter loops, so the
    /// [E, F] index of torch.gather is read once).
    @inline(__always)
    static func checkIndex(_ i: Int, _ n: Int, op: String) {
        if UInt(bitPattern: i) >= UInt(n) { fatalError("\(op): index \(i) outside 0..<\(n)") }
    }

    /// dst[o, j, :] = src[o, index[j], :] with src [outer, n, inner], dst [outer, e, inner].
    static func indexSelect(_ src: UnsafePointer<Float>, _ index: UnsafePointer<Int32>, _ dst: UnsafeMutablePointer<Float>,
                            outer: Int, n: Int, e: Int, inner: Int) {
        let rows = outer * e
        Threading.parallelFor(rows, grain: Swift.max(1, parallelWork / Swift.max(inner, 1))) { r in
            for t in r {
                let o = t / e, j = t % e
                (dst + t * inner).update(from: src + (o * n + Int(index[j])) * inner, count: inner)
            }
        }
    }

    /// dst[o, index[j], :] += src[o, j, :] with src [outer, e, inner], dst [outer, n, inner].
    static func indexAdd(_ src: UnsafePointer<Float>, _ index: UnsafePointer<Int32>, _ dst: UnsafeMutablePointer<Float>,
                         outer: Int, n: Int, e: Int, inner: Int) {
        forEachScatterTask(outer: outer, rows: n, inner: inner, work: outer * e * inner) { o, cols, dsts in
            let w = cols.count, c0 = cols.lowerBound
            let s0 = src + o * e * inner + c0, d0 = dst + o * n * inner + c0
            if let dsts {
                let lo = dsts.lowerBound, span = UInt(dsts.count)
                for j in 0..<e {
                    let s = Int(index[j])
                    if UInt(bitPattern: s &- lo) < span { addRow(d0 + s * inner, s0 + j * inner, w) }
                }
            } else {
                for j in 0..<e { addRow(d0 + Int(index[j]) * inner, s0 + j * inner, w) }
            }
        }
    }

    /// dst[o, j, i] = src[o, index[o, j, i], i] with src [outer, n, inner], index and dst [outer, e, inner].
    /// Rows whose indices are all equal (an index expanded along the features) are copied whole.
    static func gather(_ src: UnsafePointer<Float>, _ index: UnsafePointer<Int32>, _ dst: UnsafeMutablePointer<Float>,
                       outer: Int, n: Int, e: Int, inner: Int) {
        Threading.parallelFor(outer * e, grain: Swift.max(1, parallelWork / Swift.max(inner, 1))) { r in
            for t in r {
                let o = t / e, idx = index + t * inner, out = dst + t * inner, base = src + o * n * inner
                if inner > 0 && isConstantRow(idx, inner) {
                    checkIndex(Int(idx[0]), n, op: "gather")
                    out.update(from: base + Int(idx[0]) * inner, count: inner)
                } else {
                    for i in 0..<inner {
                        checkIndex(Int(idx[i]), n, op: "gather")
                        out[i] = base[Int(idx[i]) * inner + i]
                    }
                }
            }
        }
    }

    /// dst[o, index[o, j, i], i] += src[o, j, i] with src and index [outer, e, inner], dst [outer, n, inner].
    static func scatterAdd(_ src: UnsafePointer<Float>, _ index: UnsafePointer<Int32>, _ dst: UnsafeMutablePointer<Float>,
                           outer: Int, n: Int, e: Int, inner: Int) {
        forEachScatterTask(outer: outer, rows: n, inner: inner, work: outer * e * inner) { o, cols, dsts in
            let w = cols.count, c0 = cols.lowerBound
            guard w > 0 else { return }
            let base = dst + o * n * inner
            for j in 0..<e {
                let row = (o * e + j) * inner, idx = index + row + c0, s = src + row + c0
                if isConstantRow(idx, w) {
                    let d = Int(idx[0])
                    checkIndex(d, n, op: "scatterAdd")
                    if let dsts, !dsts.contains(d) { continue }
                    addRow(base + d * inner + c0, s, w)
                } else {
                    for i in 0..<w {
                        let d = Int(idx[i])
                        checkIndex(d, n, op: "scatterAdd")
                        if let dsts, !dsts.contains(d) { continue }
                        base[d * inner + c0 + i] += s[i]
                    }
                }
            }
        }
    }

    /// Softmax of src [outer, e, inner] within each segment index[j] ∈ 0..<n, per outer slice and
    /// column, into dst (same shape): max per segment, exp(x − max) with its segment sum, then the
    /// division, in three sweeps. `maxima` and `sums` are [outer, n, inner] scratch.
    static func segmentSoftmax(_ src: UnsafePointer<Float>, _ index: UnsafePointer<Int32>, _ dst: UnsafeMutablePointer<Float>,
                               maxima: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Float>,
                               outer: Int, n: Int, e: Int, inner: Int) {
        forEachScatterTask(outer: outer, rows: n, inner: inner, work: 3 * outer * e * inner) { o, cols, dsts in
            let w = cols.count, c0 = cols.lowerBound, owned = dsts ?? 0..<n
            let lo = owned.lowerBound, span = UInt(owned.count), plane = o * n * inner + c0
            let mx = maxima + plane, sm = sums + plane, s0 = src + o * e * inner + c0, y0 = dst + o * e * inner + c0
            for r in owned {
                (mx + r * inner).update(repeating: -.infinity, count: w)
                (sm + r * inner).update(repeating: 0, count: w)
            }
            @inline(__always) func mine(_ s: Int) -> Bool { UInt(bitPattern: s &- lo) < span }
            for j in 0..<e {
                let s = Int(index[j])
                guard mine(s) else { continue }
                let m = mx + s * inner, x = s0 + j * inner
                var k = 0
                while k &+ 8 <= w { let v = load8(x + k), c = load8(m + k); store8(c.replacing(with: v, where: v .> c), m + k); k &+= 8 }
                while k < w { m[k] = Swift.max(m[k], x[k]); k &+= 1 }
            }
            for j in 0..<e {
                let s = Int(index[j])
                guard mine(s) else { continue }
                let m = mx + s * inner, z = sm + s * inner, x = s0 + j * inner, y = y0 + j * inner
                var k = 0
                while k &+ 8 <= w {
                    let v = vexp(load8(x + k) - load8(m + k))
                    store8(v, y + k); store8(load8(z + k) + v, z + k)
                    k &+= 8
                }
                while k < w { let v = scalarExp(x[k] - m[k]); y[k] = v; z[k] += v; k &+= 1 }
            }
            for r in owned {
                let z = sm + r * inner
                for k in 0..<w { z[k] = 1 / z[k] }  // segments with an element have a sum ≥ 1
            }
            for j in 0..<e {
                let s = Int(index[j])
                guard mine(s) else { continue }
                let z = sm + s * inner, y = y0 + j * inner
                var k = 0
                while k &+ 8 <= w { store8(load8(y + k) * load8(z + k), y + k); k &+= 8 }
                while k < w { y[k] *= z[k]; k &+= 1 }
            }
        }
    }

    /// The gradient of `segmentSoftmax`: dx = y ⊙ (g − Σ_segment g ⊙ y), with `dots` [outer, n, inner] scratch.
    static func segmentSoftmaxBackward(_ y: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ index: UnsafePointer<Int32>,
                                       _ dx: UnsafeMutablePointer<Float>, dots: UnsafeMutablePointer<Float>,
                                       outer: Int, n: Int, e: Int, inner: Int) {
        forEachScatterTask(outer: outer, rows: n, inner: inner, work: 2 * outer * e * inner) { o, cols, dsts in
            let w = cols.count, c0 = cols.lowerBound, owned = dsts ?? 0..<n
            let lo = owned.lowerBound, span = UInt(owned.count)
            let dt = dots + o * n * inner + c0, rowBase = o * e * inner + c0
            for r in owned { (dt + r * inner).update(repeating: 0, count: w) }
            @inline(__always) func mine(_ s: Int) -> Bool { UInt(bitPattern: s &- lo) < span }
            for j in 0..<e {
                let s = Int(index[j])
                guard mine(s) else { continue }
                let d = dt + s * inner, yr = y + rowBase + j * inner, gr = g + rowBase + j * inner
                var k = 0
                while k &+ 8 <= w { store8(load8(d + k).addingProduct(load8(yr + k), load8(gr + k)), d + k); k &+= 8 }
                while k < w { d[k] += yr[k] * gr[k]; k &+= 1 }
            }
            for j in 0..<e {
                let s = Int(index[j])
                guard mine(s) else { continue }
                let d = dt + s * inner, yr = y + rowBase + j * inner, gr = g + rowBase + j * inner, o = dx + rowBase + j * inner
                var k = 0
                while k &+ 8 <= w { store8(load8(yr + k) * (load8(gr + k) - load8(d + k)), o + k); k &+= 8 }
                while k < w { o[k] = yr[k] * (gr[k] - d[k]); k &+= 1 }
            }
        }
    }

    @inline(__always)
    static func scalarExp(_ x: Float) -> Float { vexp(Vec8(repeating: x))[0] }
}

extension Tensor {
    /// The contiguous values and a pointer to them, for read-only kernels.
    fileprivate var readable: Tensor { contiguous() }
    fileprivate var basePointer: UnsafePointer<Float> { UnsafePointer(storage.pointer + offset) }

    /// Slices `index[j]` along `axis` (torch.index_select): [..., N, ...] → [..., E, ...] for an
    /// index of E entries.
    /// - Precondition: `index` is 1-D with values in 0..<N.
    public func indexSelect(_ index: NDArray<Int32>, axis: Int = 0) -> Tensor {
        let a = axisIndex(axis, op: "indexSelect")
        require(index.rank == 1, "indexSelect: index \(index.shape) must be 1-D")
        let geo = AxisGeometry(shape, axis: a)
        var outShape = shape
        outShape[a] = index.count
        let src = readable, out = Tensor(uninitializedShape: outShape)
        index.withUnsafeBufferPointer { idx in
            GraphKernels.validate(idx, below: geo.extent, op: "indexSelect")
            guard let pi = idx.baseAddress, out.count > 0 else { return }
            withExtendedLifetime(src) {
                GraphKernels.indexSelect(src.basePointer, pi, out.storage.pointer, outer: geo.outer, n: geo.extent,
                                         e: index.count, inner: geo.inner)
            }
        }
        return out
    }

    /// A copy with slice j of `source` added to slice `index[j]` along `axis` (torch.Tensor.index_add):
    /// self [..., N, ...], source [..., E, ...] (equal elsewhere), index [E] in 0..<N. Repeated
    /// indices accumulate.
    public func indexAdding(_ index: NDArray<Int32>, _ source: Tensor, axis: Int = 0) -> Tensor {
        let a = axisIndex(axis, op: "indexAdd")
        require(index.rank == 1, "indexAdd: index \(index.shape) must be 1-D")
        var expected = shape
        expected[a] = index.count
        require(source.shape == expected, "indexAdd: source \(source.shape) for tensor \(shape) and \(index.count) indices along axis \(a)")
        var out = contiguousCopy()
        out.addIndexed(index, source, axis: a)
        return out
    }

    /// In-place index_add_ into a uniquely owned contiguous tensor.
    mutating func addIndexed(_ index: NDArray<Int32>, _ source: Tensor, axis a: Int) {
        let geo = AxisGeometry(shape, axis: a), src = source.readable
        let po = storage.pointer + offset
        index.withUnsafeBufferPointer { idx in
            GraphKernels.validate(idx, below: geo.extent, op: "indexAdd")
            guard let pi = idx.baseAddress, source.count > 0 else { return }
            withExtendedLifetime(src) {
                GraphKernels.indexAdd(src.basePointer, pi, po, outer: geo.outer, n: geo.extent, e: index.count, inner: geo.inner)
            }
        }
    }

    /// A copy with `source[p]` added at the position torch.gather would read element p from
    /// (torch.Tensor.scatter_add along `axis`): for axis 0, out[index[j][k]][k] += source[j][k].
    /// - Precondition: index and source have equal shapes, equal to self's except along `axis`;
    ///   index values in 0..<self.shape[axis].
    public func scatterAdding(_ index: NDArray<Int32>, _ source: Tensor, axis: Int) -> Tensor {
        let a = axisIndex(axis, op: "scatterAdd")
        require(index.shape == source.shape && index.rank == rank
                && (0..<rank).allSatisfy { $0 == a || index.shape[$0] == shape[$0] },
                "scatterAdd: index \(index.shape) and source \(source.shape) must be equal and match \(shape) outside axis \(a)")
        var out = contiguousCopy()
        out.addScattered(index, source, axis: a)
        return out
    }

    /// In-place scatter_add_ into a uniquely owned contiguous tensor (shapes checked by the caller).
    mutating func addScattered(_ index: NDArray<Int32>, _ source: Tensor, axis a: Int) {
        let geo = AxisGeometry(shape, axis: a), e = index.shape[a], src = source.readable
        let po = storage.pointer + offset
        index.withUnsafeBufferPointer { idx in
            guard let pi = idx.baseAddress, source.count > 0 else { return }
            withExtendedLifetime(src) {
                GraphKernels.scatterAdd(src.basePointer, pi, po, outer: geo.outer, n: geo.extent, e: e, inner: geo.inner)
            }
        }
    }

    /// torch.gather when the index matches self outside `axis` (the fast path of `gather`), else nil.
    func gatherRows(_ index: NDArray<Int32>, axis a: Int) -> Tensor? {
        guard index.rank == rank, (0..<rank).allSatisfy({ $0 == a || index.shape[$0] == shape[$0] }) else { return nil }
        let geo = AxisGeometry(shape, axis: a), src = readable
        let out = Tensor(uninitializedShape: index.shape)
        index.withUnsafeBufferPointer { idx in
            guard let pi = idx.baseAddress, out.count > 0 else { return }
            withExtendedLifetime(src) {
                GraphKernels.gather(src.basePointer, pi, out.storage.pointer, outer: geo.outer, n: geo.extent,
                                    e: index.shape[a], inner: geo.inner)
            }
        }
        return out
    }

    /// Sums of the slices along `axis` that share a segment id (torch_scatter.scatter_sum with
    /// dim_size = `count`; torch.zeros(...).index_add_): [..., E, ...] → [..., count, ...]; segments
    /// with no element are 0.
    /// - Precondition: `segments` is 1-D of length E with values in 0..<count.
    public func segmentSum(_ segments: NDArray<Int32>, count: Int, axis: Int = 0) -> Tensor {
        let a = axisIndex(axis, op: "segmentSum")
        require(segments.rank == 1 && segments.count == shape[a],
                "segmentSum: segments \(segments.shape) for \(shape[a]) entries along axis \(a) of \(shape)")
        var outShape = shape
        outShape[a] = count
        var out = Tensor.zeros(outShape)
        out.addIndexed(segments, self, axis: a)
        return out
    }

    /// Softmax within each segment, per column (torch_scatter.scatter_softmax; PyG's
    /// torch_geometric.utils.softmax): out_j = exp(x_j − max_s) / Σ_{i: seg(i) = s} exp(x_i − max_s) for
    /// s = segments[j], taken separately for every position outside `axis`. Empty segments are
    /// allowed (they have no outputs); the per-segment maximum keeps exp from overflowing.
    /// - Parameters: segments [E] with values in 0..<count; self [..., E, ...] along `axis`.
    /// - Returns: the shape of self.
    public func segmentSoftmax(_ segments: NDArray<Int32>, count: Int, axis: Int = 0) -> Tensor {
        let a = axisIndex(axis, op: "segmentSoftmax")
        require(segments.rank == 1 && segments.count == shape[a],
                "segmentSoftmax: segments \(segments.shape) for \(shape[a]) entries along axis \(a) of \(shape)")
        let geo = AxisGeometry(shape, axis: a), src = readable
        let out = Tensor(uninitializedShape: shape)
        let scratch = Tensor(uninitializedShape: [2, geo.outer, count, geo.inner])
        let ps = scratch.storage.pointer, half = geo.outer * count * geo.inner
        segments.withUnsafeBufferPointer { idx in
            GraphKernels.validate(idx, below: count, op: "segmentSoftmax")
            guard let pi = idx.baseAddress, out.count > 0 else { return }
            withExtendedLifetime((src, scratch)) {
                GraphKernels.segmentSoftmax(src.basePointer, pi, out.storage.pointer, maxima: ps, sums: ps + half,
                                            outer: geo.outer, n: count, e: geo.extent, inner: geo.inner)
            }
        }
        return out
    }

    /// The input gradient of `segmentSoftmax` given its output y (self) and upstream gradient g.
    func segmentSoftmaxGradient(_ g: Tensor, _ segments: NDArray<Int32>, count: Int, axis a: Int) -> Tensor {
        let geo = AxisGeometry(shape, axis: a), y = readable, gc = g.readable
        let dx = Tensor(uninitializedShape: shape), dots = Tensor(uninitializedShape: [geo.outer, count, geo.inner])
        segments.withUnsafeBufferPointer { idx in
            guard let pi = idx.baseAddress, dx.count > 0 else { return }
            withExtendedLifetime((y, gc, dots)) {
                GraphKernels.segmentSoftmaxBackward(y.basePointer, gc.basePointer, pi, dx.storage.pointer,
                                                    dots: dots.storage.pointer, outer: geo.outer, n: count,
                                                    e: geo.extent, inner: geo.inner)
            }
        }
        return dx
    }
}
