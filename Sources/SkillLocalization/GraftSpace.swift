import MLCore

/// The graftable parameters of a pre-trained / fine-tuned pair: their names, the pre-trained and
/// fine-tuned values and Δ = θ_ft − θ_pre, in one fixed order (the model's parameter order).
///
/// Only the transformer layers are graftable (`encoder.layer.*`); embeddings, the pooler and the
/// classification head are excluded and stay fixed. Source: reference `graft_trainer.py`
/// (`select_trainable_parameters` picks the encoder layers; `create_binary_masks` builds Δ as
/// `grad_directions`).
public struct GraftSpace: Sendable {
    /// Whether a parameter with checkpoint key `name` is graftable (a transformer layer's).
    public static func isGraftable(_ name: String) -> Bool { name.hasPrefix("encoder.layer.") }

    /// The graftable names, in order.
    public let names: [String]
    /// θ_pre per name.
    public let pretrained: [Tensor]
    /// θ_ft per name.
    public let finetuned: [Tensor]
    /// Δ = θ_ft − θ_pre per name.
    public let delta: [Tensor]

    /// The space over `names` (every one must be in both dictionaries, with equal shapes).
    /// - Throws: `SkillLocalizationError.modelMismatch` listing missing names and shape differences.
    public init(names: [String], pretrained: [String: Tensor], finetuned: [String: Tensor],
                pretrainedFile: String = "pre-trained", finetunedFile: String = "fine-tuned") throws {
        var problems: [String] = []
        for name in names {
            guard let a = pretrained[name] else { problems.append("\(name) missing from the pre-trained model"); continue }
            guard let b = finetuned[name] else { problems.append("\(name) missing from the fine-tuned model"); continue }
            if a.shape != b.shape { problems.append("\(name): shape \(a.shape) vs \(b.shape)") }
        }
        guard problems.isEmpty else {
            throw SkillLocalizationError.modelMismatch(pretrained: pretrainedFile, finetuned: finetunedFile,
                                                       detail: problems.prefix(8).joined(separator: "; ")
                                                           + (problems.count > 8 ? "; and \(problems.count - 8) more" : ""))
        }
        self.names = names
        self.pretrained = names.map { pretrained[$0]!.contiguous() }
        self.finetuned = names.map { finetuned[$0]!.contiguous() }
        delta = zip(self.finetuned, self.pretrained).map { $0 - $1 }
    }

    /// Shapes per name.
    public var shapes: [[Int]] { pretrained.map(\.shape) }
    /// N, the number of graftable scalars.
    public var parameterCount: Int { pretrained.reduce(0) { $0 + $1.count } }

    /// θ(S) = θ_pre + γ(S) ⊙ Δ with the continuous γ of `mask` (the model used for the mask
    /// gradient). Source: reference `interpolate_model()` (no rounding).
    public func interpolated(_ mask: MaskScores) -> [Tensor] {
        (0..<names.count).map { pretrained[$0] + mask.gamma($0) * delta[$0] }
    }

    /// The grafted parameters for a binary mask: θ_ft where the mask is 1, θ_pre where it is 0,
    /// chosen per element (not θ_pre + γΔ, whose rounding would differ from θ_ft by an ulp), so a
    /// full mask gives the fine-tuned model exactly and an empty one the pre-trained model.
    /// - Precondition: `mask` has this space's names and shapes (`GraftMask.check(fits:)`).
    public func grafted(_ mask: GraftMask) -> [Tensor] {
        (0..<names.count).map { Tensor.select(mask.values[$0], finetuned[$0], pretrained[$0]) }
    }

    /// Writes `values` (one per name, in order) into the matching model parameters.
    /// - Precondition: `parameters` are the model's parameters for `names`, in order, same shapes.
    public static func assign(_ values: [Tensor], to parameters: [Parameter]) {
        require(values.count == parameters.count, "GraftSpace.assign: \(values.count) values for \(parameters.count) parameters")
        for (p, v) in zip(parameters, values) {
            require(p.value.shape == v.shape, "GraftSpace.assign: \(p.name) has shape \(p.value.shape), value \(v.shape)")
            p.value = v
        }
    }
}
