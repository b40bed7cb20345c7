import Foundation
import XCTest

/// The repository root (two levels above this file).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The directory of the built products: the test bundle sits beside the executables.
let productsDirectory: URL = {
    var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("mlcore").path) {
        url = url.deletingLastPathComponent()
    }
    return url
}()

/// The absolute path of a prepared data file; fails (does not skip) when `make data` has not run.
func preparedFile(_ relative: String) throws -> String {
    let path = repositoryRoot.appendingPathComponent(relative).path
    guard FileManager.default.fileExists(atPath: path) else {
        XCTFail("\(relative) is missing: run `make data` (make test does) before the end-to-end tests")
        throw CocoaError(.fileNoSuchFile)
    }
    return path
}

struct ToolResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs a built executable with `arguments` from the repository root and captures its output.
func runTool(_ name: String, _ arguments: [String], stdin: String? = nil, timeout: Double? = nil) throws -> ToolResult {
    try runTool(name, arguments, stdinBytes: stdin.map { Data($0.utf8) }, timeout: timeout)
}

/// Runs a built executable with `arguments` and raw bytes on stdin (e.g. invalid UTF-8).
/// With `timeout` (seconds), a run still going then is stopped (SIGTERM) and reported with status 0:
/// for fuzzing, where a valid combination of options may start real work.
/// `environment` entries are added to the test's own environment.
func runTool(_ name: String, _ arguments: [String], stdinBytes: Data?, timeout: Double? = nil,
             environment: [String: String] = [:]) throws -> ToolResult {
    let executable = productsDirectory.appendingPathComponent(name)
    guard FileManager.default.isExecutableFile(atPath: executable.path) else {
        XCTFail("\(executable.path) is not built (swift build -c release)")
        throw CocoaError(.fileNoSuchFile)
    }
    return try runProcess(executable, arguments, stdinBytes: stdinBytes, timeout: timeout, environment: environment)
}

/// Runs any executable with `arguments` from the repository root and captures its output.
func runProcess(_ executable: URL, _ arguments: [String], stdin: String? = nil) throws -> ToolResult {
    try runProcess(executable, arguments, stdinBytes: stdin.map { Data($0.utf8) })
}

/// Runs any executable with `arguments` and raw bytes on stdin, from the repository root.
/// A death by a signal is reported as the shell does, 128 + the signal number (Foundation's
/// `terminationStatus` alone is the bare signal number, e.g. 11, which would look like an exit code).
func runProcess(_ executable: URL, _ arguments: [String], stdinBytes: Data?, timeout: Double? = nil,
                environment: [String: String] = [:]) throws -> ToolResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    process.currentDirectoryURL = repositoryRoot
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdinBytes { input.fileHandleForWriting.write(stdinBytes) }
    try input.fileHandleForWriting.close()
    // Read both pipes to the end before waiting, so a large output cannot block the child.
    let group = DispatchGroup()
    nonisolated(unsafe) var errData = Data()
    group.enter()
    DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    nonisolated(unsafe) var stopped = false
    if let timeout {
        let child = process
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
            if child.isRunning { stopped = true; child.terminate() }
        }
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    if stopped {
        return ToolResult(status: 0, stdout: "", stderr: "stopped after \(timeout ?? 0) s")
    }
    let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    return ToolResult(status: status, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
}
