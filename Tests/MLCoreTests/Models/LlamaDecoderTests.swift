import Foundation
import XCTest
@testable import MLCore

/// Parity of `LlamaDecoder` on the real SmolLM2-135M-Instruct checkpoint (`make data`) with an
/// independent float64 PyTorch implementation that un-permutes the GGUF q/k rows and uses HF's
/// rotate-half RoPE (Tools/reference/torch_llama.py), plus cache, padding and scoring consistency.
/// Fixture: Tests/Fixtures/llama_smollm2.json from Tools/reference/make_smollm2_fixture.py.
final class LlamaDecoderTests: XCTestCase {
    /// The model, loaded once for all tests of the class (the checkpoint is 540 MB).
    nonisolated(unsafe) static var loaded: LlamaDecoder?

    func model() throws -> LlamaDecoder {
        if let m = Self.loaded { return m }
        let m = try LlamaDecoder.load(from: Checkpoint(path: try PreparedData.path("data/models/smollm2.h5")))
        Self.loaded = m
        return m
    }

    func fixture() throws -> [String: Any] { try Fixtures.json("llama_smollm2.json") }

    func ids(_ value: Any?) throws -> [Int32] { try XCTUnwrap(value as? [Int]).map { Int32($0) } }

    func testConfigAndParametersComeFromTheCheckpoint() throws {
        let m = try model()
        XCTAssertEqual(m.config, LlamaConfig(vocabularySize: 49152, hiddenSize: 576, intermediateSize: 1536, layerCount: 30,
                                             headCount: 9, keyValueHeadCount: 3, headDimension: 64, rmsNormEpsilon: 1e-5,
                                             ropeTheta: 100_000, ropeLayout: .adjacentPairs, tiesWordEmbeddings: true,
                                             maximumPositions: 8192))
        XCTAssertEqual(m.parameters.count, 2 + 30 * 9)  // embedding (tied output), norms, 30 × 9 block tensors
        XCTAssertEqual(Double(m.parameterCount), 134.5e6, accuracy: 0.1e6)
        XCTAssertTrue(m.output.weight === m.embedding.weight, "the output projection is tied to the embedding")
    }

