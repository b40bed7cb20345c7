internal import CHDF5

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An open HDF5 file (C API of the system HDF5 library, 1.10).
///
/// Groups (`HDF5Group`) and datasets (`HDF5Dataset`) hold a strong reference to their file, so the
/// file stays open while any of them is alive; `close()` closes it explicitly (and every dataset
/// opened from it: their later use throws `HDF5Error.fileClosed`), `deinit` closes it otherwise.
/// All HDF5 calls in the process are serialised by one recursive lock, so objects may be used from
/// any thread, but calls do not run in parallel.
///
/// ```swift
/// let file = try HDF5File(path: "data/minilm.h5")
/// let weight = try file.dataset("params/embeddings/word_embeddings/weight")  // shape [V, D]
/// let rows: [Float] = try weight.readRows(0..<8)                             // 8·D floats
/// ```
public final class HDF5File: @unchecked Sendable, CustomStringConvertible {
    /// How a file is opened.
    public enum Mode: Sendable, Hashable {
        /// Open an existing file for reading (`H5F_ACC_RDONLY`).
        case readOnly
        /// Open an existing file for reading and writing (`H5F_ACC_RDWR`).
        case readWrite
        /// Create a file, truncating any existing one (`H5F_ACC_TRUNC`).
        case create
        /// Create a file, failing with `HDF5Error.fileExists` if one exists (`H5F_ACC_EXCL`).
        case createNew
    }

    /// The path as given to `init` (used in error messages).
    public let path: String
    /// The mode the file was opened with.
    public let mode: Mode

    /// The HDF5 file identifier; -1 once closed. Guarded by the HDF5 lock.
    private var fileID: hid_t
    /// Datasets opened from this file, closed by `close()`. Guarded by the HDF5 lock.
    private var openObjects: [ObjectIdentifier: HDF5WeakObject] = [:]

    /// Opens or creates the HDF5 file at `path`.
    ///
    /// - Parameters:
    ///   - path: file system path, absolute or relative to the working directory.
    ///   - mode: `.readOnly` (default), `.readWrite`, `.create` (truncate) or `.createNew`.
    /// - Throws: `HDF5Error.fileNotFound` (no such file, read modes), `.notHDF5` (the file has no HDF5
    ///   signature), `.fileExists` (`.createNew` on an existing path), `.library` for anything HDF5
    ///   refuses, with its message (truncated or corrupt file, permission denied, missing directory,
    ///   file locked by another process...), and whatever `openCheck` throws.
    public init(path: String, mode: Mode = .readOnly) throws {
        self.path = path
        self.mode = mode
        self.fileID = -1
        if mode == .readOnly || mode == .readWrite, let check = HDF5File.openCheck { try check(path) }
        let id: hid_t = try withHDF5Lock {
            switch mode {
            case .readOnly, .readWrite:
                var info = stat()
                guard stat(path, &info) == 0 else {
                    if errno == ENOENT || errno == ENOTDIR { throw HDF5Error.fileNotFound(file: path) }
                    throw HDF5Error.library(file: path, path: "/", operation: "cannot open file",
                                            message: String(cString: strerror(errno)))
                }
                if (info.st_mode & S_IFMT) == S_IFDIR {
                    throw HDF5Error.isDirectory(file: path)
                }
                let isHDF5 = H5Fis_hdf5(path)
                if isHDF5 == 0 { throw HDF5Error.notHDF5(file: path) }
                if isHDF5 < 0 {
                    let message = h5TakeErrorMessage()
                    // HDF5 1.10 fails (rather than answering false) for files shorter than a superblock.
                    if info.st_size < 8 { throw HDF5Error.notHDF5(file: path) }
                    throw HDF5Error.library(file: path, path: "/", operation: "cannot check file signature", message: message)
                }
                let flags = mode == .readOnly ? mlh5_acc_rdonly() : mlh5_acc_rdwr()
                return try h5Check(H5Fopen(path, flags, mlh5_p_default()), file: path, path: "/", "cannot open file")
            case .create, .createNew:
                if mode == .createNew {
                    var info = stat()
                    if lstat(path, &info) == 0 { throw HDF5Error.fileExists(file: path) }
                }
                let flags = mode == .create ? mlh5_acc_trunc() : mlh5_acc_excl()
                return try h5Check(H5Fcreate(path, flags, mlh5_p_default(), mlh5_p_default()),
                                   file: path, path: "/", "cannot create file")
            }
        }
        self.fileID = id
    }

    deinit {
        try? close()
    }

    /// Called with the path before an existing file is opened (`.readOnly`, `.readWrite`), outside the
    /// HDF5 lock; what it throws, `init` throws. The executables set it once at start-up to read an
    /// untrusted file in a child process first, since a corrupt file can crash or hang the HDF5 library
    /// itself (Docs/RELIABILITY.md); nil (the default, e.g. in tests and library use): no check.
    nonisolated(unsafe) public static var openCheck: (@Sendable (String) throws -> Void)?

