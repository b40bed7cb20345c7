import Foundation
import XCTest
@testable import MLCore
@testable import PregatedMoE

/// A tiny random Llama (3 layers, width 16, FFN 24, vocabulary 40) written as a dense checkpoint and
/// moefied into E = 4 experts of 6 neurons, in a temporary directory.
final class TinyMoE {
    static let config = LlamaConfig(vocabularySize: 40, hiddenSize: 16, intermediateSize: 24, layerCount: 3, headCount: 4,
                                    keyValueHeadCount: 2, headDimension: nil, rmsNormEpsilon: 1e-6, ropeTheta: 10_000,
                                    ropeLayout: .adjacentPairs, tiesWordEmbeddings: true, maximumPositions: 64)
    let directory: String
    let densePath: String
    let moePath: String
    let dense: LlamaDecoder

    init(experts: Int = 4) throws {
        directory = NSTemporaryDirectory() + "pregated-moe-\(UUID().uuidString)/"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        densePath = directory + "dense.h5"
        moePath = directory + "moe.h5"
        dense = LlamaDecoder(config: TinyMoE.config, factory: ParameterFactory(seed: 21))
        // Larger FFN weights than HF's 0.02 so the FFN matters to the output.
        for block in dense.blocks {
            if let ffn = block.ffn as? SwiGLUFeedForward {
                for p in ffn.parameters { p.value = p.value * 15 }
            }
        }
        let c = TinyMoE.config
        let config: JSONValue = ["vocab_size": .int(c.vocabularySize), "hidden_size": .int(c.hiddenSize),
                                 "intermediate_size": .int(c.intermediateSize), "num_hidden_layers": .int(c.layerCount),
                                 "num_attention_heads": .int(c.headCount), "num_key_value_heads": .int(c.keyValueHeadCount),
                                 "rope_layout": "adjacent-pairs", "max_position_embeddings": .int(c.maximumPositions)]
        try CheckpointWriter.save(dense.stateDict(), to: densePath, architecture: "llama", config: config)
        var rng = RandomGenerator(seed: 4)
        _ = try MoECheckpointWriter.write(to: moePath, dense: try Checkpoint(path: densePath), experts: experts, rng: &rng)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }
}
