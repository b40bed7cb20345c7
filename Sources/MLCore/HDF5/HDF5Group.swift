internal import CHDF5

/// A group in an HDF5 file: a directory of named links to groups and datasets.
///
/// A value names the group by its absolute path and holds its file (keeping it open); each call opens
/// and closes the group's HDF5 identifier itself. Paths given to its methods are relative to the
/// group ("encoder/layer/0/weight"), or absolute when they start with "/".
public struct HDF5Group: Sendable, CustomStringConvertible {
    /// The file this group belongs to.
    public let file: HDF5File
    /// The absolute path, "/" for the root.
    public let path: String

    init(file: HDF5File, path: String) {
        self.file = file
        self.path = path
    }

    /// The last path component ("/" for the root).
    public var name: String { h5LastComponent(path) }

    /// The group's attributes.
    public var attributes: HDF5Attributes { HDF5Attributes(file: file, path: path) }

    /// "HDF5Group(<path> in <file>)".
    public var description: String { "HDF5Group(\(path) in \(file.path))" }

    // MARK: Navigation

    /// The group at `path` ("a/b/c" relative to this group, or absolute).
    /// - Throws: `HDF5Error.objectNotFound`, `.wrongObjectKind` (something other than a group is
    ///   there), `.invalidArgument` (a ".." component), `.fileClosed`.
    public func group(_ path: String) throws -> HDF5Group {
        let target = try resolve(path)
        try file.withFileID(objectPath: target) { fileID in
            let kind = try kindOfExisting(target, fileID: fileID)
            guard kind == .group else {
                throw HDF5Error.wrongObjectKind(file: file.path, path: target, expected: .group, found: kind)
            }
        }
        return HDF5Group(file: file, path: target)
    }

    /// The dataset at `path` ("a/b/weight" relative to this group, or absolute), opened; its shape
    /// and element type are read once here.
    /// - Throws: `HDF5Error.objectNotFound`, `.wrongObjectKind` (a group is there), `.fileClosed`,
    ///   `.library` (HDF5 cannot open it).
    public func dataset(_ path: String) throws -> HDF5Dataset {
        let target = try resolve(path)
        return try file.withFileID(objectPath: target) { fileID in
            let kind = try kindOfExisting(target, fileID: fileID)
            guard kind == .dataset else {
                throw HDF5Error.wrongObjectKind(file: file.path, path: target, expected: .dataset, found: kind)
            }
            let id = try h5Check(H5Dopen2(fileID, target, mlh5_p_default()), file: file.path, path: target, "cannot open dataset")
            return try HDF5Dataset(object: HDF5OpenObject(file: file, id: id), path: target)
        }
    }

    /// Whether an object exists at `path` (relative or absolute). False when a link on the way is
    /// missing, is not a group, or dangles.
    /// - Throws: `HDF5Error.fileClosed`, `.invalidArgument` (a ".." component).
    public func contains(_ path: String) throws -> Bool {
        let target = try resolve(path)
        return try file.withFileID(objectPath: target) { fileID in h5ObjectExists(fileID, target) }
    }

    /// The kind of the object at `path`.
    /// - Throws: `HDF5Error.objectNotFound`, `.fileClosed`.
    public func kind(of path: String) throws -> HDF5ObjectKind {
        let target = try resolve(path)
        return try file.withFileID(objectPath: target) { fileID in try kindOfExisting(target, fileID: fileID) }
    }

    /// The names of the group's links, in HDF5's name order (byte-wise ascending).
    /// - Throws: `HDF5Error.fileClosed`, `.library`.
    public func childNames() throws -> [String] {
        try withGroupID { groupID in try linkNames(groupID) }
    }

    /// The group's children with their kinds, in name order. A link that cannot be resolved (dangling
    /// soft link, missing external file) is listed as `.other`.
    /// - Throws: `HDF5Error.fileClosed`, `.library`.
    public func children() throws -> [HDF5Entry] {
        try withGroupID { groupID in
            try linkNames(groupID).map { name in
                HDF5Entry(name: name, path: path == "/" ? "/" + name : path + "/" + name,
                          kind: h5Kind(at: name, in: groupID) ?? .other)
            }
        }
    }