    func testLogitsMatchTheTorchReference() throws {
        let m = try model(), f = try fixture()
        let ids = try ids(f["ids"])
        XCTAssertEqual(ids.count, 16)
        let logits = withoutGradient { m(NDArray(ids, shape: [1, 16])).logits.value }
        XCTAssertEqual(logits.shape, [1, 16, 49152])
        var maxDiff: Float = 0
        // The first 64 vocabulary entries at every position.
        let head = try XCTUnwrap(f["logits_head"] as? [[Double]])
        for t in 0..<16 {
            for j in 0..<64 { maxDiff = max(maxDiff, abs(logits[0, t, j] - Float(head[t][j]))) }
        }
        // The ten largest logits at every position, and the argmax.
        let top = try XCTUnwrap(f["top10"] as? [[[Double]]])
        let argmax = logits.argmax(axis: -1)
        for t in 0..<16 {
            for pair in top[t] { maxDiff = max(maxDiff, abs(logits[0, t, Int(pair[0])] - Float(pair[1]))) }
            XCTAssertEqual(Int(argmax[0, t]), Int(top[t][0][0]), "argmax at position \(t)")
        }
        // The full last row.
        let data = try XCTUnwrap(Data(base64Encoded: try XCTUnwrap(f["last_logits_f32le_base64"] as? String)))
        let last = data.withUnsafeBytes { raw in (0..<49152).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) } }
        let ours = logits.selected(0).selected(15).scalars
        for j in 0..<49152 { maxDiff = max(maxDiff, abs(ours[j] - last[j])) }
        print("LlamaDecoder vs float64 torch reference: max |Δlogit| = \(maxDiff)")
        XCTAssertLessThanOrEqual(maxDiff, 1e-3)
    }

    func testOurTokenizerGivesTheFixtureIds() throws {
        let f = try fixture()
        let tokenizer = try ByteLevelBPETokenizer(checkpoint: Checkpoint(path: try PreparedData.path("data/models/smollm2.h5")))
        XCTAssertEqual(tokenizer.encode(try XCTUnwrap(f["prompt"] as? String)), try ids(f["ids"]))
        XCTAssertEqual(tokenizer.encode(try XCTUnwrap(f["greedy_prompt"] as? String)), try ids(f["greedy_prompt_ids"]))
    }

    func testGreedyGenerationMatchesTheReference() throws {
        let m = try model(), f = try fixture()
        var rng = RandomGenerator(seed: 0)
        var streamed: [Int32] = []
        let out = try m.continuation(of: try ids(f["greedy_prompt_ids"]), options: GenerationOptions(maxNewTokens: 20), rng: &rng) {
            streamed.append($0)
            return true
        }
        let expected = try ids(f["greedy_ids"])
        XCTAssertEqual(out, expected)
        XCTAssertEqual(streamed, out)
        XCTAssertTrue((f["greedy_text"] as? String ?? "").hasPrefix(" Paris"))
        // A stop token ends generation (and is returned); so does onToken returning false.
        let prompt = try ids(f["greedy_prompt_ids"])
        let stopped = try m.continuation(of: prompt, options: GenerationOptions(maxNewTokens: 20, stopTokens: [expected[2]]), rng: &rng)
        XCTAssertEqual(stopped, Array(expected[...2]))
        var calls = 0
        let cut = try m.continuation(of: prompt, options: GenerationOptions(maxNewTokens: 20), rng: &rng) { _ in calls += 1; return calls < 2 }
        XCTAssertEqual(cut, Array(expected[..<2]))
    }

    func testCachedDecodingEqualsRecomputation() throws {
        let m = try model(), f = try fixture()
        let ids = try ids(f["ids"])
        withoutGradient {
            let full = m(NDArray(ids, shape: [1, 16])).logits.value
            // Prefill 9 tokens, then one at a time: the logits of every position agree.
            let cache = m.makeCache()
            var parts = [m(NDArray(Array(ids[..<9]), shape: [1, 9]), cache: cache).logits.value]
            for t in 9..<16 { parts.append(m(NDArray([ids[t]], shape: [1, 1]), cache: cache).logits.value) }
            XCTAssertEqual(cache.length, 16)
            assertClose(Tensor.concatenate(parts, axis: 1), full, rtol: 0, atol: 5e-4, "cached vs full logits (float32 sums in another order)")
            // `.last` is the last row of `.all`.
            let last = m(NDArray(ids, shape: [1, 16]), logits: .last).logits.value
            assertClose(last, full.sliced(15..<16, axis: 1), rtol: 0, atol: 5e-4, ".last logits")
        }
        // Greedy tokens with the cache equal argmax decoding that recomputes the whole sequence.
        let prompt = try self.ids(f["greedy_prompt_ids"])
        var rng = RandomGenerator(seed: 0)
        let cached = try m.continuation(of: prompt, options: GenerationOptions(maxNewTokens: 5), rng: &rng)
        var sequence = prompt
        withoutGradient {
            for _ in 0..<5 {
                let logits = m(NDArray(sequence, shape: [1, sequence.count])).logits.value
                sequence.append(logits.selected(0).selected(sequence.count - 1).argmax(axis: 0).elements[0])
            }
        }
        XCTAssertEqual(Array(sequence[prompt.count...]), cached)
    }

    func testLogProbabilitiesMatchTheReferenceAndTheLogits() throws {
        let m = try model(), f = try fixture()
        let ids = try ids(f["ids"])
        let expected = try XCTUnwrap(f["log_probs"] as? [Double])
        let short = Array(ids[..<7])
        // Two sequences of different lengths in one right-padded batch, small chunks.
        let scored = m.tokenLogProbabilities([ids, short, [ids[0]], []], chunkRows: 5)
        XCTAssertEqual(scored.map(\.count), [15, 6, 0, 0])
        for t in 0..<15 { XCTAssertEqual(scored[0][t], Float(expected[t]), accuracy: 1e-3, "log p at \(t + 1)") }
        let alone = m.tokenLogProbabilities([short])[0]
        for t in 0..<6 { XCTAssertEqual(scored[1][t], alone[t], accuracy: 1e-4, "padded vs alone at \(t + 1)") }
        // log p(ids[t] | ids[<t]) = logSoftmax(logits[t − 1])[ids[t]].
        let logSoftmax = withoutGradient { m(NDArray(ids, shape: [1, 16])).logits.value.logSoftmax(axis: -1) }
        for t in 1..<16 { XCTAssertEqual(scored[0][t - 1], logSoftmax[0, t - 1, Int(ids[t])], accuracy: 1e-4) }
        for lp in scored[0] { XCTAssertLessThanOrEqual(lp, 0) }
    }

    func testPaddedBatchLogitsMatchSingleSequences() throws {
        let m = try model(), f = try fixture()
        let ids = try ids(f["ids"])
        let short = Array(ids[..<5])
        let batch = NDArray(ids + short + [Int32](repeating: 0, count: 11), shape: [2, 16])
        let mask = NDArray([Int32](repeating: 1, count: 16) + [Int32](repeating: 1, count: 5) + [Int32](repeating: 0, count: 11), shape: [2, 16])
        withoutGradient {
            let both = m(batch, attentionMask: mask).logits.value
            let first = m(NDArray(ids, shape: [1, 16])).logits.value
            let second = m(NDArray(short, shape: [1, 5])).logits.value
            assertClose(both.sliced(0..<1, axis: 0), first, rtol: 0, atol: 5e-4, "row 0")
            assertClose(both.sliced(1..<2, axis: 0).sliced(0..<5, axis: 1), second, rtol: 0, atol: 5e-4, "row 1 (padded)")
        }
    }

    func testHiddenStatesAndReplaceableFeedForward() throws {
        let m = try model(), f = try fixture()
        let ids = NDArray(Array(try self.ids(f["ids"])[..<6]), shape: [1, 6])
        withoutGradient {
            let out = m(ids, hiddenStates: true)
            let states = out.hiddenStates!
            XCTAssertEqual(states.count, 31)
            XCTAssertEqual(states[0].shape, [1, 6, 576])
            // hidden[i + 1] = block i (hidden[i]) below the last; the last is after the final norm.
            let bias = LlamaDecoder.attentionBias(batch: 1, queries: 6, keys: 6, attentionMask: nil)
            let block3 = m.blocks[3](states[3], start: 0, bias: bias, cache: nil)
            assertClose(block3.value, states[4].value, rtol: 0, atol: 1e-5, "block 3")
            let last = m.blocks[29](states[29], start: 0, bias: AttentionMask.causal(queries: 6, keys: 6), cache: nil)
            assertClose(m.outputNorm(last).value, states[30].value, rtol: 0, atol: 1e-5, "final norm")
            assertClose(m.output(states[30]).value, out.logits.value, rtol: 0, atol: 1e-5, "logits")
        }
        // A block's FFN is a replaceable component: swapping in a scaled copy changes the output, and
        // restoring it restores it.
        final class Scaled: FeedForward {
            let inner: SwiGLUFeedForward
            init(_ inner: SwiGLUFeedForward) { self.inner = inner }
            var parameters: [Parameter] { inner.parameters }
            func callAsFunction(_ x: Variable) -> Variable { inner(x) * 0 }
        }
        let block = m.blocks[5]
        let dense = try XCTUnwrap(block.ffn as? SwiGLUFeedForward)
        XCTAssertEqual(dense.gate.weight.name, "blk.5.ffn_gate.weight")
        XCTAssertEqual(dense.down.weight.shape, [576, 1536])
        withoutGradient {
            let before = m(ids).logits.value
            block.ffn = Scaled(dense)
            let zeroed = m(ids).logits.value
            block.ffn = dense
            let after = m(ids).logits.value
            XCTAssertGreaterThan((zeroed - before).abs().max().item, 1e-2)
            assertClose(after, before, rtol: 0, atol: 0, "restored FFN")
            let h = Variable(Tensor.ones([1, 2, 576]))
            assertClose(block.feedForwardBranch(h).value, dense(block.ffnNorm(h)).value, rtol: 0, atol: 0, "FFN branch")
        }
    }

    func testBadConfigIsNamed() throws {
        let config: JSONValue = ["vocab_size": 10, "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1,
                                 "num_attention_heads": 2, "num_key_value_heads": 2, "rope_layout": "sideways"]
        XCTAssertThrowsError(try LlamaConfig(json: config, file: "x.h5")) { error in
            XCTAssertEqual(error as? CheckpointError, .badConfig(file: "x.h5", key: "rope_layout", expected: "'adjacent-pairs' or 'halves'"))
        }
        var missing = config
        if case .object(var o) = missing { o["rope_layout"] = nil; o["hidden_size"] = nil; missing = .object(o) }
        XCTAssertThrowsError(try LlamaConfig(json: missing, file: "x.h5")) { error in
            XCTAssertEqual(error as? CheckpointError, .badConfig(file: "x.h5", key: "hidden_size", expected: "an integer"))
        }
        var unequal = config
        if case .object(var o) = unequal { o["rope_layout"] = nil; o["num_key_value_heads"] = 3; unequal = .object(o) }
        XCTAssertThrowsError(try LlamaConfig(json: unequal, file: "x.h5")) { error in
            XCTAssertEqual(error as? CheckpointError, .badConfig(file: "x.h5", key: "num_key_value_heads", expected: "a divisor of num_attention_heads (2)"))
        }
    }

    /// A tiny random decoder trains end to end: gradients reach every parameter.
    func testGradientsFlowThroughATinyDecoder() throws {
        let config = LlamaConfig(vocabularySize: 11, hiddenSize: 8, intermediateSize: 12, layerCount: 2, headCount: 4,
                                 keyValueHeadCount: 2, ropeLayout: .adjacentPairs)
        let m = LlamaDecoder(config: config, factory: ParameterFactory(seed: 3))
        let logits = m(NDArray([1, 2, 3, 4, 5, 6], shape: [2, 3])).logits
        logits.square().sum().backward()
        for p in m.parameters { XCTAssertNotNil(p.grad, p.name) }
        XCTAssertTrue(m.embedding.weight.grad!.abs().sum().item > 0)
    }
}

