import Foundation

/// The timing of a tool's `bench` command, as mlcore-bench and the Python peers time a case
/// (Benchmarks/peers/timing.py): one untimed warm-up call, then `repeats` timed calls.
public enum BenchTiming {
    /// Runs `body` once untimed and max(1, `repeats`) times timed (monotonic clock).
    /// - Returns: the median wall seconds (the upper median for an even count) and every timed call's seconds.
    public static func measure(repeats: Int, _ body: () throws -> Void) rethrows -> (median: Double, times: [Double]) {
        try body()
        var times: [Double] = []
        for _ in 0..<max(1, repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return (times.sorted()[times.count / 2], times)
    }
}
