import MLCore

/// A binary mask γ̂ over a `GraftSpace`: one 0/1 tensor per graftable parameter (1 = take the
/// fine-tuned value). Values are Float 0/1 tensors, MLCore's form of a boolean tensor.
public struct GraftMask: Sendable, Equatable {
    /// Parameter names, in the space's order.
    public let names: [String]
    /// 0/1 per element, one tensor per name.
    public let values: [Tensor]

    /// A mask from its parts.
    /// - Precondition: one tensor per name; every element 0 or 1.
    public init(names: [String], values: [Tensor]) {
        require(names.count == values.count, "GraftMask: \(names.count) names for \(values.count) tensors")
        self.names = names
        self.values = values.map { $0.contiguous() }
    }

    /// All ones (the fine-tuned model) or all zeros (the pre-trained model) over `space`.
    public static func constant(_ selected: Bool, over space: GraftSpace) -> GraftMask {
        GraftMask(names: space.names, values: space.shapes.map { Tensor(shape: $0, repeating: selected ? 1 : 0) })
    }

    /// Shapes per name.
    public var shapes: [[Int]] { values.map(\.shape) }
    /// N.
    public var parameterCount: Int { values.reduce(0) { $0 + $1.count } }
    /// Σ γ̂, the number of selected (grafted) scalars.
    public var selectedCount: Int { values.reduce(0) { $0 + GraftMask.ones(in: $1) } }
    /// Σ γ̂ / N (0 for an empty space): the achieved sparsity.
    public var sparsity: Double { parameterCount == 0 ? 0 : Double(selectedCount) / Double(parameterCount) }

    /// Number of non-zero elements of a tensor.
    static func ones(in t: Tensor) -> Int {
        t.withUnsafeBufferPointer { b in b.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }
    }

    /// Selected count per transformer layer (`encoder.layer.K.`), with the layer's size; names
    /// outside the layers are grouped under -1.
    public func perLayer() -> [(layer: Int, selected: Int, total: Int)] {
        var table: [Int: (Int, Int)] = [:]
        for (name, v) in zip(names, values) {
            let layer = GraftMask.layerIndex(of: name) ?? -1
            let old = table[layer] ?? (0, 0)
            table[layer] = (old.0 + GraftMask.ones(in: v), old.1 + v.count)
        }
        return table.keys.sorted().map { ($0, table[$0]!.0, table[$0]!.1) }
    }

    /// K of a name `encoder.layer.K.…`, nil for other names.
    public static func layerIndex(of name: String) -> Int? {
        let prefix = "encoder.layer."
        guard name.hasPrefix(prefix) else { return nil }
        return Int(name.dropFirst(prefix.count).prefix { $0 != "." })
    }

    /// Checks that this mask was made for `space` (same names, same shapes).
    /// - Throws: `SkillLocalizationError.maskMismatch` naming the first differences.
    public func check(fits space: GraftSpace, file: String) throws {
        try GraftMask.checkSameLayout(names, shapes, space.names, space.shapes, file: file, what: "the model's graftable parameters")
    }

    /// Checks two layouts (names and shapes) are the same.
    static func checkSameLayout(_ names: [String], _ shapes: [[Int]], _ otherNames: [String], _ otherShapes: [[Int]],
                                file: String, what: String) throws {
        var problems: [String] = []
        let mine = Dictionary(zip(names, shapes), uniquingKeysWith: { a, _ in a })
        let theirs = Dictionary(zip(otherNames, otherShapes), uniquingKeysWith: { a, _ in a })
        let missing = otherNames.filter { mine[$0] == nil }, extra = names.filter { theirs[$0] == nil }
        if !missing.isEmpty { problems.append("\(missing.count) parameters missing (first: \(missing[0]))") }
        if !extra.isEmpty { problems.append("\(extra.count) parameters not in \(what) (first: \(extra[0]))") }
        for name in names where theirs[name] != nil && theirs[name]! != mine[name]! {
            problems.append("\(name): shape \(mine[name]!) but \(what) have \(theirs[name]!)")
            break
        }
        if !problems.isEmpty {
            throw SkillLocalizationError.maskMismatch(file: file, detail: problems.joined(separator: "; "))
        }
    }
}
