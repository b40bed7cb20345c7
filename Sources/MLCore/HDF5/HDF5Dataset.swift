internal import CHDF5

/// An open dataset: an n-dimensional, row-major array of one element type.
///
/// Holds its HDF5 identifier (closed when the last copy of this value goes away, or by
/// `HDF5File.close()`) and its file (kept open meanwhile). Shape and element type are read when the
/// dataset is opened. Reads go straight from HDF5 into the destination with one `H5Dread`; HDF5
/// converts the stored type to the requested one (float16/float64 → Float, int64 → Int32...).
///
/// Shapes follow the file (e.g. [out, in] for a PyTorch Linear weight); "rows" are slices along
/// dimension 0, each of `elementsPerRow` elements.
public struct HDF5Dataset: Sendable, CustomStringConvertible {
    let object: HDF5OpenObject
    /// The absolute path in the file, e.g. "/params/encoder/weight".
    public let path: String
    /// Dimensions; [] for a scalar dataset.
    public let shape: [Int]
    /// Total number of elements: the product of `shape` (1 for a scalar, 0 for an empty or null dataspace).
    public let count: Int
    /// The element type as stored in the file.
    public let elementType: HDF5ElementType
    /// True for a null dataspace (no shape at all, h5py's `Empty`): `shape` is [] as for a scalar,
    /// but there is no element.
    public let isNull: Bool
    /// Integer or floating point storage (nil: strings or other), deciding allowed conversions.
    let numericClass: HDF5NumericClass?

    /// Reads shape and type of the open dataset `object`. Inside the lock.
    init(object: HDF5OpenObject, path: String) throws {
        self.object = object
        self.path = path
        let fileName = object.file.path
        let (shape, count, elementType, numericClass, isNull) = try object.withID { id in
            let space = try h5Check(H5Dget_space(id), file: fileName, path: path, "cannot read dataspace")
            defer { h5Close(space) }
            let (shape, count) = try h5Extent(of: space, file: fileName, path: path)
            let type = try h5Check(H5Dget_type(id), file: fileName, path: path, "cannot read datatype")
            defer { h5Close(type) }
            return (shape, count, h5ElementType(of: type), h5NumericClass(of: type), H5Sget_simple_extent_type(space) == H5S_NULL)
        }
        self.isNull = isNull
        self.shape = shape
        self.count = count
        self.elementType = elementType
        self.numericClass = numericClass
    }

    /// The file this dataset belongs to.
    public var file: HDF5File { object.file }
    /// The last path component.
    public var name: String { h5LastComponent(path) }
    /// Number of dimensions (0 for a scalar).
    public var rank: Int { shape.count }
    /// Size of dimension 0 (the unit of `readRows`); 1 for a scalar.
    public var rowCount: Int { shape.first ?? 1 }
    /// Elements in one row: the product of `shape[1...]` (1 for rank 0 and 1).
    public var elementsPerRow: Int { shape.dropFirst().reduce(1, *) }
    /// The dataset's attributes.
    public var attributes: HDF5Attributes { HDF5Attributes(file: file, path: path) }

    /// "<path>: <element type> <shape>", e.g. "/params/weight: float32 [384, 1536]".
    public var description: String { "\(path): \(elementType) \(shape)" }

    // MARK: Checks

    /// Throws unless the dataset has rank `rank`.
    /// - Throws: `HDF5Error.rankMismatch`.
    public func expectRank(_ rank: Int) throws {
        guard shape.count == rank else {
            throw HDF5Error.rankMismatch(file: file.path, path: path, expected: "\(rank)", found: shape.count)
        }
    }

    /// Throws unless the dataset has exactly `shape`.
    /// - Throws: `HDF5Error.rankMismatch` (different rank), `.shapeMismatch` (same rank, other sizes).
    public func expectShape(_ shape: [Int]) throws {
        try expectRank(shape.count)
        guard self.shape == shape else {
            throw HDF5Error.shapeMismatch(file: file.path, path: path, expected: shape, found: self.shape)
        }
    }

    // MARK: Storage

