import Foundation
import XCTest
@testable import MLCore

/// Configs decoded from a checkpoint's `config` JSON: errors name the file, the key path and what was
/// expected; the encoded form decodes back to the same value.
final class CheckpointConfigTests: XCTestCase {
    private func badConfig<C: CheckpointConfig>(_ type: C.Type, _ json: String) -> CheckpointError? {
        do {
            _ = try C(json: try JSONValue.parse(json), file: "m.h5")
            return nil
        } catch {
            return error as? CheckpointError
        }
    }

    func testErrorsNameTheKeyPath() {
        let block = #"{"expand_ratio": 1, "in_channels": 8, "kernel_size": 3, "out_channels": 4, "stride": 1}"#
        let rest = #""stem_channels": 8, "head_channels": 12, "num_classes": 5, "batch_norm_epsilon": 0.001, "dropout_rate": 0.2, "drop_connect_rate": 0.2, "resolution": 17"#
        let pre = #""preprocessing": {"mean": [127, 127, 127], "std": [128, 128, 128]}"#
        XCTAssertNil(badConfig(EfficientNetLiteConfig.self, "{\"blocks\": [\(block)], \(rest), \(pre)}"))
        XCTAssertEqual(badConfig(EfficientNetLiteConfig.self, #"{"blocks": [\#(block), {"stride": 1}], \#(rest), \#(pre)}"#),
                       .badConfig(file: "m.h5", key: "blocks[1].kernel_size", expected: "an integer"))
        XCTAssertEqual(badConfig(EfficientNetLiteConfig.self, #"{"blocks": [], \#(rest), \#(pre)}"#),
                       .badConfig(file: "m.h5", key: "blocks", expected: "a non-empty array of blocks"))
        XCTAssertEqual(badConfig(EfficientNetLiteConfig.self, #"{"blocks": [\#(block)], \#(rest), "preprocessing": {"mean": [1, 2], "std": [1, 1, 1]}}"#),
                       .badConfig(file: "m.h5", key: "preprocessing.mean", expected: "3 numbers"))
        XCTAssertEqual(badConfig(EfficientNetLiteConfig.self, #"{"blocks": [\#(block)], \#(rest), \#(pre), "activation": "swish"}"#),
                       .badConfig(file: "m.h5", key: "activation", expected: "relu6 (found swish)"))

        let bert = #""vocab_size": 13, "num_hidden_layers": 1, "intermediate_size": 12"#
        XCTAssertEqual(badConfig(BertConfig.self, #"{\#(bert), "hidden_size": 10, "num_attention_heads": 3}"#),
                       .badConfig(file: "m.h5", key: "num_attention_heads", expected: "a divisor of hidden_size 10"))
        XCTAssertEqual(badConfig(BertConfig.self, #"{\#(bert), "hidden_size": 8, "num_attention_heads": 2, "hidden_act": "swish"}"#),
                       .badConfig(file: "m.h5", key: "hidden_act", expected: "gelu, gelu_new, gelu_pytorch_tanh or relu"))
        XCTAssertEqual(badConfig(BertConfig.self, #"{\#(bert), "hidden_size": "8", "num_attention_heads": 2}"#),
                       .badConfig(file: "m.h5", key: "hidden_size", expected: "an integer"))
        XCTAssertEqual(badConfig(BertConfig.self, #"{\#(bert), "hidden_size": 8.5, "num_attention_heads": 2}"#),
                       .badConfig(file: "m.h5", key: "hidden_size", expected: "an integer"))
        XCTAssertEqual(badConfig(BertConfig.self, #"{\#(bert), "hidden_size": 8, "num_attention_heads": 2, "layer_norm_eps": "small"}"#),
                       .badConfig(file: "m.h5", key: "layer_norm_eps", expected: "a number"))
        XCTAssertEqual(badConfig(LlamaConfig.self, #"{"vocab_size": 10, "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "tie_word_embeddings": 1}"#),
                       .badConfig(file: "m.h5", key: "tie_word_embeddings", expected: "true or false"))
    }

    /// Encoded with its snake_case keys, a config decodes to itself (layer_norm_eps 1e-12 kept to the bit).
    func testEncodedConfigsDecodeToThemselves() throws {
        let bert = BertConfig(vocabularySize: 13, hiddenSize: 8, layers: 2, heads: 2, intermediateSize: 12, activation: "gelu_new")
        let llama = LlamaConfig(vocabularySize: 11, hiddenSize: 8, intermediateSize: 12, layerCount: 2, headCount: 4,
                                keyValueHeadCount: 2, ropeTheta: 1e5, ropeLayout: .adjacentPairs, tiesWordEmbeddings: false)
        func roundTrip<C: CheckpointConfig & Encodable>(_ c: C) throws -> C {
            try C(json: try JSONValue.parse(String(decoding: try JSONEncoder().encode(c), as: UTF8.self)), file: "m.h5")
        }
        XCTAssertEqual(try roundTrip(bert), bert)
        XCTAssertEqual(try roundTrip(llama), llama)
        let text = String(decoding: try JSONEncoder().encode(bert), as: UTF8.self)
        XCTAssertTrue(text.contains("\"num_hidden_layers\":2"), text)
        let lite = try EfficientNetLiteTests.tinyConfig()
        XCTAssertEqual(try roundTrip(lite), lite)
    }
}