    /// Walks everything below this group depth-first in name order, calling `body` for each entry
    /// (parents before their children, absolute paths). A group reachable by several hard links is
    /// entered once (cycles are not followed). `body` runs outside the HDF5 lock and may use the
    /// file, e.g. open each dataset for its shape.
    /// - Throws: what `body` throws; `HDF5Error.fileClosed`, `.library`.
    public func visit(_ body: (HDF5Entry) throws -> Void) throws {
        var visited: Set<HDF5ObjectAddress> = []
        if let address = try objectAddress(path) { visited.insert(address) }
        try visit(body, visited: &visited)
    }

    /// Every entry below this group, as `visit(_:)` lists them.
    /// - Throws: `HDF5Error.fileClosed`, `.library`.
    public func walk() throws -> [HDF5Entry] {
        var entries: [HDF5Entry] = []
        try visit { entries.append($0) }
        return entries
    }

    // MARK: Creation

    /// Creates the group at `path` and any missing intermediate groups ("a/b/c"), like `mkdir -p`;
    /// returns the existing group if there is one.
    /// - Throws: `HDF5Error.wrongObjectKind` (a dataset is at `path`), `.library` (e.g. the file is
    ///   read-only, or an intermediate component is a dataset), `.fileClosed`.
    @discardableResult
    public func createGroup(_ path: String) throws -> HDF5Group {
        let target = try resolve(path)
        try file.withFileID(objectPath: target) { fileID in
            if h5ObjectExists(fileID, target) {
                let kind = try kindOfExisting(target, fileID: fileID)
                guard kind == .group else {
                    throw HDF5Error.wrongObjectKind(file: file.path, path: target, expected: .group, found: kind)
                }
                return
            }
            let linkList = h5LinkCreationList()
            defer { h5Close(linkList) }
            let id = try h5Check(H5Gcreate2(fileID, target, linkList, mlh5_p_default(), mlh5_p_default()),
                                 file: file.path, path: target, "cannot create group")
            h5Close(id)
        }
        return HDF5Group(file: file, path: target)
    }

    /// Creates a numeric dataset at `path` (missing intermediate groups are created) holding `data`
    /// in row-major order, with one `H5Dwrite` straight from the buffer.
    ///
    /// - Parameters:
    ///   - path: relative to this group, or absolute.
    ///   - shape: dimensions, e.g. [out, in] for a Linear weight; [] makes a scalar dataset.
    ///     `data.count` must equal the product of `shape`.
    ///   - data: the values (Float, Double, Int32...: any `HDF5Scalar`).
    ///   - storedAs: the element type in the file, when it differs from `T`'s: e.g. `.float16` to store
    ///     Float data at half precision (rounded to nearest even, as numpy does; beyond ±65504 becomes
    ///     ±infinity). Must be a numeric type; floating-point data cannot be stored as integers.
    ///   - chunks: chunk shape (same rank as `shape`, each 1...dimension). Default: contiguous, or,
    ///     when `deflate` or `shuffle` is given, chunks of at most 1 MiB chosen by halving dimensions.
    ///   - deflate: gzip level 0–9 (nil: no compression).
    ///   - shuffle: add the byte-shuffle filter before deflate (usually compresses floats better).
    /// - Returns: the new dataset, open.
    /// - Throws: `HDF5Error.objectExists`, `.countMismatch` (data vs shape), `.invalidArgument` (bad
    ///   shape, chunks, level, or element types), `.typeMismatch`, `.library` (e.g. read-only file),
    ///   `.fileClosed`. A dataset whose write fails is removed again.
    @discardableResult
    public func createDataset<T: HDF5Scalar>(_ path: String, shape: [Int], data: UnsafeBufferPointer<T>,
                                             storedAs: HDF5ElementType? = nil, chunks: [Int]? = nil,
                                             deflate: Int? = nil, shuffle: Bool = false) throws -> HDF5Dataset {
        let target = try resolve(path)
        let count = try checkShape(shape, at: target)
        guard data.count == count else {
            throw HDF5Error.countMismatch(file: file.path, path: target, expected: count, found: data.count)
        }
        let stored = storedAs ?? T.hdf5ElementType
        guard stored.byteSize != nil else {
            throw HDF5Error.invalidArgument(file: file.path, path: target, message: "cannot store numeric data as \(stored)")
        }
        try h5CheckNumericConversion(T.self, stored: stored, numericClass: stored.isInteger ? .integer : .floatingPoint,
                                     reading: false, file: file.path, path: target)
        return try file.withFileID(objectPath: target) { fileID in
            let fileType = h5NativeType(stored)!
            defer { h5Close(fileType) }
            return try h5WithWritableMemory(data, stored: stored, file: file.path, path: target) { memoryType, buffer in
                try create(target, fileID: fileID, fileType: fileType, shape: shape, chunks: chunks,
                           deflate: deflate, shuffle: shuffle) { id in
                    count == 0 ? 0 : H5Dwrite(id, memoryType, mlh5_s_all(), mlh5_s_all(), mlh5_p_default(), buffer)
                }
            }
        }
    }

