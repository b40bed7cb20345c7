#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Resource usage of the current process, for reports and benchmarks.
public enum ResourceUsage {
    /// The process's peak resident set size so far (`getrusage(RUSAGE_SELF).ru_maxrss`), in bytes.
    /// It never decreases, so a per-case peak needs one process per case (as `make bench-models`
    /// runs them). Returns 0 if the system call fails.
    public static func peakResidentBytes() -> Int {
        var usage = rusage()
        #if canImport(Glibc)
        let who = __rusage_who_t(RUSAGE_SELF.rawValue)
        #else
        let who = RUSAGE_SELF
        #endif
        guard getrusage(who, &usage) == 0 else { return 0 }
        #if canImport(Darwin)
        return Int(usage.ru_maxrss)  // bytes on Darwin
        #else
        return Int(usage.ru_maxrss) * 1024  // KiB on Linux
        #endif
    }

    /// `peakResidentBytes()` in MiB (2^20 bytes).
    public static var peakResidentMiB: Double { Double(peakResidentBytes()) / 1_048_576 }
}
