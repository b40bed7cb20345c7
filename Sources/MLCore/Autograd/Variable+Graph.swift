/// Differentiable graph ops (kernels in NN/GraphOps.swift): index_select / index_add, gather /
/// scatter_add, segment sum and segment softmax. Each op's backward is its adjoint on the same index
/// (select ↔ add, gather ↔ scatter-add), so message passing x_dst += f(x_src) trains with no per-edge
/// allocation. `Variable.gather` (torch.gather) is in Variable+Shape.swift and uses the same kernels.
extension Variable {
    /// Slices `index[j]` along `axis` (torch.index_select; a graph's x[src] for an edge list):
    /// [..., N, ...] → [..., E, ...]. The gradient is index-added back (repeated indices accumulate).
    /// - Precondition: `index` 1-D with values in 0..<N.
    public func indexSelect(_ index: NDArray<Int32>, axis: Int = 0) -> Variable {
        let s = shape, a = value.axisIndex(axis, op: "indexSelect")
        return Variable.record(value.indexSelect(index, axis: a), op: "indexSelect", [self]) { g, _ in
            var out = Tensor.zeros(s)
            out.addIndexed(index, g, axis: a)
            return [out]
        }
    }

    /// self with slice j of `source` added to slice `index[j]` along `axis` (torch.Tensor.index_add):
    /// self [..., N, ...], source [..., E, ...], index [E] in 0..<N. Gradients: self gets g, source
    /// gets g.indexSelect(index).
    public func indexAdding(_ index: NDArray<Int32>, _ source: Variable, axis: Int = 0) -> Variable {
        let a = value.axisIndex(axis, op: "indexAdd")
        return Variable.record(value.indexAdding(index, source.value, axis: a), op: "indexAdd", [self, source]) { g, needs in
            [needs[0] ? g : nil, needs[1] ? g.indexSelect(index, axis: a) : nil]
        }
    }

    /// self with `source[p]` added where torch.gather would read element p (torch.Tensor.scatter_add):
    /// for axis 0, out[index[j][k]][k] += source[j][k]. Gradients: self gets g, source gets
    /// g.gather(index, axis).
    /// - Precondition: index and source have equal shapes, equal to self's outside `axis`.
    public func scatterAdding(_ index: NDArray<Int32>, _ source: Variable, axis: Int) -> Variable {
        let a = value.axisIndex(axis, op: "scatterAdd")
        return Variable.record(value.scatterAdding(index, source.value, axis: a), op: "scatterAdd", [self, source]) { g, needs in
            [needs[0] ? g : nil, needs[1] ? g.gather(index, axis: a) : nil]
        }
    }

    /// Sums of the slices along `axis` that share a segment id (torch_scatter.scatter_sum, dim_size
    /// `count`): [..., E, ...] → [..., count, ...], empty segments 0. The gradient of slice j is the
    /// gradient of its segment.
    /// - Precondition: `segments` 1-D of length E, values in 0..<count.
    public func segmentSum(_ segments: NDArray<Int32>, count: Int, axis: Int = 0) -> Variable {
        let a = value.axisIndex(axis, op: "segmentSum")
        return Variable.record(value.segmentSum(segments, count: count, axis: a), op: "segmentSum", [self]) { g, _ in
            [g.indexSelect(segments, axis: a)]
        }
    }

    /// Softmax within each segment, per column (torch_scatter.scatter_softmax, PyG's
    /// utils.softmax; see `Tensor.segmentSoftmax`). Gradient: dx = y ⊙ (g − Σ_segment g ⊙ y).
    /// - Parameters: segments [E] with values in 0..<count, E = shape[axis].
    public func segmentSoftmax(_ segments: NDArray<Int32>, count: Int, axis: Int = 0) -> Variable {
        let a = value.axisIndex(axis, op: "segmentSoftmax")
        let (y, order) = value.segmentSoftmaxAndOrder(segments, count: count, axis: a)
        return Variable.record(y, op: "segmentSoftmax", [self]) { g, _ in
            [y.segmentSoftmaxGradient(g, order, count: count, axis: a)]
        }
    }
}