    /// Creates a numeric dataset from an array; see `createDataset(_:shape:data:storedAs:chunks:deflate:shuffle:)`
    /// for the parameters and errors. `data.count` must equal the product of `shape`.
    @discardableResult
    public func createDataset<T: HDF5Scalar>(_ path: String, shape: [Int], data: [T],
                                             storedAs: HDF5ElementType? = nil, chunks: [Int]? = nil,
                                             deflate: Int? = nil, shuffle: Bool = false) throws -> HDF5Dataset {
        try data.withUnsafeBufferPointer {
            try createDataset(path, shape: shape, data: $0, storedAs: storedAs, chunks: chunks,
                              deflate: deflate, shuffle: shuffle)
        }
    }

    /// Creates a numeric dataset of `shape` without writing data (it reads as zeros until written),
    /// to be filled with `HDF5Dataset.write(_:)` or `writeRows(_:startingAt:)`, e.g. features
    /// computed batch by batch.
    ///
    /// - Parameters: as in `createDataset(_:shape:data:storedAs:chunks:deflate:shuffle:)`;
    ///   `elementType` must be numeric.
    /// - Throws: `HDF5Error.objectExists`, `.invalidArgument`, `.library`, `.fileClosed`.
    @discardableResult
    public func createDataset(_ path: String, shape: [Int], elementType: HDF5ElementType, chunks: [Int]? = nil,
                              deflate: Int? = nil, shuffle: Bool = false) throws -> HDF5Dataset {
        let target = try resolve(path)
        _ = try checkShape(shape, at: target)
        return try file.withFileID(objectPath: target) { fileID in
            guard let fileType = h5NativeType(elementType) else {
                throw HDF5Error.invalidArgument(file: file.path, path: target,
                    message: "createDataset(shape:elementType:) needs a numeric element type, got \(elementType); use createDataset(_:strings:) for strings")
            }
            defer { h5Close(fileType) }
            return try create(target, fileID: fileID, fileType: fileType, shape: shape, chunks: chunks,
                              deflate: deflate, shuffle: shuffle, write: nil)
        }
    }

    /// Creates a string dataset at `path` holding `strings` in row-major order, as UTF-8.
    ///
    /// - Parameters:
    ///   - strings: the values; none may contain a NUL character.
    ///   - shape: dimensions (product = `strings.count`); default `[strings.count]`; `[]` for a
    ///     scalar string (one element), e.g. a long JSON text.
    ///   - layout: `.variableLength` (default, as h5py's `string_dtype()`) or
    ///     `.fixedLength(bytes:)` (NUL-padded).
    ///   - chunks, deflate, shuffle: as for numeric datasets.
    /// - Throws: `HDF5Error.objectExists`, `.countMismatch`, `.invalidArgument` (NUL in a string, a
    ///   string longer than the fixed length, bad chunks), `.library`, `.fileClosed`.
    @discardableResult
    public func createDataset(_ path: String, strings: [String], shape: [Int]? = nil,
                              layout: HDF5StringLayout = .variableLength, chunks: [Int]? = nil,
                              deflate: Int? = nil, shuffle: Bool = false) throws -> HDF5Dataset {
        let target = try resolve(path)
        let shape = shape ?? [strings.count]
        let count = try checkShape(shape, at: target)
        guard strings.count == count else {
            throw HDF5Error.countMismatch(file: file.path, path: target, expected: count, found: strings.count)
        }
        return try file.withFileID(objectPath: target) { fileID in
            try h5WithEncodedStrings(strings, layout: layout, file: file.path, path: target) { buffer, type in
                try create(target, fileID: fileID, fileType: type, shape: shape, chunks: chunks,
                           deflate: deflate, shuffle: shuffle) { id in
                    count == 0 ? 0 : H5Dwrite(id, type, mlh5_s_all(), mlh5_s_all(), mlh5_p_default(), buffer)
                }
            }
        }
    }

