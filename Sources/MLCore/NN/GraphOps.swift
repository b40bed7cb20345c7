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

/// An index's entries grouped by value (a counting sort; the CSR form of a graph's edge list by
/// destination): the entries j with index[j] = s are `entries[offsets[s]..<offsets[s + 1]]`, in
/// ascending j. Built once per op call in O(E + N), two arrays, nothing per entry.
struct SegmentOrder {
    /// [N + 1] start of each segment's entries.
    let offsets: [Int32]
    /// [E] entry positions, grouped by segment.
    let entries: [Int32]

    /// Groups the `count` values at `index`, each checked to lie in 0..<segments.
    init(rowsOf index: UnsafePointer<Int32>, count e: Int, segments n: Int, op: String) {
        require(e < Int(Int32.max), "\(op): \(e) entries exceed the 32-bit index range")
        var offsets = [Int32](repeating: 0, count: n + 1)
        var entries = [Int32](repeating: 0, count: e)
        offsets.withUnsafeMutableBufferPointer { off in
            for j in 0..<e {
                let s = Int(index[j])
                GraphKernels.checkIndex(s, n, op: op)
                off[s + 1] &+= 1
            }
            for s in 0..<n { off[s + 1] &+= off[s] }
            entries.withUnsafeMutableBufferPointer { out in
                // Fill with a moving cursor per segment (offsets[s] advanced, then restored by a shift).
                for j in 0..<e {
                    let s = Int(index[j])
                    out[Int(off[s])] = Int32(j)
                    off[s] &+= 1
                }
            }
            for s in Swift.stride(from: n, to: 0, by: -1) { off[s] = off[s - 1] }
            off[0] = 0
        }
        self.offsets = offsets
        self.entries = entries
    }

    func withPointers<R>(_ body: (UnsafePointer<Int32>, UnsafePointer<Int32>) -> R) -> R {
        offsets.withUnsafeBufferPointer { o in entries.withUnsafeBufferPointer { e in body(o.baseAddress!, e.baseAddress ?? o.baseAddress!) } }
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
        var acc = SIMD8<Int32>(), k = 0
        while k &+ 8 <= w { acc |= UnsafeRawPointer(idx + k).loadUnaligned(as: SIMD8<Int32>.self) ^ v; k &+= 8 }
        var differs: Int32 = 0
        for l in 0..<8 { differs |= acc[l] }
        while k < w { differs |= idx[k] ^ first; k &+= 1 }
        return differs == 0
    }

