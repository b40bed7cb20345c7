import ArgumentParser
import Foundation
import MLCore

/// Input text that is not UTF-8: refused by default (exit 65), naming the line and byte.
public struct InvalidUTF8Error: CategorizedError, Equatable {
    /// Where the text came from ("stdin").
    public let source: String
    /// 1-based line number.
    public let line: Int
    /// 1-based byte position of the first invalid byte in the line.
    public let byte: Int
    /// That byte's value.
    public let value: UInt8

    public var category: ErrorCategory { .badData }
    public var description: String {
        "\(source):\(line): invalid UTF-8 at byte \(byte) (0x\(String(value, radix: 16, uppercase: true))); expected UTF-8 text (--lossy replaces invalid bytes with U+FFFD)"
    }
}

/// `--lossy`: how a command decodes its text lines from stdin. By default a line that is not valid
/// UTF-8 is an error (exit 65) naming the line; with `--lossy` each invalid sequence becomes U+FFFD
/// (what Swift's `readLine` and Python's `errors="replace"` do).
public struct TextInputOption: ParsableArguments {
    @Flag(help: "Replace invalid UTF-8 on stdin with U+FFFD instead of refusing the line (exit 65).")
    public var lossy = false

    public init() {}

    /// The lines of standard input.
    public func standardInputLines() -> TextLines { TextLines(descriptor: 0, source: "stdin", lossy: lossy) }
}

/// Lines of a file descriptor, read in 64 KiB blocks, split at "\n" (a "\r\n" ending loses its "\r"
/// too, as `readLine(strippingNewline:)`), each checked to be UTF-8 (`InvalidUTF8Error`) unless lossy.
public struct TextLines {
    let descriptor: Int32
    let source: String
    let lossy: Bool
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    /// Lines returned so far (the number of the last one).
    public private(set) var lineNumber = 0

    public init(descriptor: Int32, source: String, lossy: Bool) {
        self.descriptor = descriptor
        self.source = source
        self.lossy = lossy
    }

    /// The lines of the file at `path` ("-": standard input, named "stdin" in errors). The descriptor
    /// stays open until `close()`.
    /// - Throws: `MetricsError.unreadableFile` (exit 66) when the file cannot be opened.
    public static func open(path: String, lossy: Bool) throws -> TextLines {
        if path == "-" { return TextLines(descriptor: 0, source: "stdin", lossy: lossy) }
        let fd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw MetricsError.unreadableFile(path: path) }
        return TextLines(descriptor: fd, source: path, lossy: lossy)
    }

    /// Closes the descriptor (not standard input's).
    public func close() {
        if descriptor > 2 { _ = Foundation.close(descriptor) }
    }

    /// Calls `body` with the next line's bytes (without its line ending, checked to be UTF-8 unless
    /// lossy) and its 1-based number, and returns its result, or returns nil at the end of the input.
    /// No String is made, so a caller that reads numbers from the bytes allocates nothing per line.
    /// The bytes are valid only during the call.
    /// - Throws: `InvalidUTF8Error` (unless lossy), and what `body` throws.
    public mutating func nextBytes<R>(_ body: (ArraySlice<UInt8>, Int) throws -> R) throws -> R? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 10) {
                var end = newline
                if end > start && buffer[end - 1] == 13 { end -= 1 }
                let line = try check(buffer[start..<end])
                start = newline + 1
                return try body(line, lineNumber)
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                let line = try check(buffer[start...])
                start = buffer.count
                return try body(line, lineNumber)
            }
            fill()
        }
    }

    private mutating func check(_ bytes: ArraySlice<UInt8>) throws -> ArraySlice<UInt8> {
        lineNumber += 1
        if !lossy, let bad = firstInvalidUTF8(bytes) {
            throw InvalidUTF8Error(source: source, line: lineNumber, byte: bad - bytes.startIndex + 1, value: bytes[bad])
        }
        return bytes
    }

    /// The next line without its line ending, or nil at the end of the input.
    /// - Throws: `InvalidUTF8Error` for a line that is not UTF-8 (unless lossy). A read error ends the input.
    public mutating func next() throws -> String? {
        try nextBytes { bytes, _ in String(decoding: bytes, as: UTF8.self) }
    }

    private mutating func fill() {
        if start > 0 {
            buffer.removeFirst(start)
            start = 0
        }
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                atEnd = true
            } else {
                buffer.append(contentsOf: chunk[0..<n])
            }
            return
        }
    }
}

/// The index of the first byte of `bytes` that is not part of well-formed UTF-8 (Unicode 15, Table
/// 3-7: no overlong forms, no surrogates, nothing above U+10FFFF; a truncated sequence points at its
/// lead byte), or nil when all of it is.
public func firstInvalidUTF8(_ bytes: ArraySlice<UInt8>) -> Int? {
    var i = bytes.startIndex
    let end = bytes.endIndex
    while i < end {
        let b = bytes[i]
        if b < 0x80 { i += 1; continue }
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF  // range of the second byte
        switch b {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return i
        }
        guard end - i >= length, (low...high).contains(bytes[i + 1]) else { return i }
        for k in 2..<length where !(0x80...0xBF).contains(bytes[i + k]) { return i }
        i += length
    }
    return nil
}

/// `--split-special-tokens`: how special tokens written literally in input text ("[CLS]", "<|im_start|>")
/// are tokenized, for every command that tokenizes text from the user (`mlcore tokenize`, `embed`,
/// `score`, `generate`). By default they become the special token's id, as Hugging Face `tokenizers`
/// does; with the flag they are ordinary text (its `encode_special_tokens`, transformers'
/// `split_special_tokens`). Docs/ARCHITECTURE.md, "Tokenizers".
public struct SpecialTokensOption: ParsableArguments {
    @Flag(help: "Tokenize special tokens written in the input text ([CLS], <|im_start|>, ...) as ordinary text instead of as the special tokens (Hugging Face's split_special_tokens).")
    public var splitSpecialTokens = false

    public init() {}

    /// `tokenizer` with this setting.
    public func apply<T: TextTokenizer>(to tokenizer: T) -> T {
        var t = tokenizer
        t.splitSpecialTokens = splitSpecialTokens
        return t
    }

    /// The checkpoint's tokenizer (`loadTokenizer(from:)`) with this setting.
    /// - Throws: `TokenizerError.missing` / `.malformed`, `HDF5Error`.
    public func loadTokenizer(from checkpoint: Checkpoint) throws -> any TextTokenizer {
        var t = try MLCore.loadTokenizer(from: checkpoint)
        t.splitSpecialTokens = splitSpecialTokens
        return t
    }
}
