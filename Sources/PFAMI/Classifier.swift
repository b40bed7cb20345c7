import Foundation
import MLCore

/// PFAMI_NNs (Fu et al. 2023, §4.3; wjfu99/MIA-Gen attack_model_PFAMI.py `attack_model_training`): a
/// small CNN on the J×K fluctuation matrix D, trained on a shadow model's members (1) and hold-out (0)
/// and applied to the target's records. The reference trains a ResNet-18 full-batch (Adam, lr 0.01,
/// cross-entropy over two classes); here a two-layer CNN, scaled to CPU: conv 3×3 (1 → w), ReLU,
/// conv 3×3 (w → w), ReLU, global average pooling, linear (w → 1), one logit trained with binary
/// cross-entropy full-batch with Adam. D is standardised by the shadow features' mean and standard
/// deviation (one scalar each, stored with the model) before the network; the score is the logit.
/// With `sortProbes` each neighbour's column of D is sorted over the probes first: for a VAE the probes
/// are exchangeable repeated passes, and the reference code meant to sort them (its `sort` returns a
/// sorted copy that is dropped, so its published numbers are unsorted; `sortProbes` false keeps that).
public final class FluctuationClassifier: Module {
    let conv1: Conv2d, conv2: Conv2d, head: Linear
    /// The standardisation of D learnt from the shadow features.
    public private(set) var mean: Float = 0, scale: Float = 1
    /// Whether D[·, k] is sorted ascending over the probes j before the network.
    public let sortProbes: Bool

    /// Parameters `conv1.*`, `conv2.*`, `head.*` of width `width`.
    public init(width: Int = 8, sortProbes: Bool = false, factory: ParameterFactory) {
        self.sortProbes = sortProbes
        conv1 = Conv2d("conv1", inChannels: 1, outChannels: width, kernel: (3, 3), padding: .all(1), factory: factory)
        conv2 = Conv2d("conv2", inChannels: width, outChannels: width, kernel: (3, 3), padding: .all(1), factory: factory)
        head = Linear("head", inFeatures: width, outFeatures: 1, factory: factory)
    }

    /// conv1, conv2, head (weights and biases).
    public var parameters: [Parameter] { conv1.parameters + conv2.parameters + head.parameters }

    /// D of a block, each column sorted over the probes when `sortProbes`: [N·J·K] as `fluctuation()`.
    func features(_ block: FeatureBlock) -> [Float] {
        var d = block.fluctuation()
        guard sortProbes else { return d }
        let j = block.probeCount, k = block.neighbourCount
        var column = [Float](repeating: 0, count: j)
        for n in 0..<block.count {
            for q in 0..<k {
                for p in 0..<j { column[p] = d[(n * j + p) * k + q] }
                column.sort()
                for p in 0..<j { d[(n * j + p) * k + q] = column[p] }
            }
        }
        return d
    }

    /// The standardised D of a block as [N, 1, J, K].
    func input(_ block: FeatureBlock) -> Tensor {
        let d = features(block).map { ($0 - mean) / scale }
        return Tensor(d, shape: [block.count, 1, block.probeCount, block.neighbourCount])
    }

    /// Logits [N] (higher = member).
    func logits(_ x: Variable) -> Variable {
        let h = conv2(conv1(x).relu()).relu().mean(axes: [2, 3])
        return head(h).reshaped([x.shape[0]])
    }

    /// Trains on the shadow block (labels 1 member, 0 hold-out) for `steps` full-batch Adam steps.
    /// - Throws: `PFAMIError.emptySet` when the shadow block lacks a class, `TrainingError`.
    public func train(shadow: FeatureBlock, steps: Int, learningRate: Float = 1e-2) throws -> TrainingResult {
        let positives = shadow.labels.reduce(0, +)
        guard positives > 0, positives < shadow.count else {
            throw PFAMIError.emptySet(what: "the shadow features' \(positives == 0 ? "members" : "hold-out records")", reason: "PFAMI_NNs needs both classes to train")
        }
        let d = features(shadow).map(Double.init)
        let m = d.reduce(0, +) / Double(d.count)
        let s = (d.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(d.count)).squareRoot()
        mean = Float(m)
        scale = s > 0 && s.isFinite ? Float(s) : 1
        let x = Variable(input(shadow)), y = Variable(Tensor(shadow.labels.map(Float.init), shape: [shadow.count]))
        let loop = try TrainingLoop(config: TrainingConfig(length: .steps(steps)), optimizer: Adam(parameters, learningRate: learningRate))
        return try loop.run(TrainingData<Void>.stream { _, _ in () }) { _, _ in
            StepLoss(Variable.binaryCrossEntropyWithLogits(logits(x), targets: y))
        }
    }

    /// One score per record of `block`: the logit (higher = member), with the shadow's standardisation.
    public func scores(_ block: FeatureBlock) -> [Double] {
        withoutGradient { logits(Variable(input(block))).value.scalars.map(Double.init) }
    }
}
