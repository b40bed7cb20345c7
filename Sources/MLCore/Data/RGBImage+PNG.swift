import Foundation
internal import CZlib

extension RGBImage {
    /// The image as a PNG file (8-bit RGB, no interlace, filter type 0 on every row, zlib level 6):
    /// signature, IHDR, one IDAT, IEND, each chunk with its CRC-32 (PNG specification, ISO/IEC 15948
    /// §5 and §11). Readable by `RGBImage.decode` and every viewer.
    /// - Throws: `ImageFileError.undecodable` only if zlib fails (out of memory).
    public func pngData() throws -> Data {
        var raw = [UInt8]()
        raw.reserveCapacity(height * (width * 3 + 1))
        for y in 0..<height {
            raw.append(0)  // filter type None
            raw.append(contentsOf: pixels[(y * width * 3)..<((y + 1) * width * 3)])
        }
        var compressedLength = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedLength))
        let status = compress2(&compressed, &compressedLength, raw, uLong(raw.count), 6)
        guard status == Z_OK else { throw ImageFileError.undecodable(path: "(PNG encoder)", reason: "zlib compress2 failed (\(status))") }
        compressed.removeSubrange(Int(compressedLength)...)

        func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        func chunk(_ type: String, _ body: [UInt8]) {
            let typed = Array(type.utf8) + body
            out += bigEndian(UInt32(body.count)) + typed
            out += bigEndian(UInt32(crc32(0, typed, uInt(typed.count))))
        }
        // IHDR: width, height, bit depth 8, colour type 2 (RGB), compression 0, filter 0, interlace 0.
        chunk("IHDR", bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [8, 2, 0, 0, 0])
        chunk("IDAT", compressed)
        chunk("IEND", [])
        return Data(out)
    }
}
