/// Reverse-mode automatic differentiation over MLCore tensors.
///
/// A `Variable` holds a `Tensor` value and, when it was computed by a differentiable op from inputs
/// that require gradients, the node that records how to send a gradient back to those inputs. The
/// graph is the web of these nodes (no global tape): `backward()` walks it from the output in reverse
/// topological order, accumulates gradients into the leaves' `grad`, and frees the nodes.
///
/// Inside `withoutGradient { … }` (inference mode) no node is recorded: ops return plain values and
/// keep no saved tensors.
///
/// Design follows PyTorch's autograd semantics (torch/csrc/autograd): leaves accumulate `.grad`
/// across backward calls until `zeroGradient()`; non-leaf gradients are not kept.
public class Variable: @unchecked Sendable {
    /// The value. Settable so that optimizers can update parameters in place.
    public var value: Tensor
    /// The accumulated gradient of a leaf that requires gradients (same shape as `value`), or nil
    /// before the first backward pass or after `zeroGradient()`.
    public var grad: Tensor?
    /// Whether gradients flow to this variable: true for trainable leaves and for every result
    /// computed (with gradient recording on) from at least one such variable.
    public let requiresGrad: Bool
    /// How this variable was computed; nil for leaves, constants and after `backward()` freed it.
    var node: GradNode?

    /// A leaf: a constant (`requiresGrad` false, the default) or a trainable input.
    public init(_ value: Tensor, requiresGrad: Bool = false) {
        self.value = value
        self.requiresGrad = requiresGrad
    }

    init(_ value: Tensor, node: GradNode) {
        self.value = value
        self.requiresGrad = true
        self.node = node
    }

    /// Shape of the value.
    public var shape: [Int] { value.shape }
    /// Rank of the value.
    public var rank: Int { value.rank }
    /// True for variables not produced by a recorded op (parameters, inputs, constants).
    public var isLeaf: Bool { node == nil }

    /// The same value cut off from the graph (torch.detach).
    public func detached() -> Variable { Variable(value) }

    /// Forgets the accumulated gradient.
    public func zeroGradient() { grad = nil }

    /// Adds `g` to the accumulated gradient.
    func accumulate(_ g: Tensor) {
        if let old = grad {
            grad = old + g
        } else {
            grad = g.shape == value.shape ? g : g.expanded(to: value.shape).contiguous()
        }
    }
}

/// A named trainable leaf (a model weight). `name` is the dotted checkpoint key
/// (for example `encoder.layer.0.attention.self.query.weight`).
public final class Parameter: Variable, @unchecked Sendable {
    /// The dotted key under which the value is stored in a checkpoint.
    public let name: String
    /// Whether optimizers update it and backward computes its gradient. Freezing a parameter
    /// (false) makes ops treat it as a constant.
    public var isTrainable: Bool

    /// A trainable parameter named `name` holding `value`.
    public init(_ value: Tensor, name: String, trainable: Bool = true) {
        self.name = name
        self.isTrainable = trainable
        super.init(value, requiresGrad: true)
    }
}

/// One recorded op: its inputs and the function mapping the output gradient to input gradients.
final class GradNode {
    /// Op name for error messages.
    let op: String
    let inputs: [Variable]
    /// Which inputs need a gradient (computed once, passed to `backward` so it can skip work).
    let needs: [Bool]
    /// Maps ∂L/∂output to ∂L/∂input for each input (nil where `needs` is false).
    let backward: (_ grad: Tensor, _ needs: [Bool]) -> [Tensor?]

    init(op: String, inputs: [Variable], needs: [Bool], backward: @escaping (Tensor, [Bool]) -> [Tensor?]) {
        self.op = op
        self.inputs = inputs
        self.needs = needs
        self.backward = backward
    }
}

/// Gradient recording on or off for the current task/thread.
public enum GradientMode {
    @TaskLocal static var isRecording = true

    /// Whether ops currently record the graph.
    public static var isEnabled: Bool { isRecording }
}

