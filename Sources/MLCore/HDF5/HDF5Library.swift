// Internal plumbing shared by the HDF5 layer: the process-wide lock, error-stack capture, datatype
// helpers and dataspace helpers. Only this folder imports CHDF5; nothing here is public.
internal import CHDF5

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - The lock

/// A recursive pthread mutex. The serial HDF5 library is not thread-safe, so every HDF5 call in the
/// process goes through `withHDF5Lock`; recursion lets a locked helper call another locked helper.
final class HDF5RecursiveLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_RECURSIVE))
        pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
    }

    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// The one lock around all HDF5 calls in the process.
let hdf5Lock = HDF5RecursiveLock()

/// Marks threads on which HDF5's automatic error printing has been turned off. Thread-safe builds
/// of HDF5 (Debian's is one) keep the error stack and its auto-print setting per thread, so the
/// setting is made at each thread's first use; on a non-thread-safe build the second call is a no-op.
private let hdf5ThreadConfiguredKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()

/// Runs `body` holding the process-wide HDF5 lock. Every HDF5 call in MLCore must be made inside.
/// On a thread's first use it turns off HDF5's automatic error printing
/// (`H5Eset_auto2(H5E_DEFAULT, NULL, NULL)`): failures are reported as thrown `HDF5Error`s instead.
func withHDF5Lock<R>(_ body: () throws -> R) rethrows -> R {
    try hdf5Lock.withLock {
        if pthread_getspecific(hdf5ThreadConfiguredKey) == nil {
            H5Eset_auto2(mlh5_e_default(), nil, nil)
            pthread_setspecific(hdf5ThreadConfiguredKey, UnsafeRawPointer(bitPattern: 1))
        }
        return try body()
    }
}

// MARK: - Errors

/// Takes HDF5's current error stack (and clears it): the innermost entry's description, which says
/// what actually went wrong ("object 'x' doesn't exist", "truncated file: eof = ..."). Falls back to
/// the minor error message when the description is empty. Call right after a failing HDF5 call,
/// inside the lock.
func h5TakeErrorMessage() -> String {
    final class Records {
        var entries: [(description: String, minor: hid_t, major: hid_t)] = []
    }
    let records = Records()
    withExtendedLifetime(records) {
        let context = Unmanaged.passUnretained(records).toOpaque()
        _ = H5Ewalk2(mlh5_e_default(), H5E_WALK_DOWNWARD, { _, entry, data in
            guard let entry, let data else { return 0 }
            let records = Unmanaged<Records>.fromOpaque(data).takeUnretainedValue()
            let description = entry.pointee.desc.map { String(cString: $0) } ?? ""
            records.entries.append((description, entry.pointee.min_num, entry.pointee.maj_num))
            return 0
        }, context)
    }
    // H5Eget_msg clears the stack on entry, so it is only called after the walk.
    H5Eclear2(mlh5_e_default())
    guard let innermost = records.entries.last else { return "unknown HDF5 error (empty error stack)" }
    let description = h5Trimmed(innermost.description)
    if !description.isEmpty { return description }
    let minor = h5ErrorMessage(innermost.minor)
    let major = h5ErrorMessage(innermost.major)
    let joined = [major, minor].filter { !$0.isEmpty }.joined(separator: ": ")
    return joined.isEmpty ? "unknown HDF5 error" : joined
}

private func h5ErrorMessage(_ id: hid_t) -> String {
    var kind = H5E_MAJOR
    let length = H5Eget_msg(id, &kind, nil, 0)
    guard length > 0 else { return "" }
    var buffer = [CChar](repeating: 0, count: Int(length) + 1)
    _ = H5Eget_msg(id, &kind, &buffer, buffer.count)
    H5Eclear2(mlh5_e_default())
    return h5String(buffer)
}