    /// Layout, chunking, filters and allocated size in the file.
    /// - Throws: `HDF5Error.fileClosed`, `.library`.
    public func storageInfo() throws -> HDF5StorageInfo {
        let fileName = file.path
        return try object.withID { id in
            let creation = try h5Check(H5Dget_create_plist(id), file: fileName, path: path, "cannot read creation properties")
            defer { h5Close(creation) }
            let layout: HDF5StorageInfo.Layout
            switch H5Pget_layout(creation) {
            case H5D_COMPACT: layout = .compact
            case H5D_CONTIGUOUS: layout = .contiguous
            case H5D_CHUNKED: layout = .chunked
            case H5D_VIRTUAL: layout = .virtual
            default: layout = .unknown
            }
            var chunkShape: [Int]? = nil
            if layout == .chunked {
                var dims = [hsize_t](repeating: 0, count: Swift.max(shape.count, 1))
                let rank = try h5Check(H5Pget_chunk(creation, Int32(dims.count), &dims), file: fileName, path: path, "cannot read chunk shape")
                chunkShape = dims.prefix(Int(rank)).map { Int($0) }
            }
            var filters: [String] = []
            var deflateLevel: Int? = nil
            let filterCount = try h5Check(H5Pget_nfilters(creation), file: fileName, path: path, "cannot read filters")
            for index in 0..<UInt32(filterCount) {
                var flags: UInt32 = 0
                var valueCount = 8
                var values = [UInt32](repeating: 0, count: 8)
                var nameBuffer = [CChar](repeating: 0, count: 256)
                var config: UInt32 = 0
                let filter = H5Pget_filter2(creation, index, &flags, &valueCount, &values, nameBuffer.count, &nameBuffer, &config)
                try h5Check(filter, file: fileName, path: path, "cannot read filter \(index)")
                h5ClearErrors()
                switch filter {
                case H5Z_FILTER_DEFLATE:
                    filters.append("deflate")
                    deflateLevel = valueCount > 0 ? Int(values[0]) : nil
                case H5Z_FILTER_SHUFFLE: filters.append("shuffle")
                case H5Z_FILTER_FLETCHER32: filters.append("fletcher32")
                case H5Z_FILTER_SZIP: filters.append("szip")
                case H5Z_FILTER_NBIT: filters.append("nbit")
                case H5Z_FILTER_SCALEOFFSET: filters.append("scaleoffset")
                default:
                    let name = h5String(nameBuffer)
                    let available = H5Zfilter_avail(filter) > 0
                    h5ClearErrors()
                    filters.append((name.isEmpty ? "filter \(filter)" : "\(name) (\(filter))") + (available ? "" : ", not available in this HDF5"))
                }
            }
            let bytes = Int(H5Dget_storage_size(id))
            h5ClearErrors()
            return HDF5StorageInfo(layout: layout, chunkShape: chunkShape, filters: filters,
                                   deflateLevel: deflateLevel, storageBytes: bytes)
        }
    }

    // MARK: Numeric reads

    /// Reads the whole dataset into `buffer` (row-major), converting to `T`, with one `H5Dread`
    /// straight into the buffer (no intermediate copy): the way to fill tensor storage.
    ///
    /// - Parameter buffer: exactly `count` elements.
    /// - Throws: `HDF5Error.countMismatch` (buffer size), `.typeMismatch` (strings or other types,
    ///   floating point into an integer type, an integer value outside `T`'s range, e.g. uint64 2⁶³
    ///   into Int64), `.fileClosed`, `.library`.
    public func read<T: HDF5Scalar>(into buffer: UnsafeMutableBufferPointer<T>) throws {
        try readNumeric(rows: nil, into: buffer)
    }

