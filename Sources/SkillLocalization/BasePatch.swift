import MLCore

/// How the base patch γ_base picks the s = ⌊sparsity · N⌋ largest |Δ|.
public enum BasePatchRule: String, CaseIterable, Sendable {
    /// The reference's rule: τ = the smallest of the top-s |Δ|, γ_base = 1[|Δ| > τ] — strictly
    /// greater, so it keeps s − 1 entries plus any ties above τ (fewer than s).
    /// Source: reference `graft_trainer.py`, `create_basepatch` ("highest_movement").
    case strict
    /// Exactly s entries: every |Δ| > τ, then entries equal to τ in parameter order until s.
    case topS = "top-s"
}

/// The base patch: the initial region of the mask, from the parameters that moved most in
/// fine-tuning. Source: Docs/graft.md; Panigrahi et al. 2023; reference `create_basepatch`.
public enum BasePatch {
    /// s = ⌊sparsity · N⌋ (Python's `int()` of the product, as the reference).
    /// - Throws: `SkillLocalizationError.invalidArgument` for a sparsity outside [0, 1] or NaN.
    public static func selectionSize(sparsity: Double, parameterCount: Int) throws -> Int {
        guard sparsity >= 0, sparsity <= 1 else {
            throw SkillLocalizationError.invalidArgument("sparsity must be in [0, 1], got \(sparsity)")
        }
        return Int((sparsity * Double(parameterCount)).rounded(.towardZero))
    }

    /// γ_base over the tensors of `delta` (one 0/1 tensor each, same shapes).
    ///
    /// s = 0 gives an empty patch (the reference would fail on an empty top list).
    /// - Throws: `SkillLocalizationError.invalidArgument` for a sparsity outside [0, 1].
    public static func make(delta: [Tensor], sparsity: Double, rule: BasePatchRule) throws -> [Tensor] {
        let n = delta.reduce(0) { $0 + $1.count }
        let s = try selectionSize(sparsity: sparsity, parameterCount: n)
        let magnitudes = delta.map { $0.abs().contiguous() }
        guard s > 0 else { return magnitudes.map { Tensor(shape: $0.shape, repeating: 0) } }
        let tau = threshold(magnitudes, s: s)
        var out: [Tensor] = magnitudes.map { $0.greater(tau) }
        if rule == .topS {
            var missing = s - out.reduce(0) { $0 + GraftMask.ones(in: $1) }
            for k in out.indices where missing > 0 {
                magnitudes[k].withUnsafeBufferPointer { m in
                    out[k].withUnsafeMutableBufferPointer { o in
                        for i in 0..<m.count where missing > 0 && m[i] == tau {
                            o[i] = 1
                            missing -= 1
                        }
                    }
                }
            }
        }
        return out
    }

    /// τ, the s-th largest value over all tensors (1 ≤ s ≤ N), by quickselect on one flat copy.
    static func threshold(_ magnitudes: [Tensor], s: Int) -> Float {
        var all: [Float] = []
        all.reserveCapacity(magnitudes.reduce(0) { $0 + $1.count })
        for m in magnitudes { m.withUnsafeBufferPointer { all.append(contentsOf: $0) } }
        // The s-th largest is the (N − s)-th smallest (0-based).
        return all.withUnsafeMutableBufferPointer { select($0, rank: $0.count - s) }
    }

    /// The element of 0-based rank `rank` in increasing order (Hoare-partition quickselect with a
    /// median-of-three pivot; reorders the buffer).
    static func select(_ a: UnsafeMutableBufferPointer<Float>, rank: Int) -> Float {
        var lo = 0, hi = a.count - 1
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            var x = a[lo], y = a[mid], z = a[hi]
            if x > y { swap(&x, &y) }
            if y > z { swap(&y, &z) }
            if x > y { swap(&x, &y) }
            let pivot = y
            var i = lo, j = hi
            while i <= j {
                while a[i] < pivot { i += 1 }
                while a[j] > pivot { j -= 1 }
                if i <= j { a.swapAt(i, j); i += 1; j -= 1 }
            }
            if rank <= j { hi = j } else if rank >= i { lo = i } else { return a[rank] }
        }
        return a[rank]
    }
}
