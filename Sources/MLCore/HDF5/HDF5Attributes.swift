internal import CHDF5

/// The value of an HDF5 attribute, in the kinds MLCore reads and writes.
///
/// Reading maps HDF5 types as follows: strings (variable- or fixed-length, UTF-8 or ASCII) →
/// `.string`/`.strings`; integers of any width → `.int`/`.ints`, except unsigned 64-bit values of
/// which one exceeds `Int.max`: those are read exactly as `.uint`/`.uints`; enums (h5py's `bool`) → their integer values; floats of any width → `.double`/`.doubles`.
/// A scalar dataspace gives the single-value case, any simple dataspace (even of one element) the
/// array case, flattened row-major. JSON (configs, provenance) is just a `.string`.
///
/// Writing stores `.string(s)` as a scalar variable-length UTF-8 string, `.int` as int64, `.uint` as
/// uint64, `.double` as float64, and the array cases as 1-D attributes of those types.
public enum HDF5AttributeValue: Sendable, Hashable, CustomStringConvertible,
    ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    /// One string.
    case string(String)
    /// One integer.
    case int(Int)
    /// One floating-point number.
    case double(Double)
    /// An array of strings.
    case strings([String])
    /// An array of integers.
    case ints([Int])
    /// An array of floating-point numbers.
    case doubles([Double])
    /// One unsigned 64-bit integer above `Int.max` (read from uint64 storage; exact).
    case uint(UInt64)
    /// An array of unsigned 64-bit integers, at least one above `Int.max` (uint64 storage; exact).
    case uints([UInt64])

    /// `"text"` → `.string("text")`.
    public init(stringLiteral value: String) { self = .string(value) }
    /// `3` → `.int(3)`.
    public init(integerLiteral value: Int) { self = .int(value) }
    /// `0.5` → `.double(0.5)`.
    public init(floatLiteral value: Double) { self = .double(value) }

    /// The string of a `.string` value, else nil.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The integer of an `.int` value, else nil.
    public var intValue: Int? {
        if case .int(let value) = self { return value }
        return nil
    }

    /// The number of a `.double` value, or of an `.int` value converted; else nil.
    public var doubleValue: Double? {
        switch self {
        case .double(let value): return value
        case .int(let value): return Double(value)
        default: return nil
        }
    }

    /// The array of a `.strings` value, or a `.string` as one element; else nil.
    public var stringsValue: [String]? {
        switch self {
        case .strings(let values): return values
        case .string(let value): return [value]
        default: return nil
        }
    }

    /// The array of an `.ints` value, or an `.int` as one element; else nil.
    public var intsValue: [Int]? {
        switch self {
        case .ints(let values): return values
        case .int(let value): return [value]
        default: return nil
        }
    }

    /// The array of a `.doubles` value, or of any integer or floating value converted; else nil.
    public var doublesValue: [Double]? {
        switch self {
        case .doubles(let values): return values
        case .double(let value): return [value]
        case .ints(let values): return values.map(Double.init)
        case .int(let value): return [Double(value)]
        case .uints(let values): return values.map(Double.init)
        case .uint(let value): return [Double(value)]
        default: return nil
        }
    }

    /// The kind of value, for error messages: "string", "int", "double", "string array"...
    public var kindName: String {
        switch self {
        case .string: return "string"
        case .int: return "int"
        case .double: return "double"
        case .strings: return "string array"
        case .ints: return "int array"
        case .doubles: return "double array"
        case .uint: return "uint64"
        case .uints: return "uint64 array"
        }
    }

    /// Strings quoted and escaped, arrays in brackets: `"naïve"`, `3`, `0.5`, `["a", "b"]`, `[1, 2]`.
    public var description: String {
        switch self {
        case .string(let value): return value.debugDescription
        case .int(let value): return String(value)
        case .double(let value): return String(value)
        case .strings(let values): return "[" + values.map(\.debugDescription).joined(separator: ", ") + "]"
        case .ints(let values): return "[" + values.map(String.init).joined(separator: ", ") + "]"
        case .doubles(let values): return "[" + values.map { String($0) }.joined(separator: ", ") + "]"
        case .uint(let value): return String(value)
        case .uints(let values): return "[" + values.map(String.init).joined(separator: ", ") + "]"
        }
    }
}

