import Dispatch
import Foundation
import Synchronization

/// The number of threads MLCore's kernels and matrix products use.
///
/// Defaults to the number of active processors. Tools set it from `--threads` at start-up; the
/// setting applies process-wide. OpenBLAS itself runs single-threaded: MLCore splits large products
/// over these threads (`BLAS.sgemm`).
public enum Threading {
    private static let storedCount = Atomic<Int>(0)

    /// Threads used by parallel kernels and products (≥ 1).
    public static var count: Int {
        get {
            let n = storedCount.load(ordering: .relaxed)
            return n > 0 ? n : defaultCount
        }
        set {
            let n = Swift.max(1, newValue)
            storedCount.store(n, ordering: .relaxed)
        }
    }

    /// The number of active processors, read once (Foundation reads the cgroup's CPU quota files on
    /// every query, which perf showed on every parallel kernel).
    public static let defaultCount: Int = Swift.max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Runs `body` over `0..<count` split into at most `Threading.count` contiguous chunks, each of at
    /// least `grain` items; runs inline when there is one chunk. `body` must be safe to run concurrently
    /// on disjoint ranges.
    @inlinable
    public static func parallelFor(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        let chunks = Swift.min(Threading.count, Swift.max(1, count / Swift.max(grain, 1)))
        if chunks <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let task = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lo = count * c / chunks, hi = count * (c + 1) / chunks
                if lo < hi { task.value(lo..<hi) }
            }
        }
    }
}

/// Carries a value into a concurrently executed closure whose thread-safety the caller guarantees
/// (kernels hand each thread a disjoint range of the output).
@usableFromInline
struct UncheckedSendable<T>: @unchecked Sendable {
    @usableFromInline let value: T
    @inlinable init(_ value: T) { self.value = value }
}
