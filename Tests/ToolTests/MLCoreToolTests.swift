import Foundation
import XCTest

/// End-to-end runs of the built `mlcore` executable on the real prepared data (`make data`).
final class MLCoreToolTests: XCTestCase {
    func testInspectListsTheRealMiniLMCheckpoint() throws {
        let model = try preparedFile("data/models/minilm-l6.h5")
        let result = try runTool("mlcore", ["inspect", "--json", model])
        XCTAssertEqual(result.status, 0, result.stderr)
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let summary = try XCTUnwrap(doc["summary"] as? [String: Any])
        XCTAssertGreaterThanOrEqual(summary["parameters"] as? Int ?? 0, 100)
        // 22.7M parameters (model card), excluding nothing: embeddings, 6 layers, pooler.
        XCTAssertEqual(Double(summary["parameter_elements"] as? Int ?? 0), 22.7e6, accuracy: 0.1e6)
        let objects = try XCTUnwrap(doc["objects"] as? [[String: Any]])
        func shape(_ path: String) -> [Int]? { objects.first { $0["path"] as? String == path }?["shape"] as? [Int] }
        XCTAssertEqual(shape("/params/embeddings/word_embeddings/weight"), [30522, 384])
        XCTAssertEqual(shape("/params/encoder/layer/5/intermediate/dense/weight"), [1536, 384])
        XCTAssertEqual(shape("/params/encoder/layer/0/attention/self/query/bias"), [384])
        let attributes = try XCTUnwrap(doc["attributes"] as? [String: Any])
        XCTAssertEqual(attributes["format"] as? String, "mlcore-checkpoint")
        XCTAssertEqual(attributes["architecture"] as? String, "bert")
    }

