import Foundation
import MLCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An HDF5 file that crashed or hung the HDF5 library in the child process that read it first
/// (`HDF5FileCheck`): a corrupt file, exit 65.
public struct HDF5LibraryFailure: CategorizedError, Equatable {
    /// The file as given.
    public let file: String
    /// The signal that ended the child (11 SIGSEGV, 6 SIGABRT, ...), nil when it was stopped after `seconds`.
    public let signal: Int32?
    /// The time limit that was exceeded (when `signal` is nil).
    public let seconds: Double
    /// The child finished, but the library reported errors in the file's metadata (after opening it):
    /// such a file can also corrupt the library's memory without crashing the child, so it is not opened.
    public var metadataErrors = false

    public init(file: String, signal: Int32?, seconds: Double, metadataErrors: Bool = false) {
        self.file = file
        self.signal = signal
        self.seconds = seconds
        self.metadataErrors = metadataErrors
    }

    public var category: ErrorCategory { .badData }
    public var description: String {
        if metadataErrors {
            return "\(file): corrupt HDF5 file (the HDF5 library reports errors in its metadata, which can crash it); not opened"
        }
        if let signal {
            return "\(file): HDF5 library crashed reading it (signal \(signal)); corrupt file?"
        }
        return "\(file): HDF5 library hung reading it (stopped after \(seconds.formatted()) s); corrupt file?"
    }
}

/// Reads every HDF5 file an executable opens in a child process first, so that a corrupt file that
/// crashes or hangs the HDF5 library (Debian's 1.10.8 segfaults, aborts in `free()` or loops forever on
/// some corrupt heaps of variable-length strings; newer versions too) becomes a one-line error with exit 65
/// instead of a signal (Docs/RELIABILITY.md).
///
/// The child is the executable itself, re-run with `MLCORE_HDF5_CHECK_CHILD=<path>` in its environment:
/// `mainWithOneLineErrors` sees it before parsing, opens the file, visits every group and dataset, reads
/// every attribute's value and every dataset's type, shape and storage (the metadata the loaders and
/// `mlcore inspect` decode; raw data is not read), and exits 0 whatever the library reports. Only a
/// death by a signal, or not finishing within `MLCORE_HDF5_CHECK_TIMEOUT` seconds (default 60; the child
/// is then killed), fails the check. Each file (device, inode, size, modification time) is checked once
/// per process; files that are not regular files are not checked (the library cannot open them).
public enum HDF5FileCheck {
    /// The environment variable that makes the executable the checking child of this path.
    public static let childVariable = "MLCORE_HDF5_CHECK_CHILD"
    /// The environment variable with the time limit in seconds (0 turns the check off).
    public static let timeoutVariable = "MLCORE_HDF5_CHECK_TIMEOUT"
    /// The time limit when `timeoutVariable` is not set, in seconds.
    public static let defaultTimeout = 60.0

    private struct Key: Hashable { let device: UInt64, inode: UInt64, size: Int64, modified: Int }
    nonisolated(unsafe) private static var checked: Set<Key> = []
    private static let lock = NSLock()

    /// Installs the check for every HDF5 file opened for reading (`HDF5File.openCheck`); when this
    /// process is a checking child, runs the check and exits instead. Called by `mainWithOneLineErrors`.
    public static func install() {
        if let path = ProcessInfo.processInfo.environment[childVariable] { runChild(path) }
        HDF5File.openCheck = { path in try check(path) }
    }

