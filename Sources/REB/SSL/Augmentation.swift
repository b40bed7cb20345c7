import MLCore

/// The photometric and geometric augmentation of REB's self-supervised training (reference
/// `projects/reb_mvtec/main.py`: `ColorJitter(0.1, 0.1, 0.1, 0.1)` then `RandomTranspose()` on every
/// normal image before DefectMaker, src/Data/transforms.py).
public enum SSLAugmentation {
    /// The orientations `RandomTranspose` draws from, with the reference's multiplicities: identity,
    /// the three rotations, transpose, transverse (twice) and left-right flip (twice) — 9 entries
    /// drawn uniformly (PIL `Image.transpose` methods).
    public enum Orientation: Sendable, CaseIterable {
        case identity, rotate90, rotate180, rotate270, transpose, transverse, flipLeftRight
        /// The reference's list of 9 choices.
        public static let referenceChoices: [Orientation] =
            [.identity, .rotate90, .rotate180, .rotate270, .transpose, .transverse, .transverse, .flipLeftRight, .flipLeftRight]
    }

    /// `image` re-oriented as PIL's `Image.transpose(method)`: rotations are counter-clockwise
    /// (ROTATE_90 maps the top-right corner to the top-left); transpose swaps x and y; transverse
    /// mirrors across the anti-diagonal. Rotations by 90°/270°, transpose and transverse swap width
    /// and height.
    public static func oriented(_ image: RGBImage, _ orientation: Orientation) -> RGBImage {
        let w = image.width, h = image.height
        let swaps: Bool
        switch orientation {
        case .rotate90, .rotate270, .transpose, .transverse: swaps = true
        default: swaps = false
        }
        let ow = swaps ? h : w, oh = swaps ? w : h
        var out = [UInt8](repeating: 0, count: ow * oh * 3)
        for y in 0..<oh {
            for x in 0..<ow {
                // The source pixel (sx, sy) of output pixel (x, y).
                let (sx, sy): (Int, Int)
                switch orientation {
                case .identity: (sx, sy) = (x, y)
                case .rotate90: (sx, sy) = (w - 1 - y, x)
                case .rotate180: (sx, sy) = (w - 1 - x, h - 1 - y)
                case .rotate270: (sx, sy) = (y, h - 1 - x)
                case .transpose: (sx, sy) = (y, x)
                case .transverse: (sx, sy) = (w - 1 - y, h - 1 - x)
                case .flipLeftRight: (sx, sy) = (w - 1 - x, y)
                }
                let s = (sy * w + sx) * 3, d = (y * ow + x) * 3
                out[d] = image.pixels[s]; out[d + 1] = image.pixels[s + 1]; out[d + 2] = image.pixels[s + 2]
            }
        }
        return RGBImage(width: ow, height: oh, pixels: out)
    }

    /// The three ColorJitter adjustments torchvision's `ColorJitter` draws an order for.
    public enum Adjustment: Sendable, CaseIterable { case brightness, contrast, saturation }

    /// ColorJitter with factors b, c, s (torchvision's adjustments on pixel values 0–255 kept as floats
    /// between the steps): brightness x·b clipped to 255; contrast g̅ + c·(x − g̅) with g̅ the image's
    /// mean grey (0.299 R + 0.587 G + 0.114 B), clipped to [0, 255]; saturation g + s·(x − g) with g the
    /// pixel's grey, clipped — applied in `order` (torchvision draws it at random per image; the
    /// default is the fixed order DefectMaker's cut fill uses). Rounding is left to the caller. Hue is
    /// not jittered (see Docs/reb.md).
    /// - Parameters: values: interleaved RGB [H·W·3] (modified in place).
    public static func colorJitter(_ values: inout [Float], pixels: Int, brightness: Float, contrast: Float, saturation: Float,
                                   order: [Adjustment] = Adjustment.allCases) {
        func grey(_ i: Int) -> Float { 0.299 * values[i * 3] + 0.587 * values[i * 3 + 1] + 0.114 * values[i * 3 + 2] }
        for adjustment in order {
            switch adjustment {
            case .brightness:
                for i in values.indices { values[i] = Swift.min(255, values[i] * brightness) }
            case .contrast:
                let meanGrey = (0..<pixels).reduce(Float(0)) { $0 + grey($1) } / Float(Swift.max(pixels, 1))
                for i in values.indices { values[i] = Swift.min(255, Swift.max(0, meanGrey + contrast * (values[i] - meanGrey))) }
            case .saturation:
                for p in 0..<pixels {
                    let g = grey(p)
                    for c in 0..<3 { values[p * 3 + c] = Swift.min(255, Swift.max(0, g + saturation * (values[p * 3 + c] - g))) }
                }
            }
        }
    }

    /// The reference's per-image augmentation: ColorJitter 0.1 (factors U(0.9, 1.1), the three
    /// adjustments in a random order as torchvision; no hue), then a random orientation from
    /// `Orientation.referenceChoices`.
    public static func augment(_ image: RGBImage, rng: inout RandomGenerator) -> RGBImage {
        let b = rng.uniform(0.9, 1.1), c = rng.uniform(0.9, 1.1), s = rng.uniform(0.9, 1.1)
        var order = Adjustment.allCases
        rng.shuffle(&order)
        var values = image.pixels.map(Float.init)
        colorJitter(&values, pixels: image.width * image.height, brightness: b, contrast: c, saturation: s, order: order)
        let jittered = RGBImage(width: image.width, height: image.height, pixels: values.map { UInt8($0.rounded()) })
        return oriented(jittered, Orientation.referenceChoices[rng.nextInt(below: Orientation.referenceChoices.count)])
    }
}
