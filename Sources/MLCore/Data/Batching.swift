/// Batches of item indices: in order, seeded shuffles (one epoch of a data loader, torch's
/// `DataLoader(shuffle=True, drop_last=…)`), length-sorted batches for inference (little padding)
/// and length-bucketed shuffled batches for training. Batches are lists of indices into the caller's
/// items; nothing here touches the items themselves.
public enum Batching {
    /// `0..<count` cut into consecutive batches of `batchSize` (the last one shorter unless `dropLast`).
    /// - Precondition: batchSize > 0, count ≥ 0.
    public static func sequential(count: Int, batchSize: Int, dropLast: Bool = false) -> [[Int]] {
        cut(Array(0..<count), batchSize: batchSize, dropLast: dropLast)
    }

    /// `indices` cut into consecutive batches of `batchSize`, order kept (the last one shorter unless
    /// `dropLast`).
    /// - Precondition: batchSize > 0.
    public static func cut(_ indices: [Int], batchSize: Int, dropLast: Bool = false) -> [[Int]] {
        require(batchSize > 0, "Batching: batch size \(batchSize) must be positive")
        var batches: [[Int]] = []
        batches.reserveCapacity((indices.count + batchSize - 1) / batchSize)
        var start = 0
        while start < indices.count {
            let end = Swift.min(start + batchSize, indices.count)
            if end - start == batchSize || !dropLast { batches.append(Array(indices[start..<end])) }
            start = end
        }
        return batches
    }

    /// One shuffled epoch: a uniform permutation of `0..<count` (`RandomGenerator.permutation`, so
    /// the draws are exactly those of `RandomGenerator.shuffledBatches`) cut into batches.
    /// - Precondition: batchSize > 0.
    public static func shuffled(count: Int, batchSize: Int, dropLast: Bool = false,
                                using rng: inout RandomGenerator) -> [[Int]] {
        rng.shuffledBatches(count: count, batchSize: batchSize, dropLast: dropLast)
    }

    /// The order of `lengths`' indices from longest to shortest, ties in index order (a stable sort):
    /// consecutive items have similar lengths, so a batch pads little.
    public static func longestFirst(_ lengths: [Int]) -> [Int] {
        lengths.indices.sorted { lengths[$0] > lengths[$1] }
    }

    /// Inference batches: the indices sorted longest first (`longestFirst`) and cut into batches of
    /// `batchSize`. The results of a batched computation are put back in input order by
    /// `gatherRows`.
    /// - Precondition: batchSize > 0.
    public static func lengthSorted(_ lengths: [Int], batchSize: Int) -> [[Int]] {
        cut(longestFirst(lengths), batchSize: batchSize)
    }

    /// Training batches grouped by length (the "bucket iterator" of torchtext/fairseq): the indices
    /// are shuffled, taken `bucketBatches` batches' worth at a time, each pool sorted longest first
    /// and cut into batches, and the batches of the whole epoch shuffled again. With
    /// `bucketBatches` = 1 this is a shuffled epoch whose batches are internally sorted.
    /// - Draws: one permutation of `lengths.count`, then one of the number of batches.
    /// - Precondition: batchSize > 0, bucketBatches > 0.
    public static func lengthBucketed(_ lengths: [Int], batchSize: Int, bucketBatches: Int = 100, dropLast: Bool = false,
                                      using rng: inout RandomGenerator) -> [[Int]] {
        require(bucketBatches > 0, "Batching.lengthBucketed: bucketBatches \(bucketBatches) must be positive")
        let order = rng.permutation(lengths.count)
        let poolSize = batchSize * bucketBatches
        var batches: [[Int]] = []
        var start = 0
        while start < order.count {
            let pool = order[start..<Swift.min(start + poolSize, order.count)]
            let sorted = pool.sorted { lengths[$0] > lengths[$1] }
            batches += cut(sorted, batchSize: batchSize, dropLast: dropLast)
            start += poolSize
        }
        return rng.permutation(batches.count).map { batches[$0] }
    }

    /// Runs `body` on each batch (in the order given) without recording gradients and scatters its
    /// rows back to input order: `body(batch)` returns [batch.count, width], row r belonging to item
    /// `batch[r]`. Returns [count, width]; rows of items in no batch are zero.
    /// - Precondition: every index in 0..<count; each result has shape [batch.count, width].
    public static func gatherRows(_ batches: [[Int]], count: Int, width: Int, _ body: ([Int]) -> Tensor) -> Tensor {
        var out = [Float](repeating: 0, count: count * width)
        withoutGradient {
            for members in batches where !members.isEmpty {
                let result = body(members)
                require(result.shape == [members.count, width],
                        "Batching.gatherRows: a batch gave \(result.shape), expected [\(members.count), \(width)]")
                let rows = result.contiguous().scalars
                for (r, m) in members.enumerated() {
                    for j in 0..<width { out[m * width + j] = rows[r * width + j] }
                }
            }
        }
        return Tensor(out, shape: [count, width])
    }
}
