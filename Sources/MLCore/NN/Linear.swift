/// Fully connected and embedding layers (PyTorch layouts and default initialisations).

/// y = x·Wᵀ + b with W [out, in] (torch.nn.Linear). Default initialisation as torch:
/// W, b ~ U(−1/√in, 1/√in).
public final class Linear: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    /// Parameters `prefix.weight` [out, in] and (with `bias`) `prefix.bias` [out].
    public init(_ prefix: String, inFeatures: Int, outFeatures: Int, bias: Bool = true,
                factory: ParameterFactory, initialization: ParameterFactory.Initialization? = nil) {
        let bound = 1 / Float(inFeatures).squareRoot()
        weight = factory.make(joinKey(prefix, "weight"), [outFeatures, inFeatures], initialization ?? .uniform(bound: bound))
        self.bias = bias ? factory.make(joinKey(prefix, "bias"), [outFeatures],
                                        initialization == nil ? .uniform(bound: bound) : .constant(0)) : nil
    }

    /// A layer around existing parameters (e.g. a tied output projection).
    public init(weight: Parameter, bias: Parameter? = nil) {
        self.weight = weight
        self.bias = bias
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    /// x [..., in] → [..., out].
    public func callAsFunction(_ x: Variable) -> Variable { Variable.linear(x, weight: weight, bias: bias) }
}

/// A lookup table of vectors (torch.nn.Embedding): ids → rows of W [V, D]. Default init N(0, 1).
public final class Embedding: Module {
    public let weight: Parameter
    public var parameters: [Parameter] { [weight] }

    /// Parameter `name` [count, dimension].
    public init(name: String, count: Int, dimension: Int, factory: ParameterFactory,
                initialization: ParameterFactory.Initialization = .normal(std: 1)) {
        weight = factory.make(name, [count, dimension], initialization)
    }

    public var count: Int { weight.shape[0] }
    public var dimension: Int { weight.shape[1] }

    /// ids [...] → [..., D]. The gradient of W accumulates over repeated ids.
    /// - Precondition: 0 ≤ id < count.
    public func callAsFunction(_ ids: NDArray<Int32>) -> Variable {
        let list = ids.withUnsafeBufferPointer { buffer in
            buffer.map { id -> Int in
                require(id >= 0 && Int(id) < count, "Embedding \(weight.name): id \(id) outside 0..<\(count)")
                return Int(id)
            }
        }
        return weight.indexSelect(list, axis: 0).reshaped(ids.shape + [dimension])
    }
}

/// Inverted dropout (torch.nn.functional.dropout): in training, each element is zeroed with
/// probability p and the survivors scaled by 1/(1 − p); identity in inference.
extension Variable {
    /// - Parameters: p in [0, 1); `context` nil or not training → identity.
    public func dropout(_ p: Float, context: ForwardContext?) -> Variable {
        require(p >= 0 && p < 1, "dropout: probability \(p) outside [0, 1)")
        guard let context, context.isTraining, p > 0 else { return self }
        let keep = 1 - p, scale = 1 / keep
        let mask = Tensor(shape: shape) { _ in context.rng.uniform() < keep ? scale : 0 }
        return self * mask
    }
}
