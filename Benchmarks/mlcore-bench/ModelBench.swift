import Dispatch
import Foundation
import MLCore
import PFAMI
import REB

/// Model-level benchmark cases (peer: Benchmarks/peers/torch_models_bench.py, same shapes and
/// weights). Each result carries the process's peak RSS after the case (`peak_rss_mib`).
enum ModelBench {
    /// Token ids [B, T] from a fixed seed (ids 1000..<29000, no padding), shared with the peer by
    /// construction: the peer draws the same ids with the same PCG32 stream.
    static func ids(batch: Int, tokens: Int, seed: UInt64) -> NDArray<Int32> {
        var g = RandomGenerator(seed: seed)
        return NDArray((0..<(batch * tokens)).map { _ in Int32(1000 + g.nextInt(below: 28000)) }, shape: [batch, tokens])
    }

    /// Whether any of `names` passes the `--filter` (a substring of the case name).
    static func wanted(_ names: [String], filter: String?) -> Bool {
        names.contains { filter == nil || $0.contains(filter!) }
    }

    /// BERT (MiniLM-L6) cases, in sentences/s (issue 4's shapes): inference forward of 32×128 tokens
    /// and of one 16-token sentence (the latency case), and one fine-tuning step of 16×64 tokens
    /// (forward, cross-entropy on a 3-class pooler head, backward, AdamW over all parameters). The
    /// checkpoint is loaded only when a case passes the filter, so a one-case process measures
    /// that case's peak RSS.
    static func bert(checkpoint path: String, filter: String?,
                     record: (String, Double, String, [(String, () -> Void)]) -> Void) throws {
        let names = ["bert_minilm_forward_b32_t128", "bert_minilm_forward_b1_t16", "bert_minilm_train_step_b16_t64"]
        guard wanted(names, filter: filter) else { return }
        let encoder = try BertEncoder.load(from: Checkpoint(path: path))
        for (name, batch, tokens, seed) in [(names[0], 32, 128, UInt64(11)), (names[1], 1, 16, 13)] {
            let inference = ids(batch: batch, tokens: tokens, seed: seed)
            let mask = NDArray<Int32>(shape: [batch, tokens], repeating: 1)
            record("bert", Double(batch) * 1e9, "sentences/s", [(name, {
                _ = withoutGradient { encoder(inputIds: inference, attentionMask: mask).lastHiddenState }
            })])
        }
        guard wanted([names[2]], filter: filter) else { return }
        let model = BertClassifier(encoder: encoder, labels: 3, input: .pooler, dropout: 0, factory: ParameterFactory(seed: 3))
        let optimizer = AdamW(model.trainableParameters, learningRate: 2e-5, weightDecay: 0.01)
        let train = ids(batch: 16, tokens: 64, seed: 12)
        let trainMask = NDArray<Int32>(shape: [16, 64], repeating: 1)
        let labels = NDArray<Int32>((0..<16).map { Int32($0 % 3) }, shape: [16])
        record("bert", 16e9, "sentences/s", [(names[2], {
            model.zeroGradients()
            let logits = model(inputIds: train, attentionMask: trainMask)
            Variable.crossEntropy(logits, targets: labels).backward()
            optimizer.step()
        })])
    }

    /// EfficientNet-Lite0 inference (`predict`, logits only) on a batch of 16 images of 224² (uniform
    /// noise: the time does not depend on the values); throughput in images/s. Peer: the same network
    /// and weights in PyTorch eager mode, Benchmarks/peers/efficientnet_torch_bench.py.
    static func efficientnet(checkpoint path: String, filter: String?,
                             record: (String, Double, String, [(String, () -> Void)]) -> Void) throws {
        guard wanted(["efficientnet_lite0_b16"], filter: filter) else { return }
        let model = try EfficientNetLite.load(path: path)
        var rng = RandomGenerator(seed: 2)
        let images = Tensor.uniform([16, 3, 224, 224], low: -1, high: 1, using: &rng)
        record("efficientnet", 16e9, "images/s", [("efficientnet_lite0_b16", { _ = model.predict(images) })])
    }

    /// One training step of EfficientNet-Lite0 as REB's DefectMaker self-supervision runs it (`reb
    /// ssl-train`): 28 images of 224² (4 normal images × 7 versions) through the backbone in training
    /// mode (batch statistics) up to its last stage, global average pool, REB's `SSLHead`
    /// [320 → 512 → 256 → 7] with BatchNorm and ReLU, sigmoid BCE on one-hot targets, backward through
    /// everything, SGD with momentum and weight decay; no stochastic depth. Peer: Benchmarks/peers/efficientnet_torch_bench.py
    /// (`efficientnet_lite0_train_step_b28`), the same shapes, weights and update.
    static func efficientnetTrainStep(checkpoint path: String, filter: String?,
                                      record: (String, Double, String, [(String, () -> Void)]) -> Void) throws {
        let name = "efficientnet_lite0_train_step_b28"
        guard wanted([name], filter: filter) else { return }
        let model = try DefectMakerSSL.loadBackbone(Checkpoint(path: path))   // no stochastic depth, as the peer
        let last = model.stageCount - 1
        let head = SSLHead(inFeatures: model.config.blocks.last!.outChannels, classes: 7, factory: ParameterFactory(seed: 4))
        let parameters = model.trainableParameters + head.trainableParameters
        let optimizer = SGD(parameters, learningRate: 0.03, momentum: 0.9, weightDecay: 3e-5)
        var rng = RandomGenerator(seed: 2)
        let images = Tensor.uniform([28, 3, 224, 224], low: -1, high: 1, using: &rng)
        let targets = Tensor(shape: [28, 7]) { i in i % 7 == (i / 7) % 7 ? 1 : 0 }
        let context = ForwardContext(training: true, seed: 5)
        // One step of MLCore's TrainingLoop (as DefectMakerSSL.train runs it).
        record("efficientnet", 28e9, "images/s", [(name, {
            let loop = try! TrainingLoop(config: TrainingConfig(length: .steps(1)), optimizer: optimizer)
            _ = try! loop.run(.stream { _, _ in () }, loss: { _, _ in
                let features = model.stageOutputs(Variable(images), context: context, stages: [last])[last]!.mean(axes: [2, 3])
                let logits = head(features, context: context)
                return StepLoss(Variable.binaryCrossEntropyWithLogits(logits, targets: Variable(targets)))
            })
        })])
    }

