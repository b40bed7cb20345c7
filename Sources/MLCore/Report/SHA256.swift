import Foundation
internal import CCrypto

/// SHA-256 (FIPS 180-4) through OpenSSL's libcrypto (EVP interface), for the provenance of reports
/// and artifacts: the digest of a checkpoint or mask file recorded beside the numbers made from it.
public struct SHA256: @unchecked Sendable {
    /// The EVP context; copied before the first update after a copy of the struct (value semantics).
    private final class Context {
        let ctx: OpaquePointer
        init() {
            ctx = EVP_MD_CTX_new()
            EVP_DigestInit_ex(ctx, EVP_sha256(), nil)
        }
        init(copying other: Context) {
            ctx = EVP_MD_CTX_new()
            EVP_MD_CTX_copy_ex(ctx, other.ctx)
        }
        deinit { EVP_MD_CTX_free(ctx) }
    }
    private var context = Context()

    /// A hasher with no input yet.
    public init() {}

    /// Adds `bytes` to the message.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        if !isKnownUniquelyReferenced(&context) { context = Context(copying: context) }
        if let base = bytes.baseAddress, !bytes.isEmpty { EVP_DigestUpdate(context.ctx, base, bytes.count) }
    }

    /// Adds `data` to the message.
    public mutating func update<D: DataProtocol>(_ data: D) {
        for region in data.regions { region.withUnsafeBytes { update($0) } }
    }

    /// The digest of the message so far as 64 lower-case hex digits; the hasher can go on.
    public func hexDigest() -> String {
        let final = Context(copying: context)
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(final.ctx, &digest, &length)
        return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }

    /// The hex digest of `bytes`.
    public static func hexDigest<D: DataProtocol>(of bytes: D) -> String {
        var h = SHA256()
        h.update(bytes)
        return h.hexDigest()
    }

    /// The hex digest of a file's contents, read in 4 MiB blocks.
    /// - Throws: `SHA256.FileError` (missing input, exit 66) when the file cannot be opened.
    public static func hexDigest(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw FileError(path: path) }
        defer { try? handle.close() }
        var h = SHA256()
        while true {
            let chunk = handle.readData(ofLength: 4 << 20)
            if chunk.isEmpty { break }
            chunk.withUnsafeBytes { h.update($0) }
        }
        return h.hexDigest()
    }

    /// A file that cannot be opened for hashing (exit 66).
    public struct FileError: CategorizedError {
        /// The file that could not be opened.
        public let path: String
        public var category: ErrorCategory { .missingInput }
        public var description: String { "cannot read \(path) to hash it" }
    }
}
