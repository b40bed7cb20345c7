/// A dense N-dimensional array of non-Float32 elements — token ids and labels (`Int32`, `Int64`),
/// images (`UInt8`), masks — in row-major order. Value semantics through `Array`'s copy-on-write.
///
/// Compute happens on `Tensor` (Float32); `NDArray` is for storage, indexing and I/O.
public struct NDArray<Element>: Sendable where Element: Sendable {
    /// The extent of each dimension.
    public let shape: [Int]
    /// The elements in row-major order.
    public private(set) var elements: [Element]

    /// An array of `shape` holding `elements` in row-major order.
    /// - Precondition: `elements.count` equals the product of `shape`.
    public init(_ elements: [Element], shape: [Int]) {
        let count = Tensor.elementCount(shape, op: "NDArray")
        require(elements.count == count,
                     "NDArray: \(elements.count) elements do not fill shape \(shape) (\(count) elements)")
        self.shape = shape
        self.elements = elements
    }

    /// A rank-1 array.
    public init(_ elements: [Element]) { self.init(elements, shape: [elements.count]) }

    /// An array of `shape` filled with `value`.
    public init(shape: [Int], repeating value: Element) {
        self.init([Element](repeating: value, count: Tensor.elementCount(shape, op: "NDArray")), shape: shape)
    }

    public var rank: Int { shape.count }
    public var count: Int { elements.count }

    /// The element at a multi-dimensional index.
    public subscript(_ index: Int...) -> Element {
        get { elements[flatIndex(index)] }
        set { elements[flatIndex(index)] = newValue }
    }

    /// Rows `range` along the first axis.
    public func rows(_ range: Range<Int>) -> NDArray {
        require(rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0],
                     "NDArray.rows: range \(range) out of bounds for shape \(shape)")
        let rowSize = shape.dropFirst().reduce(1, *)
        var s = shape
        s[0] = range.count
        return NDArray(Array(elements[(range.lowerBound * rowSize)..<(range.upperBound * rowSize)]), shape: s)
    }

    /// The same elements in a new shape.
    public func reshaped(_ newShape: [Int]) -> NDArray { NDArray(elements, shape: newShape) }

    /// Calls `body` with the elements.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
        try elements.withUnsafeBufferPointer(body)
    }

    func flatIndex(_ index: [Int]) -> Int {
        require(index.count == rank, "NDArray subscript: \(index.count) indices for shape \(shape)")
        var flat = 0
        for d in 0..<rank {
            require(index[d] >= 0 && index[d] < shape[d], "NDArray subscript: index \(index) out of range for shape \(shape)")
            flat = flat * shape[d] + index[d]
        }
        return flat
    }
}

extension NDArray: Equatable where Element: Equatable {}

extension NDArray where Element: BinaryInteger {
    /// The elements as Float32 (ids, labels, pixel values 0–255 unscaled).
    public func toTensor() -> Tensor { Tensor(elements.map { Float($0) }, shape: shape) }
}

extension Tensor {
    /// A tensor of the integer array's values as Float32.
    public init<T: BinaryInteger>(_ array: NDArray<T>) { self = array.toTensor() }
}
