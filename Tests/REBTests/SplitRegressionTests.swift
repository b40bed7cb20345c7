import XCTest
@testable import MLCore
@testable import REB

/// `AnomalySplit` draws its normal/held-out split with `Splits.memberHoldOut` since that moved into
/// MLCore. The expected indices were printed by the code before the move (AnomalySplit's own
/// permutation, commit 8a1ab9b) for these labels and seeds, and written here by hand.
final class SplitRegressionTests: XCTestCase {
    func testSplitsAreThoseOfThePreviousCode() throws {
        let labels = [0, 1, 0, 0, 2, 0, 0, 1, 0, 0, 0, 2, 0]
        let expected: [UInt64: (train: [Int], heldOut: [Int], test: [Int])] = [
            0: ([0, 2, 6, 9, 12], [3, 5, 8, 10], [1, 3, 4, 5, 7, 8, 10, 11]),
            7: ([2, 3, 9, 10, 12], [0, 5, 6, 8], [0, 1, 4, 5, 6, 7, 8, 11]),
        ]
        for (seed, e) in expected {
            let s = try AnomalySplit(labels: labels, trainCount: 5, seed: seed)
            XCTAssertEqual(s.train, e.train, "seed \(seed)")
            XCTAssertEqual(s.heldOutNormal, e.heldOut, "seed \(seed)")
            XCTAssertEqual(s.test, e.test, "seed \(seed)")
        }
    }
}