    /// Whether every row of index [e, w] is constant (torch's expanded index of a graph's edge list),
    /// checked on all threads; the rows' values go to `column` [e] (valid when true).
    static func constantRows(_ index: UnsafePointer<Int32>, e: Int, w: Int, into column: UnsafeMutablePointer<Int32>) -> Bool {
        guard w > 0 else { return false }
        let chunks = Swift.max(1, Swift.min(Threading.count, e * w / parallelWork))
        var verdicts = [Bool](repeating: true, count: chunks)
        verdicts.withUnsafeMutableBufferPointer { out in
            Threading.parallelFor(chunks, grain: 1) { r in
                for c in r {
                    for j in (e * c / chunks)..<(e * (c + 1) / chunks) {
                        let row = index + j * w
                        guard isConstantRow(row, w) else { out[c] = false; break }
                        column[j] = row[0]
                    }
                }
            }
        }
        return !verdicts.contains(false)
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

    /// dst[o, index[j], :] += src[o, j, :] with src [outer, e, inner], dst [outer, n, inner]. Each destination row takes its edges in `order` (ascending j, so sums are
    /// in the serial loop's order) and stays in L1 while they are added; threads own destination rows.
    static func indexAdd(_ src: UnsafePointer<Float>, _ order: SegmentOrder, _ dst: UnsafeMutablePointer<Float>,
                         outer: Int, n: Int, e: Int, inner: Int) {
        order.withPointers { offsets, edges in
            Threading.parallelFor(outer * n, grain: Swift.max(1, parallelWork / Swift.max(1, inner * Swift.max(1, e / Swift.max(n, 1))))) { r in
                for t in r {
                    let o = t / n, s = t % n, d = dst + t * inner, base = src + o * e * inner
                    for k in Int(offsets[s])..<Int(offsets[s + 1]) { addRow(d, base + Int(edges[k]) * inner, inner) }
                }
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
        if outer == 1 && e * inner >= parallelWork {
            // An expanded edge index [E, F] (every row one value): its column in destination order.
            let column = UnsafeMutablePointer<Int32>.allocate(capacity: e)
            defer { column.deallocate() }
            if constantRows(index, e: e, w: inner, into: column) {
                let order = SegmentOrder(rowsOf: column, count: e, segments: n, op: "scatterAdd")
                indexAdd(src, order, dst, outer: 1, n: n, e: e, inner: inner)
                return
            }
        }
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

    /// Softmax of src [outer, e, inner] within each segment, per outer slice and column, into dst (same
    /// shape). One segment at a time (threads own segments): the maximum of its rows into `scratch`,
    /// then exp(x − max) with the sum, then the division; a segment's rows stay in cache across the
    /// three sweeps. `scratch` holds 2·inner floats per thread.
    static func segmentSoftmax(_ src: UnsafePointer<Float>, _ order: SegmentOrder, _ dst: UnsafeMutablePointer<Float>,
                               outer: Int, n: Int, e: Int, inner: Int) {
        order.withPointers { offsets, edges in
            Threading.parallelFor(outer * n, grain: Swift.max(1, parallelWork / Swift.max(1, inner * Swift.max(1, e / Swift.max(n, 1))))) { r in
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * inner)
                defer { scratch.deallocate() }
                let m = scratch, z = scratch + inner
                for t in r {
                    let o = t / n, s = t % n, lo = Int(offsets[s]), hi = Int(offsets[s + 1])
                    guard lo < hi else { continue }
                    let xs = src + o * e * inner, ys = dst + o * e * inner
                    m.update(from: xs + Int(edges[lo]) * inner, count: inner)
                    for k in (lo + 1)..<hi {
                        let x = xs + Int(edges[k]) * inner
                        var c = 0
                        while c &+ 8 <= inner {
                            let v = load8(x + c), cur = load8(m + c)
                            store8(cur.replacing(with: v, where: v .> cur), m + c)
                            c &+= 8
                        }
                        while c < inner { m[c] = Swift.max(m[c], x[c]); c &+= 1 }
                    }
                    z.update(repeating: 0, count: inner)
                    for k in lo..<hi {
                        let j = Int(edges[k]), x = xs + j * inner, y = ys + j * inner
                        var c = 0
                        while c &+ 8 <= inner {
                            let v = vexp(load8(x + c) - load8(m + c))
                            store8(v, y + c); store8(load8(z + c) + v, z + c)
                            c &+= 8
                        }
                        while c < inner { let v = scalarExp(x[c] - m[c]); y[c] = v; z[c] += v; c &+= 1 }
                    }
                    for c in 0..<inner { z[c] = 1 / z[c] }  // each sum is ≥ 1 (its maximum contributes exp(0))
                    for k in lo..<hi {
                        let y = ys + Int(edges[k]) * inner
                        var c = 0
                        while c &+ 8 <= inner { store8(load8(y + c) * load8(z + c), y + c); c &+= 8 }
                        while c < inner { y[c] *= z[c]; c &+= 1 }
                    }
                }
            }
        }
    }

    /// The gradient of `segmentSoftmax`, per segment: dx = y ⊙ (g − Σ_segment g ⊙ y).
    static func segmentSoftmaxBackward(_ y: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ order: SegmentOrder,
                                       _ dx: UnsafeMutablePointer<Float>, outer: Int, n: Int, e: Int, inner: Int) {
        order.withPointers { offsets, edges in
            Threading.parallelFor(outer * n, grain: Swift.max(1, parallelWork / Swift.max(1, inner * Swift.max(1, e / Swift.max(n, 1))))) { r in
                let dot = UnsafeMutablePointer<Float>.allocate(capacity: inner)
                defer { dot.deallocate() }
                for t in r {
                    let o = t / n, s = t % n, lo = Int(offsets[s]), hi = Int(offsets[s + 1])
                    guard lo < hi else { continue }
                    let base = o * e * inner
                    dot.update(repeating: 0, count: inner)
                    for k in lo..<hi {
                        let row = base + Int(edges[k]) * inner, yr = y + row, gr = g + row
                        var c = 0
                        while c &+ 8 <= inner { store8(load8(dot + c).addingProduct(load8(yr + c), load8(gr + c)), dot + c); c &+= 8 }
                        while c < inner { dot[c] += yr[c] * gr[c]; c &+= 1 }
                    }
                    for k in lo..<hi {
                        let row = base + Int(edges[k]) * inner, yr = y + row, gr = g + row, out = dx + row
                        var c = 0
                        while c &+ 8 <= inner { store8(load8(yr + c) * (load8(gr + c) - load8(dot + c)), out + c); c &+= 8 }
                        while c < inner { out[c] = yr[c] * (gr[c] - dot[c]); c &+= 1 }
                    }
                }
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
            guard let pi = idx.baseAddress else { return }
            let order = SegmentOrder(rowsOf: pi, count: index.count, segments: geo.extent, op: "indexAdd")
            guard source.count > 0 else { return }
            withExtendedLifetime(src) {
                GraphKernels.indexAdd(src.basePointer, order, po, outer: geo.outer, n: geo.extent, e: index.count, inner: geo.inner)
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
        segmentSoftmaxAndOrder(segments, count: count, axis: axisIndex(axis, op: "segmentSoftmax")).0
    }

    /// `segmentSoftmax` and the segment order it used (kept for the backward pass).
    func segmentSoftmaxAndOrder(_ segments: NDArray<Int32>, count: Int, axis a: Int) -> (Tensor, SegmentOrder) {
        require(segments.rank == 1 && segments.count == shape[a],
                "segmentSoftmax: segments \(segments.shape) for \(shape[a]) entries along axis \(a) of \(shape)")
        let geo = AxisGeometry(shape, axis: a), src = readable
        let out = Tensor(uninitializedShape: shape)
        let order = segments.withUnsafeBufferPointer { idx in
            SegmentOrder(rowsOf: idx.baseAddress ?? UnsafePointer(bitPattern: 4)!, count: idx.count, segments: count, op: "segmentSoftmax")
        }
        if out.count > 0 {
            withExtendedLifetime(src) {
                GraphKernels.segmentSoftmax(src.basePointer, order, out.storage.pointer, outer: geo.outer, n: count,
                                            e: geo.extent, inner: geo.inner)
            }
        }
        return (out, order)
    }

    /// The input gradient of `segmentSoftmax` given its output y (self), the upstream gradient g and
    /// the forward pass's segment order.
    func segmentSoftmaxGradient(_ g: Tensor, _ order: SegmentOrder, count: Int, axis a: Int) -> Tensor {
        let geo = AxisGeometry(shape, axis: a), y = readable, gc = g.readable
        let dx = Tensor(uninitializedShape: shape)
        if dx.count > 0 {
            withExtendedLifetime((y, gc)) {
                GraphKernels.segmentSoftmaxBackward(y.basePointer, gc.basePointer, order, dx.storage.pointer,
                                                    outer: geo.outer, n: count, e: geo.extent, inner: geo.inner)
            }
        }
        return dx
    }
}
