import XCTest
@testable import MLCore

/// Attention (masks, grouped-query), rotary embeddings and the KV cache.
final class AttentionTests: XCTestCase {
    func testSingleQueryHandComputed() {
        // One query q = [1, 0], keys [1, 0] and [0, 1], Dh = 2, scale 1/√2:
        // scores [1/√2, 0] → p = softmax; output = p0·v0 + p1·v1 with v0 = [1, 2], v1 = [3, 4].
        let q = Variable(Tensor([1, 0], shape: [1, 1, 1, 2]))
        let k = Variable(Tensor([1, 0, 0, 1], shape: [1, 1, 2, 2]))
        let v = Variable(Tensor([1, 2, 3, 4], shape: [1, 1, 2, 2]))
        let out = Variable.scaledDotProductAttention(query: q, key: k, value: v).value.scalars
        let e = Foundation.exp(1 / 2.0.squareRoot())
        let p0 = Float(e / (e + 1)), p1 = 1 - p0
        XCTAssertEqual(out[0], p0 * 1 + p1 * 3, accuracy: 1e-6)
        XCTAssertEqual(out[1], p0 * 2 + p1 * 4, accuracy: 1e-6)
    }

    func testPaddingMaskIgnoresPaddedKeys() {
        // With the second key masked, the output is exactly v0 whatever the scores.
        let q = Variable(randomTensor([1, 1, 1, 4], seed: 1)), k = Variable(randomTensor([1, 1, 2, 4], seed: 2))
        let v = Variable(Tensor([1, 2, 3, 4, 9, 9, 9, 9], shape: [1, 1, 2, 4]))
        let mask = AttentionMask.padding(NDArray<Int32>([1, 0], shape: [1, 2]))
        XCTAssertEqual(Variable.scaledDotProductAttention(query: q, key: k, value: v, mask: mask).value.scalars, [1, 2, 3, 4])
    }

    func testCausalMaskPattern() {
        XCTAssertEqual(AttentionMask.causal(queries: 2, keys: 3).scalars.map { $0 == 0 }, [true, true, false, true, true, true])
    }

    func testGroupedQueryMatchesRepeatedHeads() {
        // 4 query heads over 2 key/value heads equal plain attention with each KV head repeated twice.
        let q = randomTensor([1, 4, 3, 2], seed: 3), k = randomTensor([1, 2, 3, 2], seed: 4), v = randomTensor([1, 2, 3, 2], seed: 5)
        let grouped = Variable.scaledDotProductAttention(query: Variable(q), key: Variable(k), value: Variable(v), causal: true)
        let repeatedK = Tensor.concatenate([0, 0, 1, 1].map { k.sliced($0..<($0 + 1), axis: 1) }, axis: 1)
        let repeatedV = Tensor.concatenate([0, 0, 1, 1].map { v.sliced($0..<($0 + 1), axis: 1) }, axis: 1)
        let plain = Variable.scaledDotProductAttention(query: Variable(q), key: Variable(repeatedK), value: Variable(repeatedV), causal: true)
        assertClose(grouped.value, plain.value, rtol: 1e-6, atol: 1e-7)
    }

