/// Optimizers update `Parameter` values in place from their accumulated gradients, group by group
/// (PyTorch's torch.optim semantics: a parameter without a gradient is skipped and gets no state).

/// Parameters that share optimizer settings (torch's `param_groups` entries).
public struct ParameterGroup: @unchecked Sendable {
    /// A label for logs and reports (e.g. "decay", "no_decay").
    public var name: String
    /// The parameters, updated in this order.
    public var parameters: [Parameter]
    /// The learning rate of the next step (schedules set it from `baseLearningRate`).
    public var learningRate: Float
    /// The learning rate the group was created with (torch's `initial_lr`), the base of schedules.
    public var baseLearningRate: Float
    /// L2 penalty (Adam, SGD) or decoupled decay (AdamW) coefficient.
    public var weightDecay: Float
    /// A frozen group is skipped by `step()` (its parameters keep their values and state).
    public var isFrozen: Bool

    /// A group of `parameters` with learning rate `learningRate` and weight decay `weightDecay`.
    public init(_ parameters: [Parameter], name: String = "", learningRate: Float, weightDecay: Float = 0,
                isFrozen: Bool = false) {
        self.name = name
        self.parameters = parameters
        self.learningRate = learningRate
        self.baseLearningRate = learningRate
        self.weightDecay = weightDecay
        self.isFrozen = isFrozen
    }

    /// Whether the usual fine-tuning recipe exempts `parameter` from weight decay: biases and
    /// normalisation weights, i.e. rank ≤ 1 tensors and names containing "norm" (any case, so
    /// "LayerNorm" too) — as Hugging Face's Trainer does (get_decay_parameter_names: no decay for
    /// LayerNorm layers and "bias" parameters).
    public static func isExemptFromWeightDecay(_ parameter: Parameter) -> Bool {
        parameter.value.rank <= 1 || parameter.name.lowercased().contains("norm") || parameter.name.hasSuffix("bias")
    }

    /// Two groups of the trainable `parameters`: "decay" (weight decay `weightDecay`) and "no_decay"
    /// (weight decay 0: see `isExemptFromWeightDecay`), both with `learningRate`. Empty groups are
    /// kept so indices are stable ([decay, no_decay]).
    public static func decayAndNoDecay(_ parameters: [Parameter], learningRate: Float,
                                       weightDecay: Float) -> [ParameterGroup] {
        let trainable = parameters.filter(\.isTrainable)
        return [ParameterGroup(trainable.filter { !isExemptFromWeightDecay($0) }, name: "decay",
                               learningRate: learningRate, weightDecay: weightDecay),
                ParameterGroup(trainable.filter(isExemptFromWeightDecay), name: "no_decay",
                               learningRate: learningRate, weightDecay: 0)]
    }

    /// `decayAndNoDecay` over a module's parameters.
    public static func decayAndNoDecay(_ module: some Module, learningRate: Float, weightDecay: Float) -> [ParameterGroup] {
        decayAndNoDecay(module.parameters, learningRate: learningRate, weightDecay: weightDecay)
    }
}

/// A first-order optimizer over parameter groups.
public protocol Optimizer: AnyObject {
    /// The parameter groups; learning rates, weight decay and the frozen flag may be changed between steps.
    var groups: [ParameterGroup] { get set }
    /// One update of every trainable parameter (with a gradient) in every group that is not frozen.
    func step()
    /// Forgets every parameter's gradient (torch's `zero_grad(set_to_none=True)`).
    func zeroGradients()
    /// The per-parameter state (step count and moment buffers, under torch's buffer names) keyed by
    /// parameter name, for saving a run (torch's `optimizer.state_dict()["state"]`); parameters that
    /// have not been updated yet have no entry.
    func stateDict() -> [String: OptimizerParameterState]
    /// Restores state saved by `stateDict()` into the parameters of the same names.
    /// - Throws: `TrainingError.optimizerStateMismatch` for a name that no group holds, a buffer
    ///   missing or unexpected, or a buffer whose element count differs from its parameter's.
    func loadStateDict(_ state: [String: OptimizerParameterState]) throws
}

/// The saved optimizer state of one parameter.
public struct OptimizerParameterState: Sendable {
    /// Updates applied to the parameter so far (Adam's bias-correction t; SGD: whether the momentum
    /// buffer exists yet).
    public var step: Int
    /// Moment buffers by torch's names (`exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`, `momentum_buffer`),
    /// each of the parameter's shape.
    public var buffers: [String: Tensor]

    public init(step: Int, buffers: [String: Tensor]) {
        self.step = step
        self.buffers = buffers
    }
}

extension Optimizer {
    public func zeroGradients() {
        for group in groups { for p in group.parameters { p.zeroGradient() } }
    }

    /// Every parameter of every group.
    public var allParameters: [Parameter] { groups.flatMap(\.parameters) }

    /// Sets each group's learning rate to `schedule` at `step` from the group's base learning rate.
    public func setLearningRates(_ schedule: LearningRateSchedule, step: Int) {
        for i in groups.indices {
            groups[i].learningRate = schedule.learningRate(base: groups[i].baseLearningRate, step: step)
        }
    }

