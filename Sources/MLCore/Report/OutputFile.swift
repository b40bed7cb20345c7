import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(Glibc)
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
private let systemWrite = Darwin.write
#endif

/// A failure to write an output file (a report, an artifact). One line each, naming the path.
public enum OutputError: CategorizedError, Equatable {
    /// The path names a directory.
    case isDirectory(path: String)
    /// The path cannot be written: permission denied, a missing or non-directory parent, a closed
    /// descriptor (`/dev/fd/N`), a socket, a full disk. `reason` is the system's message.
    case cannotWrite(path: String, reason: String, category: ErrorCategory)

    /// `.usage` for a directory; `.missingInput` for a path that cannot be written (permissions, parents,
    /// a closed descriptor); `.internal` for failures of the system while writing (disk full, I/O error).
    public var category: ErrorCategory {
        switch self {
        case .isDirectory: return .usage
        case .cannotWrite(_, _, let category): return category
        }
    }

    public var description: String {
        switch self {
        case .isDirectory(let path): return "cannot write \(path): it is a directory, expected a file path"
        case .cannotWrite(let path, let reason, _): return "cannot write \(path): \(reason)"
        }
    }

    static func system(_ path: String, _ code: Int32, doing: String? = nil) -> OutputError {
        let category: ErrorCategory
        switch code {
        case EACCES, EPERM, EROFS, ENOENT, ENOTDIR, EBADF, ENXIO, ELOOP, ENAMETOOLONG, EISDIR: category = .missingInput
        default: category = .internal
        }
        let reason = String(cString: strerror(code))
        return .cannotWrite(path: path, reason: doing.map { "\($0): \(reason)" } ?? reason, category: category)
    }
}

/// Writes output files so that they respect what the path names (Docs/REPORT_FORMAT.md, "Output files"):
///
/// - a regular file, or a path that does not exist yet: written beside the target as
///   `<target>.partial-<pid>` and renamed into place only when complete, so a failure leaves the old
///   file intact and nothing partial behind (missing parent directories are created);
/// - a symbolic link: the rule applies to the file it points to (followed to the end, also when that
///   does not exist yet); the link itself stays;
/// - a character device (`/dev/null`), a FIFO, `/dev/stdout`, `/dev/stderr`, `/dev/fd/N` and
///   `/proc/self/fd/N` (bash's process substitution `>(cmd)`): written directly, never replaced;
///   `/dev/stdout`, `/dev/stderr` and `/dev/fd/N` write to the process's open descriptor, as bash
///   does, so a shell's `>>` or `>` on it is kept;
/// - a directory: refused (`OutputError.isDirectory`, exit 64).
public enum OutputFile {
    /// What an output path leads to.
    enum Destination: Equatable {
        /// An open descriptor of this process (`/dev/stdout`, `/dev/fd/N`).
        case descriptor(Int32)
        /// A file that is not a regular file (device, FIFO): opened and written in place.
        case stream(String)
        /// A regular file or a new path (symbolic links followed): replaced atomically.
        case regular(String)
    }

    /// Writes `data` to `path` under the rules above.
    /// - Throws: `OutputError` naming `path`.
    public static func write(_ data: Data, to path: String) throws {
        switch try destination(of: path) {
        case .descriptor(let fd):
            try writeAll(data, to: fd, path: path)
        case .stream(let target):
            let fd = open(target, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw OutputError.system(path, errno) }
            defer { close(fd) }
            try writeAll(data, to: fd, path: path)
        case .regular(let target):
            try replace(target, for: path) { temporary in
                let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
                guard fd >= 0 else { throw OutputError.system(path, errno) }
                defer { close(fd) }
                try writeAll(data, to: fd, path: path)
            }
        }
    }

    /// Makes `path` from a whole file that `body` writes at the path it is given (for libraries that
    /// write files themselves, such as HDF5): beside the target and renamed into place for a regular
    /// file or a new path; in the temporary directory and then copied for a device, FIFO or
    /// descriptor (HDF5 needs a seekable file). The temporary file never remains.
    /// - Throws: what `body` throws; `OutputError` naming `path`.
    public static func write(to path: String, producing body: (String) throws -> Void) throws {
        let pid = ProcessInfo.processInfo.processIdentifier
        switch try destination(of: path) {
        case .regular(let target):
            try replace(target, for: path, body)
        case let other:
            let temporary = NSTemporaryDirectory() + "/mlcore-output-\(pid)-\(UInt32.random(in: 0...UInt32.max))"
            defer { unlink(temporary) }
            try body(temporary)
            guard let data = FileManager.default.contents(atPath: temporary) else {
                throw OutputError.cannotWrite(path: path, reason: "the file written at \(temporary) cannot be read back", category: .internal)
            }
            if case .descriptor(let fd) = other {
                try writeAll(data, to: fd, path: path)
            } else if case .stream(let target) = other {
                let fd = open(target, O_WRONLY | O_CLOEXEC)
                guard fd >= 0 else { throw OutputError.system(path, errno) }
                defer { close(fd) }
                try writeAll(data, to: fd, path: path)
            }
        }
    }

