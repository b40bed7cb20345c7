import MLCore

/// Graph-op cases (peer: Benchmarks/peers/torch_graph_bench.py, same sizes and protocol) on a random
/// graph of `nodes` nodes and `edges` edges (uniform sources and destinations) with `features`
/// floats per row, in M edges/s:
///
/// - `graph_gather_*`: torch.gather along axis 0 with the destination index expanded to [E, F]
///   (node rows → edge rows; its backward is scatter-add);
/// - `graph_scatter_add_*`: zeros [N, F] scatter_add along axis 0 of edge rows [E, F] with the
///   expanded index (backward: gather);
/// - `graph_index_add_*`: zeros [N, F] index_add of edge rows with the 1-D index (backward:
///   index_select);
/// - `graph_segment_softmax_*`: softmax of edge rows [E, F] per destination node and column
///   (backward: y ⊙ (g − Σ_segment g ⊙ y)).
///
/// `_fwd` runs the op without gradients; `_fwdbwd` runs it on a leaf that requires gradients and
/// back-propagates a fixed upstream gradient (forward + backward, as one training step sees it).
enum GraphBench {
    static func names() -> [String] {
        ["gather", "scatter_add", "index_add", "segment_softmax"].flatMap { ["graph_\($0)_fwd", "graph_\($0)_fwdbwd"] }
    }

    static func run(nodes n: Int, edges e: Int, features f: Int,
                    record: (String, Double, String, [(String, () -> Void)]) -> Void) {
        var g = RandomGenerator(seed: 7)
        let destination = NDArray((0..<e).map { _ in Int32(g.nextInt(below: n)) })
        let expanded = NDArray(destination.elements.flatMap { Array(repeating: $0, count: f) }, shape: [e, f])
        let nodeRows = Tensor.uniform([n, f], low: -1, high: 1, using: &g)
        let edgeRows = Tensor.uniform([e, f], low: -4, high: 4, using: &g)
        let edgeGrad = Tensor.uniform([e, f], low: -1, high: 1, using: &g)
        let nodeGrad = Tensor.uniform([n, f], low: -1, high: 1, using: &g)
        let zeros = Tensor.zeros([n, f])
        record("graph", Double(e) * 1e3, "Medge/s", [  // throughput = work/s/1e9: M edges/s
            ("graph_gather_fwd", { _ = withoutGradient { nodeRows.gather(expanded, axis: 0) } }),
            ("graph_gather_fwdbwd", {
                let x = Variable(nodeRows, requiresGrad: true)
                x.gather(expanded, axis: 0).backward(edgeGrad)
            }),
            ("graph_scatter_add_fwd", { _ = withoutGradient { zeros.scatterAdding(expanded, edgeRows, axis: 0) } }),
            ("graph_scatter_add_fwdbwd", {
                let s = Variable(edgeRows, requiresGrad: true)
                Variable(zeros).scatterAdding(expanded, s, axis: 0).backward(nodeGrad)
            }),
            ("graph_index_add_fwd", { _ = withoutGradient { zeros.indexAdding(destination, edgeRows) } }),
            ("graph_index_add_fwdbwd", {
                let s = Variable(edgeRows, requiresGrad: true)
                Variable(zeros).indexAdding(destination, s).backward(nodeGrad)
            }),
            ("graph_segment_softmax_fwd", { _ = withoutGradient { edgeRows.segmentSoftmax(destination, count: n) } }),
            ("graph_segment_softmax_fwdbwd", {
                let s = Variable(edgeRows, requiresGrad: true)
                s.segmentSoftmax(destination, count: n).backward(edgeGrad)
            }),
        ])
    }
}
