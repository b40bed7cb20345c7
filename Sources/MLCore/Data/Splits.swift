/// Seeded dataset splits over item indices: k examples per class (few-shot training sets), disjoint
/// member / hold-out sets (membership-inference style), and k-fold cross-validation. Every function
/// takes the generator explicitly; the same seed gives the same split.
public enum Splits {
    /// k items per class: each class's pool is shuffled (Fisher–Yates, `RandomGenerator.shuffle`)
    /// in class order, its first k taken, and the selection of all classes shuffled once more with
    /// the same generator (LM-BFF's generate_k_shot_data.py draws per class and seed this way).
    /// - Parameters:
    ///   - pools: per class (label = position), the candidates in a fixed order.
    ///   - k: items per class.
    /// - Returns: the chosen items and their labels, in the final shuffled order (classes × k entries).
    /// - Draws: one shuffle of each pool in class order, then one permutation of the selection.
    /// - Precondition: k > 0 and every pool holds at least k items.
    public static func kShot<Item>(pools: [[Item]], k: Int, using rng: inout RandomGenerator) -> (items: [Item], labels: [Int]) {
        require(k > 0, "Splits.kShot: k = \(k) must be positive")
        var items: [Item] = [], labels: [Int] = []
        for (y, pool) in pools.enumerated() {
            require(pool.count >= k, "Splits.kShot: class \(y) has \(pool.count) items, fewer than k = \(k)")
            var shuffled = pool
            rng.shuffle(&shuffled)
            items += shuffled.prefix(k)
            labels += Array(repeating: y, count: k)
        }
        let order = rng.permutation(items.count)
        return (order.map { items[$0] }, order.map { labels[$0] })
    }

    /// k indices per class of `labels` (classes 0..<classCount, each class's pool in index order),
    /// drawn as `kShot(pools:k:using:)`.
    /// - Returns: indices into `labels`, in shuffled order.
    /// - Precondition: labels in 0..<classCount; every class has at least k items; k > 0.
    public static func kShot(labels: [Int], classCount: Int, k: Int, using rng: inout RandomGenerator) -> [Int] {
        kShot(pools: indicesByClass(labels, classCount: classCount), k: k, using: &rng).items
    }

    /// The indices of `labels` grouped by class, each group in index order.
    /// - Precondition: labels in 0..<classCount.
    public static func indicesByClass(_ labels: [Int], classCount: Int) -> [[Int]] {
        var pools = [[Int]](repeating: [], count: classCount)
        for (i, y) in labels.enumerated() {
            require((0..<classCount).contains(y), "Splits: label \(y) at \(i) is outside 0..<\(classCount)")
            pools[y].append(i)
        }
        return pools
    }

    /// Two disjoint sets of `0..<count`: `members` items drawn uniformly (the first of one
    /// permutation) and the rest as the hold-out, both sorted ascending.
    /// - Draws: one permutation of `count`.
    /// - Precondition: 0 ≤ members ≤ count.
    public static func memberHoldOut(count: Int, members: Int, using rng: inout RandomGenerator) -> (members: [Int], holdOut: [Int]) {
        require(members >= 0 && members <= count, "Splits.memberHoldOut: \(members) members of \(count) items")
        let order = rng.permutation(count)
        return (order[..<members].sorted(), order[members...].sorted())
    }

    /// K-fold cross-validation as scikit-learn's `KFold(n_splits: folds, shuffle:)`: the indices (in
    /// order, or one permutation of them when a generator is given) cut into `folds` consecutive
    /// parts, the first `count % folds` one item larger; fold i tests on part i and trains on the rest.
    /// - Returns: `folds` pairs (train, test), each sorted ascending; the tests partition `0..<count`.
    /// - Draws: one permutation of `count` when `rng` is given.
    /// - Precondition: 2 ≤ folds ≤ count.
    public static func kFold(count: Int, folds: Int, using rng: inout RandomGenerator?) -> [(train: [Int], test: [Int])] {
        require(folds >= 2 && folds <= count, "Splits.kFold: \(folds) folds of \(count) items (need 2 ≤ folds ≤ count)")
        let order = rng == nil ? Array(0..<count) : rng!.permutation(count)
        var splits: [(train: [Int], test: [Int])] = []
        var start = 0
        for f in 0..<folds {
            let size = count / folds + (f < count % folds ? 1 : 0)
            let test = Array(order[start..<(start + size)])
            let train = Array(order[..<start]) + Array(order[(start + size)...])
            splits.append((train.sorted(), test.sorted()))
            start += size
        }
        return splits
    }

    /// `kFold(count:folds:using:)` without shuffling (consecutive folds).
    public static func kFold(count: Int, folds: Int) -> [(train: [Int], test: [Int])] {
        var none: RandomGenerator? = nil
        return kFold(count: count, folds: folds, using: &none)
    }
}