    func testAttentionGradients() {
        let mask = AttentionMask.padding(NDArray<Int32>([1, 1, 0, 1, 1, 1, 1, 0], shape: [2, 4]))
        assertGradients([randomTensor([2, 4, 3, 2], seed: 6), randomTensor([2, 2, 4, 2], seed: 7), randomTensor([2, 2, 4, 2], seed: 8)]) {
            Variable.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], mask: mask, causal: false)
        }
        assertGradients([randomTensor([1, 2, 4, 2], seed: 9), randomTensor([1, 2, 4, 2], seed: 10), randomTensor([1, 2, 4, 2], seed: 11)]) {
            Variable.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], causal: true)
        }
    }

    func testHeadSplitMergeRoundTrip() {
        let x = randomTensor([2, 3, 8], seed: 12)
        let heads = Variable(x).splittingHeads(4)
        XCTAssertEqual(heads.shape, [2, 4, 3, 2])
        XCTAssertEqual(heads.mergingHeads().value.scalars, x.scalars)
    }

    func testRotaryRotatesPairsByPositionAngle() {
        // Dh = 4, base 100: θ0 = 1, θ1 = 1/10. x = [1, 0, 1, 0] at position 2 (adjacent pairs):
        // pair 0 → [cos 2, sin 2], pair 1 → [cos 0.2, sin 0.2].
        let rope = RotaryEmbedding(headDimension: 4, base: 100, layout: .adjacentPairs)
        let y = rope(Variable(Tensor([1, 0, 1, 0], shape: [1, 1, 1, 4])), start: 2).value.scalars
        XCTAssertEqual(y[0], Foundation.cos(2), accuracy: 1e-6)
        XCTAssertEqual(y[1], Foundation.sin(2), accuracy: 1e-6)
        XCTAssertEqual(y[2], Foundation.cos(0.2), accuracy: 1e-6)
        XCTAssertEqual(y[3], Foundation.sin(0.2), accuracy: 1e-6)
        // Halves layout: pairs (0, 2) and (1, 3); x = [1, 1, 0, 0] → [cos 2, cos 0.2, sin 2, sin 0.2].
        let halves = RotaryEmbedding(headDimension: 4, base: 100, layout: .halves)
        let z = halves(Variable(Tensor([1, 1, 0, 0], shape: [1, 1, 1, 4])), start: 2).value.scalars
        XCTAssertEqual(z[0], Foundation.cos(2), accuracy: 1e-6)
        XCTAssertEqual(z[1], Foundation.cos(0.2), accuracy: 1e-6)
        XCTAssertEqual(z[2], Foundation.sin(2), accuracy: 1e-6)
        XCTAssertEqual(z[3], Foundation.sin(0.2), accuracy: 1e-6)
    }

    func testRotaryGradients() {
        for layout in [RotaryEmbedding.Layout.adjacentPairs, .halves] {
            let rope = RotaryEmbedding(headDimension: 6, base: 1e4, layout: layout)
            assertGradients([randomTensor([1, 2, 3, 6], seed: 13)]) { rope($0[0], start: 5) }
        }
    }

    func testKVCacheIncrementalDecodingMatchesFullCausalAttention() {
        let q = randomTensor([1, 2, 5, 4], seed: 14), k = randomTensor([1, 1, 5, 4], seed: 15), v = randomTensor([1, 1, 5, 4], seed: 16)
        let full = Variable.scaledDotProductAttention(query: Variable(q), key: Variable(k), value: Variable(v), causal: true).value
        let cache = KVCache(layers: 1)
        var steps: [Tensor] = []
        for (start, count) in [(0, 3), (3, 1), (4, 1)] {
            let (ck, cv) = cache.append(layer: 0, key: k.sliced(start..<(start + count), axis: 2),
                                        value: v.sliced(start..<(start + count), axis: 2))
            let out = Variable.scaledDotProductAttention(query: Variable(q.sliced(start..<(start + count), axis: 2)),
                                                         key: Variable(ck), value: Variable(cv), causal: true)
            steps.append(out.value)
        }
        XCTAssertEqual(cache.length, 5)
        assertClose(Tensor.concatenate(steps, axis: 2), full, rtol: 1e-5, atol: 1e-6)
    }
}

/// The inference path of attention (no input needs a gradient: one fused pass per head, mask added
/// inside the softmax) against the recorded path, and the fused softmax itself.
final class AttentionInferencePathTests: XCTestCase {
    func testInferencePathMatchesRecordedPath() {
        let mask = AttentionMask.padding(NDArray<Int32>([1, 1, 0, 1, 1, 1, 1, 0], shape: [2, 4]))
        let q = randomTensor([2, 4, 4, 8], seed: 21), k = randomTensor([2, 2, 4, 8], seed: 22), v = randomTensor([2, 2, 4, 8], seed: 23)
        for causal in [false, true] {
            let fast = Variable.scaledDotProductAttention(query: Variable(q), key: Variable(k), value: Variable(v), mask: mask, causal: causal)
            let recorded = Variable.scaledDotProductAttention(query: Variable(q, requiresGrad: true), key: Variable(k), value: Variable(v),
                                                              mask: mask, causal: causal)
            XCTAssertNotNil(recorded.node, "the reference must take the recorded path")
            XCTAssertNil(fast.node)
            assertClose(fast.value, recorded.value, rtol: 1e-6, atol: 1e-7)
        }
    }

