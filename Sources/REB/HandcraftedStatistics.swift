import MLCore

/// One-line image statistics that read the textile defects directly from the pixels (Docs/reb.md,
/// "Detectability ceiling"): the ceiling every feature-based detector is read against. Both work on
/// the grey level g = (R + G + B) / 3 of the full-resolution image (no resize).
public enum HandcraftedStatistics {
    /// The statistics `reb baseline` reports, in order.
    public enum Kind: String, Sendable, CaseIterable {
        /// `localLaplacianRatio` with 12×12 blocks: local high-frequency defects.
        case laplacianBlockRatio = "laplacian_block_ratio"
        /// `meanHorizontalGradient`: global texture changes.
        case horizontalGradient = "horizontal_gradient"
    }

    /// Grey levels (R + G + B) / 3 of `image`, [H·W] row-major.
    public static func grey(_ image: RGBImage) -> [Double] {
        var g = [Double](repeating: 0, count: image.width * image.height)
        image.pixels.withUnsafeBufferPointer { p in
            for i in 0..<g.count { g[i] = (Double(p[3 * i]) + Double(p[3 * i + 1]) + Double(p[3 * i + 2])) / 3 }
        }
        return g
    }

    /// |Laplacian| of the grey image at its interior pixels: |g(y−1,x) + g(y+1,x) + g(y,x−1) + g(y,x+1) − 4·g(y,x)|
    /// for 1 ≤ y ≤ H−2, 1 ≤ x ≤ W−2 → [(H−2)·(W−2)] row-major (no border padding).
    /// - Precondition: the image is at least 3×3.
    public static func absoluteLaplacian(_ g: [Double], width w: Int, height h: Int) -> [Double] {
        precondition(w >= 3 && h >= 3 && g.count == w * h, "absoluteLaplacian: a \(w)×\(h) image")
        var out = [Double](repeating: 0, count: (w - 2) * (h - 2))
        for y in 1..<(h - 1) {
            for x in 1..<(w - 1) {
                let c = y * w + x
                out[(y - 1) * (w - 2) + x - 1] = Swift.abs(g[c - w] + g[c + w] + g[c - 1] + g[c + 1] - 4 * g[c])
            }
        }
        return out
    }

    /// The local statistic: the largest mean of the |Laplacian| map (`absoluteLaplacian`) over
    /// non-overlapping `block`×`block` tiles (from the top-left corner; a partial last row or column
    /// of tiles is dropped), divided by the map's median (numpy `median`) — how much the busiest small
    /// region exceeds the image's own typical high-frequency energy. A median of 0 is replaced by 1e-6
    /// (a flat image region).
    /// - Throws: `REBError.invalidArgument` when the block is < 1 or larger than the map.
    public static func localLaplacianRatio(_ image: RGBImage, block: Int = 12) throws -> Double {
        let mw = image.width - 2, mh = image.height - 2
        guard block >= 1, block <= mw, block <= mh else {
            throw REBError.invalidArgument("the Laplacian block side \(block) must be in 1...\(Swift.min(mw, mh)) for a \(image.width)×\(image.height) image")
        }
        let lap = absoluteLaplacian(grey(image), width: image.width, height: image.height)
        var best = -Double.infinity
        for by in 0..<(mh / block) {
            for bx in 0..<(mw / block) {
                var s = 0.0
                for y in (by * block)..<((by + 1) * block) {
                    for x in (bx * block)..<((bx + 1) * block) { s += lap[y * mw + x] }
                }
                best = Swift.max(best, s / Double(block * block))
            }
        }
        let median = try Statistics.quantile(lap, 0.5)
        return best / Swift.max(median, 1e-6)
    }

    /// The global statistic: the mean of |g(y, x+1) − g(y, x)| over every row and every pair of
    /// horizontally adjacent pixels (grey levels).
    /// - Throws: `REBError.invalidArgument` for an image one pixel wide.
    public static func meanHorizontalGradient(_ image: RGBImage) throws -> Double {
        guard image.width >= 2 else { throw REBError.invalidArgument("the horizontal gradient needs an image at least 2 pixels wide") }
        let g = grey(image), w = image.width
        var s = 0.0
        for y in 0..<image.height {
            for x in 0..<(w - 1) { s += Swift.abs(g[y * w + x + 1] - g[y * w + x]) }
        }
        return s / Double(image.height * (w - 1))
    }

    /// The value of statistic `kind` on `image` (`block` for the Laplacian ratio).
    /// - Throws: as the statistic.
    public static func value(_ kind: Kind, of image: RGBImage, block: Int = 12) throws -> Double {
        switch kind {
        case .laplacianBlockRatio: return try localLaplacianRatio(image, block: block)
        case .horizontalGradient: return try meanHorizontalGradient(image)
        }
    }
}
