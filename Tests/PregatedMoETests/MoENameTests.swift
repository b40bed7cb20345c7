import XCTest
@testable import MLCore
@testable import PregatedMoE

/// The MoE decoder names its parameters once: what its factory creates equals what it reports and
/// the `/params` keys `moefy` wrote (no dense FFN is created and dropped); the MoE config decodes
/// through `CheckpointConfig` and a bad one is still a clear "not a MoE checkpoint".
final class MoENameTests: XCTestCase {
    func testDecoderNamesEqualTheCheckpointKeys() throws {
        let tiny = try TinyMoE()
        let moe = try MoECheckpoint(path: tiny.moePath)
        let config = try MoEConfig(checkpoint: moe.checkpoint)
        XCTAssertEqual(config.llama, moe.config)
        XCTAssertEqual([config.experts, config.expertWidth], [4, 6])
        let session = MoESession(routing: .dense, routers: try moe.routers(), experts: 4, source: ResidentExperts(try moe.loadAllExperts()))
        let factory = ParameterFactory.placeholders()
        let decoder = MoECheckpoint.buildDecoder(config: moe.config, session: session, factory: factory)
        // token_embd + 6 per block (norms and attention) × 3 + output_norm; no ffn_* tensors.
        XCTAssertEqual(factory.createdNames.count, 20)
        XCTAssertFalse(factory.createdNames.contains { $0.contains("ffn_gate") || $0.contains("ffn_up") || $0.contains("ffn_down") })
        let gaps = factory.nameDiscrepancies(of: decoder)
        XCTAssertEqual(gaps.notReported, [])
        XCTAssertEqual(gaps.notCreated, [])
        XCTAssertEqual(Set(moe.checkpoint.keys), Set(factory.createdNames))
    }

    func testBadMoEConfigIsNamed() {
        var object: [String: JSONValue] = ["vocab_size": 40, "hidden_size": 16, "intermediate_size": 24, "num_hidden_layers": 3,
                                           "num_attention_heads": 4, "moe_experts": 5, "moe_expert_width": 6]
        XCTAssertThrowsError(try MoEConfig(json: .object(object), file: "moe.h5")) {
            XCTAssertEqual($0 as? CheckpointError, .badConfig(file: "moe.h5", key: "moe_experts",
                                                              expected: "E ≥ 1 with moe_experts × moe_expert_width = intermediate_size 24"))
        }
        object["moe_expert_width"] = nil
        XCTAssertThrowsError(try MoEConfig(json: .object(object), file: "moe.h5")) {
            XCTAssertEqual($0 as? CheckpointError, .badConfig(file: "moe.h5", key: "moe_expert_width", expected: "an integer"))
        }
    }
}