    /// Reads `path` in a child process unless this file was checked already.
    /// - Throws: `HDF5LibraryFailure` (exit 65) when the child died by a signal or was stopped at the
    ///   time limit; a file that cannot be checked (missing, not regular, spawn failure) passes, and the
    ///   open that follows reports what is wrong with it.
    public static func check(_ path: String) throws {
        let timeout = ProcessInfo.processInfo.environment[timeoutVariable].flatMap(Double.init) ?? defaultTimeout
        guard timeout > 0 else { return }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return }
        let key = Key(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                      modified: Int(info.st_mtim.tv_sec) &* 1_000_000_000 &+ Int(info.st_mtim.tv_nsec))
        if lock.withLock({ checked.contains(key) }) { return }
        switch runChildProcess(path, timeout: timeout) {
        case .passed, nil: lock.withLock { _ = checked.insert(key) }
        case .signal(let signal): throw HDF5LibraryFailure(file: path, signal: signal, seconds: timeout)
        case .metadataErrors: throw HDF5LibraryFailure(file: path, signal: nil, seconds: timeout, metadataErrors: true)
        case .timedOut: throw HDF5LibraryFailure(file: path, signal: nil, seconds: timeout)
        }
    }

    enum Outcome { case passed, signal(Int32), timedOut, metadataErrors }

    /// The child's exit status when the library reported errors in the metadata of a file it opened.
    static let metadataErrorsStatus: Int32 = 3

    /// Spawns this executable as the checking child of `path` (stdin, stdout and stderr on /dev/null,
    /// the Swift backtracer off) and waits for it; nil when it could not be started.
    static func runChildProcess(_ path: String, timeout: Double) -> Outcome? {
        let executable = FileManager.default.isReadableFile(atPath: "/proc/self/exe")
            ? "/proc/self/exe" : (Bundle.main.executablePath ?? CommandLine.arguments[0])
        var environment = ProcessInfo.processInfo.environment
        environment[childVariable] = path
        environment["SWIFT_BACKTRACE"] = "enable=no"
        let arguments = [executable]
        let cArguments = arguments.map { strdup($0) } + [nil]
        let cEnvironment = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in cArguments { free(p) }
            for p in cEnvironment { free(p) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in [0, 1, 2] {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        var pid: pid_t = 0
        guard posix_spawn(&pid, executable, &actions, nil, cArguments, cEnvironment) == 0 else { return nil }
        let start = Date()
        var pause: useconds_t = 1_000
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { return nil }
            if Date().timeIntervalSince(start) > timeout {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                return .timedOut
            }
            usleep(pause)
            pause = min(pause * 2, 50_000)
        }
        // WIFSIGNALED / WTERMSIG (macros Swift does not import).
        let signal = status & 0x7f
        if signal != 0 && signal != 0x7f { return .signal(signal) }
        return (status >> 8) & 0xff == metadataErrorsStatus ? .metadataErrors : .passed
    }

    /// The child: reads the metadata of `path` (and every string dataset); exits 0, or
    /// `metadataErrorsStatus` when the library reported an error in the metadata of the opened file.
    static func runChild(_ path: String) -> Never {
        var damaged = false
        /// Runs `body`; an error of the library itself (not a type this code does not read) marks the file.
        func attempt(_ body: () throws -> Void) {
            do { try body() } catch let error as HDF5Error {
                if case .library = error { damaged = true }
            } catch {}
        }
        if let file = try? HDF5File(path: path, mode: .readOnly) {
            func attributes(_ a: HDF5Attributes) {
                var names: [String] = []
                attempt { names = try a.names() }
                for name in names {
                    attempt { _ = try a.info(name) }
                    attempt { _ = try a.value(name) }
                }
            }
            attributes(file.root.attributes)
            attempt {
                try file.root.visit { entry in
                    switch entry.kind {
                    case .dataset:
                        var dataset: HDF5Dataset?
                        attempt { dataset = try file.dataset(entry.path) }
                        guard let d = dataset else { return }
                        attempt { _ = try d.storageInfo() }
                        // Variable-length strings (vocabularies, merges, texts) live in the global heap
                        // with the string attributes: decoding them is where a corrupt heap crashes the
                        // library, so they are read here too (numeric data is not; a string dataset's own
                        // read error, e.g. a missing filter, does not mark the file).
                        if case .string = d.elementType { _ = try? d.readStrings() }
                        attributes(d.attributes)
                    case .group:
                        var group: HDF5Group?
                        attempt { group = try file.group(entry.path) }
                        if let g = group { attributes(g.attributes) }
                    case .other:
                        break
                    }
                }
            }
            try? file.close()
        }
        exit(damaged ? metadataErrorsStatus : 0)
    }
}

/// What every executable does about a closed output pipe (`mlcore generate … | head -1`): SIGPIPE
/// ends the process quietly with exit 0, as the reader asked for no more output (ripgrep does the
/// same), rather than a death by signal (141) or an error. Installed by `mainWithOneLineErrors`.
public enum BrokenPipe {
    /// Sets the SIGPIPE handler: `_exit(0)` (async-signal-safe; unwritten output is discarded).
    public static func install() {
        signal(SIGPIPE) { _ in _exit(0) }
    }
}