    func testInspectTreeOutput() throws {
        let model = try preparedFile("data/models/efficientnet-lite0.h5")
        let result = try runTool("mlcore", ["inspect", model])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("_conv_stem/"), result.stdout.prefix(500).description)
        XCTAssertTrue(result.stdout.contains("weight  float32 [32, 3, 3, 3]"))
        XCTAssertTrue(result.stdout.contains("296 parameter tensors"), String(result.stdout.suffix(300)))
    }

    func testInspectOfANonHDF5FileFailsWithOneLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlcore-tooltests-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = dir.appendingPathComponent("notes.h5")
        try "not hdf5\n".write(to: text, atomically: true, encoding: .utf8)
        let bad = try runTool("mlcore", ["inspect", text.path])
        XCTAssertEqual(bad.status, 65)
        XCTAssertEqual(bad.stderr.split(separator: "\n").count, 1, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("not an HDF5 file"), bad.stderr)
        XCTAssertTrue(bad.stderr.contains(text.path), bad.stderr)
        let missing = try runTool("mlcore", ["inspect", dir.appendingPathComponent("absent.h5").path])
        XCTAssertEqual(missing.status, 66)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)
        let unknown = try runTool("mlcore", ["inspect", "no-such-model"])
        XCTAssertEqual(unknown.status, 64, unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains("known: "), unknown.stderr)
    }

    func testDatasetsListsEveryEntryAsPrepared() throws {
        _ = try preparedFile("data/models/minilm-l6.h5")
        let result = try runTool("mlcore", ["datasets", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        let names = Set(rows.compactMap { $0["name"] as? String })
        XCTAssertTrue(names.isSuperset(of: ["minilm-l6", "smollm2", "efficientnet-lite0", "tweets", "textile", "gensim-corpora"]), "\(names)")
        for row in rows { XCTAssertEqual(row["prepared"] as? Bool, true, "\(row["name"] ?? "?") not prepared") }
    }

    func testUsageErrorsAreOneLine() throws {
        for arguments in [["inspect", "--bogus", "x"], ["nosuch"], ["inspect"], ["tokenize"]] {
            let result = try runTool("mlcore", arguments)
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.hasPrefix("mlcore: "), result.stderr)
        }
    }

    func testTokenizeRoundTripsThroughAPipeline() throws {
        _ = try preparedFile("data/models/smollm2.h5")
        let text = "The capital of France is\nnaïve café 123 🙂\n"
        let encoded = try runTool("mlcore", ["tokenize", "--weights", "smollm2"], stdin: text)
        XCTAssertEqual(encoded.status, 0, encoded.stderr)
        XCTAssertEqual(encoded.stdout.split(separator: "\n").count, 2)
        let decoded = try runTool("mlcore", ["tokenize", "--weights", "smollm2", "--decode"], stdin: encoded.stdout)
        XCTAssertEqual(decoded.status, 0, decoded.stderr)
        XCTAssertEqual(decoded.stdout, text)
        // BERT with special tokens: [CLS] hello world [SEP] (ids from the MiniLM vocabulary).
        let bert = try runTool("mlcore", ["tokenize", "--weights", "minilm-l6", "--special"], stdin: "Hello world\n")
        XCTAssertEqual(bert.stdout, "[101,7592,2088,102]\n")
        let bad = try runTool("mlcore", ["tokenize", "--weights", "smollm2", "--decode"], stdin: "[1,x]\n")
        XCTAssertEqual(bad.status, 65)
        XCTAssertTrue(bad.stderr.contains("stdin:1:"), bad.stderr)
    }

    /// Special tokens written in the input become their ids in `tokenize` (as Hugging Face `tokenizers`;
    /// ids from Tests/Fixtures/tokenizer_*.json), and ordinary text with --split-special-tokens.
    func testTokenizeMatchesSpecialTokensWrittenInTheText() throws {
        _ = try preparedFile("data/models/minilm-l6.h5")
        _ = try preparedFile("data/models/smollm2.h5")
        let bert = try runTool("mlcore", ["tokenize", "--weights", "minilm-l6"], stdin: "[CLS] [SEP] [MASK] [UNK] [PAD] literal\nx[CLS]y\n")
        XCTAssertEqual(bert.stdout, "[101,102,103,100,0,18204]\n[1060,101,1061]\n", bert.stderr)
        let bertText = try runTool("mlcore", ["tokenize", "--weights", "minilm-l6", "--split-special-tokens"], stdin: "x[CLS]y\n")
        XCTAssertEqual(bertText.stdout, "[1060,1031,18856,2015,1033,1061]\n", bertText.stderr)
        let bpe = try runTool("mlcore", ["tokenize", "--weights", "smollm2"], stdin: "a<|endoftext|>b\n")
        XCTAssertEqual(bpe.stdout, "[81,0,82]\n", bpe.stderr)
        let bpeText = try runTool("mlcore", ["tokenize", "--weights", "smollm2", "--split-special-tokens"], stdin: "a<|endoftext|>b\n")
        XCTAssertEqual(bpeText.stdout, "[81,44,108,486,1714,2692,108,46,82]\n", bpeText.stderr)
        let help = try runTool("mlcore", ["tokenize", "--help"])
        XCTAssertTrue(help.stdout.contains("--split-special-tokens"), help.stdout)
    }

    /// `inspect` lists any file it can open (Tests/Fixtures/hdf5_edge_cases.h5, made by h5py): compound
    /// and opaque attributes by type, null dataspaces as null, NaN and infinities spelled "NaN",
    /// "Infinity", "-Infinity", 2-D attributes nested, uint64 exact, control characters escaped.
    func testInspectShowsAnyFileItCanOpen() throws {
        let path = repositoryRoot.appendingPathComponent("Tests/Fixtures/hdf5_edge_cases.h5").path
        let json = try runTool("mlcore", ["inspect", "--json", path])
        XCTAssertEqual(json.status, 0, json.stderr)
        XCTAssertTrue(json.stdout.contains("\"u64_max\":18446744073709551615"), json.stdout)
        XCTAssertTrue(json.stdout.contains("\"u64_big\":[9223372036854775813,1]"), json.stdout)
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let attributes = try XCTUnwrap(doc["attributes"] as? [String: Any])
        XCTAssertEqual(attributes["nan"] as? String, "NaN")
        XCTAssertEqual(attributes["nan_payload"] as? String, "NaN")
        XCTAssertEqual(attributes["infinities"] as? [AnyHashable], ["Infinity", "-Infinity", 1.5])
        XCTAssertEqual(attributes["matrix"] as? [[Int]], [[0, 1, 2], [3, 4, 5]])
        XCTAssertTrue(attributes["null"] is NSNull)
        let compound = try XCTUnwrap(attributes["compound"] as? [String: Any])
        XCTAssertEqual(compound["dtype"] as? String, "compound {a: int32, b: float64}, 12 bytes")
        XCTAssertEqual(compound["shape"] as? [Int], [1])
        let objects = try XCTUnwrap(doc["objects"] as? [[String: Any]])
        func object(_ path: String) -> [String: Any]? { objects.first { $0["path"] as? String == path } }
        XCTAssertTrue(object("/null_dataset")?["shape"] is NSNull)
        XCTAssertEqual(object("/scalar")?["shape"] as? [Int], [])
        XCTAssertEqual(object("/table")?["dtype"] as? String, "compound {x: int16, y: float32}, 6 bytes")
        XCTAssertNotNil(object("/bad\nname\u{1B}[31m"))
        let tree = try runTool("mlcore", ["inspect", path])
        XCTAssertEqual(tree.status, 0, tree.stderr)
        XCTAssertTrue(tree.stdout.contains("  bad\\nname\\u{1B}[31m  float32 [2]"), tree.stdout)
        XCTAssertTrue(tree.stdout.contains("  tab\\there/"), tree.stdout)
        XCTAssertFalse(tree.stdout.contains("\u{1B}"), "no raw escape character reaches the terminal")
        XCTAssertTrue(tree.stdout.contains("lzf (32000), not available in this HDF5"), tree.stdout)
        XCTAssertTrue(tree.stdout.contains("@null = null (no dataspace, float32)"), tree.stdout)
        XCTAssertTrue(tree.stdout.contains("null_dataset  float32 null (no dataspace)"), tree.stdout)
        XCTAssertTrue(tree.stdout.contains("@matrix = [[0,1,2],[3,4,5]]"), tree.stdout)
    }
}