    /// Removes the link at `path` (the object's space in the file is not reclaimed: HDF5 files do not
    /// shrink; `h5repack` compacts them).
    /// - Throws: `HDF5Error.objectNotFound`, `.library` (e.g. read-only file), `.fileClosed`.
    public func remove(_ path: String) throws {
        let target = try resolve(path)
        try file.withFileID(objectPath: target) { fileID in
            guard target != "/", H5Lexists(fileID, target, mlh5_p_default()) > 0 else {
                h5ClearErrors()
                throw HDF5Error.objectNotFound(file: file.path, path: target)
            }
            try h5Check(H5Ldelete(fileID, target, mlh5_p_default()), file: file.path, path: target, "cannot remove link")
        }
    }

    // MARK: Internal

    private func resolve(_ relative: String) throws -> String {
        try h5ResolvePath(relative, in: path, file: file.path)
    }

    /// Inside the lock: the kind of the object at `target`, or `objectNotFound`.
    private func kindOfExisting(_ target: String, fileID: hid_t) throws -> HDF5ObjectKind {
        guard h5ObjectExists(fileID, target) else {
            throw HDF5Error.objectNotFound(file: file.path, path: target)
        }
        guard let kind = h5Kind(at: target, in: fileID) else {
            throw HDF5Error.objectNotFound(file: file.path, path: target)
        }
        return kind
    }

    /// Runs `body` with this group open.
    private func withGroupID<R>(_ body: (hid_t) throws -> R) throws -> R {
        try file.withFileID(objectPath: path) { fileID in
            guard h5ObjectExists(fileID, path) else { throw HDF5Error.objectNotFound(file: file.path, path: path) }
            let id = try h5Check(H5Gopen2(fileID, path, mlh5_p_default()), file: file.path, path: path, "cannot open group")
            defer { h5Close(id) }
            return try body(id)
        }
    }

    private func linkNames(_ groupID: hid_t) throws -> [String] {
        var info = H5G_info_t()
        try h5Check(H5Gget_info(groupID, &info), file: file.path, path: path, "cannot read group info")
        var names: [String] = []
        names.reserveCapacity(Int(info.nlinks))
        for index in 0..<info.nlinks {
            let length = try h5Check(H5Lget_name_by_idx(groupID, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, mlh5_p_default()),
                                     file: file.path, path: path, "cannot read link name \(index)")
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            try h5Check(H5Lget_name_by_idx(groupID, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, buffer.count, mlh5_p_default()),
                        file: file.path, path: path, "cannot read link name \(index)")
            names.append(h5String(buffer))
        }
        return names
    }

    private func objectAddress(_ target: String) throws -> HDF5ObjectAddress? {
        try file.withFileID(objectPath: target) { fileID in
            let object = H5Oopen(fileID, target, mlh5_p_default())
            guard object >= 0 else { h5ClearErrors(); return nil }
            defer { H5Oclose(object) }
            var fileNumber: UInt = 0
            var address: haddr_t = 0
            guard mlh5_object_address(object, &fileNumber, &address) >= 0 else { h5ClearErrors(); return nil }
            return HDF5ObjectAddress(fileNumber: UInt64(fileNumber), address: UInt64(address))
        }
    }

    private func visit(_ body: (HDF5Entry) throws -> Void, visited: inout Set<HDF5ObjectAddress>) throws {
        for entry in try children() {
            try body(entry)
            guard entry.kind == .group else { continue }
            if let address = try objectAddress(entry.path) {
                guard visited.insert(address).inserted else { continue }
            }
            try HDF5Group(file: file, path: entry.path).visit(body, visited: &visited)
        }
    }

