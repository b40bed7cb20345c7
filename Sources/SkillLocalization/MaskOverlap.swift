import MLCore

/// Overlap of two binary masks over the same parameters: |a ∧ b|, |a ∨ b|, Jaccard |a∧b|/|a∨b| and
/// the overlap coefficient |a∧b| / min(|a|, |b|). Both are 0 when their denominator is 0 (two empty
/// masks share nothing). Source: Docs/graft.md; Panigrahi et al. 2023; the reference has no overlap code.
public struct MaskOverlap: Sendable, Equatable {
    /// |a|, |b|, |a ∧ b|, |a ∨ b|, and the parameter count.
    public var sizeA: Int, sizeB: Int, intersection: Int, union: Int, total: Int

    /// |a∧b| / |a∨b|, 0 when both are empty.
    public var jaccard: Double { union == 0 ? 0 : Double(intersection) / Double(union) }
    /// |a∧b| / min(|a|, |b|), 0 when either is empty.
    public var overlapCoefficient: Double {
        let m = min(sizeA, sizeB)
        return m == 0 ? 0 : Double(intersection) / Double(m)
    }

    /// The overall overlap and one per transformer layer (key K of `encoder.layer.K`, −1 for other
    /// names).
    /// - Throws: `SkillLocalizationError.maskMismatch` when the masks' names or shapes differ.
    public static func compare(_ a: GraftMask, _ b: GraftMask, fileB: String = "second mask")
        throws -> (total: MaskOverlap, perLayer: [Int: MaskOverlap]) {
        try GraftMask.checkSameLayout(b.names, b.shapes, a.names, a.shapes, file: fileB, what: "the first mask")
        let index = Dictionary(uniqueKeysWithValues: b.names.enumerated().map { ($1, $0) })
        var total = MaskOverlap(sizeA: 0, sizeB: 0, intersection: 0, union: 0, total: 0)
        var layers: [Int: MaskOverlap] = [:]
        for (k, name) in a.names.enumerated() {
            var part = MaskOverlap(sizeA: 0, sizeB: 0, intersection: 0, union: 0, total: a.values[k].count)
            a.values[k].withUnsafeBufferPointer { x in
                b.values[index[name]!].withUnsafeBufferPointer { y in
                    for i in 0..<x.count {
                        let p = x[i] != 0, q = y[i] != 0
                        if p { part.sizeA += 1 }
                        if q { part.sizeB += 1 }
                        if p && q { part.intersection += 1 }
                        if p || q { part.union += 1 }
                    }
                }
            }
            total.add(part)
            layers[GraftMask.layerIndex(of: name) ?? -1, default: MaskOverlap(sizeA: 0, sizeB: 0, intersection: 0, union: 0, total: 0)].add(part)
        }
        return (total, layers)
    }

    mutating func add(_ other: MaskOverlap) {
        sizeA += other.sizeA; sizeB += other.sizeB; intersection += other.intersection
        union += other.union; total += other.total
    }
}

extension MaskOverlap: Encodable {
    enum CodingKeys: String, CodingKey {
        case sizeA, sizeB, intersection, union, parameters, jaccard, overlapCoefficient
    }

    /// Encodes the counts (`total` as `parameters`) and both ratios, for reports (`graft overlap`'s
    /// `metrics.pairs`, snake_case keys: `size_a`, `overlap_coefficient`, ...).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sizeA, forKey: .sizeA)
        try c.encode(sizeB, forKey: .sizeB)
        try c.encode(intersection, forKey: .intersection)
        try c.encode(union, forKey: .union)
        try c.encode(total, forKey: .parameters)
        try c.encode(jaccard, forKey: .jaccard)
        try c.encode(overlapCoefficient, forKey: .overlapCoefficient)
    }
}
