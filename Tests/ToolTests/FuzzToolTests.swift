import Foundation
import MLCore
import XCTest

/// A small, seeded fuzz pass over the built executables (≈ 10 s on an idle machine): malformed JSON lines,
/// truncated and byte-flipped HDF5 checkpoints, and random option values. No input may crash a tool:
/// every exit is a code below 128 (0, or 64/65/66 with a message), never a signal or a trap.
final class FuzzToolTests: XCTestCase {
    var random = RandomGenerator(seed: 28)

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
            assertNoCrash(try runTool("mlcore", ["inspect", "--json", path]), "inspect (\(name))")
            assertNoCrash(try runTool("mlcore", ["score", "--weights", path], stdin: "hello\n"), "score --weights (\(name))")
        }
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
