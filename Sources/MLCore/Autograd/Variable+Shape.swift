/// Differentiable shape ops. Views stay views in the forward pass; gradients are routed back by the
/// inverse view or by scattering into zeros.
extension Variable {
    /// The same elements in a new shape (one extent may be −1).
    public func reshaped(_ newShape: [Int]) -> Variable {
        let s = shape
        return Variable.record(value.reshaped(newShape), op: "reshape", [self]) { g, _ in [g.reshaped(s)] }
    }

    /// Axes `start...end` merged into one.
    public func flattened(from start: Int = 0, to end: Int = -1) -> Variable {
        let s = shape
        return Variable.record(value.flattened(from: start, to: end), op: "flatten", [self]) { g, _ in [g.reshaped(s)] }
    }

    /// A new axis of extent 1 at `axis`.
    public func unsqueezed(_ axis: Int) -> Variable {
        let s = shape
        return Variable.record(value.unsqueezed(axis), op: "unsqueeze", [self]) { g, _ in [g.reshaped(s)] }
    }

    /// Axis `axis` (or every axis of extent 1) removed.
    public func squeezed(_ axis: Int? = nil) -> Variable {
        let s = shape
        return Variable.record(value.squeezed(axis), op: "squeeze", [self]) { g, _ in [g.reshaped(s)] }
    }

    /// Dimensions reordered: result axis i is input axis `order[i]`.
    public func permuted(_ order: [Int]) -> Variable {
        var inverse = [Int](repeating: 0, count: order.count)
        for (i, o) in order.enumerated() where o >= 0 && o < order.count { inverse[o] = i }
        return Variable.record(value.permuted(order), op: "permute", [self]) { g, _ in [g.permuted(inverse)] }
    }

    /// Two axes swapped (the last two by default).
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Variable {
        let i = value.axisIndex(a, op: "transpose"), j = value.axisIndex(b, op: "transpose")
        return Variable.record(value.transposed(i, j), op: "transpose", [self]) { g, _ in [g.transposed(i, j)] }
    }

    /// Broadcast to `target` (a view); the gradient is summed over the broadcast axes.
    public func expanded(to target: [Int]) -> Variable {
        let s = shape
        return Variable.record(value.expanded(to: target), op: "expand", [self]) { g, _ in [g.unbroadcast(to: s)] }
    }

    /// A contiguous copy (identity for gradients).
    public func contiguous() -> Variable {
        Variable.record(value.contiguous(), op: "contiguous", [self]) { g, _ in [g] }
    }

    /// Elements `range` along `axis`.
    public func sliced(_ range: Range<Int>, axis: Int = 0) -> Variable {
        let s = shape, a = value.axisIndex(axis, op: "slice")
        return Variable.record(value.sliced(range, axis: a), op: "slice", [self]) { g, _ in
            let z = Tensor.zeros(s)
            var part = z.sliced(range, axis: a)
            part.fill(CopyKernel.self, from: g)
            return [z]
        }
    }

    /// Element `index` along `axis`, the axis removed.
    public func selected(_ index: Int, axis: Int = 0) -> Variable {
        let s = shape, a = value.axisIndex(axis, op: "select")
        let i = index < 0 ? index + s[a] : index
        return Variable.record(value.selected(index, axis: a), op: "select", [self]) { g, _ in
            let z = Tensor.zeros(s)
            var part = z.sliced(i..<(i + 1), axis: a)
            part.fill(CopyKernel.self, from: g.unsqueezed(a))
            return [z]
        }
    }

    /// Joins variables along an existing axis.
    public static func concatenate(_ parts: [Variable], axis: Int = 0) -> Variable {
        require(!parts.isEmpty, "concatenate: no variables")
        let a = parts[0].value.axisIndex(axis, op: "concatenate")
        let extents = parts.map { $0.shape[a] }
        return record(Tensor.concatenate(parts.map(\.value), axis: a), op: "concatenate", parts) { g, n in
            var start = 0
            return extents.enumerated().map { k, e in
                defer { start += e }
                return n[k] ? g.sliced(start..<(start + e), axis: a) : nil
            }
        }
    }

    /// Joins variables along a new axis.
    public static func stack(_ parts: [Variable], axis: Int = 0) -> Variable {
        require(!parts.isEmpty, "stack: no variables")
        return concatenate(parts.map { $0.unsqueezed(axis) }, axis: axis)
    }

    /// The slices at `indices` along `axis` (torch.index_select); repeated indices accumulate their
    /// gradients (index_add).
    public func indexSelect(_ indices: [Int], axis: Int = 0) -> Variable {
        let s = shape, a = value.axisIndex(axis, op: "indexSelect")
        return Variable.record(value.indexSelect(indices, axis: a), op: "indexSelect", [self]) { g, _ in
            [Tensor.indexAdd(g, indices, axis: a, into: s)]
        }
    }

    /// torch.gather along `axis`; repeated indices accumulate their gradients (scatter_add).
    public func gather(_ index: NDArray<Int32>, axis: Int) -> Variable {
        let s = shape, a = value.axisIndex(axis, op: "gather")
        return Variable.record(value.gather(index, axis: a), op: "gather", [self]) { g, _ in
            [Tensor.scatterAdd(g, index, axis: a, into: s)]
        }
    }
}

extension Tensor {
    /// Zeros of `shape` with slice `indices[j]` along `axis` incremented by slice j of `source`
    /// (torch.index_add).
    static func indexAdd(_ source: Tensor, _ indices: [Int], axis a: Int, into shape: [Int]) -> Tensor {
        var out = Tensor.zeros(shape)
        let extent = shape[a]
        let inner = shape[(a + 1)...].reduce(1, *), outer = shape[..<a].reduce(1, *)
        let src = source.contiguous()
        let ps = src.storage.pointer + src.offset
        out.makeUnique()
        let po = out.storage.pointer
        withExtendedLifetime(src) {
            for o in 0..<outer {
                for (j, index) in indices.enumerated() {
                    let i = index < 0 ? index + extent : index
                    let from = ps + (o * indices.count + j) * inner, to = po + (o * extent + i) * inner
                    var k = 0
                    while k + 8 <= inner { store8(load8(to + k) + load8(from + k), to + k); k += 8 }
                    while k < inner { to[k] += from[k]; k += 1 }
                }
            }
        }
        return out
    }

    /// Zeros of `shape` with `source[p]` added at the position torch.gather read element p from.
    static func scatterAdd(_ source: Tensor, _ index: NDArray<Int32>, axis a: Int, into shape: [Int]) -> Tensor {
        var out = Tensor.zeros(shape)
        if index.shape == source.shape && (0..<shape.count).allSatisfy({ $0 == a || index.shape[$0] == shape[$0] }) {
            out.addScattered(index, source, axis: a)  // GraphOps.swift: rows, threads
            return out
        }
        out.makeUnique()
        let po = out.storage.pointer, outStrides = out.strides
        let src = source.contiguous()
        let ps = src.storage.pointer + src.offset
        let idxStrides = Tensor.contiguousStrides(index.shape)
        withExtendedLifetime(src) {
            index.withUnsafeBufferPointer { idx in
                for flat in 0..<idx.count {
                    var rest = flat, position = 0
                    for d in 0..<shape.count {
                        let coord = rest / idxStrides[d]
                        rest %= idxStrides[d]
                        position += (d == a ? Int(idx[flat]) : coord) * outStrides[d]
                    }
                    po[position] += ps[flat]
                }
            }
        }
        return out
    }
}