    /// One training step of PFAMI's generative models as `pfami train` runs it (peer:
    /// Benchmarks/peers/torch_pfami_bench.py, the same networks, shapes and update): a batch of 32
    /// greyscale 32×32 images (uniform noise), the model's own objective — the DDPM's ε-MSE at a random
    /// t per image (`pfami_ddpm_train_step_b32`, UNet width 16, the full run's) or the VAE's summed
    /// squared error + KL (`pfami_vae_train_step_b32`, width 32, latent 16) — backward, gradient-norm
    /// clipping at 1, Adam (lr 1e-3), through one step of MLCore's TrainingLoop; images/s.
    static func pfami(filter: String?, record: (String, Double, String, [(String, () -> Void)]) -> Void) {
        let names = ["pfami_ddpm_train_step_b32", "pfami_vae_train_step_b32"]
        var rng = RandomGenerator(seed: 3)
        let images = Tensor.uniform([32, 1, 32, 32], low: 0, high: 1, using: &rng)
        for (i, name) in names.enumerated() where wanted([name], filter: filter) {
            let model: ProbeModel = i == 0
                ? DiffusionUNet(config: DDPMConfig(channels: 1, size: 32, width: 16, groups: 8), factory: ParameterFactory(seed: 1))
                : ConvVAE(config: VAEConfig(channels: 1, size: 32, width: 32, latent: 16), factory: ParameterFactory(seed: 1))
            let optimizer = Adam(model.parameters, learningRate: 1e-3)
            var noise = RandomGenerator(seed: 4)
            record("pfami", 32e9, "images/s", [(name, {
                let loop = try! TrainingLoop(config: TrainingConfig(length: .steps(1), clipNorm: 1), optimizer: optimizer)
                _ = try! loop.run(.stream { _, _ in () }, loss: { _, _ in StepLoss(model.trainingLoss(images, rng: &noise)) })
            })])
        }
    }

    /// SmolLM2 inference (peer: Benchmarks/peers/torch_llama_bench.py, same ids and protocol), in
    /// tokens/s: `llama_prefill_P` runs a P-token prompt into a fresh KV cache (logits of the last
    /// position only); `llama_decode_N` times N greedy single-token steps after such a prefill (the
    /// prefill itself untimed). One warm-up, then the median of `repeats`.
    static func llama(checkpoint path: String, promptTokens: Int, decodeTokens: Int, repeats: Int,
                      filter: String?) throws -> [JSONValue] {
        let names = ["llama_prefill_\(promptTokens)", "llama_decode_\(decodeTokens)"]
        let wanted = names.map { Self.wanted([$0], filter: filter) }
        guard wanted.contains(true) else { return [] }
        let model = try LlamaDecoder.load(from: Checkpoint(path: path))
        let ids = NDArray((0..<promptTokens).map { Int32(100 + ($0 * 7919) % 48000) }, shape: [1, promptTokens])
        func seconds(since t0: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 }
        func prefill() -> (KVCache, Tensor) {
            let cache = model.makeCache()
            return (cache, model(ids, cache: cache, logits: .last).logits.value)
        }
        let runs: [() -> Double] = [
            { let t0 = DispatchTime.now().uptimeNanoseconds; _ = prefill(); return seconds(since: t0) },
            {
                let (cache, first) = prefill()
                var logits = first
                let t0 = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<decodeTokens {
                    let token = logits.reshaped([-1]).argmax(axis: 0).elements[0]
                    logits = model(NDArray([token], shape: [1, 1]), cache: cache, logits: .last).logits.value
                }
                return seconds(since: t0)
            },
        ]
        var results: [JSONValue] = []
        for (k, name) in names.enumerated() where wanted[k] {
            let tokens = Double(k == 0 ? promptTokens : decodeTokens)
            _ = runs[k]()  // warm-up
            let times = (0..<repeats).map { _ in runs[k]() }
            let median = times.sorted()[times.count / 2]
            FileHandle.standardError.write(Data(String(format: "%-28@ %10.2f ms  %8.2f tok/s\n", name as NSString,
                                                        median * 1e3, tokens / median).utf8))
            results.append(["name": .string(name), "group": "llama", "median_s": .double(median),
                            "throughput": .double(tokens / median), "unit": "tok/s", "repeats_s": JSONValue(times),
                            "peak_rss_mib": .double(ResourceUsage.peakResidentMiB)])
        }
        return results
    }
}