    /// Validates a shape; returns its element count.
    private func checkShape(_ shape: [Int], at target: String) throws -> Int {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw HDF5Error.invalidArgument(file: file.path, path: target, message: "shape \(shape) has a negative dimension")
        }
        let (count, overflow) = shape.reduce((1, false)) { acc, d in
            let (p, o) = acc.0.multipliedReportingOverflow(by: d)
            return (p, acc.1 || o)
        }
        guard !overflow else {
            throw HDF5Error.invalidArgument(file: file.path, path: target, message: "shape \(shape) has too many elements")
        }
        return count
    }

    /// Inside the lock: creates the dataset at `target` with the given storage, runs `write` on it
    /// (removing the dataset again if the write fails), and returns it open.
    private func create(_ target: String, fileID: hid_t, fileType: hid_t, shape: [Int], chunks: [Int]?,
                        deflate: Int?, shuffle: Bool, write: ((hid_t) -> herr_t)?) throws -> HDF5Dataset {
        if h5ObjectExists(fileID, target) {
            throw HDF5Error.objectExists(file: file.path, path: target)
        }
        if let deflate, !(0...9).contains(deflate) {
            throw HDF5Error.invalidArgument(file: file.path, path: target, message: "deflate level must be 0...9, got \(deflate)")
        }
        let count = shape.reduce(1, *)
        let filtered = deflate != nil || shuffle
        var chunkShape: [Int]? = nil
        if let chunks {
            guard !shape.isEmpty else {
                throw HDF5Error.invalidArgument(file: file.path, path: target, message: "a scalar dataset cannot be chunked")
            }
            guard chunks.count == shape.count,
                  zip(chunks, shape).allSatisfy({ c, d in c >= 1 && c <= Swift.max(d, 1) }) else {
                throw HDF5Error.invalidArgument(file: file.path, path: target,
                    message: "chunk shape \(chunks) must have rank \(shape.count) and each dimension in 1...(dataset dimension) for shape \(shape)")
            }
            chunkShape = chunks
        } else if filtered && !shape.isEmpty {
            chunkShape = h5DefaultChunks(shape: shape, elementSize: H5Tget_size(fileType))
        }
        if count == 0 { chunkShape = nil }  // HDF5 rejects chunks larger than a zero dimension; nothing to compress
        if filtered, shape.isEmpty {
            throw HDF5Error.invalidArgument(file: file.path, path: target, message: "a scalar dataset cannot be compressed")
        }

        let space = h5CreateDataspace(shape)
        defer { h5Close(space) }
        let creation = H5Pcreate(mlh5_p_dataset_create())
        defer { h5Close(creation) }
        if let chunkShape {
            var dims = chunkShape.map { hsize_t($0) }
            try h5Check(H5Pset_chunk(creation, Int32(dims.count), &dims), file: file.path, path: target, "cannot set chunk shape \(chunkShape)")
            if shuffle {
                try h5Check(H5Pset_shuffle(creation), file: file.path, path: target, "cannot add the shuffle filter")
            }
            if let deflate {
                guard H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0 else {
                    throw HDF5Error.invalidArgument(file: file.path, path: target, message: "this HDF5 library has no deflate filter")
                }
                try h5Check(H5Pset_deflate(creation, UInt32(deflate)), file: file.path, path: target, "cannot add the deflate filter")
            }
        }
        let linkList = h5LinkCreationList()
        defer { h5Close(linkList) }
        let id = try h5Check(H5Dcreate2(fileID, target, fileType, space, linkList, creation, mlh5_p_default()),
                             file: file.path, path: target, "cannot create dataset")
        let object = HDF5OpenObject(file: file, id: id)
        if let write {
            let status = write(id)
            if status < 0 {
                let message = h5TakeErrorMessage()
                object.closeWhileLocked()
                H5Ldelete(fileID, target, mlh5_p_default())
                h5ClearErrors()
                throw HDF5Error.library(file: file.path, path: target, operation: "cannot write dataset", message: message)
            }
        }
        return try HDF5Dataset(object: object, path: target)
    }
}

/// An object's identity in the process (file number, header address), for visiting objects once.
struct HDF5ObjectAddress: Hashable {
    let fileNumber: UInt64
    let address: UInt64
}

/// A chunk shape of at most 1 MiB for `shape`: start from the whole dataset and halve dimension 0
/// until it fits or reaches 1, then dimension 1, and so on; whole rows are kept as long as possible,
/// which suits reads of row ranges.
func h5DefaultChunks(shape: [Int], elementSize: Int) -> [Int] {
    let limit = 1 << 20
    var chunk = shape.map { Swift.max($0, 1) }
    for dimension in chunk.indices {
        while chunk.reduce(Swift.max(elementSize, 1), *) > limit, chunk[dimension] > 1 {
            chunk[dimension] = (chunk[dimension] + 1) / 2
        }
    }
    return chunk
}