/// Token choice: greedy, temperature, top-k and top-p as Hugging Face's logits warpers define them.
final class TokenSamplerTests: XCTestCase {
    // Probabilities 0.5, 0.3, 0.15, 0.05 (logits are their logs).
    let logits: [Float] = [0.5, 0.3, 0.15, 0.05].map { Float(Foundation.log($0)) }

    func draws(_ options: SamplingOptions, _ n: Int = 4000, seed: UInt64 = 1) -> [Int] {
        var rng = RandomGenerator(seed: seed)
        var counts = [Int](repeating: 0, count: logits.count)
        for _ in 0..<n { counts[Int(TokenSampler.next(logits, options: options, rng: &rng))] += 1 }
        return counts
    }

    func testGreedyTakesTheFirstMaximum() {
        var rng = RandomGenerator(seed: 0)
        XCTAssertEqual(TokenSampler.next([1, 3, 3, 2], options: .greedy, rng: &rng), 1)
        XCTAssertEqual(draws(.greedy, 10), [10, 0, 0, 0])
    }

    func testTopPKeepsTheSmallestSetReachingP() {
        // Cumulative 0.5, 0.8, 0.95, 1: p = 0.8 keeps {0, 1}; p = 0.81 keeps {0, 1, 2}; tiny p keeps {0}.
        XCTAssertEqual(draws(SamplingOptions(temperature: 1, topP: 0.8)).map { $0 > 0 }, [true, true, false, false])
        XCTAssertEqual(draws(SamplingOptions(temperature: 1, topP: 0.81)).map { $0 > 0 }, [true, true, true, false])
        XCTAssertEqual(draws(SamplingOptions(temperature: 1, topP: 0.01), 50), [50, 0, 0, 0])
        // Renormalised over {0, 1}: 0.625 / 0.375.
        let c = draws(SamplingOptions(temperature: 1, topP: 0.8))
        XCTAssertEqual(Double(c[0]) / 4000, 0.625, accuracy: 0.03)
    }

