import Foundation
import MLCore

/// DefectMaker (REB, Lyu et al. 2023, §3.1; reference src/DefectMaker): synthetic defects on normal
/// images for self-supervision and for pixel-level evaluation. A defect is a Bezier-outlined region
/// (`DefectKind.Shape`) placed at a random pixel (textures have no saliency mask), filled with a cut
/// of another normal image or with noise (`DefectKind.Fill`), blended as w·fill + (1 − w)·image inside
/// the region (w = 1; clump: U(0.5, 1)), its edge blurred with probability 0.5 (box kernel 5 or 3).
public struct DefectMaker: Sendable {
    /// Probability of blurring the region's edge.
    public var edgeBlurProbability = 0.5

    /// A maker with the reference's settings.
    public init() {}

    /// One defect on `image` of `kind`; `donor` is the other normal image a cut fill is taken from.
    /// - Returns: the defective image and the defect's ground-truth mask [H, W] (1 inside the region,
    ///   before any edge blur).
    /// - Precondition: `donor` has the size of `image`.
    public func make(_ image: RGBImage, kind: DefectKind, donor: RGBImage, rng: inout RandomGenerator) -> (image: RGBImage, mask: [UInt8]) {
        precondition(donor.width == image.width && donor.height == image.height, "DefectMaker: donor of another size")
        let w = image.width, h = image.height
        var mask: [UInt8] = []
        for _ in 0..<10 {  // a region clipped away at the border is drawn again
            let centre = Point2(Double(rng.nextInt(below: w)) + 0.5, Double(rng.nextInt(below: h)) + 0.5)
            mask = shapeMask(kind.shape, centre: centre, width: w, height: h, rng: &rng)
            if mask.contains(1) { break }
        }
        let fill = kind.fill == .cut ? cutFill(donor, rng: &rng) : noiseFill(width: w, height: h, rng: &rng)
        let weight: Float = kind.shape == .clump ? rng.uniform(0.5, 1) : 1
        var alpha = mask.map { Float($0) }
        if rng.uniformDouble() < edgeBlurProbability {
            alpha = DefectMaker.boxBlur(alpha, width: w, height: h, kernel: rng.bernoulli(0.5) ? 5 : 3)
        }
        return (DefectMaker.blend(image, fill: fill, alpha: alpha, weight: weight), mask)
    }

    /// out = image + weight·α·(fill − image) per pixel and channel, rounded: pixels with α = 0 are
    /// unchanged, and with weight·α = 1 they equal the fill.
    /// - Precondition: equal sizes; α has one value per pixel.
    public static func blend(_ image: RGBImage, fill: RGBImage, alpha: [Float], weight: Float) -> RGBImage {
        precondition(alpha.count == image.width * image.height && fill.pixels.count == image.pixels.count, "blend: sizes differ")
        var out = image.pixels
        for i in alpha.indices where alpha[i] > 0 {
            let a = weight * alpha[i]
            for c in 0..<3 {
                let x = Float(image.pixels[i * 3 + c]), f = Float(fill.pixels[i * 3 + c])
                out[i * 3 + c] = UInt8(Swift.min(255, Swift.max(0, (x + a * (f - x)).rounded())))
            }
        }
        return RGBImage(width: image.width, height: image.height, pixels: out)
    }

    /// The region of `shape` around `centre` as a 0/1 mask [height, width].
    public func shapeMask(_ shape: DefectKind.Shape, centre: Point2, width w: Int, height h: Int, rng: inout RandomGenerator) -> [UInt8] {
        func blob(centre c: Point2, boxWidth bw: Double, boxHeight bh: Double, angle: Double) -> [Point2] {
            let count = 5 + rng.nextInt(below: 3)  // 5–7 Bezier points
            let k = Double(rng.uniform(0.2, 0.5))
            let (s, co) = (sin(angle), cos(angle))
            let points = (0..<count).map { _ -> Point2 in
                let u = (Double(rng.uniform()) - 0.5) * bw, v = (Double(rng.uniform()) - 0.5) * bh
                return Point2(c.x + u * co - v * s, c.y + u * s + v * co)
            }
            return Bezier.closedOutline(through: points, k: k)
        }
        switch shape {
        case .rect:
            let area = Double(rng.uniform(0.02, 0.15)) * Double(w * h)
            let aspect = exp(Double(rng.uniform(-1, 1)) * log(3.3))
            let bw = Swift.min(Double(w), (area * aspect).squareRoot()), bh = Swift.min(Double(h), area / bw)
            return Bezier.rasterize(blob(centre: centre, boxWidth: bw, boxHeight: bh, angle: 0), width: w, height: h)
        case .scar:
            let bw = Double(rng.uniform(7, 21)), bh = Double(rng.uniform(15, 30))
            let angle = Double(rng.uniform(-45, 45)) * .pi / 180
            return Bezier.rasterize(blob(centre: centre, boxWidth: bw, boxHeight: bh, angle: angle), width: w, height: h)
        case .clump:
            let size = Double(Swift.min(w, h)) / Double(rng.uniform(5, 7))
            var mask = [UInt8](repeating: 0, count: w * h)
            for _ in 0..<(3 + rng.nextInt(below: 4)) {
                let c = Point2(centre.x + (Double(rng.uniform()) - 0.5) * size, centre.y + (Double(rng.uniform()) - 0.5) * size)
                let part = Bezier.rasterize(blob(centre: c, boxWidth: size / 3, boxHeight: size / 3, angle: 0), width: w, height: h)
                for i in mask.indices where part[i] == 1 { mask[i] = 1 }
            }
            return mask
        }
    }

