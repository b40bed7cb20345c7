import Foundation

extension HDF5File {
    /// Creates the file `path` all at once through `OutputFile`: for a regular file or a new path,
    /// `body` fills a new file written beside the target (`path.partial-PID`; a symbolic link's
    /// target, not the link), which is closed and renamed over the target only when `body` succeeds,
    /// so a failure part-way leaves any existing file intact and no partial file behind. A device
    /// (`/dev/null`), FIFO or `/dev/stdout`/`/dev/fd/N` gets the finished file's bytes written to it
    /// and is never replaced. Used for checkpoints and tool artifacts (masks, banks, traces).
    /// - Throws: what `body` throws; `HDF5Error` (cannot create, disk full); `OutputError` (a
    ///   directory, an unwritable path, cannot rename).
    public static func createAtomically(_ path: String, _ body: (HDF5File) throws -> Void) throws {
        try OutputFile.write(to: path) { temporary in
            let file = try HDF5File(path: temporary, mode: .create)
            try body(file)
            try file.close()
        }
    }
}
