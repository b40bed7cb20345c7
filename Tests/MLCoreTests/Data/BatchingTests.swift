import XCTest
@testable import MLCore

/// Batching and splits on hand-checked inputs.
final class BatchingTests: XCTestCase {
    func testSequentialBatchesAndDropLast() {
        XCTAssertEqual(Batching.sequential(count: 7, batchSize: 3), [[0, 1, 2], [3, 4, 5], [6]])
        XCTAssertEqual(Batching.sequential(count: 7, batchSize: 3, dropLast: true), [[0, 1, 2], [3, 4, 5]])
        XCTAssertEqual(Batching.sequential(count: 0, batchSize: 3), [])
        XCTAssertEqual(Batching.cut([9, 4, 7], batchSize: 2), [[9, 4], [7]])
    }

    /// The shuffled epoch draws exactly what `RandomGenerator.shuffledBatches` draws (the training
    /// loops' seeded batch order must not change), and covers every index once.
    func testShuffledBatchesAreTheGeneratorsEpoch() {
        var a = RandomGenerator(seed: 5), b = RandomGenerator(seed: 5)
        let batches = Batching.shuffled(count: 10, batchSize: 4, using: &a)
        XCTAssertEqual(batches, b.shuffledBatches(count: 10, batchSize: 4))
        XCTAssertEqual(batches.map(\.count), [4, 4, 2])
        XCTAssertEqual(batches.flatMap { $0 }.sorted(), Array(0..<10))
        XCTAssertEqual(a.nextUInt32(), b.nextUInt32(), "same number of draws")
        var c = RandomGenerator(seed: 5)
        XCTAssertEqual(Batching.shuffled(count: 10, batchSize: 4, dropLast: true, using: &c), Array(batches.prefix(2)))
    }

    /// lengths [3, 5, 5, 1, 4]: longest first with ties in index order is 1, 2, 4, 0, 3.
    func testLengthSortedBatches() {
        XCTAssertEqual(Batching.longestFirst([3, 5, 5, 1, 4]), [1, 2, 4, 0, 3])
        XCTAssertEqual(Batching.lengthSorted([3, 5, 5, 1, 4], batchSize: 2), [[1, 2], [4, 0], [3]])
    }

    /// Bucketed batches cover every index once and are sorted inside; with one pool holding the whole
    /// epoch and distinct lengths they are the length-sorted batches in a shuffled order.
    func testLengthBucketedBatches() {
        let lengths = [7, 2, 9, 4, 1, 8, 3, 6, 5, 0, 11]
        var rng = RandomGenerator(seed: 3)
        let small = Batching.lengthBucketed(lengths, batchSize: 2, bucketBatches: 2, using: &rng)
        XCTAssertEqual(small.flatMap { $0 }.sorted(), Array(lengths.indices))
        for batch in small { XCTAssertEqual(batch, batch.sorted { lengths[$0] > lengths[$1] }) }
        let whole = Batching.lengthBucketed(lengths, batchSize: 3, bucketBatches: 10, using: &rng)
        let sorted = Batching.lengthSorted(lengths, batchSize: 3)
        XCTAssertEqual(Set(whole), Set(sorted))
        XCTAssertEqual(whole.count, sorted.count)
        let dropped = Batching.lengthBucketed(lengths, batchSize: 3, bucketBatches: 10, dropLast: true, using: &rng)
        XCTAssertEqual(dropped.map(\.count), [3, 3, 3])
        XCTAssertFalse(dropped.contains { $0.contains(9) }, "the shortest item falls in the dropped remainder")
    }

    func testGatherRowsRestoresInputOrder() {
        // Row r of a batch holds [10·m, 10·m + 1] for its member m.
        let out = Batching.gatherRows([[3, 0], [2]], count: 5, width: 2) { members in
            Tensor(members.flatMap { [Float(10 * $0), Float(10 * $0 + 1)] }, shape: [members.count, 2])
        }
        XCTAssertEqual(out.shape, [5, 2])
        XCTAssertEqual(out.scalars, [0, 1, 0, 0, 20, 21, 30, 31, 0, 0])
    }

    /// Pools [a0..a3], [b0..b2]: k = 2 per class, labels follow the pools, and the draws are one
    /// shuffle per pool then one permutation of the 4 chosen.
    func testKShotPerClass() {
        let pools = [["a0", "a1", "a2", "a3"], ["b0", "b1", "b2"]]
        var rng = RandomGenerator(seed: 13)
        let (items, labels) = Splits.kShot(pools: pools, k: 2, using: &rng)
        XCTAssertEqual(labels.filter { $0 == 0 }.count, 2)
        XCTAssertEqual(labels.filter { $0 == 1 }.count, 2)
        for (item, y) in zip(items, labels) { XCTAssertEqual(item.first, y == 0 ? "a" : "b") }
        XCTAssertEqual(Set(items).count, 4)
        var manual = RandomGenerator(seed: 13)
        var a = pools[0], b = pools[1]
        manual.shuffle(&a)
        manual.shuffle(&b)
        let chosen = Array(a.prefix(2) + b.prefix(2))
        XCTAssertEqual(items, manual.permutation(4).map { chosen[$0] })
        XCTAssertEqual(rng.nextUInt32(), manual.nextUInt32())

        var r1 = RandomGenerator(seed: 1), r2 = RandomGenerator(seed: 1)
        let labelsOf = [1, 0, 1, 1, 0, 0, 1]
        let indices = Splits.kShot(labels: labelsOf, classCount: 2, k: 2, using: &r1)
        XCTAssertEqual(indices, Splits.kShot(pools: [[1, 4, 5], [0, 2, 3, 6]], k: 2, using: &r2).items)
        XCTAssertEqual(Splits.indicesByClass(labelsOf, classCount: 3), [[1, 4, 5], [0, 2, 3, 6], []])
    }

    func testMemberHoldOutIsDisjoint() {
        var rng = RandomGenerator(seed: 7)
        let (members, holdOut) = Splits.memberHoldOut(count: 9, members: 4, using: &rng)
        XCTAssertEqual(members.count, 4)
        XCTAssertEqual(holdOut.count, 5)
        XCTAssertEqual(members, members.sorted())
        XCTAssertEqual(holdOut, holdOut.sorted())
        XCTAssertEqual((members + holdOut).sorted(), Array(0..<9))
        var again = RandomGenerator(seed: 7)
        let p = again.permutation(9)
        XCTAssertEqual(members, p.prefix(4).sorted())
    }

    /// scikit-learn KFold(3) on 10 items: test folds of 4, 3, 3 consecutive items.
    func testKFold() {
        let folds = Splits.kFold(count: 10, folds: 3)
        XCTAssertEqual(folds.map(\.test), [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]])
        XCTAssertEqual(folds[1].train, [0, 1, 2, 3, 7, 8, 9])
        var rng: RandomGenerator? = RandomGenerator(seed: 2)
        let shuffled = Splits.kFold(count: 10, folds: 3, using: &rng)
        XCTAssertEqual(shuffled.flatMap(\.test).sorted(), Array(0..<10))
        XCTAssertEqual(shuffled.map(\.test.count), [4, 3, 3])
        for fold in shuffled { XCTAssertEqual(Set(fold.train).intersection(fold.test), []) }
        XCTAssertNotEqual(shuffled.map(\.test), folds.map(\.test))
    }
}
