/// The slow-to-fast tier link of the simulation: a fixed latency per transfer plus bytes over a
/// bandwidth (the paper's CPU→GPU PCIe copy; an SSD for the offloading-to-storage variant).
public struct LinkModel: Sendable, Equatable {
    /// Name shown in reports ("pcie", "ssd", "custom").
    public var name: String
    /// Sustained bandwidth in bytes per second.
    public var bytesPerSecond: Double
    /// Per-transfer latency in seconds.
    public var latencySeconds: Double

    /// - Parameters: see the properties; bandwidth must be positive, latency non-negative.
    public init(name: String, bytesPerSecond: Double, latencySeconds: Double) {
        self.name = name
        self.bytesPerSecond = bytesPerSecond
        self.latencySeconds = latencySeconds
    }

    /// PCIe 4.0 x16 as the paper's A100 sees it: 25 GB/s, 10 µs (0.765 ms per 18.9 MB expert, within
    /// the 0.72–0.79 ms the paper's OnDemand−GPU-only gaps imply).
    public static let pcie = LinkModel(name: "pcie", bytesPerSecond: 25e9, latencySeconds: 10e-6)
    /// An NVMe SSD: 2.5 GB/s, 10 µs.
    public static let ssd = LinkModel(name: "ssd", bytesPerSecond: 2.5e9, latencySeconds: 10e-6)

    /// Seconds to move `bytes`: latency + bytes / bandwidth.
    public func transferSeconds(bytes: Int) -> Double { latencySeconds + Double(bytes) / bytesPerSecond }
}
