import Foundation
import XCTest

/// Paths of files prepared by `make data` (which `make test` runs first). A missing file fails the
/// test with a message naming the file, never skips it.
enum PreparedData {
    static let repository = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()

    struct Missing: Error, CustomStringConvertible {
        let path: String
        var description: String { "\(path) is missing: run `make data`" }
    }

    /// The absolute path of `relative` (e.g. "data/models/minilm-l6.h5").
    /// - Throws: `Missing` when the file does not exist.
    static func path(_ relative: String) throws -> String {
        let url = repository.appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: url.path) else { throw Missing(path: relative) }
        return url.path
    }
}