    /// The fused per-head kernel on the shapes its bookkeeping can get wrong: more query rows than
    /// one row block (150 > 128), grouped-query heads, a padding mask broadcast over heads and rows
    /// plus the causal mask, one query against a longer cache (decoding), and query/key/value as
    /// the strided views that `splittingHeads` makes; on 1, 2 and 3 threads.
    func testFusedAttentionMatchesRecordedPathOnLongGroupedAndDecodingShapes() {
        let saved = Threading.count
        defer { Threading.count = saved }
        let t = 150, s = 150
        let flags = NDArray<Int32>((0..<(2 * s)).map { $0 % s < s - 9 || $0 < s ? 1 : 0 }, shape: [2, s])
        let mask = AttentionMask.padding(flags)
        // [B, T, H·Dh] projections split into heads: views with row stride H·Dh.
        let q = Variable(randomTensor([2, t, 6 * 16], seed: 31)).splittingHeads(6)
        let k = Variable(randomTensor([2, s, 2 * 16], seed: 32)).splittingHeads(2)
        let v = Variable(randomTensor([2, s, 2 * 16], seed: 33)).splittingHeads(2)
        let decodingQuery = Variable(randomTensor([2, 6, 1, 16], seed: 34))
        for threads in [1, 2, 3] {
            Threading.count = threads
            for causal in [false, true] {
                let fast = Variable.scaledDotProductAttention(query: q, key: k, value: v, mask: mask, causal: causal)
                let recorded = Variable.scaledDotProductAttention(query: Variable(q.value, requiresGrad: true), key: k, value: v,
                                                                  mask: mask, causal: causal)
                XCTAssertNil(fast.node)
                assertClose(fast.value, recorded.value, rtol: 1e-5, atol: 1e-6)
                assertClose(fast.mergingHeads().value, recorded.mergingHeads().value, rtol: 1e-5, atol: 1e-6)
            }
            let step = Variable.scaledDotProductAttention(query: decodingQuery, key: k, value: v, mask: mask, causal: true)
            let stepRecorded = Variable.scaledDotProductAttention(query: Variable(decodingQuery.value, requiresGrad: true), key: k,
                                                                  value: v, mask: mask, causal: true)
            assertClose(step.value, stepRecorded.value, rtol: 1e-5, atol: 1e-6)
        }
    }

    func testSoftmaxAddingBiasEqualsAddThenSoftmax() {
        let scores = randomTensor([2, 3, 4, 5], seed: 24)
        for biasShape in [[2, 1, 1, 5], [4, 5], [1, 3, 4, 1], [2, 3, 4, 5]] {
            let bias = randomTensor(biasShape, seed: 25)
            XCTAssertEqual(scores.softmax(addingBias: bias).scalars, (scores + bias).softmax(axis: -1).scalars, "bias \(biasShape)")
        }
        // A non-contiguous scores view and a bias whose last axis is strided (the add-first fallback).
        let view = randomTensor([2, 3, 5, 4], seed: 26).transposed(2, 3)
        let strided = randomTensor([5, 4], seed: 27).transposed(0, 1)
        XCTAssertEqual(view.softmax(addingBias: strided).scalars, (view + strided).softmax(axis: -1).scalars)
        // −inf entries (masked keys) get probability 0.
        let masked = Tensor([0, 0, -.infinity, 0], shape: [1, 4])
        XCTAssertEqual(Tensor([1, 2, 3, 4], shape: [1, 4]).softmax(addingBias: masked).scalars[2], 0)
    }

    func testLinearWithBiasMatchesProductPlusBias() {
        let x = randomTensor([3, 5, 7], seed: 28), w = randomTensor([4, 7], seed: 29), b = randomTensor([4], seed: 30)
        assertClose(Tensor.linear(x, weight: w, bias: b), Tensor.matmul(x, w, transposeB: true) + b, rtol: 1e-6, atol: 1e-6)
        assertClose(Tensor.linear(Tensor([1, 2, 3, 4, 5, 6, 7], shape: [7]), weight: w, bias: b),
                    Tensor.matmul(Tensor([1, 2, 3, 4, 5, 6, 7], shape: [1, 7]), w, transposeB: true).reshaped([4]) + b, rtol: 1e-6, atol: 1e-6)
    }
}
