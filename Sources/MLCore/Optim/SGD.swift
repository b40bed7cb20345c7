/// Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay
/// (torch.optim.SGD, torch/optim/sgd.py, single-tensor path, maximize off):
///
///     d = g + wd·θ
///     b = d (first step), else b = μ·b + (1 − dampening)·d      (when μ ≠ 0)
///     d = d + μ·b (Nesterov) or b                               (when μ ≠ 0)
///     θ = θ − lr·d
///
/// Updates run in place on each parameter's buffer (fused, SIMD, threaded for large tensors).
public final class SGD: Optimizer {
    public var groups: [ParameterGroup]
    /// μ (0: plain SGD, no buffer).
    public let momentum: Float
    /// The fraction of the new direction left out of the momentum buffer (torch's `dampening`, default 0).
    public let dampening: Float
    /// Nesterov momentum (Sutskever et al. 2013, as torch formulates it).
    public let nesterov: Bool
    private var state: [ObjectIdentifier: OptimizerState] = [:]

    /// SGD over `groups` (each with its learning rate and weight decay).
    /// - Precondition: Nesterov needs μ > 0 and dampening 0 (as torch).
    public init(_ groups: [ParameterGroup], momentum: Float = 0, dampening: Float = 0, nesterov: Bool = false) {
        require(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov momentum requires a momentum and zero dampening")
        self.groups = groups
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
    }

    /// SGD over one group of `parameters`.
    public convenience init(_ parameters: [Parameter], learningRate: Float, momentum: Float = 0, dampening: Float = 0,
                            weightDecay: Float = 0, nesterov: Bool = false) {
        self.init([ParameterGroup(parameters, learningRate: learningRate, weightDecay: weightDecay)],
                  momentum: momentum, dampening: dampening, nesterov: nesterov)
    }

    public func stateDict() -> [String: OptimizerParameterState] {
        exportOptimizerState(state, groups: groups, names: ["momentum_buffer"])
    }

    public func loadStateDict(_ saved: [String: OptimizerParameterState]) throws {
        try importOptimizerState(saved, into: &state, groups: groups, names: ["momentum_buffer"])
    }

    public func step() {
        for group in groups {
            for p in updatable(group) {
                var buffer: UnsafeMutablePointer<Float>?
                var first = false
                if momentum != 0 {
                    let s = state[ObjectIdentifier(p)] ?? {
                        let fresh = OptimizerState(count: p.value.count, buffers: 1)
                        state[ObjectIdentifier(p)] = fresh
                        return fresh
                    }()
                    first = s.step == 0
                    s.step += 1
                    buffer = s.buffers[0]
                }
                withParameterBuffers(p) { value, grad, n in
                    sgdUpdate(value, grad, buffer, n, learningRate: group.learningRate, weightDecay: group.weightDecay,
                              momentum: momentum, dampening: dampening, nesterov: nesterov, firstStep: first)
                }
            }
        }
    }
}
