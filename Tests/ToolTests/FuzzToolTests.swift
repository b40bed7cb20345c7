import Foundation
import MLCore
import XCTest

/// A small, seeded fuzz pass over the built executables (≈ 10 s on an idle machine): malformed JSON lines,
/// truncated and byte-flipped HDF5 checkpoints, and random option values. No input may crash a tool:
/// every exit is a code below 128 (0, or 64/65/66 with a message), never a signal or a trap.
final class FuzzToolTests: XCTestCase {
    var random = RandomGenerator(seed: 28)

    /// The time limit of the executables' HDF5 check (`MLCORE_HDF5_CHECK_TIMEOUT`), lowered to 5 s so that
    /// a file that hangs the HDF5 library costs little; a value set in the test's environment wins
    /// (0 turns the check off, to see the library's own crashes).
    let checkTimeout = ["MLCORE_HDF5_CHECK_TIMEOUT": ProcessInfo.processInfo.environment["MLCORE_HDF5_CHECK_TIMEOUT"] ?? "5"]

    func pick<T>(_ items: [T]) -> T { items[random.nextInt(below: items.count)] }

    func assertNoCrash(_ result: ToolResult, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertLessThan(result.status, 64 + 64, "\(what): exit \(result.status): \(result.stderr.prefix(300))", file: file, line: line)
        XCTAssertFalse(result.stderr.contains("Fatal error"), "\(what): \(result.stderr.prefix(300))", file: file, line: line)
    }

    func testMalformedJSONLines() throws {
        let seeds = ["{\"score\": 0.5, \"label\": 1}", "[101, 7592, 102]"]
        let pieces = ["{", "}", "[", "]", "\"", ",", ":", "-", "1e309", "NaN", "-0", "99999999999999999999", "null", "true",
                      "\\u0000", "\\ud800", "é", "\u{FFFD}", " ", "\t", "\"score\"", "\"label\"", "1.5", "-1"]
        var lines: [String] = []
        for _ in 0..<24 {
            var text = pick(seeds)
            for _ in 0..<(1 + random.nextInt(below: 4)) {
                let position = text.index(text.startIndex, offsetBy: random.nextInt(below: text.count + 1))
                if random.nextInt(below: 2) == 0 && position < text.endIndex {
                    text.remove(at: position)
                } else {
                    text.insert(contentsOf: pick(pieces), at: position)
                }
            }
            lines.append(text)
        }
        lines.append(String(repeating: "[", count: 100_000))  // deep nesting
        lines.append(String(repeating: "9", count: 5_000))
        for line in lines {
            let auroc = try runTool("mlcore", ["score", "auroc"], stdin: "{\"score\": 0.1, \"label\": 0}\n\(line)\n")
            assertNoCrash(auroc, "score auroc <<< \(line.prefix(80))")
        }
        _ = try preparedFile("data/models/minilm-l6.h5")
        let decode = try runTool("mlcore", ["tokenize", "--weights", "minilm-l6", "--decode"], stdin: lines.joined(separator: "\n") + "\n")
        assertNoCrash(decode, "tokenize --decode")
        for line in lines.prefix(8) {
            assertNoCrash(try runTool("mlcore", ["tokenize", "--weights", "minilm-l6", "--decode"], stdin: line + "\n"),
                          "tokenize --decode <<< \(line.prefix(80))")
        }
    }

