/// DefectMaker's defect versions: 3 shapes × 2 fills (Docs/reb.md; Lyu et al. 2023); with the normal
/// image they make the 7 classes of the self-supervised task.
public struct DefectKind: Sendable, Hashable, CustomStringConvertible {
    /// Outline of the defect region.
    public enum Shape: String, Sendable, CaseIterable {
        /// A Bezier blob inside a random box of 2–15% of the image area, aspect ratio up to 3.3.
        case rect
        /// A thin Bezier blob in a 7–21 × 15–30 pixel box rotated by up to ±45°.
        case scar
        /// Several small Bezier blobs around a point (size 1/5–1/7 of the image), blended with w ∈ U(0.5, 1).
        case clump
    }
    /// What the region is filled with.
    public enum Fill: String, Sendable, CaseIterable {
        /// A shifted crop of another normal image with a ±10% colour jitter.
        case cut
        /// Blocky uniform noise of a random mean and fluctuation.
        case noise
    }

    /// The shape.
    public var shape: Shape
    /// The fill.
    public var fill: Fill

    /// The six versions in class order (class c + 1 is `all[c]`; class 0 is the normal image).
    public static let all: [DefectKind] = Shape.allCases.flatMap { s in Fill.allCases.map { DefectKind(shape: s, fill: $0) } }

    /// "rect-cut", "scar-noise", …
    public var description: String { "\(shape.rawValue)-\(fill.rawValue)" }

    /// - Parameters: see the properties.
    public init(shape: Shape, fill: Fill) {
        self.shape = shape
        self.fill = fill
    }
}