    /// CutFill: `donor` shifted by a random offset (wrapping around), with ColorJitter 0.1 (brightness,
    /// contrast and saturation factors in U(0.9, 1.1), applied in that fixed order; torchvision draws
    /// a random order, and the reference jitters hue too: see Docs/reb.md).
    public func cutFill(_ donor: RGBImage, rng: inout RandomGenerator) -> RGBImage {
        let w = donor.width, h = donor.height
        let dx = rng.nextInt(below: w), dy = rng.nextInt(below: h)
        let brightness = rng.uniform(0.9, 1.1), contrast = rng.uniform(0.9, 1.1), saturation = rng.uniform(0.9, 1.1)
        var values = [Float](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                let src = (((y + dy) % h) * w + (x + dx) % w) * 3
                for c in 0..<3 { values[(y * w + x) * 3 + c] = Float(donor.pixels[src + c]) }
            }
        }
        SSLAugmentation.colorJitter(&values, pixels: w * h, brightness: brightness, contrast: contrast, saturation: saturation)
        return RGBImage(width: w, height: h, pixels: values.map { UInt8($0.rounded()) })
    }

    /// RandomNoiseFill: grey blocks of uniform values in mean ± fluctuation (mean ∈ {50, 60, …, 190},
    /// fluctuation ∈ {0, 5, …, 45}), blocks of scale·(aspect, 1) pixels (scale ∈ {1, 2, 4},
    /// aspect ∈ {¼, ½, 1, 2, 4}, a block side at least 1).
    public func noiseFill(width w: Int, height h: Int, rng: inout RandomGenerator) -> RGBImage {
        let mean = Float(50 + 10 * rng.nextInt(below: 15)), fluctuation = Float(5 * rng.nextInt(below: 10))
        let scale = [1.0, 2, 4][rng.nextInt(below: 3)], aspect = [0.25, 0.5, 1, 2, 4][rng.nextInt(below: 5)]
        let bw = Swift.max(1, Int(scale * aspect)), bh = Swift.max(1, Int(scale))
        let cols = (w + bw - 1) / bw, rows = (h + bh - 1) / bh
        let cells = (0..<(rows * cols)).map { _ in UInt8(Swift.min(255, Swift.max(0, (mean + rng.uniform(-1, 1) * fluctuation).rounded()))) }
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                let v = cells[(y / bh) * cols + x / bw]
                for c in 0..<3 { pixels[(y * w + x) * 3 + c] = v }
            }
        }
        return RGBImage(width: w, height: h, pixels: pixels)
    }

    /// Mean over a kernel×kernel window (zero outside the image) of a map [height, width].
    public static func boxBlur(_ x: [Float], width w: Int, height h: Int, kernel: Int) -> [Float] {
        let r = kernel / 2
        var out = [Float](repeating: 0, count: x.count)
        for y in 0..<h {
            for c in 0..<w {
                var s: Float = 0
                for dy in -r...r where (0..<h).contains(y + dy) {
                    for dx in -r...r where (0..<w).contains(c + dx) { s += x[(y + dy) * w + c + dx] }
                }
                out[y * w + c] = s / Float(kernel * kernel)
            }
        }
        return out
    }
}

extension DefectMaker {
    /// One defect on each image, of kind `DefectKind.all[i % 6]` for image i, cut fills taken from
    /// `donors[i % donors.count]`.
    /// - Precondition: `donors` is non-empty, all images share one size.
    public func synthesize(_ images: [RGBImage], donors: [RGBImage], rng: inout RandomGenerator)
        -> [(image: RGBImage, mask: [UInt8], kind: DefectKind)] {
        images.enumerated().map { i, image in
            let kind = DefectKind.all[i % DefectKind.all.count]
            let (out, mask) = make(image, kind: kind, donor: donors[i % donors.count], rng: &rng)
            return (out, mask, kind)
        }
    }

    /// A 0/1 mask [height, width] resized to size×size by nearest neighbour (source pixel
    /// ⌊(i + ½)·height/size⌋), to compare with pixel maps at the network's input size.
    public static func resizeMask(_ mask: [UInt8], width: Int, height: Int, size: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: size * size)
        for y in 0..<size {
            let sy = Swift.min(height - 1, Int((Double(y) + 0.5) * Double(height) / Double(size)))
            for x in 0..<size {
                let sx = Swift.min(width - 1, Int((Double(x) + 0.5) * Double(width) / Double(size)))
                out[y * size + x] = mask[sy * width + sx]
            }
        }
        return out
    }
}
