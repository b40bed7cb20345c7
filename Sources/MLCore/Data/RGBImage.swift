import Foundation
internal import CImageCodecs

/// An 8-bit RGB image, row-major HWC (`pixels[(y·width + x)·3 + c]`), as decoded from JPEG/PNG or
/// taken from a dataset's uint8 [H, W, 3] array.
public struct RGBImage: Sendable, Equatable {
    /// Columns.
    public let width: Int
    /// Rows.
    public let height: Int
    /// height·width·3 bytes, row-major, R G B per pixel.
    public var pixels: [UInt8]

    /// - Precondition: `pixels.count == width·height·3`.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        require(width > 0 && height > 0 && pixels.count == width * height * 3,
                "RGBImage: \(pixels.count) bytes for \(width)×\(height)×3")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Decodes a JPEG or PNG file (by content, not extension) with libjpeg-turbo / libpng.
    /// Greyscale and palette images become RGB; PNG alpha is dropped.
    /// - Throws: `ImageFileError.missing` (66) when the file cannot be read, `.undecodable` (65) when it
    ///   is neither a valid JPEG nor PNG.
    public static func read(path: String) throws -> RGBImage {
        guard let data = FileManager.default.contents(atPath: path) else { throw ImageFileError.missing(path: path) }
        return try decode(data, name: path)
    }

    /// Decodes JPEG or PNG bytes; `name` labels errors.
    public static func decode(_ data: Data, name: String) throws -> RGBImage {
        let bytes = [UInt8](data)
        let isJPEG = bytes.count > 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF
        let isPNG = bytes.count > 8 && bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        guard isJPEG || isPNG else {
            throw ImageFileError.undecodable(path: name, reason: "not a JPEG or PNG file (unknown signature)")
        }
        var w: Int32 = 0, h: Int32 = 0
        var message = [CChar](repeating: 0, count: 256)
        let decoded: UnsafeMutablePointer<UInt8>? = bytes.withUnsafeBufferPointer { buf in
            message.withUnsafeMutableBufferPointer { msg in
                isJPEG ? mlcore_jpeg_decode(buf.baseAddress, UInt(buf.count), &w, &h, msg.baseAddress, Int32(msg.count))
                       : mlcore_png_decode(buf.baseAddress, UInt(buf.count), &w, &h, msg.baseAddress, Int32(msg.count))
            }
        }
        guard let decoded else {
            let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw ImageFileError.undecodable(path: name, reason: "\(isJPEG ? "JPEG" : "PNG"): \(reason)")
        }
        defer { free(decoded) }
        let count = Int(w) * Int(h) * 3
        return RGBImage(width: Int(w), height: Int(h), pixels: Array(UnsafeBufferPointer(start: decoded, count: count)))
    }

    /// The centred square crop of side ⌊`fraction` · shorter side + 0.5⌋ at offsets ⌊(extent − side)/2⌋.
    public func centerCropped(fraction: Float) -> RGBImage {
        let side = Swift.max(1, Int(Float(Swift.min(width, height)) * fraction + 0.5))
        let top = (height - side) / 2, left = (width - side) / 2
        return cropped(x: left, y: top, width: side, height: side)
    }

    /// The sub-image at (x, y) of the given size.
    /// - Precondition: the rectangle lies inside the image.
    public func cropped(x: Int, y: Int, width cw: Int, height ch: Int) -> RGBImage {
        require(x >= 0 && y >= 0 && cw > 0 && ch > 0 && x + cw <= width && y + ch <= height,
                "RGBImage.cropped: rectangle (\(x), \(y)) \(cw)×\(ch) outside \(width)×\(height)")
        var out = [UInt8](repeating: 0, count: cw * ch * 3)
        for row in 0..<ch {
            let src = ((y + row) * width + x) * 3
            out[(row * cw * 3)..<((row + 1) * cw * 3)] = pixels[src..<(src + cw * 3)]
        }
        return RGBImage(width: cw, height: ch, pixels: out)
    }

    /// Bicubic resize with antialiasing, as Pillow's `Image.resize(size, BICUBIC)` (libImaging/Resample.c):
    /// separable, cubic kernel a = −0.5 whose support widens by the downscale factor, weights normalised
    /// per output pixel, horizontal pass then vertical, rounded and clipped to 8 bits after each pass;
    /// in Float32 where Pillow uses 22-bit fixed point, so a value may differ by 1.
    public func resized(width ow: Int, height oh: Int) -> RGBImage {
        if ow == width && oh == height { return self }
        func cubic(_ x: Float) -> Float {
            let a: Float = -0.5, x = Swift.abs(x)
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        }
        /// (first source index, weights) per output index.
        func taps(_ input: Int, _ output: Int) -> [(Int, [Float])] {
            let scale = Float(input) / Float(output), filterScale = Swift.max(scale, 1), support = 2 * filterScale
            return (0..<output).map { i in
                let center = (Float(i) + 0.5) * scale
                let lo = Swift.max(Int(center - support + 0.5), 0), hi = Swift.min(Int(center + support + 0.5), input)
                var w = (lo..<hi).map { cubic((Float($0) - center + 0.5) / filterScale) }
                let total = w.reduce(0, +)
                if total != 0 { w = w.map { $0 / total } }
                return (lo, w)
            }
        }
        let tx = taps(width, ow), ty = taps(height, oh)
        var horizontal = [Float](repeating: 0, count: height * ow * 3)
        for y in 0..<height {
            for x in 0..<ow {
                let (lo, w) = tx[x]
                var r: Float = 0, g: Float = 0, b: Float = 0
                for (k, wk) in w.enumerated() {
                    let p = (y * width + lo + k) * 3
                    r += wk * Float(pixels[p]); g += wk * Float(pixels[p + 1]); b += wk * Float(pixels[p + 2])
                }
                // Pillow keeps 8-bit pixels between the passes: round and clip here too.
                let o = (y * ow + x) * 3
                horizontal[o] = Swift.min(Swift.max(r.rounded(), 0), 255)
                horizontal[o + 1] = Swift.min(Swift.max(g.rounded(), 0), 255)
                horizontal[o + 2] = Swift.min(Swift.max(b.rounded(), 0), 255)
            }
        }
        var out = [UInt8](repeating: 0, count: oh * ow * 3)
        for y in 0..<oh {
            let (lo, w) = ty[y]
            for x in 0..<ow {
                for c in 0..<3 {
                    var s: Float = 0
                    for (k, wk) in w.enumerated() { s += wk * horizontal[((lo + k) * ow + x) * 3 + c] }
                    out[(y * ow + x) * 3 + c] = UInt8(Swift.min(Swift.max(s.rounded(), 0), 255))
                }
            }
        }
        return RGBImage(width: ow, height: oh, pixels: out)
    }
}

/// Image file errors (one line each, with the path).
public enum ImageFileError: CategorizedError, Equatable {
    case missing(path: String)
    case undecodable(path: String, reason: String)

    /// Missing input (66) or bad data (65).
    public var category: ErrorCategory {
        switch self {
        case .missing: return .missingInput
        case .undecodable: return .badData
        }
    }

    /// One line: the path and what went wrong.
    public var description: String {
        switch self {
        case .missing(let path): return "\(path): cannot read the image file (missing or unreadable)"
        case .undecodable(let path, let reason): return "\(path): cannot decode the image: \(reason)"
        }
    }
}