    /// Where `path` leads (see the type's rules).
    /// - Throws: `OutputError.isDirectory`; `.cannotWrite` for a closed descriptor, a socket or a
    ///   loop of symbolic links.
    static func destination(of path: String) throws -> Destination {
        if let fd = descriptorNumber(path) {
            guard fcntl(fd, F_GETFD) >= 0 else { throw OutputError.system(path, EBADF) }
            return .descriptor(fd)
        }
        let target = try resolveLinks(path)
        var info = stat()
        guard stat(target, &info) == 0 else {
            if errno == ENOENT { return .regular(target) }
            throw OutputError.system(path, errno)
        }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: throw OutputError.isDirectory(path: path)
        case S_IFREG: return .regular(target)
        case S_IFSOCK: throw OutputError.cannotWrite(path: path, reason: "it is a socket, expected a file path", category: .usage)
        default: return .stream(target)
        }
    }

    /// The descriptor a `/dev/stdout`-style path names, or nil.
    static func descriptorNumber(_ path: String) -> Int32? {
        switch path {
        case "/dev/stdout": return 1
        case "/dev/stderr": return 2
        default: break
        }
        for prefix in ["/dev/fd/", "/proc/self/fd/"] where path.hasPrefix(prefix) {
            return Int32(path.dropFirst(prefix.count))
        }
        return nil
    }

    /// `path` with every symbolic link in its last component followed (at most 40), relative targets
    /// taken from the link's directory; the result may not exist (a dangling link's target).
    static func resolveLinks(_ path: String) throws -> String {
        var current = path
        for _ in 0..<40 {
            var info = stat()
            guard lstat(current, &info) == 0, info.st_mode & S_IFMT == S_IFLNK else { return current }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlink(current, &buffer, buffer.count - 1)
            guard n >= 0 else { throw OutputError.system(path, errno) }
            let target = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if target.hasPrefix("/") {
                current = target
            } else {
                current = parentDirectory(of: current)
                current = current.isEmpty ? target : current + "/" + target
            }
            if let fd = descriptorNumber(current), fcntl(fd, F_GETFD) >= 0 { return current }
        }
        throw OutputError.system(path, ELOOP)
    }

    /// `path` without its last component, as `NSString.deletingLastPathComponent` (which traps on
    /// one-character paths such as "x" in this Foundation): "" for a bare name, "/" for a file in the
    /// root; trailing slashes are ignored.
    static func parentDirectory(of path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/") else { return "" }
        if slash == p.startIndex { return "/" }
        var parent = p[..<slash]
        while parent.count > 1 && parent.hasSuffix("/") { parent = parent.dropLast() }
        return String(parent)
    }

    /// Writes a new `target` through `body` at a temporary path beside it and renames it into place
    /// (keeping an existing file's permission bits). When the directory cannot hold the temporary file
    /// but the existing file is writable, `body` writes a temporary file elsewhere and the target is
    /// overwritten in place.
    static func replace(_ target: String, for path: String, _ body: (String) throws -> Void) throws {
        let directory = parentDirectory(of: target)
        if !directory.isEmpty && !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw OutputError.cannotWrite(path: path, reason: "cannot create its directory \(directory)", category: .missingInput)
            }
        }
        var existing = stat()
        let exists = stat(target, &existing) == 0
        if exists && access(target, W_OK) != 0 { throw OutputError.system(path, errno) }
        let temporary = target + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
        unlink(temporary)
        let probe = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if probe < 0 {
            let code = errno
            guard exists, code == EACCES || code == EPERM || code == EROFS else { throw OutputError.system(path, code) }
            // The directory is closed to us but the file is not: overwrite it in place.
            let scratch = NSTemporaryDirectory() + "/mlcore-output-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
            defer { unlink(scratch) }
            try body(scratch)
            guard let data = FileManager.default.contents(atPath: scratch) else {
                throw OutputError.cannotWrite(path: path, reason: "the file written at \(scratch) cannot be read back", category: .internal)
            }
            let fd = open(target, O_WRONLY | O_TRUNC | O_CLOEXEC)
            guard fd >= 0 else { throw OutputError.system(path, errno) }
            defer { close(fd) }
            try writeAll(data, to: fd, path: path)
            return
        }
        close(probe)
        unlink(temporary)
        do {
            try body(temporary)
            if exists {
                chmod(temporary, existing.st_mode & 0o7777)
            } else {
                let mask = umask(0)
                umask(mask)
                chmod(temporary, 0o666 & ~mask)
            }
            guard rename(temporary, target) == 0 else { throw OutputError.system(path, errno, doing: "cannot move \(temporary) into place") }
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Writes all of `data` to `fd`, retrying short writes and interruptions.
    static func writeAll(_ data: Data, to fd: Int32, path: String) throws {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard var p = raw.baseAddress else { return }
            var left = raw.count
            while left > 0 {
                let n = systemWrite(fd, p, left)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw OutputError.system(path, errno)
                }
                p += n
                left -= n
            }
        }
    }
}
