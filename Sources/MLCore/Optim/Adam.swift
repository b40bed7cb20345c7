import Foundation

/// Adam (Kingma & Ba 2015) with torch.optim.Adam semantics (torch/optim/adam.py, single-tensor path):
/// at step t (counted per parameter),
///
///     g = g + wd·θ                                  (L2 penalty; AdamW instead decays θ = θ·(1 − lr·wd))
///     m = β₁m + (1 − β₁)g,  v = β₂v + (1 − β₂)g²
///     v̂ = max(v̂, v) with amsgrad, else v
///     θ = θ − lr/(1 − β₁ᵗ) · m / (√v̂ / √(1 − β₂ᵗ) + ε)      (ε outside the square root)
///
/// Updates run in place, one fused SIMD sweep per parameter (threaded for large tensors).
public class Adam: Optimizer {
    public var groups: [ParameterGroup]
    /// β₁, the decay of the first-moment average (default 0.9).
    public let beta1: Float
    /// β₂, the decay of the second-moment average (default 0.999).
    public let beta2: Float
    /// ε, added to √v̂ (outside the square root, as torch; default 1e-8).
    public let epsilon: Float
    /// AMSGrad (Reddi et al. 2018): divide by the running maximum of v̂ instead of v̂.
    public let amsgrad: Bool
    /// AdamW's decoupled weight decay (Loshchilov & Hutter 2019) instead of an L2 penalty.
    public let decoupledWeightDecay: Bool
    private var state: [ObjectIdentifier: OptimizerState] = [:]

    /// Adam over `groups` (each with its learning rate and weight decay, used as an L2 penalty).
    public convenience init(_ groups: [ParameterGroup], beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                            amsgrad: Bool = false) {
        self.init(groups: groups, beta1: beta1, beta2: beta2, epsilon: epsilon, amsgrad: amsgrad, decoupled: false)
    }

    init(groups: [ParameterGroup], beta1: Float, beta2: Float, epsilon: Float, amsgrad: Bool, decoupled: Bool) {
        self.groups = groups
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.amsgrad = amsgrad
        self.decoupledWeightDecay = decoupled
    }

    /// Adam over one group of `parameters` (torch's defaults: weight decay 0).
    public convenience init(_ parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9,
                            beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0, amsgrad: Bool = false) {
        self.init([ParameterGroup(parameters, learningRate: learningRate, weightDecay: weightDecay)],
                  beta1: beta1, beta2: beta2, epsilon: epsilon, amsgrad: amsgrad)
    }

    /// torch's names of the moment buffers, in buffer order.
    var bufferNames: [String] { amsgrad ? ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"] : ["exp_avg", "exp_avg_sq"] }

    public func stateDict() -> [String: OptimizerParameterState] {
        exportOptimizerState(state, groups: groups, names: bufferNames)
    }

    public func loadStateDict(_ saved: [String: OptimizerParameterState]) throws {
        try importOptimizerState(saved, into: &state, groups: groups, names: bufferNames)
    }

    public func step() {
        for group in groups {
            for p in updatable(group) {
                let s = state[ObjectIdentifier(p)] ?? {
                    let fresh = OptimizerState(count: p.value.count, buffers: amsgrad ? 3 : 2)
                    state[ObjectIdentifier(p)] = fresh
                    return fresh
                }()
                s.step += 1
                let t = Double(s.step), lr = Double(group.learningRate), wd = Double(group.weightDecay)
                let b1 = Double(beta1), b2 = Double(beta2)
                let scalars = AdamScalars(
                    decay: decoupledWeightDecay ? Float(1 - lr * wd) : 1,
                    l2: decoupledWeightDecay ? 0 : group.weightDecay,
                    oneMinusBeta1: Float(1 - b1), beta2: beta2, oneMinusBeta2: Float(1 - b2),
                    stepSize: Float(lr / (1 - Foundation.pow(b1, t))),
                    biasCorrection2Sqrt: Float((1 - Foundation.pow(b2, t)).squareRoot()),
                    epsilon: epsilon)
                withParameterBuffers(p) { value, grad, n in
                    adamUpdate(value, grad, s.buffers[0], s.buffers[1], amsgrad ? s.buffers[2] : nil, n, scalars)
                }
            }
        }
    }
}

/// AdamW (Loshchilov & Hutter 2019; torch.optim.AdamW): Adam with decoupled weight decay
/// θ ← θ·(1 − lr·wd) before the Adam update, instead of an L2 penalty in the gradient. torch's
/// default weight decay is 0.01.
public final class AdamW: Adam {
    /// AdamW over `groups` (each with its learning rate and decoupled weight decay).
    public convenience init(_ groups: [ParameterGroup], beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                            amsgrad: Bool = false) {
        self.init(groups: groups, beta1: beta1, beta2: beta2, epsilon: epsilon, amsgrad: amsgrad, decoupled: true)
    }

    /// AdamW over one group of `parameters` (torch's defaults: lr 1e-3, weight decay 0.01).
    public convenience init(_ parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9,
                            beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01, amsgrad: Bool = false) {
        self.init([ParameterGroup(parameters, learningRate: learningRate, weightDecay: weightDecay)],
                  beta1: beta1, beta2: beta2, epsilon: epsilon, amsgrad: amsgrad)
    }
}
