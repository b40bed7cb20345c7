import MLCore

extension GraftMask {
    /// Number of entries where this mask and `other` differ (Hamming distance).
    /// - Precondition: the same shapes.
    public func differences(from other: GraftMask) -> Int {
        require(shapes == other.shapes, "GraftMask.differences: masks of different shapes")
        var count = 0
        for (a, b) in zip(values, other.values) {
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    for i in pa.indices where (pa[i] != 0) != (pb[i] != 0) { count += 1 }
                }
            }
        }
        return count
    }

    /// The random-mask control of a graft (Docs/graft.md, "Controls"): exactly `count` entries drawn
    /// uniformly without replacement over all the entries of `shapes` (flattened in name order), by
    /// rejection from `rng.nextInt(below: N)` (for count > N/2 the complement is drawn instead).
    /// - Throws: `SkillLocalizationError.invalidArgument` when count is outside 0...N.
    public static func random(count: Int, names: [String], shapes: [[Int]], rng: inout RandomGenerator) throws -> GraftMask {
        let sizes = shapes.map { $0.reduce(1, *) }
        let n = sizes.reduce(0, +)
        guard count >= 0, count <= n else {
            throw SkillLocalizationError.invalidArgument("a random mask of \(count) entries over \(n)")
        }
        let complement = count > n / 2
        let draws = complement ? n - count : count
        var chosen = [Bool](repeating: false, count: n)
        var drawn = 0
        while drawn < draws {
            let i = rng.nextInt(below: n)
            if !chosen[i] { chosen[i] = true; drawn += 1 }
        }
        var values: [Tensor] = [], offset = 0
        for (shape, size) in zip(shapes, sizes) {
            let start = offset
            values.append(Tensor(shape: shape) { chosen[start + $0] != complement ? 1 : 0 })
            offset += size
        }
        return GraftMask(names: names, values: values)
    }
}
