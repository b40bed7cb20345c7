/// Layers and models: objects that own named `Parameter`s and compute on `Variable`s.
///
/// A module is built from its configuration with fresh parameters (random, or shape-only
/// placeholders awaiting a checkpoint), then optionally loaded strictly from a checkpoint. Parameter
/// names are the checkpoint's dotted keys, so `load(from:)` and `stateDict()` need no mapping.
public protocol Module: AnyObject {
    /// Every parameter of the module and its sub-modules, in a fixed order (stable across runs).
    var parameters: [Parameter] { get }
}

extension Module {
    /// Parameters by checkpoint key.
    public var namedParameters: [String: Parameter] {
        Dictionary(parameters.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Total number of scalar parameters.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// Parameters that optimizers update.
    public var trainableParameters: [Parameter] { parameters.filter(\.isTrainable) }

    /// Forgets every parameter's accumulated gradient.
    public func zeroGradients() { for p in parameters { p.zeroGradient() } }

    /// The parameter values by checkpoint key (for `CheckpointWriter.save`).
    public func stateDict() -> [String: Tensor] {
        Dictionary(parameters.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    /// Replaces every parameter's value with the checkpoint's tensor of the same key, strictly: one
    /// `CheckpointError` lists every missing key, every shape mismatch and (unless `allowUnexpected`)
    /// every checkpoint key the module does not have.
    /// - Throws: `CheckpointError`, `HDF5Error`.
    public func load(from checkpoint: Checkpoint, allowUnexpected: Bool = false) throws {
        let expected = Dictionary(parameters.map { ($0.name, $0.value.shape) }, uniquingKeysWith: { a, _ in a })
        let values = try checkpoint.load(expected: expected, allowUnexpected: allowUnexpected)
        for p in parameters { if let v = values[p.name] { p.value = v } }
    }

    /// Replaces parameter values from a state dict (same strictness as `load(from:)`).
    /// - Throws: `CheckpointError.stateDictMismatch` listing missing keys and shape mismatches.
    public func load(stateDict: [String: Tensor]) throws {
        var missing: [String] = [], mismatched: [CheckpointError.ShapeMismatch] = []
        for p in parameters {
            guard let v = stateDict[p.name] else { missing.append(p.name); continue }
            if v.shape != p.value.shape {
                mismatched.append(CheckpointError.ShapeMismatch(key: p.name, file: v.shape, model: p.value.shape))
            }
        }
        guard missing.isEmpty && mismatched.isEmpty else {
            throw CheckpointError.stateDictMismatch(file: "<state dict>", missing: missing, unexpected: [], shapeMismatches: mismatched)
        }
        for p in parameters { p.value = stateDict[p.name]! }
    }
}

/// How a forward pass runs: training (dropout active, batch statistics) or inference, and the
/// random generator dropout draws from. Pass `nil` for inference.
public final class ForwardContext: @unchecked Sendable {
    /// Training mode: dropout masks are drawn and BatchNorm uses batch statistics.
    public var isTraining: Bool
    /// The generator for dropout masks (seeded by the caller: same seed, same masks).
    public var rng: RandomGenerator

    /// A context in training (default) or evaluation mode.
    public init(training: Bool = true, seed: UInt64) {
        self.isTraining = training
        self.rng = RandomGenerator(seed: seed)
    }
}

/// Creates the parameters of freshly built modules: random values (seeded) for training from
/// scratch, or shape-only placeholders (no memory) to be replaced by `Module.load(from:)`.
///
/// Names are scoped as the model builds itself (candle's `VarBuilder::pp`): `factory.scoped("encoder")`
/// is a view whose parameters are named `encoder.<name>`; views share one generator (so draws happen
/// in construction order whatever the scoping) and one record of the names created, which
/// `createdNames` returns — tests compare it with what a module reports in `parameters`, so a
/// sub-module left out of `parameters` is caught.
public final class ParameterFactory: @unchecked Sendable {
    /// How one parameter tensor is initialised.
    public enum Initialization: Sendable {
        /// U(−bound, bound).
        case uniform(bound: Float)
        /// N(0, std²).
        case normal(std: Float)
        /// Every element the same value (zeros for biases, ones for norm weights).
        case constant(Float)
    }

    /// What every scoped view of one factory shares: the generator (nil: placeholders) and the names made.
    private final class State {
        var rng: RandomGenerator?
        var created: [String] = []
        init(rng: RandomGenerator?) { self.rng = rng }
    }

    private let state: State
    /// The dotted prefix of every name this view creates ("" at the root).
    public let prefix: String

    /// A factory of random parameters drawn from a generator seeded with `seed`.
    public init(seed: UInt64) {
        state = State(rng: RandomGenerator(seed: seed))
        prefix = ""
    }

    /// A factory of placeholders: each parameter reads as zeros (a broadcast scalar, no storage)
    /// until loaded from a checkpoint.
    public static func placeholders() -> ParameterFactory { ParameterFactory(state: State(rng: nil), prefix: "") }

    private init(state: State, prefix: String) {
        self.state = state
        self.prefix = prefix
    }

    /// A view one level deeper: `scoped("encoder").scoped("layer.3")` names its parameters
    /// `encoder.layer.3.<name>`. The view shares this factory's generator and record of names.
    public func scoped(_ name: String) -> ParameterFactory { ParameterFactory(state: state, prefix: key(name)) }

    /// The full dotted name of `name` under this view's prefix.
    public func key(_ name: String) -> String { joinKey(prefix, name) }

    /// Whether parameters are placeholders.
    public var makesPlaceholders: Bool { state.rng == nil }

    /// The full names of every parameter and buffer made through this factory or any of its views, in
    /// creation order.
    public var createdNames: [String] { state.created }

    /// A parameter named `prefix.name` of `shape`, initialised as `initialization` (ignored for
    /// placeholders); draws from the shared generator in call order.
    public func make(_ name: String, _ shape: [Int], _ initialization: Initialization) -> Parameter {
        let full = key(name)
        state.created.append(full)
        guard var g = state.rng else {
            return Parameter(Tensor(scalar: 0).reshaped(Array(repeating: 1, count: shape.count)).expanded(to: shape),
                             name: full)
        }
        let value: Tensor
        switch initialization {
        case .uniform(let bound): value = Tensor(shape: shape) { _ in g.uniform(-bound, bound) }
        case .normal(let std): value = Tensor(shape: shape) { _ in g.normal() * std }
        case .constant(let c): value = Tensor(shape: shape, repeating: c)
        }
        state.rng = g
        return Parameter(value, name: full)
    }

    /// A non-trainable buffer named `prefix.name` holding `value` (in placeholder mode too; e.g.
    /// BatchNorm's running statistics): recorded like a parameter, draws nothing.
    public func buffer(_ name: String, _ value: Tensor) -> Parameter {
        let full = key(name)
        state.created.append(full)
        return Parameter(value, name: full, trainable: false)
    }
}

/// `prefix.name`, or `name` when the prefix is empty.
@inlinable
public func joinKey(_ prefix: String, _ name: String) -> String { prefix.isEmpty ? name : "\(prefix).\(name)" }
