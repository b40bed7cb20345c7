/// Iteration over the elements of several same-shaped strided views (operands), in runs along the
/// innermost dimension. Dimensions of extent 1 are dropped and neighbouring dimensions that are
/// contiguous with each other in every operand are merged, so a contiguous tensor becomes one run.
@usableFromInline
struct StridedIteration {
    /// Coalesced extents, innermost last (never empty: a scalar is `[1]`).
    @usableFromInline var shape: [Int]
    /// Per operand, the strides of the coalesced dimensions.
    @usableFromInline var strides: [[Int]]

    @usableFromInline
    init(shape: [Int], strides operandStrides: [[Int]]) {
        var dims: [Int] = []
        var str: [[Int]] = Array(repeating: [], count: operandStrides.count)
        for d in 0..<shape.count where shape[d] != 1 {
            if !dims.isEmpty,
               operandStrides.indices.allSatisfy({ str[$0].last! == operandStrides[$0][d] * shape[d] }) {
                dims[dims.count - 1] *= shape[d]
                for k in operandStrides.indices { str[k][str[k].count - 1] = operandStrides[k][d] }
            } else {
                dims.append(shape[d])
                for k in operandStrides.indices { str[k].append(operandStrides[k][d]) }
            }
        }
        if dims.isEmpty {
            dims = [shape.contains(0) ? 0 : 1]
            for k in str.indices { str[k] = [0] }
        }
        self.shape = dims
        self.strides = str
    }

    /// Elements per run.
    @inlinable var innerCount: Int { shape[shape.count - 1] }
    /// Number of runs.
    @inlinable var outerCount: Int { shape.dropLast().reduce(1, *) }
    /// Stride of the innermost dimension of operand `k`.
    @inlinable func innerStride(_ k: Int) -> Int { strides[k][strides[k].count - 1] }

    /// Calls `body(offsets)` for the runs `outer`, where `offsets[k]` is the position of the run's first
    /// element in operand `k`, counted from `base[k]`.
    @inlinable
    func forEachRun(_ outer: Range<Int>, base: [Int], _ body: (UnsafeMutableBufferPointer<Int>) -> Void) {
        let r = shape.count - 1
        let k = strides.count
        withUnsafeTemporaryAllocation(of: Int.self, capacity: r + k) { buffer in
            let index = UnsafeMutableBufferPointer(rebasing: buffer[0..<r])
            let offsets = UnsafeMutableBufferPointer(rebasing: buffer[r..<(r + k)])
            var rest = outer.lowerBound
            for d in stride(from: r - 1, through: 0, by: -1) {
                index[d] = rest % shape[d]
                rest /= shape[d]
            }
            for op in 0..<k {
                var o = base[op]
                for d in 0..<r { o += index[d] * strides[op][d] }
                offsets[op] = o
            }
            for _ in outer {
                body(offsets)
                var d = r - 1
                while d >= 0 {
                    index[d] += 1
                    for op in 0..<k { offsets[op] += strides[op][d] }
                    if index[d] < shape[d] { break }
                    for op in 0..<k { offsets[op] -= strides[op][d] * shape[d] }
                    index[d] = 0
                    d -= 1
                }
            }
        }
    }
}

/// Elements per parallel chunk below which an element-wise kernel runs on one thread.
@usableFromInline let elementwiseGrain = 1 << 15

extension Tensor {
    /// Broadcast result shape of two shapes (numpy rules: align on the right, extents equal or 1).
    /// - Precondition: the shapes are compatible; the message names `op` and both shapes.
    @inlinable
    public static func broadcastShape(_ a: [Int], _ b: [Int], op: String) -> [Int] {
        let r = Swift.max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let x = i < r - a.count ? 1 : a[i - (r - a.count)]
            let y = i < r - b.count ? 1 : b[i - (r - b.count)]
            require(x == y || x == 1 || y == 1, "\(op): shapes \(a) and \(b) cannot be broadcast together")
            out[i] = x == 1 ? y : x
        }
        return out
    }

    /// Strides that read this tensor as if it had `target` shape (0 on broadcast dimensions).
    @usableFromInline
    func broadcastStrides(to target: [Int]) -> [Int] {
        var out = [Int](repeating: 0, count: target.count)
        let shift = target.count - rank
        for d in 0..<rank where shape[d] != 1 { out[d + shift] = strides[d] }
        return out
    }

    /// Applies a unary kernel element-wise into a new contiguous tensor.
    @inlinable
    func mapKernel<K: UnaryKernel>(_ kernel: K.Type) -> Tensor {
        var out = Tensor(uninitializedShape: shape)
        out.fill(kernel, from: self)
        return out
    }

    /// Writes K(source) into this view's elements (same shape). Writes through to the storage without
    /// copy-on-write: callers use it on fresh tensors or on views of a tensor they are filling.
    @inlinable
    mutating func fill<K: UnaryKernel>(_ kernel: K.Type, from source: Tensor) {
        let it = StridedIteration(shape: shape, strides: [strides, source.strides])
        let out = storage.pointer, x = UnsafePointer(source.storage.pointer)
        let so = it.innerStride(0), sx = it.innerStride(1), n = it.innerCount
        let base = [offset, source.offset]
        withExtendedLifetime(source) {
            if it.outerCount == 1 {
                Threading.parallelFor(n, grain: elementwiseGrain) { r in
                    let i = r.lowerBound
                    unaryRun(K.self, x + base[1] + i * sx, sx, out + base[0] + i * so, so, r.count)
                }
            } else {
                Threading.parallelFor(it.outerCount, grain: Swift.max(1, elementwiseGrain / Swift.max(n, 1))) { r in
                    it.forEachRun(r, base: base) { o in unaryRun(K.self, x + o[1], sx, out + o[0], so, n) }
                }
            }
        }
    }

    /// Copies the elements of `source` (same shape) into this contiguous tensor.
    @usableFromInline
    mutating func copyElements(from source: Tensor) {
        require(shape == source.shape, "copy: shapes \(shape) and \(source.shape) differ")
        fill(CopyKernel.self, from: source)
    }

    /// Applies a binary kernel with broadcasting into a new contiguous tensor.
    @inlinable
    static func zipKernel<K: BinaryKernel>(_ a: Tensor, _ b: Tensor, _ kernel: K.Type, op: String) -> Tensor {
        let shape = a.shape == b.shape ? a.shape : broadcastShape(a.shape, b.shape, op: op)
        let out = Tensor(uninitializedShape: shape)
        let it = StridedIteration(shape: shape, strides: [out.strides, a.broadcastStrides(to: shape),
                                                          b.broadcastStrides(to: shape)])
        let po = out.storage.pointer
        let pa = UnsafePointer(a.storage.pointer), pb = UnsafePointer(b.storage.pointer)
        let sa = it.innerStride(1), sb = it.innerStride(2), n = it.innerCount
        let base = [0, a.offset, b.offset]
        withExtendedLifetime((a, b)) {
            if it.outerCount == 1 {
                Threading.parallelFor(n, grain: elementwiseGrain) { r in
                    let i = r.lowerBound
                    binaryRun(K.self, pa + base[1] + i * sa, sa, pb + base[2] + i * sb, sb, po + i, r.count)
                }
            } else {
                Threading.parallelFor(it.outerCount, grain: Swift.max(1, elementwiseGrain / Swift.max(n, 1))) { r in
                    it.forEachRun(r, base: base) { o in binaryRun(K.self, pa + o[1], sa, pb + o[2], sb, po + o[0], n) }
                }
            }
        }
        return out
    }
}