    /// Whether the file is still open (false after `close()`).
    public var isOpen: Bool {
        withHDF5Lock { fileID >= 0 }
    }

    /// The root group "/".
    public var root: HDF5Group {
        HDF5Group(file: self, path: "/")
    }

    /// The group at `path` (absolute, or relative to the root: "params/encoder").
    /// - Throws: `HDF5Error.objectNotFound`, `.wrongObjectKind` (a dataset is there), `.fileClosed`.
    public func group(_ path: String) throws -> HDF5Group {
        try root.group(path)
    }

    /// The dataset at `path` (absolute, or relative to the root: "params/encoder/weight").
    /// - Throws: `HDF5Error.objectNotFound`, `.wrongObjectKind` (a group is there), `.fileClosed`,
    ///   `.library`.
    public func dataset(_ path: String) throws -> HDF5Dataset {
        try root.dataset(path)
    }

    /// Writes buffered data and metadata to disk (`H5Fflush`), keeping the file open.
    /// - Throws: `HDF5Error.fileClosed`, `.library`.
    public func flush() throws {
        try withFileID(objectPath: "/") { id in
            try h5Check(H5Fflush(id, H5F_SCOPE_LOCAL), file: path, path: "/", "cannot flush file")
        }
    }

    /// Closes the file and every dataset still open from it. Idempotent: later calls do nothing.
    /// Groups and datasets that outlive the close throw `HDF5Error.fileClosed` when used.
    /// - Throws: `HDF5Error.library` if HDF5 fails to write pending data (the file is closed anyway).
    public func close() throws {
        try withHDF5Lock {
            guard fileID >= 0 else { return }
            for object in openObjects.values {
                object.object?.closeWhileLocked()
            }
            openObjects.removeAll()
            let id = fileID
            fileID = -1
            try h5Check(H5Fclose(id), file: path, path: "/", "cannot close file")
        }
    }

    /// "HDF5File(<path>, <mode>)".
    public var description: String { "HDF5File(\(path), \(mode))" }

    /// The version of the HDF5 library MLCore is linked with, e.g. "1.10.8" (for run reports).
    public static var libraryVersion: String {
        withHDF5Lock {
            var major: UInt32 = 0, minor: UInt32 = 0, release: UInt32 = 0
            H5get_libversion(&major, &minor, &release)
            return "\(major).\(minor).\(release)"
        }
    }

    // MARK: Internal

    /// Runs `body` with the file identifier, inside the HDF5 lock.
    /// - Throws: `HDF5Error.fileClosed` after `close()`.
    @discardableResult
    func withFileID<R>(objectPath: String, _ body: (hid_t) throws -> R) throws -> R {
        try withHDF5Lock {
            guard fileID >= 0 else { throw HDF5Error.fileClosed(file: path) }
            return try body(fileID)
        }
    }

    /// Records an open object so that `close()` closes it. Inside the lock.
    func register(_ object: HDF5OpenObject) {
        openObjects[ObjectIdentifier(object)] = HDF5WeakObject(object: object)
    }

    /// Forgets an object that closed itself. Inside the lock.
    func unregister(_ identifier: ObjectIdentifier) {
        openObjects[identifier] = nil
    }
}

/// An open HDF5 object identifier (a dataset) owned by Swift: closed by `deinit`, or by
/// `HDF5File.close()` first. Holds its file, so the file stays open while the object is referenced.
final class HDF5OpenObject: @unchecked Sendable {
    let file: HDF5File
    /// The identifier; -1 once closed. Guarded by the HDF5 lock.
    private var id: hid_t

    /// Takes ownership of `id`. Inside the lock.
    init(file: HDF5File, id: hid_t) {
        self.file = file
        self.id = id
        file.register(self)
    }

    deinit {
        let identifier = ObjectIdentifier(self)
        withHDF5Lock {
            if id >= 0 { h5Close(id) }
            file.unregister(identifier)
        }
    }

    /// Closes the identifier (from `HDF5File.close()`). Inside the lock.
    func closeWhileLocked() {
        if id >= 0 { h5Close(id) }
        id = -1
    }

    /// Runs `body` with the identifier inside the HDF5 lock.
    /// - Throws: `HDF5Error.fileClosed` once the file was closed.
    func withID<R>(_ body: (hid_t) throws -> R) throws -> R {
        try withHDF5Lock {
            guard id >= 0 else { throw HDF5Error.fileClosed(file: file.path) }
            return try body(id)
        }
    }
}

struct HDF5WeakObject {
    weak var object: HDF5OpenObject?
}