/// Decodes a NUL-terminated C string held in an array (UTF-8, invalid bytes repaired).
func h5String(_ buffer: [CChar]) -> String {
    let end = buffer.firstIndex(of: 0) ?? buffer.endIndex
    return String(decoding: buffer[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Clears HDF5's error stack after an expected failure (a probe such as H5Lexists on a missing link).
func h5ClearErrors() {
    H5Eclear2(mlh5_e_default())
}

/// `text` without leading and trailing spaces, tabs and newlines.
func h5Trimmed(_ text: String) -> String {
    var s = Substring(text)
    while let c = s.first, c == " " || c == "\n" || c == "\t" { s = s.dropFirst() }
    while let c = s.last, c == " " || c == "\n" || c == "\t" { s = s.dropLast() }
    return String(s)
}

/// Throws `HDF5Error.library` with HDF5's own message when `status` is negative (the HDF5
/// convention for failure of hid_t, herr_t, htri_t and ssize_t results). Returns `status`.
@discardableResult
func h5Check<T: BinaryInteger>(_ status: T, file: String, path: String, _ operation: @autoclosure () -> String) throws -> T {
    if status < 0 {
        throw HDF5Error.library(file: file, path: path, operation: operation(), message: h5TakeErrorMessage())
    }
    return status
}

// MARK: - Identifier ownership

/// Closes an HDF5 identifier of any kind (datatype, dataspace, property list, object) if valid.
/// Errors are ignored (used in `defer`).
func h5Close(_ id: hid_t) {
    guard id >= 0 else { return }
    switch H5Iget_type(id) {
    case H5I_DATATYPE: H5Tclose(id)
    case H5I_DATASPACE: H5Sclose(id)
    case H5I_GENPROP_LST: H5Pclose(id)
    case H5I_ATTR: H5Aclose(id)
    case H5I_DATASET: H5Dclose(id)
    case H5I_GROUP: H5Gclose(id)
    case H5I_FILE: H5Fclose(id)
    default: break
    }
    h5ClearErrors()
}

// MARK: - Datatypes

/// Describes an HDF5 datatype as an `HDF5ElementType`.
func h5ElementType(of type: hid_t) -> HDF5ElementType {
    let size = H5Tget_size(type)
    let cls = H5Tget_class(type)
    switch cls {
    case H5T_INTEGER:
        let signed = H5Tget_sign(type) == H5T_SGN_2
        switch (size, signed) {
        case (1, true): return .int8
        case (2, true): return .int16
        case (4, true): return .int32
        case (8, true): return .int64
        case (1, false): return .uint8
        case (2, false): return .uint16
        case (4, false): return .uint32
        case (8, false): return .uint64
        default: return .other("\(signed ? "signed" : "unsigned") integer, \(size) bytes")
        }
    case H5T_FLOAT:
        var spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0
        H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize)
        switch (size, esize, msize) {
        case (2, 5, 10): return .float16
        case (4, 8, 23): return .float32
        case (8, 11, 52): return .float64
        default: return .other("float, \(size) bytes, \(esize)-bit exponent, \(msize)-bit mantissa")
        }
    case H5T_STRING:
        return .string(variableLength: H5Tis_variable_str(type) > 0)
    case H5T_ENUM:
        let base = H5Tget_super(type)
        defer { h5Close(base) }
        return .other("enum of \(h5ElementType(of: base)), \(H5Tget_nmembers(type)) members")
    case H5T_COMPOUND:
        let members = (0..<UInt32(Swift.max(0, H5Tget_nmembers(type)))).map { i -> String in
            let name = H5Tget_member_name(type, i).map { pointer -> String in
                defer { H5free_memory(pointer) }
                return String(cString: pointer)
            } ?? "?"
            let member = H5Tget_member_type(type, i)
            defer { h5Close(member) }
            return "\(name): \(h5ElementType(of: member))"
        }
        return .other("compound {\(members.joined(separator: ", "))}, \(size) bytes")
    case H5T_ARRAY:
        let base = H5Tget_super(type)
        defer { h5Close(base) }
        var dims = [hsize_t](repeating: 0, count: 32)
        let rank = Int(H5Tget_array_dims2(type, &dims))
        return .other("array \(dims.prefix(Swift.max(0, rank)).map { Int($0) }) of \(h5ElementType(of: base))")
    case H5T_VLEN: return .other("variable-length sequence")
    case H5T_OPAQUE:
        let tag = H5Tget_tag(type).map { pointer -> String in
            defer { H5free_memory(pointer) }
            return String(cString: pointer)
        } ?? ""
        return .other("opaque, \(size) bytes" + (tag.isEmpty ? "" : ", tag \(tag.debugDescription)"))
    case H5T_BITFIELD: return .other("bitfield, \(size) bytes")
    case H5T_REFERENCE: return .other("reference")
    case H5T_TIME: return .other("time")
    default: return .other("unknown class")
    }
}

/// The numeric class of a datatype, which decides the conversions a read or write may ask HDF5 for.
func h5NumericClass(of type: hid_t) -> HDF5NumericClass? {
    switch H5Tget_class(type) {
    case H5T_INTEGER: return .integer
    case H5T_FLOAT: return .floatingPoint
    default: return nil
    }
}

/// Whether a dataset's stored values are integers or floating point (nil for strings and others).
enum HDF5NumericClass: Sendable {
    case integer, floatingPoint
}

/// A new datatype identifier (owned by the caller, close with `h5Close`) describing `element` in
/// native memory layout, or nil for strings and `.other`.
func h5NativeType(_ element: HDF5ElementType) -> hid_t? {
    let predefined: hid_t
    switch element {
    case .float16: return mlh5_t_ieee_f16le_create()  // memory order; every supported target is little-endian
    case .float32: predefined = mlh5_t_native_float()
    case .float64: predefined = mlh5_t_native_double()
    case .int8: predefined = mlh5_t_native_int8()
    case .int16: predefined = mlh5_t_native_int16()
    case .int32: predefined = mlh5_t_native_int32()
    case .int64: predefined = mlh5_t_native_int64()
    case .uint8: predefined = mlh5_t_native_uint8()
    case .uint16: predefined = mlh5_t_native_uint16()
    case .uint32: predefined = mlh5_t_native_uint32()
    case .uint64: predefined = mlh5_t_native_uint64()
    case .string, .other: return nil
    }
    return H5Tcopy(predefined)
}

/// A new variable-length C-string datatype with the given character set (owned by the caller).
func h5VariableStringType(cset: H5T_cset_t = H5T_CSET_UTF8) -> hid_t {
    let type = H5Tcopy(mlh5_t_c_s1())
    H5Tset_size(type, mlh5_variable())
    H5Tset_cset(type, cset)
    return type
}

/// A new fixed-length string datatype of `bytes` bytes per element, NUL-padded (numpy's `S` layout)
/// and UTF-8 (owned by the caller).
func h5FixedStringType(bytes: Int) -> hid_t {
    let type = H5Tcopy(mlh5_t_c_s1())
    H5Tset_size(type, bytes)
    H5Tset_strpad(type, H5T_STR_NULLPAD)
    H5Tset_cset(type, H5T_CSET_UTF8)
    return type
}

/// The memory datatype for reading/writing `T`, checked against `T`'s size (a caller's own
/// `HDF5Scalar` conformance could lie). Owned by the caller.
func h5MemoryType<T: HDF5Scalar>(for _: T.Type, file: String, path: String) throws -> hid_t {
    let element = T.hdf5ElementType
    guard let size = element.byteSize, size == MemoryLayout<T>.stride, let type = h5NativeType(element) else {
        throw HDF5Error.invalidArgument(file: file, path: path,
            message: "\(T.self) declares HDF5 element type \(element), which is not a numeric type of its size")
    }
    return type
}

/// Runs `body` with the memory datatype and buffer for writing `data` into storage of type `stored`.
///
/// Float or Double data stored as float16 is converted here, with Swift's `Float16(_:)` (IEEE
/// round-to-nearest-even, overflow to ±infinity: what numpy's `astype(float16)` gives), into a
/// temporary half-size buffer: HDF5 1.10's own float→half conversion rounds ties away from zero and
/// clamps overflow to ±65504. Everything else is written straight from `data`, HDF5 converting.
/// Inside the lock.
func h5WithWritableMemory<T: HDF5Scalar, R>(_ data: UnsafeBufferPointer<T>, stored: HDF5ElementType, file: String, path: String,
                                            _ body: (_ memoryType: hid_t, _ buffer: UnsafeRawPointer?) throws -> R) throws -> R {
    let memoryType = try h5MemoryType(for: T.self, file: file, path: path)  // also validates T
    defer { h5Close(memoryType) }
    #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
    if stored == .float16, T.self == Float.self || T.self == Double.self, !data.isEmpty {
        var halves = [Float16](repeating: 0, count: data.count)
        if T.self == Float.self {
            data.withMemoryRebound(to: Float.self) { floats in
                for i in floats.indices { halves[i] = Float16(floats[i]) }
            }
        } else {
            data.withMemoryRebound(to: Double.self) { doubles in
                for i in doubles.indices { halves[i] = Float16(doubles[i]) }
            }
        }
        let halfType = h5NativeType(.float16)!
        defer { h5Close(halfType) }
        return try halves.withUnsafeBytes { try body(halfType, $0.baseAddress) }
    }
    #endif
    return try body(memoryType, UnsafeRawPointer(data.baseAddress))
}

/// Checks that HDF5 may convert between a dataset whose elements are `stored` (of `numericClass`)
/// and memory of type `T`, in the direction of the access: integers convert to any numeric type;
/// floating point only to floating point (HDF5 would silently truncate a float into an integer);
/// strings and other types to nothing numeric.
func h5CheckNumericConversion<T: HDF5Scalar>(_: T.Type, stored: HDF5ElementType, numericClass: HDF5NumericClass?,
                                             reading: Bool, file: String, path: String) throws {
    let memory = T.hdf5ElementType
    let memoryClass: HDF5NumericClass = memory.isFloatingPoint ? .floatingPoint : .integer
    let ok: Bool
    if let numericClass {
        let (source, destination) = reading ? (numericClass, memoryClass) : (memoryClass, numericClass)
        ok = source == .integer || destination == .floatingPoint
    } else {
        ok = false
    }
    guard !ok else { return }
    let expected: String
    if numericClass == nil {
        expected = "a numeric type (\(reading ? "reading as" : "writing") \(memory))"
    } else if reading {
        expected = "an integer type (reading floating point as \(memory) would truncate)"
    } else {
        expected = "a floating-point type (writing \(memory) into integer storage would truncate)"
    }
    throw HDF5Error.typeMismatch(file: file, path: path, expected: expected, found: stored.description)
}

// MARK: - Strings

/// Decodes string elements read with the datatype `type` (variable-length: `count` C-string
/// pointers; fixed-length: `count` × size bytes). Invalid UTF-8 is repaired, not rejected.
func h5DecodeStrings(read: (hid_t, UnsafeMutableRawPointer) -> herr_t, fileType: hid_t, count: Int,
                     file: String, path: String, what: String) throws -> [String] {
    if count == 0 { return [] }
    if H5Tis_variable_str(fileType) > 0 {
        let memoryType = h5VariableStringType(cset: H5Tget_cset(fileType))
        defer { h5Close(memoryType) }
        var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
        return try pointers.withUnsafeMutableBufferPointer { buffer -> [String] in
            let raw = UnsafeMutableRawPointer(buffer.baseAddress!)
            let status = read(memoryType, raw)
            defer {
                // Free what HDF5 allocated (also after a partial failure; NULL entries are skipped).
                var dims = [hsize_t(count)]
                let space = H5Screate_simple(1, &dims, nil)
                H5Dvlen_reclaim(memoryType, space, mlh5_p_default(), raw)  // H5Treclaim is declared but not exported by 1.10.8
                h5Close(space)
            }
            try h5Check(status, file: file, path: path, "cannot read \(what)")
            return buffer.map { pointer in pointer.map { String(cString: $0) } ?? "" }
        }
    } else {
        let size = H5Tget_size(fileType)
        guard size > 0 else { return [String](repeating: "", count: count) }
        let memoryType = H5Tcopy(fileType)
        defer { h5Close(memoryType) }
        let spacePadded = H5Tget_strpad(fileType) == H5T_STR_SPACEPAD
        var bytes = [UInt8](repeating: 0, count: size * count)
        return try bytes.withUnsafeMutableBytes { raw -> [String] in
            try h5Check(read(memoryType, raw.baseAddress!), file: file, path: path, "cannot read \(what)")
            let all = raw.bindMemory(to: UInt8.self)
            return (0..<count).map { i in
                var element = all[(i * size)..<((i + 1) * size)]
                if let nul = element.firstIndex(of: 0) { element = element[..<nul] }
                if spacePadded { while element.last == 0x20 { element = element.dropLast() } }
                return String(decoding: UnsafeMutableBufferPointer(rebasing: element), as: UTF8.self)
            }
        }
    }
}

/// Encodes strings for writing: calls `body` with the buffer HDF5 expects for `layout`
/// (variable-length: an array of C-string pointers; fixed-length: NUL-padded bytes) and the datatype.
/// Throws `invalidArgument` for strings containing NUL, or longer than a fixed length.
func h5WithEncodedStrings<R>(_ strings: [String], layout: HDF5StringLayout, file: String, path: String,
                             _ body: (UnsafeRawPointer?, hid_t) throws -> R) throws -> R {
    let utf8 = strings.map { Array($0.utf8) }
    if let bad = utf8.firstIndex(where: { $0.contains(0) }) {
        throw HDF5Error.invalidArgument(file: file, path: path,
            message: "string \(bad) contains a NUL character, which HDF5 C strings cannot hold")
    }
    switch layout {
    case .variableLength:
        // One contiguous block of NUL-terminated strings, and pointers into it.
        var block = [CChar]()
        block.reserveCapacity(utf8.reduce(0) { $0 + $1.count + 1 })
        var offsets = [Int]()
        for bytes in utf8 {
            offsets.append(block.count)
            block.append(contentsOf: bytes.map { CChar(bitPattern: $0) })
            block.append(0)
        }
        let type = h5VariableStringType()
        defer { h5Close(type) }
        return try block.withUnsafeBufferPointer { chars in
            let pointers: [UnsafePointer<CChar>?] = offsets.map { chars.baseAddress! + $0 }
            return try pointers.withUnsafeBufferPointer { try body(UnsafeRawPointer($0.baseAddress), type) }
        }
    case .fixedLength(let requested):
        let longest = utf8.map(\.count).max() ?? 0
        let size = requested ?? Swift.max(longest, 1)
        guard size >= 1 else {
            throw HDF5Error.invalidArgument(file: file, path: path, message: "fixed string length must be at least 1 byte, got \(size)")
        }
        if let tooLong = utf8.firstIndex(where: { $0.count > size }) {
            throw HDF5Error.invalidArgument(file: file, path: path,
                message: "string \(tooLong) is \(utf8[tooLong].count) UTF-8 bytes, longer than the fixed length \(size)")
        }
        var bytes = [UInt8](repeating: 0, count: size * utf8.count)
        for (i, element) in utf8.enumerated() {
            bytes.replaceSubrange((i * size)..<(i * size + element.count), with: element)
        }
        let type = h5FixedStringType(bytes: size)
        defer { h5Close(type) }
        return try bytes.withUnsafeBytes { try body($0.baseAddress, type) }
    }
}

// MARK: - Dataspaces and property lists

/// A new dataspace for `shape` ([] = scalar). Owned by the caller.
func h5CreateDataspace(_ shape: [Int]) -> hid_t {
    if shape.isEmpty { return H5Screate(H5S_SCALAR) }
    var dims = shape.map { hsize_t($0) }
    return H5Screate_simple(Int32(shape.count), &dims, nil)
}

/// Shape and element count of a dataspace; a null dataspace has shape [] and count 0.
func h5Extent(of space: hid_t, file: String, path: String) throws -> (shape: [Int], count: Int) {
    let kind = H5Sget_simple_extent_type(space)
    if kind == H5S_NULL { return ([], 0) }
    if kind == H5S_SCALAR { return ([], 1) }
    let rank = Int(try h5Check(H5Sget_simple_extent_ndims(space), file: file, path: path, "cannot read dataspace rank"))
    var dims = [hsize_t](repeating: 0, count: rank)
    try h5Check(H5Sget_simple_extent_dims(space, &dims, nil), file: file, path: path, "cannot read dataspace dimensions")
    let shape = dims.map { Int($0) }
    return (shape, shape.reduce(1, *))
}

/// A new link-creation property list that creates missing intermediate groups and marks names as
/// UTF-8 (as h5py does). Owned by the caller.
func h5LinkCreationList() -> hid_t {
    let list = H5Pcreate(mlh5_p_link_create())
    H5Pset_create_intermediate_group(list, 1)
    H5Pset_char_encoding(list, H5T_CSET_UTF8)
    return list
}

// MARK: - Paths

/// Resolves `relative` against the absolute group path `base`: "a/b" → "/base/a/b"; a leading "/"
/// makes it absolute; "." and empty components are dropped; ".." is rejected (HDF5 has no parent links).
func h5ResolvePath(_ relative: String, in base: String, file: String) throws -> String {
    let start = relative.hasPrefix("/") ? [] : base.split(separator: "/", omittingEmptySubsequences: true)
    var components = start.map(String.init)
    for part in relative.split(separator: "/", omittingEmptySubsequences: true) {
        if part == "." { continue }
        if part == ".." {
            throw HDF5Error.invalidArgument(file: file, path: base, message: "path '\(relative)' contains '..', which HDF5 does not support")
        }
        components.append(String(part))
    }
    return "/" + components.joined(separator: "/")
}

/// The last component of an absolute path ("/" for the root).
func h5LastComponent(_ path: String) -> String {
    path.split(separator: "/").last.map(String.init) ?? "/"
}

/// Whether an object exists at the absolute `path`: every link on the way exists and the last one
/// resolves to an object (a dangling soft link does not count). Inside the lock.
func h5ObjectExists(_ fileID: hid_t, _ path: String) -> Bool {
    var prefix = ""
    for component in path.split(separator: "/") {
        prefix += "/" + component
        if H5Lexists(fileID, prefix, mlh5_p_default()) <= 0 {
            h5ClearErrors()  // an intermediate that is a dataset makes H5Lexists fail, not return false
            return false
        }
    }
    if prefix.isEmpty { return true }
    let resolves = H5Oexists_by_name(fileID, prefix, mlh5_p_default())
    h5ClearErrors()
    return resolves > 0
}

/// The kind of the object an open identifier refers to.
func h5Kind(ofOpen id: hid_t) -> HDF5ObjectKind {
    switch H5Iget_type(id) {
    case H5I_GROUP: return .group
    case H5I_DATASET: return .dataset
    default: return .other
    }
}

/// The kind of the object at `name` relative to `location` (nil when it cannot be opened, e.g. a
/// dangling link). Inside the lock.
func h5Kind(at name: String, in location: hid_t) -> HDF5ObjectKind? {
    let object = H5Oopen(location, name, mlh5_p_default())
    guard object >= 0 else { h5ClearErrors(); return nil }
    defer { H5Oclose(object) }
    return h5Kind(ofOpen: object)
}
