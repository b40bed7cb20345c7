import Foundation
import MLCore

/// Model-level benchmark cases (peer: Benchmarks/peers/torch_models_bench.py, same shapes and
/// weights). Throughput unit "Ktok/s": thousands of input tokens per second.
enum ModelBench {
    /// Token ids [B, T] from a fixed seed (ids 1000..<29000, no padding), shared with the peer by
    /// construction: the peer draws the same ids with the same PCG32 stream.
    static func ids(batch: Int, tokens: Int, seed: UInt64) -> NDArray<Int32> {
        var g = RandomGenerator(seed: seed)
        return NDArray((0..<(batch * tokens)).map { _ in Int32(1000 + g.nextInt(below: 28000)) }, shape: [batch, tokens])
    }

    /// BERT (MiniLM-L6) cases: inference forward of 32×128 tokens, and one training step (forward,
    /// cross-entropy on a 3-class pooler head, backward) of 8×128 tokens.
    static func bert(checkpoint path: String,
                     record: (String, Double, String, [(String, () -> Void)]) -> Void) throws {
        let encoder = try BertEncoder.load(from: Checkpoint(path: path))
        let inference = ids(batch: 32, tokens: 128, seed: 11)
        let mask = NDArray<Int32>(shape: [32, 128], repeating: 1)
        record("bert", Double(32 * 128) * 1e6, "Ktok/s", [("bert_minilm_forward_b32_t128", {
            _ = withoutGradient { encoder(inputIds: inference, attentionMask: mask).lastHiddenState }
        })])
        let model = BertClassifier(encoder: encoder, labels: 3, input: .pooler, dropout: 0, factory: ParameterFactory(seed: 3))
        let train = ids(batch: 8, tokens: 128, seed: 12)
        let trainMask = NDArray<Int32>(shape: [8, 128], repeating: 1)
        let labels = NDArray<Int32>([0, 1, 2, 0, 1, 2, 0, 1], shape: [8])
        record("bert", Double(8 * 128) * 1e6, "Ktok/s", [("bert_minilm_train_step_b8_t128", {
            model.zeroGradients()
            let logits = model(inputIds: train, attentionMask: trainMask)
            let loss = Variable.crossEntropy(logits, targets: labels)
            loss.backward()
        })])
    }

    /// EfficientNet-Lite0 inference (`predict`, logits only) on a batch of 8 images of 224² (uniform
    /// noise: the time does not depend on the values); throughput in images/s. Peer: the same network
    /// and weights in PyTorch eager mode, Benchmarks/peers/efficientnet_torch_bench.py.
    static func efficientnet(checkpoint path: String,
                             record: (String, Double, String, [(String, () -> Void)]) -> Void) throws {
        let model = try EfficientNetLite(path: path)
        var rng = RandomGenerator(seed: 2)
        let images = Tensor.uniform([8, 3, 224, 224], low: -1, high: 1, using: &rng)
        record("efficientnet", 8e9, "images/s", [("efficientnet_lite0_b8", { _ = model.predict(images) })])
    }
}