extension HDF5AttributeValue {
    /// `.int`/`.ints` when every value fits `Int`, else `.uint`/`.uints` (exact either way).
    init(unsigned values: [UInt64], scalar: Bool) {
        let fits = values.allSatisfy { $0 <= UInt64(Int.max) }
        if scalar && values.count == 1 {
            self = fits ? .int(Int(values[0])) : .uint(values[0])
        } else {
            self = fits ? .ints(values.map { Int($0) }) : .uints(values)
        }
    }
}

/// The attributes of one group or dataset (`HDF5Group.attributes`, `HDF5Dataset.attributes`).
///
/// Each call opens the object by path and closes it again; the value keeps the file open.
public struct HDF5Attributes: Sendable {
    /// The file of the object.
    public let file: HDF5File
    /// The absolute path of the object the attributes belong to.
    public let path: String

    init(file: HDF5File, path: String) {
        self.file = file
        self.path = path
    }

    /// Attribute names in name order.
    /// - Throws: `HDF5Error.objectNotFound`, `.fileClosed`, `.library`.
    public func names() throws -> [String] {
        try withObject { object in
            final class Names { var list: [String] = [] }
            let names = Names()
            try withExtendedLifetime(names) {
                let context = Unmanaged.passUnretained(names).toOpaque()
                try h5Check(H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, nil, { _, name, _, data in
                    guard let name, let data else { return 0 }
                    Unmanaged<Names>.fromOpaque(data).takeUnretainedValue().list.append(String(cString: name))
                    return 0
                }, context), file: file.path, path: path, "cannot list attributes")
            }
            return names.list
        }
    }

    /// Whether the object has an attribute `name`.
    /// - Throws: `HDF5Error.objectNotFound`, `.fileClosed`, `.library`.
    public func contains(_ name: String) throws -> Bool {
        try withObject { object in
            try h5Check(H5Aexists(object, name), file: file.path, path: path, "cannot look up attribute '\(name)'") > 0
        }
    }

    /// The value of attribute `name`.
    /// - Throws: `HDF5Error.attributeNotFound`, `.typeMismatch` (a type other than string, integer,
    ///   enum or float, e.g. compound), `.objectNotFound`, `.fileClosed`, `.library`.
    public func value(_ name: String) throws -> HDF5AttributeValue {
        try withObject { object in try read(name, of: object) }
    }

    /// The stored element type and shape of attribute `name` (nil shape: a null dataspace; []: a
    /// scalar), whatever its type: for listing attributes that `value(_:)` cannot read (compound,
    /// opaque) and for keeping the shape that `value(_:)` flattens.
    /// - Throws: `HDF5Error.attributeNotFound`, `.objectNotFound`, `.fileClosed`, `.library`.
    public func info(_ name: String) throws -> (elementType: HDF5ElementType, shape: [Int]?) {
        try withObject { object in
            guard try h5Check(H5Aexists(object, name), file: file.path, path: path, "cannot look up attribute '\(name)'") > 0 else {
                throw HDF5Error.attributeNotFound(file: file.path, path: path, name: name)
            }
            let attribute = try h5Check(H5Aopen(object, name, mlh5_p_default()), file: file.path, path: path, "cannot open attribute '\(name)'")
            defer { h5Close(attribute) }
            let type = try h5Check(H5Aget_type(attribute), file: file.path, path: path, "cannot read the type of attribute '\(name)'")
            defer { h5Close(type) }
            let space = try h5Check(H5Aget_space(attribute), file: file.path, path: path, "cannot read the dataspace of attribute '\(name)'")
            defer { h5Close(space) }
            if H5Sget_simple_extent_type(space) == H5S_NULL { return (h5ElementType(of: type), nil) }
            return (h5ElementType(of: type), try h5Extent(of: space, file: file.path, path: path).shape)
        }
    }

    /// Every attribute in name order.
    /// - Throws: as `value(_:)`, for the first attribute that cannot be read.
    public func all() throws -> [(name: String, value: HDF5AttributeValue)] {
        try names().map { ($0, try value($0)) }
    }

    /// The `.string` attribute `name`.
    /// - Throws: `HDF5Error.typeMismatch` (another kind), and as `value(_:)`.
    public func string(_ name: String) throws -> String {
        try typed(name, "string") { $0.stringValue }
    }

    /// The `.int` attribute `name`.
    /// - Throws: `HDF5Error.typeMismatch` (another kind), and as `value(_:)`.
    public func int(_ name: String) throws -> Int {
        try typed(name, "int") { $0.intValue }
    }

    /// The `.double` (or `.int`, converted) attribute `name`.
    /// - Throws: `HDF5Error.typeMismatch` (another kind), and as `value(_:)`.
    public func double(_ name: String) throws -> Double {
        try typed(name, "double") { $0.doubleValue }
    }

    /// The `.strings` (or one `.string`) attribute `name`.
    /// - Throws: `HDF5Error.typeMismatch` (another kind), and as `value(_:)`.
    public func strings(_ name: String) throws -> [String] {
        try typed(name, "string array") { $0.stringsValue }
    }

    /// The `.ints` (or one `.int`) attribute `name`.
    /// - Throws: `HDF5Error.typeMismatch` (another kind), and as `value(_:)`.
    public func ints(_ name: String) throws -> [Int] {
        try typed(name, "int array") { $0.intsValue }
    }

    /// The `.doubles` (or any numeric, converted) attribute `name`.
    /// - Throws: `HDF5Error.typeMismatch` (another kind), and as `value(_:)`.
    public func doubles(_ name: String) throws -> [Double] {
        try typed(name, "double array") { $0.doublesValue }
    }

    /// Sets attribute `name` to `value`, replacing any attribute of that name (whatever its type).
    /// Strings are variable-length UTF-8 (any length); numeric arrays must fit HDF5's 64 KiB object
    /// header limit for attributes (about 8,000 numbers) — store larger arrays as datasets.
    /// - Throws: `HDF5Error.invalidArgument` (a string containing NUL), `.library` (read-only file,
    ///   attribute too large), `.objectNotFound`, `.fileClosed`.
    public func set(_ name: String, _ value: HDF5AttributeValue) throws {
        try withObject { object in
            if try h5Check(H5Aexists(object, name), file: file.path, path: path, "cannot look up attribute '\(name)'") > 0 {
                try h5Check(H5Adelete(object, name), file: file.path, path: path, "cannot replace attribute '\(name)'")
            }
            switch value {
            case .string(let string):
                try writeStrings([string], shape: [], name: name, object: object)
            case .strings(let strings):
                try writeStrings(strings, shape: [strings.count], name: name, object: object)
            case .int(let int):
                try writeNumbers([Int64(int)], shape: [], type: .int64, name: name, object: object)
            case .ints(let ints):
                try writeNumbers(ints.map(Int64.init), shape: [ints.count], type: .int64, name: name, object: object)
            case .double(let double):
                try writeNumbers([double], shape: [], type: .float64, name: name, object: object)
            case .doubles(let doubles):
                try writeNumbers(doubles, shape: [doubles.count], type: .float64, name: name, object: object)
            case .uint(let value):
                try writeNumbers([value], shape: [], type: .uint64, name: name, object: object)
            case .uints(let values):
                try writeNumbers(values, shape: [values.count], type: .uint64, name: name, object: object)
            }
        }
    }

    /// Removes attribute `name`.
    /// - Throws: `HDF5Error.attributeNotFound`, `.library` (read-only file), `.objectNotFound`, `.fileClosed`.
    public func remove(_ name: String) throws {
        try withObject { object in
            guard try h5Check(H5Aexists(object, name), file: file.path, path: path, "cannot look up attribute '\(name)'") > 0 else {
                throw HDF5Error.attributeNotFound(file: file.path, path: path, name: name)
            }
            try h5Check(H5Adelete(object, name), file: file.path, path: path, "cannot remove attribute '\(name)'")
        }
    }

    // MARK: Internal

    private func typed<R>(_ name: String, _ kind: String, _ extract: (HDF5AttributeValue) -> R?) throws -> R {
        let value = try value(name)
        guard let result = extract(value) else {
            throw HDF5Error.typeMismatch(file: file.path, path: path, expected: "a \(kind) attribute '\(name)'",
                                         found: "\(value.kindName) \(value)")
        }
        return result
    }

    /// Runs `body` with the object open, inside the lock.
    private func withObject<R>(_ body: (hid_t) throws -> R) throws -> R {
        try file.withFileID(objectPath: path) { fileID in
            guard h5ObjectExists(fileID, path) else { throw HDF5Error.objectNotFound(file: file.path, path: path) }
            let object = try h5Check(H5Oopen(fileID, path, mlh5_p_default()), file: file.path, path: path, "cannot open object")
            defer { H5Oclose(object) }
            return try body(object)
        }
    }

    private func read(_ name: String, of object: hid_t) throws -> HDF5AttributeValue {
        guard try h5Check(H5Aexists(object, name), file: file.path, path: path, "cannot look up attribute '\(name)'") > 0 else {
            throw HDF5Error.attributeNotFound(file: file.path, path: path, name: name)
        }
        let what = "attribute '\(name)'"
        let attribute = try h5Check(H5Aopen(object, name, mlh5_p_default()), file: file.path, path: path, "cannot open \(what)")
        defer { h5Close(attribute) }
        let type = try h5Check(H5Aget_type(attribute), file: file.path, path: path, "cannot read the type of \(what)")
        defer { h5Close(type) }
        let space = try h5Check(H5Aget_space(attribute), file: file.path, path: path, "cannot read the dataspace of \(what)")
        defer { h5Close(space) }
        let scalar = H5Sget_simple_extent_type(space) == H5S_SCALAR
        let (_, count) = try h5Extent(of: space, file: file.path, path: path)

        switch H5Tget_class(type) {
        case H5T_STRING:
            let strings = try h5DecodeStrings(read: { memoryType, buffer in H5Aread(attribute, memoryType, buffer) },
                                              fileType: type, count: count, file: file.path, path: path, what: what)
            return scalar && strings.count == 1 ? .string(strings[0]) : .strings(strings)
        case H5T_INTEGER where H5Tget_sign(type) == H5T_SGN_NONE && H5Tget_size(type) == 8:
            var values = [UInt64](repeating: 0, count: count)
            if count > 0 {
                let memoryType = h5NativeType(.uint64)!
                defer { h5Close(memoryType) }
                try h5Check(H5Aread(attribute, memoryType, &values), file: file.path, path: path, "cannot read \(what)")
            }
            return HDF5AttributeValue(unsigned: values, scalar: scalar)
        case H5T_INTEGER:
            var values = [Int64](repeating: 0, count: count)
            if count > 0 {
                let memoryType = h5NativeType(.int64)!
                defer { h5Close(memoryType) }
                try h5Check(H5Aread(attribute, memoryType, &values), file: file.path, path: path, "cannot read \(what)")
            }
            return scalar && count == 1 ? .int(Int(values[0])) : .ints(values.map { Int($0) })
        case H5T_FLOAT:
            var values = [Double](repeating: 0, count: count)
            if count > 0 {
                let memoryType = h5NativeType(.float64)!
                defer { h5Close(memoryType) }
                try h5Check(H5Aread(attribute, memoryType, &values), file: file.path, path: path, "cannot read \(what)")
            }
            return scalar && count == 1 ? .double(values[0]) : .doubles(values)
        case H5T_ENUM:
            // HDF5 does not convert enums to integers: read them in their native enum type and
            // decode the base integers (h5py writes numpy bools this way).
            let memoryType = try h5Check(H5Tget_native_type(type, H5T_DIR_ASCEND), file: file.path, path: path, "cannot map the type of \(what)")
            defer { h5Close(memoryType) }
            let base = H5Tget_super(memoryType)
            defer { h5Close(base) }
            let size = H5Tget_size(memoryType)
            let signed = H5Tget_sign(base) == H5T_SGN_2
            guard [1, 2, 4, 8].contains(size) else {
                throw HDF5Error.typeMismatch(file: file.path, path: path, expected: "a string, integer or float attribute '\(name)'",
                                             found: h5ElementType(of: type).description)
            }
            var bytes = [UInt8](repeating: 0, count: size * count)
            if count > 0 {
                try h5Check(H5Aread(attribute, memoryType, &bytes), file: file.path, path: path, "cannot read \(what)")
            }
            if size == 8 && !signed {
                let values: [UInt64] = bytes.withUnsafeBytes { raw in
                    (0..<count).map { raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self) }
                }
                return HDF5AttributeValue(unsigned: values, scalar: scalar)
            }
            let values: [Int] = bytes.withUnsafeBytes { raw in
                (0..<count).map { i in
                    let at = i * size
                    switch (size, signed) {
                    case (1, true): return Int(raw.loadUnaligned(fromByteOffset: at, as: Int8.self))
                    case (1, false): return Int(raw.loadUnaligned(fromByteOffset: at, as: UInt8.self))
                    case (2, true): return Int(raw.loadUnaligned(fromByteOffset: at, as: Int16.self))
                    case (2, false): return Int(raw.loadUnaligned(fromByteOffset: at, as: UInt16.self))
                    case (4, true): return Int(raw.loadUnaligned(fromByteOffset: at, as: Int32.self))
                    case (4, false): return Int(raw.loadUnaligned(fromByteOffset: at, as: UInt32.self))
                    default: return Int(raw.loadUnaligned(fromByteOffset: at, as: Int64.self))
                    }
                }
            }
            return scalar && count == 1 ? .int(values[0]) : .ints(values)
        default:
            throw HDF5Error.typeMismatch(file: file.path, path: path, expected: "a string, integer or float attribute '\(name)'",
                                         found: h5ElementType(of: type).description)
        }
    }

    private func attributeCreationList() -> hid_t {
        let list = H5Pcreate(mlh5_p_attribute_create())
        H5Pset_char_encoding(list, H5T_CSET_UTF8)
        return list
    }

    private func writeStrings(_ strings: [String], shape: [Int], name: String, object: hid_t) throws {
        try h5WithEncodedStrings(strings, layout: .variableLength, file: file.path, path: path) { buffer, type in
            try create(name, type: type, shape: shape, object: object) { attribute in
                strings.isEmpty ? 0 : H5Awrite(attribute, type, buffer!)
            }
        }
    }

    private func writeNumbers<T>(_ values: [T], shape: [Int], type element: HDF5ElementType, name: String, object: hid_t) throws {
        let type = h5NativeType(element)!
        defer { h5Close(type) }
        try values.withUnsafeBytes { raw in
            try create(name, type: type, shape: shape, object: object) { attribute in
                values.isEmpty ? 0 : H5Awrite(attribute, type, raw.baseAddress!)
            }
        }
    }

    private func create(_ name: String, type: hid_t, shape: [Int], object: hid_t, write: (hid_t) -> herr_t) throws {
        let space = h5CreateDataspace(shape)
        defer { h5Close(space) }
        let creation = attributeCreationList()
        defer { h5Close(creation) }
        let attribute = try h5Check(H5Acreate2(object, name, type, space, creation, mlh5_p_default()),
                                    file: file.path, path: path, "cannot create attribute '\(name)'")
        let status = write(attribute)
        let message = status < 0 ? h5TakeErrorMessage() : ""
        h5Close(attribute)
        if status < 0 {
            H5Adelete(object, name)
            h5ClearErrors()
            throw HDF5Error.library(file: file.path, path: path, operation: "cannot write attribute '\(name)'", message: message)
        }
    }
}
