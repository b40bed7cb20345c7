import MLCore

/// The slow tier: the experts of a MoE checkpoint on disk, one HDF5 dataset each, read whole with one
/// partial read of the file (the dataset's single chunk) and checked (shape, checksum, finite).
/// Thread-safe (MLCore's HDF5 calls hold the process-wide HDF5 lock, and only the copy thread reads
/// during a run).
public final class ExpertStore: @unchecked Sendable {
    /// The checkpoint file.
    public let path: String
    /// Layers, experts per layer, and the [3, m, D] shape of each expert.
    public let layers: Int
    /// Experts per layer.
    public let experts: Int
    /// [3, m, D].
    public let shape: [Int]
    private let file: HDF5File

    /// Opens the checkpoint's `/experts`.
    /// - Throws: `HDF5Error`.
    public init(checkpoint: MoECheckpoint) throws {
        path = checkpoint.path
        layers = checkpoint.config.layerCount
        experts = checkpoint.experts
        shape = [3, checkpoint.expertWidth, checkpoint.config.hiddenSize]
        file = try HDF5File(path: checkpoint.path, mode: .readOnly)
    }

    /// Bytes of one expert.
    public var expertBytes: Int { shape.reduce(4, *) }

    /// Reads expert `expert` of layer `layer`, into `buffer`'s storage when it is a [3, m, D] tensor no
    /// one else holds (the copy thread recycles evicted experts: fresh memory costs page faults).
    /// - Throws: `PregatedMoEError.corruptExpert` naming the expert when the dataset is missing,
    ///   unreadable, mis-shaped, fails its checksum or holds a non-finite value.
    public func read(layer: Int, expert: Int, reusing buffer: Tensor? = nil) throws -> ExpertWeights {
        func corrupt(_ reason: String) -> PregatedMoEError { .corruptExpert(file: path, layer: layer, expert: expert, reason: reason) }
        var t = buffer?.shape == shape ? buffer! : Tensor(shape: shape, repeating: 0)
        let stored: Int
        do {
            let ds = try file.dataset("/experts/\(layer)/\(expert)")
            guard ds.shape == shape else { throw corrupt("shape \(ds.shape), expected \(shape)") }
            guard try ds.attributes.contains("checksum") else { throw corrupt("no checksum attribute") }
            stored = try ds.attributes.int("checksum")
            try t.withUnsafeMutableBufferPointer { try ds.read(into: $0) }
        } catch let e as PregatedMoEError {
            throw e
        } catch {
            throw corrupt("\(error)")
        }
        let sum = t.withUnsafeBufferPointer(ExpertWeights.checksum)
        guard Int(sum) == stored else { throw corrupt("checksum \(sum) ≠ stored \(stored)") }
        guard t.withUnsafeBufferPointer({ $0.allSatisfy(\.isFinite) }) else { throw corrupt("non-finite weight") }
        return ExpertWeights(packed: t)
    }
}
