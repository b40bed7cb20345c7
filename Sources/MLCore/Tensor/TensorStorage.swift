#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The heap buffer behind one or more `Tensor` values: `count` Float32 elements, 64-byte aligned
/// (one cache line, the width of an AVX-512 register) so SIMD loads never split a line at the start.
/// Buffers of 4 MiB or more are 2 MiB aligned and advised as transparent huge pages (as numpy does):
/// fresh memory costs one page fault per 2 MiB instead of per 4 KiB, which on these VMs is most of
/// the time of a large element-wise op.
///
/// Shared between tensors that are views of each other (reshape, permute, slice); `Tensor` copies it
/// before a write when it is not uniquely referenced (copy-on-write).
@usableFromInline
final class TensorStorage: @unchecked Sendable {
    @usableFromInline let pointer: UnsafeMutablePointer<Float>
    @usableFromInline let count: Int

    /// Uninitialised storage of `count` elements (contents undefined until written).
    @usableFromInline
    init(uninitializedCount count: Int) {
        precondition(count >= 0, "TensorStorage: negative element count \(count)")
        self.count = count
        var raw: UnsafeMutableRawPointer? = nil
        var bytes = Swift.max(count, 1) * MemoryLayout<Float>.stride
        let huge = bytes >= TensorStorage.hugePageThreshold
        if huge { bytes = (bytes + TensorStorage.hugePageSize - 1) / TensorStorage.hugePageSize * TensorStorage.hugePageSize }
        let status = posix_memalign(&raw, huge ? TensorStorage.hugePageSize : 64, bytes)
        precondition(status == 0 && raw != nil, "TensorStorage: cannot allocate \(bytes) bytes")
        #if canImport(Glibc)
        if huge { _ = madvise(raw, bytes, MADV_HUGEPAGE) }
        #endif
        pointer = raw!.bindMemory(to: Float.self, capacity: Swift.max(count, 1))
    }

    /// Storage filled with `value`.
    @usableFromInline
    convenience init(repeating value: Float, count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: value, count: count)
    }

    /// A copy of `count` elements starting at `source`.
    @usableFromInline
    convenience init(copying source: UnsafePointer<Float>, count: Int) {
        self.init(uninitializedCount: count)
        pointer.update(from: source, count: count)
    }

    deinit { free(pointer) }

    static let hugePageSize = 1 << 21
    static let hugePageThreshold = 1 << 22
}
