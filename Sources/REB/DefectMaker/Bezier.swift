import Foundation

/// A point in image coordinates (x to the right, y down), in pixels.
public struct Point2: Sendable, Equatable {
    /// Coordinates in pixels.
    public var x: Double, y: Double
    /// (x, y).
    public init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
}

/// Closed shapes made of cubic Bezier segments, as DefectMaker draws its defect outlines
/// (REB src/DefectMaker: random points around a centre joined by Bezier curves whose control points
/// follow the mean direction at each point, `k` setting how far — 0 gives a polygon, larger values
/// rounder, more bulging outlines).
public enum Bezier {
    /// The cubic Bezier curve at t ∈ [0, 1]: (1−t)³p₀ + 3(1−t)²t p₁ + 3(1−t)t² p₂ + t³p₃, so B(0) = p₀
    /// and B(1) = p₃.
    public static func cubic(_ p0: Point2, _ p1: Point2, _ p2: Point2, _ p3: Point2, t: Double) -> Point2 {
        let u = 1 - t
        let a = u * u * u, b = 3 * u * u * t, c = 3 * u * t * t, d = t * t * t
        return Point2(a * p0.x + b * p1.x + c * p2.x + d * p3.x, a * p0.y + b * p1.y + c * p2.y + d * p3.y)
    }

    /// A closed outline through `points` (taken in order of angle around their centroid): between
    /// consecutive points pᵢ, pᵢ₊₁ a cubic segment whose control points lie along the tangent at each
    /// end (the direction from the previous to the next point), at `k` times the segment length;
    /// `samples` points per segment.
    public static func closedOutline(through points: [Point2], k: Double, samples: Int = 24) -> [Point2] {
        guard points.count >= 3 else { return points }
        let cx = points.map(\.x).reduce(0, +) / Double(points.count), cy = points.map(\.y).reduce(0, +) / Double(points.count)
        let p = points.sorted { atan2($0.y - cy, $0.x - cx) < atan2($1.y - cy, $1.x - cx) }
        let n = p.count
        func tangent(_ i: Int) -> Point2 {
            let a = p[(i + n - 1) % n], b = p[(i + 1) % n]
            let dx = b.x - a.x, dy = b.y - a.y, len = Swift.max((dx * dx + dy * dy).squareRoot(), 1e-9)
            return Point2(dx / len, dy / len)
        }
        var outline: [Point2] = []
        for i in 0..<n {
            let a = p[i], b = p[(i + 1) % n]
            let length = ((b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y)).squareRoot()
            let ta = tangent(i), tb = tangent((i + 1) % n)
            let c1 = Point2(a.x + k * length * ta.x, a.y + k * length * ta.y)
            let c2 = Point2(b.x - k * length * tb.x, b.y - k * length * tb.y)
            for s in 0..<samples { outline.append(cubic(a, c1, c2, b, t: Double(s) / Double(samples))) }
        }
        return outline
    }

    /// The pixels whose centres lie inside a closed polygon (even–odd rule), as a mask [height, width] of 0/1.
    public static func rasterize(_ polygon: [Point2], width: Int, height: Int) -> [UInt8] {
        var mask = [UInt8](repeating: 0, count: width * height)
        guard polygon.count >= 3 else { return mask }
        let n = polygon.count
        for y in 0..<height {
            let cy = Double(y) + 0.5
            var crossings: [Double] = []
            for i in 0..<n {
                let a = polygon[i], b = polygon[(i + 1) % n]
                if (a.y <= cy) != (b.y <= cy) { crossings.append(a.x + (cy - a.y) / (b.y - a.y) * (b.x - a.x)) }
            }
            crossings.sort()
            var j = 0
            while j + 1 < crossings.count {
                let lo = Swift.max(0, Int((crossings[j] - 0.5).rounded(.up))), hi = Swift.min(width - 1, Int((crossings[j + 1] - 0.5).rounded(.down)))
                if lo <= hi { for x in lo...hi { mask[y * width + x] = 1 } }
                j += 2
            }
        }
        return mask
    }
}