/// Runs `body` with gradient recording off (inference mode): no op records a node or keeps saved
/// tensors. Nests; the previous mode is restored after `body`.
public func withoutGradient<R>(_ body: () throws -> R) rethrows -> R {
    try GradientMode.$isRecording.withValue(false, operation: body)
}

/// Runs `body` with gradient recording on (the default), e.g. inside a `withoutGradient` block.
public func withGradient<R>(_ body: () throws -> R) rethrows -> R {
    try GradientMode.$isRecording.withValue(true, operation: body)
}

extension Variable {
    /// Whether `v` takes part in gradient flow right now.
    @inline(__always)
    static func flows(_ v: Variable) -> Bool {
        if let p = v as? Parameter { return p.isTrainable }
        return v.requiresGrad
    }

    /// The result of an op: recorded with `backward` when recording is on and some input needs a
    /// gradient, else a plain constant. `backward` is only called (and its closure only built by the
    /// caller's `record` call) when needed.
    @inline(__always)
    static func record(_ value: Tensor, op: String, _ inputs: [Variable],
                       _ backward: @escaping (Tensor, [Bool]) -> [Tensor?]) -> Variable {
        let needs = inputs.map(flows)
        guard GradientMode.isRecording, needs.contains(true) else { return Variable(value) }
        return Variable(value, node: GradNode(op: op, inputs: inputs, needs: needs, backward: backward))
    }

    /// True when an op on `inputs` will be recorded (lets ops skip saving tensors otherwise).
    @inline(__always)
    static func recording(_ inputs: Variable...) -> Bool {
        GradientMode.isRecording && inputs.contains(where: flows)
    }

    /// Back-propagates from this variable: accumulates ∂self/∂leaf · `gradient` into the `grad` of every
    /// leaf that requires gradients, then frees the graph.
    ///
    /// - Parameter gradient: the upstream gradient, same shape as the value; may be omitted only for
    ///   a one-element value (then 1).
    /// - Precondition: the variable requires gradients; `gradient` has the value's shape.
    public func backward(_ gradient: Tensor? = nil) {
        require(requiresGrad, "backward: the variable does not require gradients (computed from constants only, or under withoutGradient)")
        let seed: Tensor
        if let g = gradient {
            require(g.shape == value.shape, "backward: gradient shape \(g.shape) differs from value shape \(value.shape)")
            seed = g
        } else {
            require(value.count == 1, "backward: a gradient is needed for a non-scalar value of shape \(value.shape)")
            seed = Tensor(shape: value.shape, repeating: 1)
        }
        if node == nil {  // a leaf: its gradient is the seed itself
            if Variable.flows(self) { accumulate(seed) }
            return
        }
        // Reverse topological order by iterative depth-first search over recorded nodes.
        var order: [Variable] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Variable, Bool)] = [(self, false)]
        while let (v, expanded) = stack.popLast() {
            if expanded { order.append(v); continue }
            guard visited.insert(ObjectIdentifier(v)).inserted else { continue }
            stack.append((v, true))
            if let node = v.node {
                for (input, need) in zip(node.inputs, node.needs) where need && input.node != nil
                    && !visited.contains(ObjectIdentifier(input)) {
                    stack.append((input, false))
                }
            }
        }
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
        for v in order.reversed() {
            guard let node = v.node else { continue }
            let id = ObjectIdentifier(v)
            guard let g = grads.removeValue(forKey: id) else { v.node = nil; continue }
            let inputGrads = node.backward(g, node.needs)
            v.node = nil  // free the graph (saved tensors) as we go
            for (k, input) in node.inputs.enumerated() where node.needs[k] {
                guard let gi = inputGrads[k] else { continue }
                require(gi.shape == input.value.shape,
                        "backward of \(node.op): gradient shape \(gi.shape) for input \(k) of shape \(input.value.shape)")
                if input.node != nil {
                    let key = ObjectIdentifier(input)
                    if let old = grads[key] { grads[key] = old + gi } else { grads[key] = gi }
                } else {
                    input.accumulate(gi)
                }
            }
        }
    }
}
