import MLCore

/// One expert of a moefied SwiGLU FFN: m of the dense layer's neurons, stored as one [3, m, D]
/// tensor (rows of `ffn_gate`, rows of `ffn_up`, columns of `ffn_down` transposed), the layout of
/// its HDF5 dataset (Docs/pregated-moe.md), so that one read fills it.
public struct ExpertWeights: @unchecked Sendable {
    /// [3, m, D]: gate rows, up rows, down columns (transposed).
    public let packed: Tensor

    /// Wraps a packed [3, m, D] tensor. - Precondition: rank 3 with first extent 3.
    public init(packed: Tensor) {
        precondition(packed.rank == 3 && packed.shape[0] == 3, "ExpertWeights: packed shape \(packed.shape), expected [3, m, D]")
        self.packed = packed.contiguous()
    }

    /// Neurons m.
    public var width: Int { packed.shape[1] }
    /// Model width D.
    public var modelWidth: Int { packed.shape[2] }
    /// Bytes of the weights (Float32).
    public var byteCount: Int { packed.count * 4 }

    /// The expert's share of the dense FFN on rows x [N, D]:
    /// down[:, P] · (silu(gate[P] x) ⊙ up[P] x) → [N, D]. Summed over a partition of the neurons
    /// this is the dense SwiGLU output (Shazeer 2020, eq. 6), up to Float32 rounding.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let g = Tensor.matmul(x, packed.selected(0, axis: 0), transposeB: true)
        let u = Tensor.matmul(x, packed.selected(1, axis: 0), transposeB: true)
        return Tensor.matmul(g.silu() * u, packed.selected(2, axis: 0))
    }

    /// A checksum of the raw Float32 words (wrapping sum of the 32-bit patterns, each multiplied by
    /// its position + 1 so swapped words change it), stored beside each expert dataset and checked on
    /// every read from the slow tier.
    public static func checksum(_ values: UnsafeBufferPointer<Float>) -> Int64 {
        var sum: UInt64 = 0
        for (i, v) in values.enumerated() { sum = sum &+ UInt64(v.bitPattern) &* UInt64(i + 1) }
        return Int64(bitPattern: sum)
    }
}
