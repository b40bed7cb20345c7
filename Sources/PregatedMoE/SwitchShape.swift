/// The shape of a Switch Transformer MoE model as the paper evaluates it (Hwang et al. §6, Table 2;
/// Fedus et al. 2022): MoE on every other decoder layer, experts of two Linear layers (d_model →
/// d_ff → d_model), top-1 routing.
public struct SwitchShape: Sendable, Equatable {
    /// The paper's model name ("base-8", "base-128", "large-128").
    public var name: String
    /// Model width d_model.
    public var modelWidth: Int
    /// Expert hidden width d_ff.
    public var expertWidth: Int
    /// Number of MoE blocks L (half the decoder layers).
    public var moeBlocks: Int
    /// Experts per MoE block E.
    public var experts: Int

    /// - Parameters: see the properties.
    public init(name: String, modelWidth: Int, expertWidth: Int, moeBlocks: Int, experts: Int) {
        self.name = name
        self.modelWidth = modelWidth
        self.expertWidth = expertWidth
        self.moeBlocks = moeBlocks
        self.experts = experts
    }

    /// Switch-base with 8 experts: d_model 768, d_ff 3072, 12 decoder layers → 6 MoE blocks.
    public static let base8 = SwitchShape(name: "base-8", modelWidth: 768, expertWidth: 3072, moeBlocks: 6, experts: 8)
    /// Switch-base with 128 experts.
    public static let base128 = SwitchShape(name: "base-128", modelWidth: 768, expertWidth: 3072, moeBlocks: 6, experts: 128)
    /// Switch-large with 128 experts: d_model 1024, d_ff 4096, 24 decoder layers → 12 MoE blocks.
    public static let large128 = SwitchShape(name: "large-128", modelWidth: 1024, expertWidth: 4096, moeBlocks: 12, experts: 128)
    /// The three models of the paper's latency table.
    public static let paperModels = [base8, base128, large128]

    /// Bytes of one expert: 2·d_model·d_ff weights (wi [d_ff, d_model] and wo [d_model, d_ff]) of
    /// `bytesPerWeight` bytes. Float32 (4) gives 18,874,368 B for base (the paper's 18.9 MB per
    /// expert) and 33,554,432 B for large.
    public func expertBytes(bytesPerWeight: Int = 4) -> Int { 2 * modelWidth * expertWidth * bytesPerWeight }

    /// The shape named `name`, nil when unknown.
    public static func named(_ name: String) -> SwitchShape? { paperModels.first { $0.name == name } }
}
