import MLCore

/// The classifier of REB's self-supervised task (reference src/ADModels/ad_head.py `DenseHead` with
/// `head_layers = [512, 256]`): Linear → BatchNorm1d → ReLU for each hidden width, then Linear to the
/// classes. Parameter names follow the reference's `nn.Sequential` indices (`prefix.0` Linear,
/// `prefix.1` BatchNorm, `prefix.3` Linear, …), made through `factory.scoped(prefix)`.
public final class SSLHead: Module {
    /// The hidden blocks: (Linear, BatchNorm over features).
    public let hidden: [(Linear, BatchNorm2d)]
    /// The last Linear [classes, last hidden width].
    public let output: Linear
    public var parameters: [Parameter] { hidden.flatMap { $0.0.parameters + $0.1.parameters } + output.parameters }

    /// - Parameters: `inFeatures` the pooled backbone width; `hiddenWidths` the reference's [512, 256];
    ///   Linear layers initialised as torch (U(±1/√fan_in)), BatchNorm γ = 1, β = 0, momentum 0.1.
    public init(_ prefix: String = "ssl_head", inFeatures: Int, hiddenWidths: [Int] = [512, 256], classes: Int,
                factory: ParameterFactory) {
        let scope = factory.scoped(prefix)
        var width = inFeatures, index = 0
        var blocks: [(Linear, BatchNorm2d)] = []
        for h in hiddenWidths {
            blocks.append((Linear("\(index)", inFeatures: width, outFeatures: h, factory: scope),
                           BatchNorm2d("\(index + 1)", features: h, factory: scope)))
            width = h
            index += 3
        }
        hidden = blocks
        output = Linear("\(index)", inFeatures: width, outFeatures: classes, factory: scope)
    }

    /// Pooled features [N, inFeatures] → logits [N, classes]. BatchNorm uses batch statistics when
    /// `context` is training (then N must exceed 1), running statistics otherwise.
    public func callAsFunction(_ x: Variable, context: ForwardContext?) -> Variable {
        var h = x
        for (linear, norm) in hidden {
            let y = linear(h)
            let n = y.shape[0], c = y.shape[1]
            h = norm(y.reshaped([n, c, 1, 1]), context: context).reshaped([n, c]).relu()
        }
        return output(h)
    }
}
