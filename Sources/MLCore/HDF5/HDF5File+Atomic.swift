import Foundation

extension HDF5File {
    /// Creates the file `path` all at once: `body` fills a new file written beside the target
    /// (`path.partial-PID`), which is closed and renamed over `path` only when `body` succeeds, so
    /// a failure part-way leaves any existing file intact and no partial file behind. Used for
    /// checkpoints and tool artifacts (masks).
    /// - Throws: what `body` throws; `HDF5Error` (cannot create, disk full, cannot rename).
    public static func createAtomically(_ path: String, _ body: (HDF5File) throws -> Void) throws {
        let temporary = path + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
        do {
            let file = try HDF5File(path: temporary, mode: .create)
            try body(file)
            try file.close()
            guard rename(temporary, path) == 0 else {
                throw HDF5Error.library(file: path, path: "/", operation: "cannot move \(temporary) into place",
                                        message: String(cString: strerror(errno)))
            }
        } catch {
            unlink(temporary)
            throw error
        }
    }
}
