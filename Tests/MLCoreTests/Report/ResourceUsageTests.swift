import XCTest
@testable import MLCore

final class ResourceUsageTests: XCTestCase {
    /// With 256 MiB of fresh memory touched, the peak RSS is at least that much (every page written is
    /// resident) and never below the earlier peak.
    func testPeakRSSGrowsWhenMemoryIsTouched() {
        let before = ResourceUsage.peakResidentBytes()
        XCTAssertGreaterThan(before, 1 << 20)
        let count = 256 << 20
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: count)
        defer { buffer.deallocate() }
        for i in stride(from: 0, to: count, by: 4096) { buffer[i] = UInt8(truncatingIfNeeded: i >> 12) }
        let after = ResourceUsage.peakResidentBytes()
        XCTAssertGreaterThanOrEqual(after, count, "peak RSS \(before) -> \(after) bytes")
        XCTAssertGreaterThanOrEqual(after, before)
        XCTAssertEqual(ResourceUsage.peakResidentMiB, Double(ResourceUsage.peakResidentBytes()) / 1_048_576, accuracy: 1)
    }
}
