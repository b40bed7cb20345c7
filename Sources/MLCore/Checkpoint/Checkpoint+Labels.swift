extension Checkpoint {
    /// The class names of a classifier checkpoint (`/labels/names`, UTF-8 strings, index = output
    /// unit; Docs/CHECKPOINT_FORMAT.md), or nil when the file stores none.
    /// - Throws: `HDF5Error` for an unreadable dataset.
    public func classNames() throws -> [String]? {
        guard try file.root.contains("labels/names") else { return nil }
        return try file.dataset("/labels/names").readStrings()
    }
}
