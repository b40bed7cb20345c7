/// An N-dimensional array of Float32 with value semantics.
///
/// A tensor is a view — `shape`, `strides` (in elements) and `offset` — over a shared storage buffer.
/// Views made by `reshaped`, `permuted`, `transposed`, `sliced` and `expanded` share storage with
/// their source without copying; any write goes through copy-on-write, so a tensor never changes
/// because another one was modified. Row-major (C) order is the default layout, as in PyTorch and numpy.
///
/// Shapes in documentation use one legend: B batch, T tokens, C channels, H heads, D width, V vocab,
/// N items. A rank-0 tensor (shape `[]`) holds one scalar.
public struct Tensor: Sendable {
    @usableFromInline var storage: TensorStorage
    /// The extent of each dimension.
    public private(set) var shape: [Int]
    /// The distance, in elements, between neighbours along each dimension (0 for a broadcast dimension).
    public private(set) var strides: [Int]
    /// The position of element `[0, 0, ...]` in the storage, in elements.
    public private(set) var offset: Int

    @usableFromInline
    init(storage: TensorStorage, shape: [Int], strides: [Int], offset: Int) {
        self.storage = storage
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    /// A contiguous tensor whose contents are undefined until written (internal: kernels fill it).
    @usableFromInline
    init(uninitializedShape shape: [Int]) {
        let count = Tensor.elementCount(shape, op: "Tensor(shape:)")
        self.init(storage: TensorStorage(uninitializedCount: count), shape: shape,
                  strides: Tensor.contiguousStrides(shape), offset: 0)
    }

    /// A tensor of `shape` with every element equal to `value`.
    public init(shape: [Int], repeating value: Float) {
        let count = Tensor.elementCount(shape, op: "Tensor(shape:repeating:)")
        self.init(storage: TensorStorage(repeating: value, count: count), shape: shape,
                  strides: Tensor.contiguousStrides(shape), offset: 0)
    }

    /// A tensor of `shape` holding `values` in row-major order.
    /// - Precondition: `values.count` equals the product of `shape`.
    public init(_ values: [Float], shape: [Int]) {
        let count = Tensor.elementCount(shape, op: "Tensor(_:shape:)")
        require(values.count == count,
                     "Tensor(_:shape:): \(values.count) values do not fill shape \(shape) (\(count) elements)")
        let storage = values.withUnsafeBufferPointer { TensorStorage(copying: $0.baseAddress!, count: count) }
        self.init(storage: storage, shape: shape, strides: Tensor.contiguousStrides(shape), offset: 0)
    }

    /// A rank-1 tensor holding `values`.
    public init(_ values: [Float]) { self.init(values, shape: [values.count]) }

    /// A rank-0 tensor holding one value.
    public init(scalar value: Float) { self.init(shape: [], repeating: value) }

    /// A tensor of `shape` whose element at row-major position `i` is `body(i)`.
    public init(shape: [Int], _ body: (Int) throws -> Float) rethrows {
        self.init(uninitializedShape: shape)
        let p = storage.pointer
        for i in 0..<storage.count { p[i] = try body(i) }
    }

    /// Zeros of `shape`.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }
    /// Ones of `shape`.
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 1) }
    /// `[0, 1, ..., n-1]` as Float, shape `[n]`.
    public static func arange(_ n: Int) -> Tensor { Tensor(shape: [n]) { Float($0) } }

    /// The number of dimensions.
    @inlinable public var rank: Int { shape.count }
    /// The number of elements (1 for a rank-0 tensor).
    @inlinable public var count: Int { shape.reduce(1, *) }

    /// True when the elements lie in row-major order with no gaps, so the view is a plain buffer.
    public var isContiguous: Bool {
        if shape.contains(0) { return true }  // no elements: any layout is a plain (empty) buffer
        var expected = 1
        for d in stride(from: rank - 1, through: 0, by: -1) where shape[d] != 1 {
            if strides[d] != expected { return false }
            expected *= shape[d]
        }
        return true
    }

    /// The element at a multi-dimensional index (negative indices count from the end).
    public subscript(_ index: Int...) -> Float {
        get { storage.pointer[storageOffset(index)] }
        set {
            makeUnique()
            storage.pointer[storageOffset(index)] = newValue
        }
    }

    /// The value of a one-element tensor.
    /// - Precondition: `count == 1`.
    public var item: Float {
        require(count == 1, "item: tensor of shape \(shape) has \(count) elements, expected 1")
        return storage.pointer[offset]
    }

    /// All elements in row-major order.
    public var scalars: [Float] {
        let c = contiguous()
        return Array(UnsafeBufferPointer(start: c.storage.pointer + c.offset, count: c.count))
    }

    /// A contiguous tensor with the same elements: `self` when already contiguous, else a copy.
    public func contiguous() -> Tensor {
        if isContiguous { return self }
        var out = Tensor(uninitializedShape: shape)
        out.copyElements(from: self)
        return out
    }

    /// Calls `body` with the elements in row-major order (copying only when the view is not contiguous).
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        let c = contiguous()
        return try withExtendedLifetime(c) {
            try body(UnsafeBufferPointer(start: c.storage.pointer + c.offset, count: c.count))
        }
    }

    /// Calls `body` with a writable buffer of the elements in row-major order. The tensor is first made
    /// contiguous and uniquely owned, so writes affect this tensor only.
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        if !isContiguous { self = contiguousCopy() }
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.pointer + offset, count: count))
    }

    // MARK: Internals shared by the ops

    /// The copy-on-write step before a write: when the storage is shared with another tensor, or when
    /// a broadcast (stride-0) dimension makes several indices alias one element, replace it by a
    /// contiguous copy of this view's elements.
    @usableFromInline
    mutating func makeUnique() {
        let aliased = zip(shape, strides).contains { $0.0 > 1 && $0.1 == 0 }
        if aliased || !isKnownUniquelyReferenced(&storage) { self = contiguousCopy() }
    }

    /// A fresh contiguous copy (even when already contiguous).
    @usableFromInline
    func contiguousCopy() -> Tensor {
        var out = Tensor(uninitializedShape: shape)
        out.copyElements(from: self)
        return out
    }

    /// Position in storage of a (possibly negative) multi-index.
    func storageOffset(_ index: [Int]) -> Int {
        require(index.count == rank, "subscript: \(index.count) indices for a tensor of shape \(shape)")
        var position = offset
        for d in 0..<rank {
            var i = index[d]
            if i < 0 { i += shape[d] }
            require(i >= 0 && i < shape[d], "subscript: index \(index) out of range for shape \(shape)")
            position += i * strides[d]
        }
        return position
    }

    /// Row-major strides of `shape`.
    @usableFromInline
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[d] = s
            s *= Swift.max(shape[d], 1)
        }
        return strides
    }

    /// Product of a shape, checking that no extent is negative.
    @usableFromInline
    static func elementCount(_ shape: [Int], op: String) -> Int {
        var n = 1
        for s in shape {
            require(s >= 0, "\(op): negative extent in shape \(shape)")
            n *= s
        }
        return n
    }
}

extension Tensor: CustomStringConvertible {
    /// Shape and up to the first 8 elements, e.g. `Tensor([2, 3]: 0.0, 1.0, 2.0, ...)`.
    public var description: String {
        let values = scalars
        let shown = values.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(\(shape): \(shown)\(values.count > 8 ? ", ..." : ""))"
    }
}

extension Tensor: Equatable {
    /// Exact equality of shape and elements (NaN != NaN, as for Float).
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        lhs.shape == rhs.shape && lhs.scalars == rhs.scalars
    }
}
