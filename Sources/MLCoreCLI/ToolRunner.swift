import ArgumentParser
import Foundation
import MLCore

/// Runs a tool command: applies the common options (threads, seed), times the run, writes the report,
/// and turns any error into one line on stderr and the exit code of its category
/// (64 usage, 65 bad data, 66 missing input, 70 internal; README.md, Docs/ARCHITECTURE.md).
public enum ToolRunner {
    /// State a command body receives: the seeded generator and the phase timer.
    public struct Context {
        public var random: RandomGenerator
        public var timer = PhaseTimer()
        public let options: CommonOptions
    }

    /// Runs `body` and writes the report it returns (to `--output` or stdout), adding config, timing
    /// and environment (with the run's peak resident set size). With `reflecting`, the parsed
    /// command, every one of its options is added to the config under its snake_case name
    /// (`OptionReflection`), unless `body` set that key (derived values, e.g. parsed lists).
    /// Never returns on failure: exits with the error's code.
    public static func run(tool: String, command: String, options: CommonOptions, reflecting parsed: Any? = nil,
                           _ body: (inout Context) throws -> Report) throws {
        if let threads = options.threads { Threading.count = threads }
        var context = Context(random: RandomGenerator(seed: options.seed), options: options)
        do {
            var report = try body(&context)
            report.tool = tool
            report.command = command
            for (k, v) in options.reportConfig where report.config[k] == nil { report.config[k] = v }
            if let parsed {
                for (k, v) in OptionReflection.config(of: parsed) where report.config[k] == nil { report.config[k] = v }
            }
            report.timing = context.timer.report.merging(report.timing) { $1 }
            report.environment["peak_rss_mib"] = .double(ResourceUsage.peakResidentMiB)
            try report.write(to: options.output)
        } catch {
            fail(tool: tool, error)
        }
    }

    /// Prints `tool: message` on stderr and exits with the error's category code.
    public static func fail(tool: String, _ error: Error) -> Never {
        let (message, code) = describe(error)
        FileHandle.standardError.write(Data("\(tool): \(message)\n".utf8))
        exit(code)
    }

    /// One-line message and exit code for any error.
    public static func describe(_ error: Error) -> (String, Int32) {
        if let e = error as? CategorizedError {
            return (oneLine(e.description), e.category.exitCode)
        }
        if let e = error as? ValidationError { return (oneLine(e.message), ErrorCategory.usage.exitCode) }
        return (oneLine("\(error)"), ErrorCategory.internal.exitCode)
    }

    static func oneLine(_ s: String) -> String {
        s.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}

extension ParsableCommand {
    /// Like ArgumentParser's `main()`, but a usage error is one line on stderr
    /// (`tool: message (see tool --help)`) with exit code 64, as README.md states for every error;
    /// `--help` and `--version` print as usual. Before parsing it installs what every executable does
    /// about untrusted input and output (Docs/RELIABILITY.md): HDF5 files are read in a child process
    /// first (`HDF5FileCheck`), and a closed output pipe ends the run quietly with exit 0 (`BrokenPipe`).
    /// A negative option value given after a space (`--seed -1`) is taken as the value
    /// (`withAttachedNegativeValues`), so it gets the option's own message, not "Missing value".
    public static func mainWithOneLineErrors() {
        HDF5FileCheck.install()
        BrokenPipe.install()
        do {
            var command: ParsableCommand
            do {
                command = try parseAsRoot()
            } catch {
                let given = Array(CommandLine.arguments.dropFirst())
                let attached = withAttachedNegativeValues(given)
                guard attached != given, exitCode(for: error) != .success else { throw error }
                command = try parseAsRoot(attached)
            }
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            let name = configuration.commandName ?? "tool"
            if code == .validationFailure {
                let message = ToolRunner.oneLine(self.message(for: error))
                FileHandle.standardError.write(Data("\(name): \(message) (see \(name) --help)\n".utf8))
                Foundation.exit(ErrorCategory.usage.exitCode)
            }
            ToolRunner.fail(tool: name, error)
        }
    }
}

/// `arguments` with every negative number that follows a long option given as that option's value:
/// `--seed -1` becomes `--seed=-1` (also `-0.5`, `-inf`, `-nan`). ArgumentParser reads a word starting
/// with '-' as an option, so without this `--seed -1` says "Missing value for '--seed'"; it is used
/// only when the arguments as given fail to parse. Nothing after `--` is changed.
public func withAttachedNegativeValues(_ arguments: [String]) -> [String] {
    var result: [String] = []
    var i = 0
    while i < arguments.count {
        let word = arguments[i]
        if word == "--" { return result + arguments[i...] }
        if word.hasPrefix("--"), word.count > 2, !word.contains("="), i + 1 < arguments.count,
           isNegativeNumber(arguments[i + 1]) {
            result.append(word + "=" + arguments[i + 1])
            i += 2
        } else {
            result.append(word)
            i += 1
        }
    }
    return result
}

/// Whether `word` is "-" followed by a number as Swift's `Double` reads it (digits, ".5", "inf", "nan").
func isNegativeNumber(_ word: String) -> Bool {
    guard word.hasPrefix("-"), word.count > 1 else { return false }
    return Double(word) != nil
}