    func testTopKKeepsTiesAndTemperatureSharpens() {
        XCTAssertEqual(draws(SamplingOptions(temperature: 1, topK: 2)).map { $0 > 0 }, [true, true, false, false])
        var rng = RandomGenerator(seed: 2)
        var seen = Set<Int32>()
        // The 2nd largest logit (1) is tied with the 3rd: both stay, as HF keeps every logit ≥ the k-th.
        for _ in 0..<300 { seen.insert(TokenSampler.next([2, 1, 1, -5], options: SamplingOptions(temperature: 1, topK: 2), rng: &rng)) }
        XCTAssertEqual(seen, [0, 1, 2])
        // Unfiltered sampling follows the probabilities; T = 0.5 squares and renormalises them.
        let plain = draws(SamplingOptions(temperature: 1), 8000)
        XCTAssertEqual(Double(plain[1]) / 8000, 0.3, accuracy: 0.02)
        let sharp = draws(SamplingOptions(temperature: 0.5), 8000)
        let z = 0.25 + 0.09 + 0.0225 + 0.0025
        XCTAssertEqual(Double(sharp[0]) / 8000, 0.25 / z, accuracy: 0.02)
        // Same seed, same draws.
        XCTAssertEqual(draws(SamplingOptions(temperature: 0.7, topK: 3, topP: 0.9), 100, seed: 9),
                       draws(SamplingOptions(temperature: 0.7, topK: 3, topP: 0.9), 100, seed: 9))
    }
}