    /// The whole dataset as a flat row-major array of `T` (shape in `shape`), read with one
    /// `H5Dread` into the array's storage. `let w: [Float] = try dataset.read()`. Integers are
    /// exact: a stored value outside `T`'s range is refused, never wrapped or saturated.
    /// - Throws: `HDF5Error.typeMismatch` (also for an integer outside `T`'s range), `.fileClosed`, `.library`.
    public func read<T: HDF5Scalar>(as type: T.Type = T.self) throws -> [T] {
        try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            try readNumeric(rows: nil, into: buffer)
            initialized = count
        }
    }

    /// Reads rows `rows` (along dimension 0) into `buffer`, reading only those rows from the file
    /// (a hyperslab selection); for a [N, C, D] dataset and rows a..<b the buffer holds
    /// (b−a)·C·D elements, row-major.
    ///
    /// - Parameters:
    ///   - rows: a range within `0..<rowCount`; an empty range reads nothing.
    ///   - buffer: exactly `rows.count · elementsPerRow` elements.
    /// - Throws: `HDF5Error.rankMismatch` (scalar dataset), `.rowsOutOfRange`, `.countMismatch`,
    ///   `.typeMismatch`, `.fileClosed`, `.library`.
    public func readRows<T: HDF5Scalar>(_ rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<T>) throws {
        try readNumeric(rows: rows, into: buffer)
    }

    /// Rows `rows` (along dimension 0) as a flat row-major array of `rows.count · elementsPerRow`
    /// elements, reading only those rows. `let batch: [Float] = try x.readRows(64..<128)`.
    /// - Throws: `HDF5Error.rankMismatch` (scalar dataset), `.rowsOutOfRange`, `.typeMismatch`,
    ///   `.fileClosed`, `.library`.
    public func readRows<T: HDF5Scalar>(_ rows: Range<Int>, as type: T.Type = T.self) throws -> [T] {
        try checkRows(rows)
        let n = rows.count * elementsPerRow
        return try [T](unsafeUninitializedCapacity: n) { buffer, initialized in
            try readNumeric(rows: rows, into: buffer)
            initialized = n
        }
    }

    /// The single value of a dataset with one element (a scalar, or shape [1], [1, 1]...).
    /// - Throws: `HDF5Error.countMismatch` (not exactly one element), `.typeMismatch`, `.fileClosed`,
    ///   `.library`.
    public func readScalar<T: HDF5Scalar>(as type: T.Type = T.self) throws -> T {
        guard count == 1 else {
            throw HDF5Error.countMismatch(file: file.path, path: path, expected: 1, found: count)
        }
        let values: [T] = try read()
        return values[0]
    }

    // MARK: String reads

    /// The whole string dataset (variable- or fixed-length) as a flat row-major array, decoded as
    /// UTF-8 (invalid bytes are replaced by U+FFFD). Fixed-length strings lose their padding.
    /// - Throws: `HDF5Error.typeMismatch` (not a string dataset), `.fileClosed`, `.library`.
    public func readStrings() throws -> [String] {
        try readStringElements(rows: nil)
    }

    /// Rows `rows` (along dimension 0) of a string dataset, reading only those rows.
    /// - Throws: `HDF5Error.rankMismatch` (scalar), `.rowsOutOfRange`, `.typeMismatch`,
    ///   `.fileClosed`, `.library`.
    public func readStrings(rows: Range<Int>) throws -> [String] {
        try readStringElements(rows: rows)
    }

    /// The single string of a dataset with one element (e.g. a scalar JSON text such as
    /// /tokenizer/tokenizer.json).
    /// - Throws: `HDF5Error.countMismatch` (not exactly one element), `.typeMismatch`, `.fileClosed`,
    ///   `.library`.
    public func readString() throws -> String {
        guard count == 1 else {
            throw HDF5Error.countMismatch(file: file.path, path: path, expected: 1, found: count)
        }
        return try readStrings()[0]
    }

    // MARK: Writes

    /// Overwrites the whole dataset with `data` (row-major, `count` elements), converting from `T`
    /// to the stored type, in one `H5Dwrite`.
    /// - Throws: `HDF5Error.countMismatch`, `.typeMismatch` (string dataset, or floating-point data
    ///   into integer storage), `.library` (e.g. read-only file), `.fileClosed`.
    public func write<T: HDF5Scalar>(_ data: UnsafeBufferPointer<T>) throws {
        try writeNumeric(rows: nil, data)
    }

    /// Overwrites the whole dataset with `data`; see `write(_:)` (buffer).
    public func write<T: HDF5Scalar>(_ data: [T]) throws {
        try data.withUnsafeBufferPointer { try writeNumeric(rows: nil, $0) }
    }

    /// Writes `data` into rows `row..<row + data.count / elementsPerRow` (along dimension 0), leaving
    /// the other rows as they are; for filling a dataset batch by batch.
    /// - Parameter data: a whole number of rows, row-major.
    /// - Throws: `HDF5Error.countMismatch` (not a whole number of rows), `.rowsOutOfRange`,
    ///   `.rankMismatch` (scalar), `.typeMismatch`, `.library`, `.fileClosed`.
    public func writeRows<T: HDF5Scalar>(_ data: UnsafeBufferPointer<T>, startingAt row: Int) throws {
        let perRow = elementsPerRow
        guard perRow > 0 ? data.count % perRow == 0 : data.count == 0 else {
            throw HDF5Error.countMismatch(file: file.path, path: path,
                                          expected: (data.count / Swift.max(perRow, 1) + 1) * perRow, found: data.count)
        }
        let rowsWritten = perRow > 0 ? data.count / perRow : 0
        try writeNumeric(rows: row..<(row + rowsWritten), data)
    }

    /// Writes whole rows starting at `row`; see `writeRows(_:startingAt:)` (buffer).
    public func writeRows<T: HDF5Scalar>(_ data: [T], startingAt row: Int) throws {
        try data.withUnsafeBufferPointer { try writeRows($0, startingAt: row) }
    }

    // MARK: Internal

    private func checkRows(_ rows: Range<Int>) throws {
        guard !shape.isEmpty else {
            throw HDF5Error.rankMismatch(file: file.path, path: path, expected: "at least 1 (rows are along dimension 0)", found: 0)
        }
        guard rows.lowerBound >= 0, rows.upperBound <= shape[0] else {
            throw HDF5Error.rowsOutOfRange(file: file.path, path: path, requested: rows, rowCount: shape[0])
        }
    }

    /// Inside the lock: a file dataspace selecting `rows` and a matching memory dataspace, or
    /// H5S_ALL twice for the whole dataset. Both are closed after `body`.
    @discardableResult
    private func withSelection<R>(_ id: hid_t, rows: Range<Int>?, _ body: (_ memory: hid_t, _ file: hid_t) throws -> R) throws -> R {
        guard let rows else { return try body(mlh5_s_all(), mlh5_s_all()) }
        let fileSpace = try h5Check(H5Dget_space(id), file: file.path, path: path, "cannot read dataspace")
        defer { h5Close(fileSpace) }
        var start = [hsize_t](repeating: 0, count: shape.count)
        start[0] = hsize_t(rows.lowerBound)
        var counts = shape.map { hsize_t($0) }
        counts[0] = hsize_t(rows.count)
        try h5Check(H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &start, nil, &counts, nil),
                    file: file.path, path: path, "cannot select rows \(rows)")
        var memoryDims = [hsize_t(rows.count * elementsPerRow)]
        let memorySpace = try h5Check(H5Screate_simple(1, &memoryDims, nil), file: file.path, path: path, "cannot create dataspace")
        defer { h5Close(memorySpace) }
        return try body(memorySpace, fileSpace)
    }

    /// Elements in `rows` (checked against the row count), or in the whole dataset for nil.
    private func requestedCount(_ rows: Range<Int>?) throws -> Int {
        guard let rows else { return count }
        try checkRows(rows)
        return rows.count * elementsPerRow
    }

    private func readNumeric<T: HDF5Scalar>(rows: Range<Int>?, into buffer: UnsafeMutableBufferPointer<T>) throws {
        try h5CheckNumericConversion(T.self, stored: elementType, numericClass: numericClass, reading: true,
                                     file: file.path, path: path)
        let needed = try requestedCount(rows)
        guard buffer.count == needed else {
            throw HDF5Error.countMismatch(file: file.path, path: path, expected: needed, found: buffer.count)
        }
        if needed == 0 { return }
        try checkIntegerRange(T.self, rows: rows, count: needed)
        let operation = rows.map { "cannot read rows \($0.lowerBound)..<\($0.upperBound)" } ?? "cannot read dataset"
        do {
            try readNumericChecked(rows: rows, into: buffer, needed: needed, operation: operation)
        } catch HDF5Error.library(let file, let path, let operation, let message) {
            // A filter this HDF5 lacks (e.g. h5py's lzf) shows up as a plugin-directory error: name it.
            if let filter = try? storageInfo().filters.first(where: { $0.hasSuffix(", not available in this HDF5") }) {
                throw HDF5Error.library(file: file, path: path, operation: operation, message: "dataset \(path) uses filter \(filter)")
            }
            throw HDF5Error.library(file: file, path: path, operation: operation, message: message)
        }
    }

    /// `readNumeric`'s read proper (types and count already checked).
    private func readNumericChecked<T: HDF5Scalar>(rows: Range<Int>?, into buffer: UnsafeMutableBufferPointer<T>, needed: Int,
                                                   operation: String) throws {
        let fileName = file.path
        try object.withID { id in
            let memoryType = try h5MemoryType(for: T.self, file: fileName, path: path)
            defer { h5Close(memoryType) }
            #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
            if elementType == .float16, T.self == Float.self || T.self == Double.self {
                // HDF5 1.10 converts half precision in software at ~100 ns per element. Instead read the
                // raw halves into the tail of the destination (2 of its 4 or 8 bytes per element) and
                // widen them in place, front to back: writing element i (bytes [s·i, s·i+s)) never
                // reaches a half not yet read (at byte (s−2)·n + 2j, j > i).
                let halfType = h5NativeType(.float16)!
                defer { h5Close(halfType) }
                let raw = UnsafeMutableRawPointer(buffer.baseAddress!)
                let stride = MemoryLayout<T>.stride
                let halvesOffset = (stride - 2) * needed
                try withSelection(id, rows: rows) { memorySpace, fileSpace in
                    try h5Check(H5Dread(id, halfType, memorySpace, fileSpace, mlh5_p_default(), raw + halvesOffset),
                                file: fileName, path: path, operation)
                }
                if T.self == Float.self {
                    for i in 0..<needed {
                        let half = raw.load(fromByteOffset: halvesOffset + 2 * i, as: Float16.self)
                        raw.storeBytes(of: Float(half), toByteOffset: 4 * i, as: Float.self)
                    }
                } else {
                    for i in 0..<needed {
                        let half = raw.load(fromByteOffset: halvesOffset + 2 * i, as: Float16.self)
                        raw.storeBytes(of: Double(half), toByteOffset: 8 * i, as: Double.self)
                    }
                }
                return
            }
            #endif
            try withSelection(id, rows: rows) { memorySpace, fileSpace in
                try h5Check(H5Dread(id, memoryType, memorySpace, fileSpace, mlh5_p_default(), buffer.baseAddress),
                            file: fileName, path: path, operation)
            }
        }
    }

    /// Refuses to read integers into a type that cannot hold every stored value (HDF5 would wrap or
    /// saturate them silently, e.g. uint64 2⁶³ read as int64 −2⁶³): when the stored type's range is not
    /// inside `T`'s, the values are read first in the stored signedness at 64 bits and checked.
    /// - Throws: `HDF5Error.typeMismatch` naming the first value that does not fit and its element index.
    private func checkIntegerRange<T: HDF5Scalar>(_: T.Type, rows: Range<Int>?, count: Int) throws {
        guard let stored = elementType.integerBounds, let memory = T.hdf5ElementType.integerBounds,
              stored.lower < memory.lower || stored.upper > memory.upper else { return }
        let first = (rows?.lowerBound ?? 0) * elementsPerRow
        func refuse(_ value: String, at index: Int) -> HDF5Error {
            .typeMismatch(file: file.path, path: path,
                          expected: "values that fit \(T.hdf5ElementType) (\(memory.lower)...\(memory.upper)) to read as \(T.self)",
                          found: "\(elementType) value \(value) at element \(first + index)")
        }
        if stored.lower < 0 {
            var values = [Int64](repeating: 0, count: count)
            try values.withUnsafeMutableBufferPointer { try readNumeric(rows: rows, into: $0) }
            if let i = values.firstIndex(where: { $0 < memory.lower || ($0 > 0 && UInt64($0) > memory.upper) }) {
                throw refuse(String(values[i]), at: i)
            }
        } else {
            var values = [UInt64](repeating: 0, count: count)
            try values.withUnsafeMutableBufferPointer { try readNumeric(rows: rows, into: $0) }
            if let i = values.firstIndex(where: { $0 > memory.upper }) { throw refuse(String(values[i]), at: i) }
        }
    }

    private func writeNumeric<T: HDF5Scalar>(rows: Range<Int>?, _ data: UnsafeBufferPointer<T>) throws {
        try h5CheckNumericConversion(T.self, stored: elementType, numericClass: numericClass, reading: false,
                                     file: file.path, path: path)
        let needed = try requestedCount(rows)
        guard data.count == needed else {
            throw HDF5Error.countMismatch(file: file.path, path: path, expected: needed, found: data.count)
        }
        if needed == 0 { return }
        let fileName = file.path
        _ = try object.withID { id in
            try h5WithWritableMemory(data, stored: elementType, file: fileName, path: path) { memoryType, buffer in
                try withSelection(id, rows: rows) { memorySpace, fileSpace in
                    try h5Check(H5Dwrite(id, memoryType, memorySpace, fileSpace, mlh5_p_default(), buffer),
                                file: fileName, path: path,
                                rows.map { "cannot write rows \($0.lowerBound)..<\($0.upperBound)" } ?? "cannot write dataset")
                }
            }
        }
    }

    private func readStringElements(rows: Range<Int>?) throws -> [String] {
        guard case .string = elementType else {
            throw HDF5Error.typeMismatch(file: file.path, path: path, expected: "a string type", found: elementType.description)
        }
        let n: Int
        if let rows {
            try checkRows(rows)
            n = rows.count * elementsPerRow
        } else {
            n = count
        }
        if n == 0 { return [] }
        let fileName = file.path
        return try object.withID { id in
            let fileType = try h5Check(H5Dget_type(id), file: fileName, path: path, "cannot read datatype")
            defer { h5Close(fileType) }
            return try withSelection(id, rows: rows) { memorySpace, fileSpace in
                try h5DecodeStrings(read: { memoryType, buffer in
                    H5Dread(id, memoryType, memorySpace, fileSpace, mlh5_p_default(), buffer)
                }, fileType: fileType, count: n, file: fileName, path: path,
                   what: rows.map { "strings of rows \($0.lowerBound)..<\($0.upperBound)" } ?? "strings")
            }
        }
    }
}
