import Foundation
import XCTest
@testable import MLCore
@testable import SkillLocalization

/// A tiny random BERT classifier (2 layers, width 8, no dropout) and a fine-tuned copy: Δ is random
/// on the transformer layers and zero elsewhere, as `graft finetune` leaves it.
struct TinyPair {
    static let config = BertConfig(vocabularySize: 13, hiddenSize: 8, layers: 2, heads: 2, intermediateSize: 12,
                                   maxPositions: 8, hiddenDropout: 0, attentionDropout: 0)
    let model: BertClassifier
    let space: GraftSpace
    let parameters: [Parameter]
    /// Token ids [4, 5] and attention mask, and the labels of the 4 texts.
    let ids = NDArray<Int32>([2, 5, 7, 1, 3, 3, 9, 4, 0, 0, 6, 12, 11, 8, 10, 4, 4, 4, 2, 0], shape: [4, 5])
    let mask = NDArray<Int32>([1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0], shape: [4, 5])
    let labels: [Int32] = [0, 1, 1, 0]

    init(deltaScale: Float = 0.3) throws {
        let encoder = BertEncoder(config: TinyPair.config, factory: ParameterFactory(seed: 11))
        model = BertClassifier(encoder: encoder, labels: 2, input: .mean, factory: ParameterFactory(seed: 12))
        model.classifier.weight.value = model.classifier.weight.value * 100  // logits of order 1, not 0.02
        var rng = RandomGenerator(seed: 13)
        var pre: [String: Tensor] = [:], ft: [String: Tensor] = [:]
        let names = model.parameters.map(\.name).filter(GraftSpace.isGraftable)
        for p in model.parameters where GraftSpace.isGraftable(p.name) {
            pre[p.name] = p.value
            ft[p.name] = p.value + Tensor.normal(p.value.shape, std: deltaScale, using: &rng)
        }
        space = try GraftSpace(names: names, pretrained: pre, finetuned: ft)
        let byName = model.namedParameters
        parameters = names.map { byName[$0]! }
        for p in model.parameters { p.isTrainable = GraftSpace.isGraftable(p.name) }
    }

    /// Logits [4, 2] under the model's current parameters.
    func logits() -> Tensor { withoutGradient { model(inputIds: ids, attentionMask: mask).value } }

    /// Mean cross-entropy of rows `rows` under the current parameters (differentiable).
    func loss(_ rows: [Int]) -> Variable {
        let t = ids.shape[1]
        let idRows = NDArray<Int32>(rows.flatMap { r in (0..<t).map { ids[r, $0] } }, shape: [rows.count, t])
        let maskRows = NDArray<Int32>(rows.flatMap { r in (0..<t).map { mask[r, $0] } }, shape: [rows.count, t])
        return Variable.crossEntropy(model(inputIds: idRows, attentionMask: maskRows),
                                     targets: NDArray(rows.map { labels[$0] }, shape: [rows.count]))
    }
}