    /// A small checkpoint written by MLCore (a tiny Llama), truncated and with random bytes flipped,
    /// through `inspect` and a command that loads it as a model.
    func testCorruptedCheckpoints() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mlcore-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = LlamaConfig(vocabularySize: 11, hiddenSize: 8, intermediateSize: 12, layerCount: 1, headCount: 2,
                                 keyValueHeadCount: 1, ropeLayout: .adjacentPairs, maximumPositions: 16)
        let model = LlamaDecoder(config: config, factory: ParameterFactory(seed: 2))
        let original = directory.appendingPathComponent("tiny.h5").path
        let json: JSONValue = ["vocab_size": 11, "hidden_size": 8, "intermediate_size": 12, "num_hidden_layers": 1,
                               "num_attention_heads": 2, "num_key_value_heads": 1, "rope_layout": "adjacent-pairs",
                               "max_position_embeddings": 16]
        try CheckpointWriter.save(model.stateDict(), to: original, architecture: "llama", config: json)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: original))
        var variants: [(String, Data)] = [256, bytes.count / 2, bytes.count - 1].map { ("truncated to \($0)", bytes.prefix($0)) }
        for trial in 0..<14 {
            var flipped = bytes
            let flips = 1 + random.nextInt(below: 8)
            for _ in 0..<flips {
                // Mostly the metadata at the start (superblock, object headers, B-trees), sometimes anywhere.
                let span = random.nextInt(below: 3) == 0 ? flipped.count : min(flipped.count, 4096)
                let at = random.nextInt(below: span)
                flipped[at] ^= UInt8(1 << random.nextInt(below: 8))
            }
            variants.append(("trial \(trial), \(flips) flips", flipped))
        }
        let path = directory.appendingPathComponent("corrupt.h5").path
        for (name, data) in variants {
            try data.write(to: URL(fileURLWithPath: path))
            assertNoCrash(try runTool("mlcore", ["inspect", "--json", path], stdinBytes: nil, environment: checkTimeout),
                          "inspect (\(name))")
            assertNoCrash(try runTool("mlcore", ["score", "--weights", path], stdinBytes: Data("hello\n".utf8), environment: checkTimeout),
                          "score --weights (\(name))")
        }
    }

    /// A small HDF5 file with variable-length string attributes (as every checkpoint's config, tokenizer
    /// and labels have), byte-flipped where its strings live. Debian's HDF5 1.10.8 segfaults, aborts in
    /// free() or loops forever on some of these (a bad global heap index in the metadata it decodes);
    /// the executables read every HDF5 file in a child process first (`HDF5FileCheck`), so each case is
    /// a one-line error (exit 65) or a listing, never a signal, in `mlcore inspect` and (for the files
    /// `inspect` refuses) in a paper tool's `merge`. The time limit of the check is lowered
    /// to 5 s here so that a hang costs little.
    func testCorruptedStringAttributes() throws {
        var random = RandomGenerator(seed: 2808)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mlcore-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = directory.appendingPathComponent("strings.h5").path
        do {
            let file = try HDF5File(path: original, mode: .create)
            try file.root.attributes.set("architecture", .string("bert"))
            try file.root.attributes.set("config", .string("{\"hidden_size\": 8, \"vocab_size\": 11}"))
            try file.root.attributes.set("labels", .strings(["negative", "positive", "neutral"]))
            let group = try file.root.createGroup("tokenizer")
            try group.attributes.set("type", .string("wordpiece"))
            try group.attributes.set("special", .strings(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
            // A variable-length string dataset, as a tokenizer's vocabulary: its strings share the heap.
            _ = try group.createDataset("vocab", strings: (0..<64).map { "token\($0)" })
            let weight = try file.root.createDataset("params/weight", shape: [2, 3], data: [Float](repeating: 0.5, count: 6))
            try weight.attributes.set("note", .string("a string attribute on a dataset"))
            try file.close()
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: original))
        // The global heap collection ("GCOL") holds the strings; object headers point into it.
        let heap = bytes.range(of: Data("GCOL".utf8))?.lowerBound ?? 0
        let path = directory.appendingPathComponent("corrupt.h5").path
        let papers = try CommandDiscovery.executables().filter { $0 != "mlcore" }
        XCTAssertFalse(papers.isEmpty)
        var errors = 0
        for trial in 0..<24 {
            var flipped = bytes
            for _ in 0..<(1 + random.nextInt(below: 3)) {
                let at = random.nextInt(below: 2) == 0 ? heap + random.nextInt(below: min(256, bytes.count - heap))
                                                      : random.nextInt(below: min(bytes.count, 2048))
                flipped[at] ^= UInt8(1 << random.nextInt(below: 8))
            }
            try flipped.write(to: URL(fileURLWithPath: path))
            let result = try runTool("mlcore", ["inspect", "--json", path], stdinBytes: nil, environment: checkTimeout)
            assertNoCrash(result, "inspect (trial \(trial))")
            if result.status != 0 {
                // The same file through another executable's reader (every tool's `merge` opens HDF5 shards).
                let tool = papers[errors % papers.count]
                let merged = directory.appendingPathComponent("merged.h5").path
                assertNoCrash(try runTool(tool, ["merge", "--save", merged, path], stdinBytes: nil, environment: checkTimeout),
                              "\(tool) merge (trial \(trial))")
                XCTAssertEqual(result.status, 65, "trial \(trial): \(result.stderr)")
                XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "trial \(trial): \(result.stderr)")
                errors += 1
            }
        }
        XCTAssertGreaterThan(errors, 0, "no flip made the file unreadable: the cases test nothing")
    }

    /// A reader that stops early (`mlcore tokenize … | head -n 1`) ends the writer quietly with exit 0,
    /// not a death by SIGPIPE (141) or an error message.
    func testClosedOutputPipeExitsQuietly() throws {
        _ = try preparedFile("data/models/minilm-l6.h5")
        let tool = productsDirectory.appendingPathComponent("mlcore").path
        let script = "seq 200000 | '\(tool)' tokenize --weights minilm-l6 2>\"$ERR\" | head -n 1 >/dev/null; " +
                     "echo \"${PIPESTATUS[1]}\"; cat \"$ERR\""
        let err = FileManager.default.temporaryDirectory.appendingPathComponent("mlcore-pipe-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: err) }
        let result = try runProcess(URL(fileURLWithPath: "/bin/bash"), ["-c", script], stdinBytes: nil, environment: ["ERR": err])
        XCTAssertEqual(result.stdout, "0\n", "exit status of tokenize, then its stderr")
    }

    /// Random values for the options of every command of every executable (`CommandDiscovery`). Each
    /// run ends at parsing or validation, or is stopped after a few seconds
    /// (a valid combination starting real work is not a crash).
    func testRandomOptionValues() throws {
        let values = ["-1", "0", "-9223372036854775808", "9223372036854775807", "18446744073709551616", "nan", "inf", "-inf",
                      "1e309", "", "x", "0x10", "1/0", "0/0", "3/2", "-", "é", "/", "/dev/null", "1,2,,3", "1.5"]
        for tool in try CommandDiscovery.executables() {
            for (path, help) in try CommandDiscovery.commands(tool) {
                let options = help.split(separator: "\n").compactMap { line -> String? in
                    let words = line.split(separator: " ")
                    guard let first = words.first, first.hasPrefix("--"), words.count > 1, words[1].hasPrefix("<") else { return nil }
                    return String(first.split(separator: "=").first ?? first)
                }.filter { name in
                    // Options that name files to write would leave files in the repository.
                    !["output", "save", "sheet", "maps", "trace"].contains { name.contains($0) }
                }
                guard !options.isEmpty else { continue }
                do {
                    var arguments = path
                    for _ in 0..<(2 + random.nextInt(below: 2)) { arguments += [pick(options), pick(values)] }
                    let result = try runTool(tool, arguments, timeout: 5)
                    assertNoCrash(result, "\(tool) \(arguments.joined(separator: " "))")
                }
            }
        }
    }
}
