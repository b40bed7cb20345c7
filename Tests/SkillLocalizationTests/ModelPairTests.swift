import Foundation
import XCTest
@testable import MLCore
@testable import SkillLocalization

/// Bad pairs of checkpoints are one clear error each (exit 65), before anything is trained.
final class ModelPairTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "graft-pair-\(UUID().uuidString)/"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func config(hidden: Int) -> JSONValue {
        ["vocab_size": 13, "hidden_size": .int(hidden), "num_hidden_layers": 2, "num_attention_heads": 2,
         "intermediate_size": 12, "max_position_embeddings": 8]
    }

    /// Writes a tiny BERT (with a head when `labels` is given) and returns its path.
    private func write(_ name: String, hidden: Int = 8, labels: Int? = 2, architecture: String = "bert",
                       provenance: Bool = true, drop: String? = nil) throws -> String {
        let c = BertConfig(vocabularySize: 13, hiddenSize: hidden, layers: 2, heads: 2, intermediateSize: 12, maxPositions: 8)
        let encoder = BertEncoder(config: c, factory: ParameterFactory(seed: 1))
        var state = encoder.stateDict()
        if let labels {
            state.merge(BertClassifier(encoder: encoder, labels: labels, input: .mean, factory: ParameterFactory(seed: 2))
                            .classifier.stateDict()) { a, _ in a }
        }
        if let drop { state[drop] = nil }
        var cfg = config(hidden: hidden)
        if provenance, case .object(var o) = cfg {
            o["graft"] = FineTuneProvenance(task: .polarity, k: 16, dataSeed: 13, pretrainedPath: "p", pretrainedSHA256: "0").json
            cfg = .object(o)
        }
        let path = directory + name + ".h5"
        try CheckpointWriter.save(state, to: path, architecture: architecture, config: cfg)
        return path
    }

    private func assertMismatch(_ pre: String, _ ft: String, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ModelPair(pretrained: pre, finetuned: ft), file: file, line: line) { error in
            XCTAssertEqual((error as? CategorizedError)?.category, .badData, "\(error)", file: file, line: line)
            XCTAssertTrue("\(error)".contains(fragment), "\(error)", file: file, line: line)
        }
    }

    func testBadPairs() throws {
        let pre = try write("pre", labels: nil, provenance: false)
        assertMismatch(pre, try write("wide", hidden: 4), "configs differ")
        assertMismatch(pre, try write("llama", architecture: "llama"), "architecture bert vs llama")
        assertMismatch(pre, try write("nohead", labels: nil), "no classifier.weight")
        assertMismatch(pre, try write("missing", drop: "encoder.layer.1.output.dense.bias"), "1 only in the pre-trained")
        assertMismatch(pre, try write("noprov", provenance: false), "not written by graft finetune")
        XCTAssertThrowsError(try ModelPair(pretrained: pre, finetuned: directory + "absent.h5")) {
            XCTAssertEqual(($0 as? CategorizedError)?.category, .missingInput, "\($0)")
        }
    }
}
