/// The element type of a dataset or attribute as stored in the file, in the terms numpy/h5py use.
///
/// Byte order is not part of it: big-endian data is reported by width and converted by HDF5 on read.
public enum HDF5ElementType: Sendable, Hashable, CustomStringConvertible {
    /// IEEE 754 half precision (2 bytes), e.g. numpy `float16`.
    case float16
    /// IEEE 754 single precision (4 bytes).
    case float32
    /// IEEE 754 double precision (8 bytes).
    case float64
    /// Signed two's-complement integers of 1, 2, 4 and 8 bytes.
    case int8, int16, int32, int64
    /// Unsigned integers of 1, 2, 4 and 8 bytes.
    case uint8, uint16, uint32, uint64
    /// Strings (read as UTF-8): variable-length (h5py's `string_dtype()`) or fixed-length
    /// (numpy `S<n>`, padded to a byte length).
    case string(variableLength: Bool)
    /// Any other HDF5 type (enum — h5py stores `bool` as one —, compound, array, bfloat16...), with a
    /// short description such as "enum of int8, 2 members".
    case other(String)

    /// Bytes per element for numeric types; nil for strings and `.other`.
    public var byteSize: Int? {
        switch self {
        case .int8, .uint8: return 1
        case .float16, .int16, .uint16: return 2
        case .float32, .int32, .uint32: return 4
        case .float64, .int64, .uint64: return 8
        case .string, .other: return nil
        }
    }

    /// True for `.float16`, `.float32`, `.float64`.
    public var isFloatingPoint: Bool {
        switch self {
        case .float16, .float32, .float64: return true
        default: return false
        }
    }

    /// True for the signed and unsigned integer cases.
    public var isInteger: Bool {
        switch self {
        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64: return true
        default: return false
        }
    }

    /// The smallest and largest value of an integer type (exact), nil for the others.
    public var integerBounds: (lower: Int64, upper: UInt64)? {
        switch self {
        case .int8: return (Int64(Int8.min), UInt64(Int8.max))
        case .int16: return (Int64(Int16.min), UInt64(Int16.max))
        case .int32: return (Int64(Int32.min), UInt64(Int32.max))
        case .int64: return (Int64.min, UInt64(Int64.max))
        case .uint8: return (0, UInt64(UInt8.max))
        case .uint16: return (0, UInt64(UInt16.max))
        case .uint32: return (0, UInt64(UInt32.max))
        case .uint64: return (0, UInt64.max)
        default: return nil
        }
    }

    /// numpy-style name: "float32", "uint8", "string (variable length)", or the `.other` description.
    public var description: String {
        switch self {
        case .float16: return "float16"
        case .float32: return "float32"
        case .float64: return "float64"
        case .int8: return "int8"
        case .int16: return "int16"
        case .int32: return "int32"
        case .int64: return "int64"
        case .uint8: return "uint8"
        case .uint16: return "uint16"
        case .uint32: return "uint32"
        case .uint64: return "uint64"
        case .string(let variable): return variable ? "string (variable length)" : "string (fixed length)"
        case .other(let text): return text
        }
    }
}

/// A Swift numeric type that HDF5 datasets can be read into and written from, in native memory
/// layout. Conforming: `Float`, `Double`, `Float16` (where Swift has it), `Int8`…`Int64`, `Int`
/// (as int64), `UInt8`…`UInt64`.
///
/// HDF5 converts between the stored type and this one on read and write (float16/float64 → Float,
/// int64 → Int32...). Conversions from floating point to integers are refused (`typeMismatch`);
/// integer narrowing clamps out-of-range values to the target's range (HDF5's default).
public protocol HDF5Scalar: Sendable {
    /// The element type of this Swift type in memory; its `byteSize` must equal the type's stride.
    static var hdf5ElementType: HDF5ElementType { get }
}

