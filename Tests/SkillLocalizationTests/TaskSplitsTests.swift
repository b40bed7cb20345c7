import Foundation
import XCTest
@testable import MLCore
@testable import SkillLocalization

final class TaskSplitsTests: XCTestCase {
    /// 40 negative, 30 neutral, 35 positive tweets, plus duplicates of some texts.
    private func corpus() -> (texts: [String], labels: [Int]) {
        var texts: [String] = [], labels: [Int] = []
        for (label, n) in [(0, 40), (1, 30), (2, 35)] {
            for i in 0..<n { texts.append("t\(label)-\(i)"); labels.append(label) }
        }
        texts += ["t0-1", "t2-3", "t1-0"]; labels += [0, 2, 1]
        return (texts, labels)
    }

    func testPolaritySplitsAreDisjointBalancedAndDeterministic() throws {
        let (texts, labels) = corpus()
        let splits = try TaskSplits(task: .polarity, texts: texts, tweetLabels: labels, testPerClass: 10, devPerClass: 5)
        XCTAssertEqual(splits.test.count, 20)
        XCTAssertEqual(splits.test.classCounts(2), [10, 10])
        XCTAssertEqual(splits.dev.classCounts(2), [5, 5])
        XCTAssertEqual(splits.pool.map(\.count), [25, 20], "duplicates dropped, neutral left out")
        let train = try splits.kShot(k: 4, seed: 13)
        XCTAssertEqual(train.classCounts(2), [4, 4])
        let all = splits.test.texts + splits.dev.texts + train.texts
        XCTAssertEqual(Set(all).count, all.count, "splits are disjoint")
        XCTAssertFalse(all.contains { $0.hasPrefix("t1-") }, "no neutral tweet in polarity")
        for (text, y) in zip(all, splits.test.labels + splits.dev.labels + train.labels) {
            XCTAssertEqual(y, text.hasPrefix("t2-") ? 1 : 0, text)
        }
        XCTAssertEqual(try splits.kShot(k: 4, seed: 13), train, "same seed, same split")
        XCTAssertNotEqual(try splits.kShot(k: 4, seed: 21), train)
        let again = try TaskSplits(task: .polarity, texts: texts, tweetLabels: labels, testPerClass: 10, devPerClass: 5)
        XCTAssertEqual(again.test, splits.test)
        XCTAssertEqual(splits.fullTrain.count, 45)
    }

    func testSubjectivityLabels() throws {
        let (texts, labels) = corpus()
        let splits = try TaskSplits(task: .subjectivity, texts: texts, tweetLabels: labels, testPerClass: 5, devPerClass: 5)
        XCTAssertEqual(splits.pool.map(\.count), [65, 20])
        for (text, y) in zip(splits.test.texts, splits.test.labels) { XCTAssertEqual(y, text.hasPrefix("t1-") ? 1 : 0) }
    }

    /// Too few texts for test + dev, k larger than the pool, k ≤ 0 and unknown names are clear errors.
    func testErrors() throws {
        let (texts, labels) = corpus()
        XCTAssertThrowsError(try TaskSplits(task: .polarity, texts: texts, tweetLabels: labels, testPerClass: 30, devPerClass: 5)) {
            XCTAssertEqual(($0 as? SkillLocalizationError)?.category, .badData)
            XCTAssertTrue("\($0)".contains("positive has 35 distinct texts"), "\($0)")
        }
        let splits = try TaskSplits(task: .polarity, texts: texts, tweetLabels: labels, testPerClass: 10, devPerClass: 5)
        XCTAssertThrowsError(try splits.kShot(k: 21, seed: 1)) { XCTAssertTrue("\($0)".contains("21 per class requested")) }
        XCTAssertThrowsError(try splits.kShot(k: 0, seed: 1)) { XCTAssertEqual(($0 as? SkillLocalizationError)?.category, .usage) }
        XCTAssertThrowsError(try SkillTask(named: "sst2")) {
            XCTAssertEqual("\($0)", "unknown task 'sst2', expected one of polarity, subjectivity")
            XCTAssertEqual(($0 as? SkillLocalizationError)?.category, .usage)
        }
    }

    /// The real prepared data (`make data`): both tasks have room for the default test/dev sizes and
    /// k = 64; the OOD set holds the 200 labelled movie sentences.
    func testRealTweetsAndMovieReviews() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let tweets = root.appendingPathComponent("data/datasets/tweets.h5").path
        let gensim = root.appendingPathComponent("data/datasets/gensim-corpora.h5").path
        for path in [tweets, gensim] where !FileManager.default.fileExists(atPath: path) {
            XCTFail("\(path) is missing: run `make data`")
            return
        }
        for task in SkillTask.allCases {
            let splits = try TaskSplits.load(tweets: tweets, task: task)
            XCTAssertEqual(splits.test.classCounts(2), [500, 500])
            XCTAssertEqual(splits.dev.classCounts(2), [64, 64])
            XCTAssertGreaterThan(splits.pool.map(\.count).min()!, 4000, "\(task)")
            XCTAssertEqual(try splits.kShot(k: 64, seed: 100).classCounts(2), [64, 64])
        }
        let movies = try MovieReviews.load(gensim)
        XCTAssertEqual(movies.count, 200)
        XCTAssertEqual(movies.classCounts(2).reduce(0, +), 200)
        XCTAssertThrowsError(try MovieReviews.load(tweets)) { XCTAssertEqual(($0 as? SkillLocalizationError)?.category, .badData) }
    }
}
