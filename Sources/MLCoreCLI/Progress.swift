import Foundation
import MLCore

/// Progress of a long loop on stderr: a live bar with rate and ETA on a terminal, a plain line
/// every few seconds otherwise (logs, CI), nothing when quiet. Not thread-safe: advance it from the
/// loop's thread.
public final class ProgressBar {
    private let label: String
    private let total: Int
    private let unit: String
    private let enabled: Bool
    private let live: Bool
    private let start = Date()
    private var done = 0
    private var lastDraw = Date.distantPast
    private let interval: TimeInterval

    /// - Parameters:
    ///   - label: what is counted ("encoding", "epoch 1").
    ///   - total: expected count (0 if unknown).
    ///   - unit: the unit shown with the rate ("items", "tokens").
    ///   - quiet: print nothing.
    public init(_ label: String, total: Int, unit: String = "items", quiet: Bool) {
        self.label = label
        self.total = total
        self.unit = unit
        self.enabled = !quiet
        self.live = isatty(STDERR_FILENO) == 1
        self.interval = live ? 0.1 : 5
    }

    /// Records `n` more items done, redrawing at most 10 times a second (every 5 s when not a TTY).
    public func advance(by n: Int = 1) {
        done += n
        guard enabled else { return }
        let now = Date()
        if now.timeIntervalSince(lastDraw) >= interval {
            lastDraw = now
            draw(final: false)
        }
    }

    /// Prints the final state (and ends the live line).
    public func finish() {
        guard enabled else { return }
        draw(final: true)
    }

    private func draw(final: Bool) {
        let text = Self.text(label: label, done: done, total: total, unit: unit, elapsed: Date().timeIntervalSince(start),
                             live: live, final: final)
        let line = live ? "\r\u{1B}[K" + text + (final ? "\n" : "") : text + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// The progress text (without the terminal control codes): "label: done/total ETA 3s 2.0 unit/s
    /// 2.0s", with a 24-character bar instead of the colon when `live`; no total when it is 0, no ETA
    /// in the final line or before any progress, never a negative ETA (more done than expected).
    static func text(label: String, done: Int, total: Int, unit: String, elapsed: TimeInterval, live: Bool, final: Bool) -> String {
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        var text = "\(label): \(done)"
        if total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            text += "/\(total)"
            if live {
                let width = 24, filled = Int(fraction * Double(width))
                text = "\(label) [" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] \(done)/\(total)"
            }
            if !final && rate > 0 { text += String(format: " ETA %.0fs", Double(max(0, total - done)) / rate) }
        }
        return text + String(format: " %.1f %@/s %.1fs", rate, unit, elapsed)
    }
}

/// A one-line log message on stderr unless quiet.
public func log(_ message: String, quiet: Bool) {
    guard !quiet else { return }
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