    /// The parameters `step()` updates in `group`: trainable, with a gradient, in a group not frozen;
    /// each with its value made contiguous and uniquely owned and its gradient contiguous.
    func updatable(_ group: ParameterGroup) -> [Parameter] {
        guard !group.isFrozen else { return [] }
        return group.parameters.filter { p in
            guard p.isTrainable, let g = p.grad else { return false }
            require(g.shape == p.value.shape, "optimizer: gradient \(g.shape) for parameter \(p.name) of shape \(p.value.shape)")
            return true
        }
    }
}

/// `Optimizer.stateDict()` over a state table whose buffers are named `names` (in buffer order).
func exportOptimizerState(_ state: [ObjectIdentifier: OptimizerState], groups: [ParameterGroup],
                          names: [String]) -> [String: OptimizerParameterState] {
    var result: [String: OptimizerParameterState] = [:]
    for p in groups.flatMap(\.parameters) {
        guard let s = state[ObjectIdentifier(p)] else { continue }
        var buffers: [String: Tensor] = [:]
        for (name, buffer) in zip(names, s.buffers) {
            buffers[name] = Tensor(Array(UnsafeBufferPointer(start: buffer, count: s.count)), shape: p.value.shape)
        }
        result[p.name] = OptimizerParameterState(step: s.step, buffers: buffers)
    }
    return result
}

/// `Optimizer.loadStateDict(_:)` into a state table whose buffers are named `names`.
func importOptimizerState(_ saved: [String: OptimizerParameterState], into state: inout [ObjectIdentifier: OptimizerState],
                          groups: [ParameterGroup], names: [String]) throws {
    let byName = Dictionary(groups.flatMap(\.parameters).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    var problems: [String] = []
    var restored: [(Parameter, OptimizerState)] = []
    for (name, entry) in saved.sorted(by: { $0.key < $1.key }) {
        guard let p = byName[name] else { problems.append("no parameter '\(name)'"); continue }
        let missing = names.filter { entry.buffers[$0] == nil }, unexpected = entry.buffers.keys.filter { !names.contains($0) }
        if !missing.isEmpty || !unexpected.isEmpty {
            problems.append("'\(name)': buffers \(entry.buffers.keys.sorted()), expected \(names)")
            continue
        }
        if let bad = names.first(where: { entry.buffers[$0]!.count != p.value.count }) {
            problems.append("'\(name)': \(bad) has \(entry.buffers[bad]!.count) values for a parameter of \(p.value.count)")
            continue
        }
        let s = OptimizerState(count: p.value.count, buffers: names.count)
        s.step = entry.step
        for (i, n) in names.enumerated() {
            let t = entry.buffers[n]!.contiguous()
            t.withUnsafeBufferPointer { s.buffers[i].update(from: $0.baseAddress!, count: t.count) }
        }
        restored.append((p, s))
    }
    guard problems.isEmpty else { throw TrainingError.optimizerStateMismatch(problems) }
    for (p, s) in restored { state[ObjectIdentifier(p)] = s }
}

/// Per-parameter optimizer state (moment buffers), created on a parameter's first update.
final class OptimizerState {
    var step = 0
    var buffers: [UnsafeMutablePointer<Float>]
    let count: Int

    init(count: Int, buffers n: Int) {
        self.count = count
        buffers = (0..<n).map { _ in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(count, 1))
            p.initialize(repeating: 0, count: count)
            return p
        }
    }

    deinit { for b in buffers { b.deallocate() } }
}

/// Calls `body` with a parameter's value and gradient as contiguous buffers (the value writable in
/// place; copied first only when shared or not contiguous).
@inline(__always)
func withParameterBuffers(_ p: Parameter, _ body: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int) -> Void) {
    let g = p.grad!.contiguous()
    withExtendedLifetime(g) {
        let pg = UnsafePointer(g.storage.pointer + g.offset)
        p.value.withUnsafeMutableBufferPointer { v in body(v.baseAddress!, pg, v.count) }
    }
}

/// Clips the gradients of `parameters` to global L2 norm `maxNorm` (torch.nn.utils.clip_grad_norm_):
/// the total norm ‖g‖ = √(Σ over parameters of ‖g_p‖²) is computed over every gradient; when
/// clip = maxNorm / (‖g‖ + 1e-6) < 1, every gradient is multiplied by clip (in place).
/// - Returns: the total norm before clipping (parameters without a gradient are ignored).
@discardableResult
public func clipGradientNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
    var squares = 0.0
    for p in parameters { if let g = p.grad { g.withUnsafeBufferPointer { squares += sumOfSquares($0.baseAddress!, $0.count) } } }
    let total = Float(squares.squareRoot())
    let clip = maxNorm / (total + 1e-6)
    if clip < 1 {
        for p in parameters where p.grad != nil {
            p.grad!.withUnsafeMutableBufferPointer { scaleInPlace($0.baseAddress!, $0.count, by: clip) }
        }
    }
    return total
}
