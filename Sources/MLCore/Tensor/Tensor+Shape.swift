/// Shape manipulation: views (no copy) where the layout allows, copies otherwise.
extension Tensor {
    /// Normalises a possibly negative axis. - Precondition: `-rank ≤ axis < rank`.
    @usableFromInline
    func axisIndex(_ axis: Int, op: String, rank r: Int? = nil) -> Int {
        let n = r ?? rank
        let a = axis < 0 ? axis + n : axis
        require(a >= 0 && a < n, "\(op): axis \(axis) out of range for shape \(shape)")
        return a
    }

    /// The same elements in a new shape; one extent may be −1 (inferred). A view when the layout
    /// allows (always for a contiguous tensor), else a contiguous copy.
    /// - Precondition: the element counts match.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var target = newShape
        if let i = newShape.firstIndex(of: -1) {
            require(newShape.filter { $0 == -1 }.count == 1, "reshape: more than one -1 in \(newShape)")
            let known = newShape.filter { $0 != -1 }.reduce(1, *)
            require(known > 0 && count % known == 0, "reshape: cannot reshape \(shape) into \(newShape)")
            target[i] = count / known
        }
        require(target.allSatisfy { $0 >= 0 } && target.reduce(1, *) == count,
                     "reshape: cannot reshape \(shape) (\(count) elements) into \(newShape)")
        if isContiguous {
            return Tensor(storage: storage, shape: target, strides: Tensor.contiguousStrides(target), offset: offset)
        }
        return contiguousCopy().reshaped(target)
    }

    /// The dimensions reordered: result dimension i is input dimension `order[i]` (a view).
    /// - Precondition: `order` is a permutation of `0..<rank`.
    public func permuted(_ order: [Int]) -> Tensor {
        require(order.count == rank && Set(order) == Set(0..<rank),
                     "permute: \(order) is not a permutation of the axes of shape \(shape)")
        return Tensor(storage: storage, shape: order.map { shape[$0] }, strides: order.map { strides[$0] },
                      offset: offset)
    }

    /// Swaps two dimensions (a view). Defaults swap the last two (matrix transpose).
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        require(rank >= 2, "transpose: shape \(shape) has fewer than 2 axes")
        let i = axisIndex(a, op: "transpose"), j = axisIndex(b, op: "transpose")
        var order = Array(0..<rank)
        order.swapAt(i, j)
        return permuted(order)
    }

    /// Elements `range` along `axis` (a view).
    /// - Precondition: the range lies within the axis.
    public func sliced(_ range: Range<Int>, axis: Int = 0) -> Tensor {
        let a = axisIndex(axis, op: "slice")
        require(range.lowerBound >= 0 && range.upperBound <= shape[a],
                     "slice: range \(range) out of bounds for axis \(axis) of shape \(shape)")
        var s = shape
        s[a] = range.count
        return Tensor(storage: storage, shape: s, strides: strides, offset: offset + range.lowerBound * strides[a])
    }

    /// Element `index` along `axis`, with that axis removed (a view). Negative indices count from the end.
    public func selected(_ index: Int, axis: Int = 0) -> Tensor {
        let a = axisIndex(axis, op: "select")
        let i = index < 0 ? index + shape[a] : index
        require(i >= 0 && i < shape[a], "select: index \(index) out of range for axis \(axis) of shape \(shape)")
        var s = shape, st = strides
        s.remove(at: a)
        st.remove(at: a)
        return Tensor(storage: storage, shape: s, strides: st, offset: offset + i * strides[a])
    }

    /// Inserts an axis of extent 1 at `axis` (a view).
    public func unsqueezed(_ axis: Int) -> Tensor {
        let a = axisIndex(axis, op: "unsqueeze", rank: rank + 1)
        var s = shape, st = strides
        s.insert(1, at: a)
        st.insert(a < rank ? strides[a] * shape[a] : 1, at: a)
        return Tensor(storage: storage, shape: s, strides: st, offset: offset)
    }

    /// Removes axis `axis`, which must have extent 1 (a view); without an axis removes every extent-1 axis.
    public func squeezed(_ axis: Int? = nil) -> Tensor {
        if let axis {
            let a = axisIndex(axis, op: "squeeze")
            require(shape[a] == 1, "squeeze: axis \(axis) of shape \(shape) has extent \(shape[a]), not 1")
            var s = shape, st = strides
            s.remove(at: a)
            st.remove(at: a)
            return Tensor(storage: storage, shape: s, strides: st, offset: offset)
        }
        let keep = shape.indices.filter { shape[$0] != 1 }
        return Tensor(storage: storage, shape: keep.map { shape[$0] }, strides: keep.map { strides[$0] }, offset: offset)
    }

    /// A broadcast view with `target` shape (stride 0 along expanded axes; numpy broadcasting rules).
    public func expanded(to target: [Int]) -> Tensor {
        let s = Tensor.broadcastShape(shape, target, op: "expand")
        require(s == target, "expand: shape \(shape) cannot be expanded to \(target)")
        return Tensor(storage: storage, shape: target, strides: broadcastStrides(to: target), offset: offset)
    }

    /// Collapses axes `start...end` into one (a view when contiguous).
    public func flattened(from start: Int = 0, to end: Int = -1) -> Tensor {
        guard rank > 0 else { return reshaped([1]) }
        let a = axisIndex(start, op: "flatten"), b = axisIndex(end, op: "flatten")
        require(a <= b, "flatten: start axis \(start) after end axis \(end) for shape \(shape)")
        let merged = shape[a...b].reduce(1, *)
        return reshaped(Array(shape[..<a]) + [merged] + Array(shape[(b + 1)...]))
    }

    /// Joins tensors along an existing axis.
    /// - Precondition: at least one tensor; equal ranks; all extents equal except along `axis`.
    public static func concatenate(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        require(!tensors.isEmpty, "concatenate: no tensors")
        let first = tensors[0]
        let a = first.axisIndex(axis, op: "concatenate")
        var total = 0
        for t in tensors {
            require(t.rank == first.rank && t.shape.indices.allSatisfy { $0 == a || t.shape[$0] == first.shape[$0] },
                         "concatenate: shapes \(first.shape) and \(t.shape) differ outside axis \(axis)")
            total += t.shape[a]
        }
        var outShape = first.shape
        outShape[a] = total
        let out = Tensor(uninitializedShape: outShape)
        var start = 0
        for t in tensors {
            var part = out.sliced(start..<(start + t.shape[a]), axis: a)
            part.fill(CopyKernel.self, from: t)
            start += t.shape[a]
        }
        return out
    }

    /// Joins equal-shaped tensors along a new axis.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        require(!tensors.isEmpty, "stack: no tensors")
        for t in tensors {
            require(t.shape == tensors[0].shape, "stack: shapes \(tensors[0].shape) and \(t.shape) differ")
        }
        return concatenate(tensors.map { $0.unsqueezed(axis) }, axis: axis)
    }

    /// The slices at `indices` along `axis` (torch.index_select). Result extent along `axis` is
    /// `indices.count`. Negative indices count from the end.
    /// - Precondition: every index within the axis.
    public func indexSelect(_ indices: [Int], axis: Int = 0) -> Tensor {
        let a = axisIndex(axis, op: "indexSelect")
        var outShape = shape
        outShape[a] = indices.count
        let out = Tensor(uninitializedShape: outShape)
        for (j, index) in indices.enumerated() {
            let i = index < 0 ? index + shape[a] : index
            require(i >= 0 && i < shape[a],
                         "indexSelect: index \(index) out of range for axis \(axis) of shape \(shape)")
            var part = out.sliced(j..<(j + 1), axis: a)
            part.fill(CopyKernel.self, from: sliced(i..<(i + 1), axis: a))
        }
        return out
    }

    /// torch.gather: out[i][j][k] = self[index[i][j][k]][j][k] for axis 0 (and likewise for other
    /// axes). `index` has the rank of `self` and the result takes its shape.
    /// - Precondition: same rank; index extents ≤ self's outside `axis`; indices within the axis.
    public func gather(_ index: NDArray<Int32>, axis: Int) -> Tensor {
        let a = axisIndex(axis, op: "gather")
        require(index.rank == rank && (0..<rank).allSatisfy { $0 == a || index.shape[$0] <= shape[$0] },
                     "gather: index shape \(index.shape) does not fit tensor shape \(shape) along axis \(axis)")
        if let fast = gatherRows(index, axis: a) { return fast }  // GraphOps.swift: rows, threads
        let out = Tensor(uninitializedShape: index.shape)
        let p = out.storage.pointer
        let idxStrides = Tensor.contiguousStrides(index.shape)
        index.withUnsafeBufferPointer { idx in
            for flat in 0..<idx.count {
                var rest = flat, position = offset
                for d in 0..<rank {
                    let coord = rest / idxStrides[d]
                    rest %= idxStrides[d]
                    if d == a {
                        let i = Int(idx[flat])
                        require(i >= 0 && i < shape[a], "gather: index \(i) out of range for axis \(axis) of shape \(shape)")
                        position += i * strides[d]
                    } else {
                        position += coord * strides[d]
                    }
                }
                p[flat] = storage.pointer[position]
            }
        }
        return out
    }

    /// `condition ? a : b` element-wise with broadcasting; the condition is true where non-zero.
    public static func select(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        // Not cond·a + (1−cond)·b, which turns inf·0 into NaN: an explicit choice per element.
        let shape = broadcastShape(broadcastShape(condition.shape, a.shape, op: "where"), b.shape, op: "where")
        let c = condition.expanded(to: shape).contiguous(), x = a.expanded(to: shape).contiguous(),
            y = b.expanded(to: shape).contiguous()
        let out = Tensor(uninitializedShape: shape)
        let po = out.storage.pointer, pc = c.storage.pointer + c.offset,
            px = x.storage.pointer + x.offset, py = y.storage.pointer + y.offset
        withExtendedLifetime((c, x, y)) {
            Threading.parallelFor(out.count, grain: elementwiseGrain) { r in
                for i in r { po[i] = pc[i] != 0 ? px[i] : py[i] }
            }
        }
        return out
    }

    /// A copy with `value` wherever `mask` (broadcast to this shape) is non-zero (torch.masked_fill).
    public func maskedFill(_ mask: Tensor, with value: Float) -> Tensor {
        require(Tensor.broadcastShape(mask.shape, shape, op: "maskedFill") == shape,
                     "maskedFill: mask shape \(mask.shape) does not broadcast to \(shape)")
        return Tensor.select(mask, Tensor(scalar: value), self)
    }
}
