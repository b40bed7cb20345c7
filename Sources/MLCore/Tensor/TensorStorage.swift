#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// The heap buffer behind one or more `Tensor` values: `count` Float32 elements, 64-byte aligned
/// (one cache line, the width of an AVX-512 register) so SIMD loads never split a line at the start.
/// Buffers of 4 MiB or more are 2 MiB aligned and advised as transparent huge pages (as numpy does):
/// fresh memory costs one page fault per 2 MiB instead of per 4 KiB, which on these VMs is most of
/// the time of a large element-wise op. Freed buffers of 64 KiB or more go to `BufferCache` and are
/// handed to the next allocation of the same size, so a loop that makes same-shaped tensors
/// touches no fresh memory after its first iteration.
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
        require(count >= 0, "TensorStorage: negative element count \(count)")
        self.count = count
        let bytes = TensorStorage.allocationBytes(count)
        if let cached = BufferCache.take(bytes: bytes) {
            pointer = cached.bindMemory(to: Float.self, capacity: Swift.max(count, 1))
            return
        }
        var raw: UnsafeMutableRawPointer? = nil
        let huge = bytes >= TensorStorage.hugePageThreshold
        let status = posix_memalign(&raw, huge ? TensorStorage.hugePageSize : 64, bytes)
        require(status == 0 && raw != nil, "TensorStorage: cannot allocate \(bytes) bytes")
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

    deinit {
        if !BufferCache.give(UnsafeMutableRawPointer(pointer), bytes: TensorStorage.allocationBytes(count)) {
            free(pointer)
        }
    }

    static let hugePageSize = 1 << 21
    static let hugePageThreshold = 1 << 22

    /// Bytes allocated for `count` elements (huge-page buffers round up to whole 2 MiB pages).
    static func allocationBytes(_ count: Int) -> Int {
        let bytes = Swift.max(count, 1) * MemoryLayout<Float>.stride
        return bytes >= hugePageThreshold ? (bytes + hugePageSize - 1) / hugePageSize * hugePageSize : bytes
    }
}

/// A bounded, process-wide cache of freed tensor buffers keyed by exact byte size.
///
/// On these VMs fresh memory costs page faults and zeroing (40–50% of a CNN batch in PyTorch with
/// glibc's allocator, Docs/ARCHITECTURE.md); reusing a buffer of the same size avoids both. At most
/// `maximumBuffersPerSize` buffers per size and `limitBytes` in total are kept; buffers under
/// `minimumBytes` go straight back to malloc, which already recycles small blocks.
///
/// The limit must cover what one training step frees at its end (the whole graph): a CNN step of 28
/// images at 224² allocates about 3 GiB, and with the earlier 512 MiB limit every step faulted most
/// of it in afresh and took twice as long (Docs/PERFORMANCE.md, "Vision training step").
public enum BufferCache {
    /// Total bytes the cache may hold (default: a quarter of the memory available to the process —
    /// physical or its cgroup's limit — at most 8 GiB; `MLCORE_BUFFER_CACHE_MIB` overrides it);
    /// 0 disables caching. Freed buffers are held only up to this limit, so a process's resident
    /// memory can exceed its live tensors by as much.
    public static var limitBytes: Int {
        get { state.withLock { $0.limit } }
        set { state.withLock { $0.limit = Swift.max(0, newValue); $0.trim() } }
    }
    static let minimumBytes = 1 << 16
    static let maximumBuffersPerSize = 64
    /// `MLCORE_BUFFER_CACHE_MIB` when set; else a quarter of the memory this process may use (the
    /// physical memory, or the cgroup's limit when lower, as in a container), at most 8 GiB.
    static let defaultLimit: Int = {
        if let text = ProcessInfo.processInfo.environment["MLCORE_BUFFER_CACHE_MIB"], let mib = Int(text), mib >= 0 {
            return mib << 20
        }
        var memory = ProcessInfo.processInfo.physicalMemory
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
               let limit = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                memory = Swift.min(memory, limit)
            }
        }
        return Int(Swift.min(memory / 4, 8 << 30))
    }()

    struct State: ~Copyable {
        var buffers: [Int: [UInt]] = [:]   // size → addresses
        var bytes = 0
        var limit = BufferCache.defaultLimit

        mutating func trim() {
            while bytes > limit, let (size, list) = buffers.first(where: { !$0.value.isEmpty }) {
                free(UnsafeMutableRawPointer(bitPattern: list.last!))
                buffers[size]!.removeLast()
                bytes -= size
            }
        }
    }
    static let state = Mutex(State())

    /// A cached buffer of exactly `bytes`, or nil.
    static func take(bytes: Int) -> UnsafeMutableRawPointer? {
        guard bytes >= minimumBytes else { return nil }
        let address: UInt? = state.withLock { s in
            guard let address = s.buffers[bytes]?.popLast() else { return nil }
            s.bytes -= bytes
            return address
        }
        return address.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
    }

    /// Keeps `pointer` for reuse; false when the caller must free it.
    static func give(_ pointer: UnsafeMutableRawPointer, bytes: Int) -> Bool {
        guard bytes >= minimumBytes else { return false }
        return state.withLock { s in
            guard s.bytes + bytes <= s.limit, s.buffers[bytes, default: []].count < maximumBuffersPerSize else { return false }
            s.buffers[bytes, default: []].append(UInt(bitPattern: pointer))
            s.bytes += bytes
            return true
        }
    }

    /// Bytes currently held.
    public static var cachedBytes: Int { state.withLock { $0.bytes } }

    /// Frees every cached buffer.
    public static func clear() {
        state.withLock { s in
            for (_, list) in s.buffers { for a in list { free(UnsafeMutableRawPointer(bitPattern: a)) } }
            s.buffers = [:]
            s.bytes = 0
        }
    }
}