extension Float: HDF5Scalar {
    /// `.float32`.
    public static var hdf5ElementType: HDF5ElementType { .float32 }
}
extension Double: HDF5Scalar {
    /// `.float64`.
    public static var hdf5ElementType: HDF5ElementType { .float64 }
}
#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
extension Float16: HDF5Scalar {
    /// `.float16`.
    public static var hdf5ElementType: HDF5ElementType { .float16 }
}
#endif
extension Int8: HDF5Scalar {
    /// `.int8`.
    public static var hdf5ElementType: HDF5ElementType { .int8 }
}
extension Int16: HDF5Scalar {
    /// `.int16`.
    public static var hdf5ElementType: HDF5ElementType { .int16 }
}
extension Int32: HDF5Scalar {
    /// `.int32`.
    public static var hdf5ElementType: HDF5ElementType { .int32 }
}
extension Int64: HDF5Scalar {
    /// `.int64`.
    public static var hdf5ElementType: HDF5ElementType { .int64 }
}
extension Int: HDF5Scalar {
    /// `.int64` on 64-bit platforms, `.int32` on 32-bit ones.
    public static var hdf5ElementType: HDF5ElementType { MemoryLayout<Int>.size == 8 ? .int64 : .int32 }
}
extension UInt8: HDF5Scalar {
    /// `.uint8`.
    public static var hdf5ElementType: HDF5ElementType { .uint8 }
}
extension UInt16: HDF5Scalar {
    /// `.uint16`.
    public static var hdf5ElementType: HDF5ElementType { .uint16 }
}
extension UInt32: HDF5Scalar {
    /// `.uint32`.
    public static var hdf5ElementType: HDF5ElementType { .uint32 }
}
extension UInt64: HDF5Scalar {
    /// `.uint64`.
    public static var hdf5ElementType: HDF5ElementType { .uint64 }
}

/// What an HDF5 link points to.
public enum HDF5ObjectKind: Sendable, Hashable, CustomStringConvertible {
    /// A group (a directory of links).
    case group
    /// A dataset (an n-dimensional array).
    case dataset
    /// Anything else: a committed datatype, or a link that cannot be resolved (dangling soft link,
    /// unreachable external link).
    case other

    /// "group", "dataset" or "other object".
    public var description: String {
        switch self {
        case .group: return "group"
        case .dataset: return "dataset"
        case .other: return "other object"
        }
    }
}

/// One child of a group, as listed by `HDF5Group.children()` and `HDF5Group.visit(_:)`.
public struct HDF5Entry: Sendable, Hashable, CustomStringConvertible {
    /// The link name inside its parent group.
    public let name: String
    /// The absolute path in the file, e.g. "/params/encoder/weight".
    public let path: String
    /// What the link points to.
    public let kind: HDF5ObjectKind

    /// Creates an entry.
    public init(name: String, path: String, kind: HDF5ObjectKind) {
        self.name = name
        self.path = path
        self.kind = kind
    }

    /// "<path> (<kind>)".
    public var description: String { "\(path) (\(kind))" }
}

/// How strings are stored in a new dataset.
public enum HDF5StringLayout: Sendable, Hashable {
    /// Variable-length UTF-8 (h5py's `string_dtype('utf-8')`): any length, stored on a heap.
    case variableLength
    /// Fixed-length UTF-8, NUL-padded to `bytes` bytes per element (numpy's `S<n>` layout);
    /// nil picks the longest element's UTF-8 length (at least 1). A longer element is an error.
    case fixedLength(bytes: Int?)
}

/// How a dataset is laid out in the file, for inspection.
public struct HDF5StorageInfo: Sendable, Hashable, CustomStringConvertible {
    /// HDF5's storage layouts.
    public enum Layout: String, Sendable, Hashable {
        /// In the object header (small datasets).
        case compact
        /// One contiguous block.
        case contiguous
        /// Fixed-size chunks, each possibly filtered (compressed).
        case chunked
        /// A virtual dataset mapping other datasets.
        case virtual
        /// A layout this library version does not name.
        case unknown
    }

    /// The storage layout.
    public var layout: Layout
    /// Chunk shape (elements per dimension) when `layout == .chunked`, else nil.
    public var chunkShape: [Int]?
    /// Filters in pipeline order, by HDF5's name for them ("deflate", "shuffle", "fletcher32"...).
    public var filters: [String]
    /// The deflate (gzip) level 0–9 when the deflate filter is in the pipeline, else nil.
    public var deflateLevel: Int?
    /// Bytes allocated for the data in the file (after compression; 0 when nothing was written yet).
    public var storageBytes: Int

    /// E.g. "chunked [100, 64], deflate(4), shuffle, 12345 bytes".
    public var description: String {
        var parts = [layout.rawValue + (chunkShape.map { " \($0)" } ?? "")]
        parts += filters.map { $0 == "deflate" ? "deflate(\(deflateLevel ?? 0))" : $0 }
        parts.append("\(storageBytes) bytes")
        return parts.joined(separator: ", ")
    }
}
