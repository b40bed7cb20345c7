import MLCore

/// `{"path", "sha256"}` of an input file, for a report's `inputs` (Docs/REPORT_FORMAT.md).
/// - Throws: `SHA256.FileError` (exit 66) when it cannot be read.
public func fileInput(_ path: String) throws -> JSONValue {
    ["path": .string(path), "sha256": .string(try SHA256.hexDigest(ofFile: path))]
}
