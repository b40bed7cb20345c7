import XCTest
@testable import MLCore
@testable import SkillLocalization

/// The k-shot splits are drawn by `Splits.kShot` since it moved into MLCore. The expected texts were
/// printed by the code before the move (TaskSplits.kShot's own loop, commit 8a1ab9b) for this corpus
/// and these seeds, and written here by hand: graft's seeded runs must keep their training sets.
final class KShotRegressionTests: XCTestCase {
    private func splits(_ task: SkillTask) throws -> TaskSplits {
        var texts: [String] = [], labels: [Int] = []
        for (label, n) in [(0, 12), (1, 9), (2, 10)] {
            for i in 0..<n { texts.append("t\(label)-\(i)"); labels.append(label) }
        }
        return try TaskSplits(task: task, texts: texts, tweetLabels: labels, testPerClass: 2, devPerClass: 1)
    }

    func testKShotSetsAreThoseOfThePreviousCode() throws {
        let expected: [(SkillTask, UInt64, [String], [Int])] = [
            (.polarity, 13, ["t0-5", "t2-1", "t0-2", "t2-0", "t0-11", "t2-3"], [0, 1, 0, 1, 0, 1]),
            (.polarity, 42, ["t2-6", "t2-1", "t2-3", "t0-3", "t0-11", "t0-5"], [1, 1, 1, 0, 0, 0]),
            (.subjectivity, 13, ["t1-4", "t2-9", "t2-5", "t1-6", "t2-0", "t1-1"], [1, 0, 0, 1, 0, 1]),
            (.subjectivity, 42, ["t1-2", "t0-0", "t2-0", "t1-0", "t1-1", "t2-9"], [1, 0, 0, 1, 1, 0]),
        ]
        for (task, seed, texts, labels) in expected {
            let train = try splits(task).kShot(k: 3, seed: seed)
            XCTAssertEqual(train.texts, texts, "\(task) seed \(seed)")
            XCTAssertEqual(train.labels, labels, "\(task) seed \(seed)")
        }
    }
}
