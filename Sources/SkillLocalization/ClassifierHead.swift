import MLCore

/// Which classification head the pre-trained, fine-tuned and grafted models share (Docs/graft.md,
/// "Heads"). The head is never part of the graftable set; all three models read the fine-tuned
/// checkpoint's head, as the reference's `Grafting.py` loads `<model>/classifier`.
public enum HeadKind: String, CaseIterable, Sendable {
    /// A fixed zero-shot verbaliser (default): rows are the L2-normalised sentence embeddings of one
    /// label sentence per class, logits = scale · cos(pooled, row) (`Verbaliser`). It is not trained,
    /// so the pre-trained model is a zero-shot classifier and fine-tuning has real loss to reduce — the
    /// analogue of the reference's untrained label words (`TYPE=prompt uselmhead=1 fixhead=True`).
    case verbaliser
    /// A linear head initialised N(0, 0.02) and trained jointly with the encoder layers; the trained
    /// head then serves all three models (the reference's classifier-head variant).
    case linear
    /// A linear probe (L2-regularised logistic regression) fitted on frozen pre-trained features,
    /// then fixed while the encoder is fine-tuned (this project's first adaptation; it leaves
    /// fine-tuning little to learn at k = 16).
    case probe

    /// Whether the head reads L2-normalised pooled features (cosine logits).
    public var normalizesFeatures: Bool { self == .verbaliser }

    /// Whether fine-tuning trains the head together with the encoder layers.
    public var trainedWithEncoder: Bool { self == .linear }
}

/// The zero-shot verbaliser head: W = scale · R, b = 0, applied to L2-normalised pooled features, so
///
///     logits[i, c] = scale · ⟨x_i / ‖x_i‖, r_c⟩ = scale · cos(x_i, r_c)
///
/// where r_c is the L2-normalised sentence embedding (all-MiniLM-L6-v2's: attention-masked mean, then
/// normalisation) of class c's label sentence under the pre-trained encoder. The scale turns cosines
/// in [−1, 1] into logits a softmax can use: the cosines of a tweet to two label sentences differ by
/// ~0.05, so scale 1 would give probabilities near 0.5 and almost no gradient; 20 (`defaultScale`,
/// the temperature 0.05 of sentence-transformers' MultipleNegativesRankingLoss) gives logit gaps of ~1.
public enum Verbaliser {
    /// The default scale: 20 (temperature 0.05).
    public static let defaultScale: Float = 20

    /// One label sentence per class of `task`, in label order.
    public static func sentences(for task: SkillTask) -> [String] {
        switch task {
        case .polarity: return ["This tweet is negative.", "This tweet is positive."]
        case .subjectivity: return ["This tweet expresses an opinion.", "This tweet is neutral."]
        }
    }

    /// Sets `head` to the verbaliser of `embeddings`: weight = scale · embeddings / ‖row‖, bias = 0.
    /// - Parameter embeddings: [C, D] label-sentence embeddings (normalised here again).
    /// - Precondition: `embeddings` is [C, D] with C, D the head's outputs and inputs.
    public static func install(on head: Linear, embeddings: Tensor, scale: Float = defaultScale) {
        require(embeddings.shape == [head.outFeatures, head.inFeatures],
                "Verbaliser: embeddings \(embeddings.shape) for a head [\(head.outFeatures), \(head.inFeatures)]")
        head.weight.value = withoutGradient { Variable(embeddings).l2Normalized().value } * scale
        if let bias = head.bias { bias.value = Tensor(shape: bias.value.shape, repeating: 0) }
    }

    /// logits = head(pooled / ‖pooled‖) — with a verbaliser installed, scale · cosine.
    /// - Parameter pooled: [B, D] pooled features (differentiable).
    /// - Returns: [B, C].
    public static func logits(pooled: Variable, head: Linear) -> Variable {
        head(pooled.l2Normalized())
    }
}