/// `LlamaDecoder.continuation` refuses bad settings and non-finite logits with errors, never a trap.
final class GenerationErrorTests: XCTestCase {
    let config = LlamaConfig(vocabularySize: 11, hiddenSize: 8, intermediateSize: 12, layerCount: 1, headCount: 2,
                             keyValueHeadCount: 1, ropeLayout: .adjacentPairs, maximumPositions: 16)

    func testSettingsAreCheckedUpFront() throws {
        let m = LlamaDecoder(config: config, factory: ParameterFactory(seed: 5))
        var rng = RandomGenerator(seed: 0)
        func error(_ prompt: [Int32], _ options: GenerationOptions) -> GenerationError? {
            do {
                _ = try m.continuation(of: prompt, options: options, rng: &rng)
                return nil
            } catch { return error as? GenerationError }
        }
        XCTAssertEqual(error([], GenerationOptions(maxNewTokens: 2)), .emptyPrompt)
        XCTAssertEqual(error([1, 2, 3], GenerationOptions(maxNewTokens: 14)), .tooLong(promptTokens: 3, newTokens: 14, positions: 16))
        XCTAssertEqual(error([1], GenerationOptions(maxNewTokens: 0))?.category, .usage)
        for t: Float in [.nan, .infinity, -1] {
            XCTAssertEqual(error([1], GenerationOptions(maxNewTokens: 2, sampling: SamplingOptions(temperature: t)))?.category, .usage, "\(t)")
        }
        for p: Float in [0, 1.5, .nan] {
            XCTAssertNotNil(error([1], GenerationOptions(maxNewTokens: 2, sampling: SamplingOptions(temperature: 1, topP: p))), "\(p)")
        }
        XCTAssertNotNil(error([1], GenerationOptions(maxNewTokens: 2, sampling: SamplingOptions(temperature: 1, topK: -1))))
        // 3 + 13 = 16 positions fit exactly.
        XCTAssertEqual(try m.continuation(of: [1, 2, 3], options: GenerationOptions(maxNewTokens: 13), rng: &rng).count, 13)
    }

    func testNonFiniteLogitsAreABadDataErrorNamingTheStep() throws {
        let m = LlamaDecoder(config: config, factory: ParameterFactory(seed: 5))
        var rng = RandomGenerator(seed: 0)
        let norm = try XCTUnwrap(m.parameters.first { $0.name == "output_norm.weight" })
        norm.value = Tensor(shape: norm.value.shape, repeating: .nan)
        for sampling in [SamplingOptions.greedy, SamplingOptions(temperature: 0.7, topP: 0.9)] {
            XCTAssertThrowsError(try m.continuation(of: [1, 2], options: GenerationOptions(maxNewTokens: 4, sampling: sampling), rng: &rng)) {
                XCTAssertEqual($0 as? GenerationError, .nonFiniteLogits(step: 1, position: 2))
                XCTAssertEqual(($0 as? GenerationError)?.category, .badData)
            }
        }
    }

    /// A temperature whose reciprocal overflows Float (10⁻⁴⁵) samples like greedy instead of producing NaN.
    func testTinyTemperatureActsGreedy() throws {
        var rng = RandomGenerator(seed: 1)
        let options = SamplingOptions(temperature: Float.leastNonzeroMagnitude)
        XCTAssertNoThrow(try options.validate())
        for _ in 0..<50 { XCTAssertEqual(TokenSampler.next([0.1, 2.5, 2.4, -3], options: options, rng: &rng), 1) }
        let topP = SamplingOptions(temperature: Float.leastNonzeroMagnitude, topP: 0.5)
        for _ in 0..<20 { XCTAssertEqual(TokenSampler.next([0.1, 2.5, 2.4, -3], options: topP, rng: &rng), 1) }
    }
}
