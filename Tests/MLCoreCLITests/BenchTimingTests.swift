import XCTest
@testable import MLCoreCLI

final class BenchTimingTests: XCTestCase {
    /// One warm-up call plus `repeats` timed calls; the median is one of the times (the upper median).
    func testWarmUpThenRepeats() {
        var calls = 0
        let (median, times) = BenchTiming.measure(repeats: 4) { calls += 1 }
        XCTAssertEqual(calls, 5)
        XCTAssertEqual(times.count, 4)
        XCTAssertEqual(median, times.sorted()[2])
        // A non-positive count still times one call instead of failing.
        calls = 0
        XCTAssertEqual(BenchTiming.measure(repeats: 0) { calls += 1 }.times.count, 1)
        XCTAssertEqual(calls, 2)
    }
}
