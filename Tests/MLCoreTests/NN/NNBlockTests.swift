import XCTest
@testable import MLCore

/// Multi-head attention, GroupNorm, BatchNorm1d, ConvTranspose2d, upsampling, the timestep embedding
/// and the graph ops: forward values and gradients against PyTorch in float64
/// (Tests/Fixtures/nn_blocks.json, Tools/reference/make_nn_block_fixtures.py), central finite
/// differences, and the fused attention path against the recorded one.
final class NNBlockTests: XCTestCase {
    static func pair(_ any: Any?) -> (Int, Int) {
        let a = (any as! [NSNumber]).map(\.intValue)
        return (a[0], a[1])
    }

    static func indices(_ object: Any) -> NDArray<Int32> {
        let dict = object as! [String: Any]
        let shape = (dict["shape"] as! [NSNumber]).map(\.intValue)
        return NDArray((dict["data"] as! [NSNumber]).map { Int32($0.intValue) }, shape: shape)
    }

    /// Runs one fixture case; returns the output and the modules' parameters by torch key.
    func run(_ c: [String: Any], _ inputs: [String: Variable]) throws -> (Variable, [String: Parameter], [String: Tensor]) {
        let args = c["args"] as! [String: Any]
        let params = (c["params"] as! [String: Any]).mapValues(Fixtures.tensor)
        let index = (c["indices"] as! [String: Any]).mapValues(Self.indices)
        let factory = ParameterFactory(seed: 1)
        let x = inputs["input"]
        switch c["op"] as! String {
        case "mha":
            let mha = MultiheadAttention("", embedDimension: (args["embed"] as! NSNumber).intValue,
                                         heads: (args["heads"] as! NSNumber).intValue,
                                         keyDimension: (args["kdim"] as? NSNumber)?.intValue,
                                         valueDimension: (args["vdim"] as? NSNumber)?.intValue, factory: factory)
            try mha.load(stateDict: params)
            let selfAttention = args["self"] as! Bool
            let y = mha(inputs["query"]!, key: selfAttention ? nil : inputs["key"], value: selfAttention ? nil : inputs["value"],
                        keyPaddingMask: index["key_padding_mask"], causal: args["causal"] as! Bool)
            return (y, mha.namedParameters, [:])
        case "groupNorm":
            let gn = GroupNorm("", groups: (args["groups"] as! NSNumber).intValue, channels: x!.shape[1],
                               epsilon: (args["epsilon"] as! NSNumber).floatValue, affine: args["affine"] as! Bool, factory: factory)
            if !params.isEmpty { try gn.load(stateDict: params) }
            return (gn(x!), gn.namedParameters, [:])
        case "batchNorm1d":
            let bn = BatchNorm1d("", features: x!.shape[1], factory: factory)
            bn.weight.value = params["weight"]!
            bn.bias.value = params["bias"]!
            bn.runningMean.value = Fixtures.tensor(args["running_mean"]!)
            bn.runningVar.value = Fixtures.tensor(args["running_var"]!)
            let training = args["training"] as! Bool
            let y = bn(x!, context: ForwardContext(training: training, seed: 1))
            let state = training ? ["running_mean": bn.runningMean.value, "running_var": bn.runningVar.value] : [:]
            return (y, ["weight": bn.weight, "bias": bn.bias], state)
        case "convTranspose2d":
            let y = Variable.convTranspose2d(x!, weight: inputs["weight"]!, bias: inputs["bias"], stride: Self.pair(args["stride"]),
                                             padding: Self.pair(args["padding"]), outputPadding: Self.pair(args["output_padding"]),
                                             dilation: Self.pair(args["dilation"]), groups: (args["groups"] as! NSNumber).intValue)
            return (y, [:], [:])
        case "resizeNearest":
            return (x!.resizeNearest(to: Self.pair(args["size"])), [:], [:])
        case "upsample":
            let mode: Upsample.Mode = args["mode"] as! String == "nearest" ? .nearest : .bilinear(alignCorners: args["align_corners"] as! Bool)
            return (Upsample(scale: Self.pair(args["scale"]), mode: mode)(x!), [:], [:])
        case "timestep":
            let t = inputs["timesteps"]!.value.scalars
            let y = TimestepEmbedding.sinusoidal(t, dimension: (args["dimension"] as! NSNumber).intValue,
                                                 flipSinToCos: args["flip_sin_to_cos"] as! Bool,
                                                 downscaleFrequencyShift: (args["downscale_freq_shift"] as! NSNumber).floatValue,
                                                 scale: (args["scale"] as! NSNumber).floatValue)
            return (Variable(y), [:], [:])
        case "indexSelect":
            return (x!.indexSelect(index["index"]!, axis: (args["axis"] as! NSNumber).intValue), [:], [:])
        case "indexAdd":
            return (x!.indexAdding(index["index"]!, inputs["source"]!, axis: (args["axis"] as! NSNumber).intValue), [:], [:])
        case "gather":
            return (x!.gather(index["index"]!, axis: (args["axis"] as! NSNumber).intValue), [:], [:])
        case "scatterAdd":
            return (x!.scatterAdding(index["index"]!, inputs["source"]!, axis: (args["axis"] as! NSNumber).intValue), [:], [:])
        case "segmentSum":
            return (x!.segmentSum(index["segments"]!, count: (args["count"] as! NSNumber).intValue), [:], [:])
        case "segmentSoftmax":
            return (x!.segmentSoftmax(index["segments"]!, count: (args["count"] as! NSNumber).intValue), [:], [:])
        case let op:
            XCTFail("unknown op \(op)")
            return (x!, [:], [:])
        }
    }

    func testValuesAndGradientsMatchPyTorch() throws {
        let cases = try Fixtures.json("nn_blocks.json")["cases"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 39)
        var gradientsChecked = 0
        for c in cases {
            let name = c["name"] as! String
            let inputs = (c["inputs"] as! [String: Any]).mapValues { Variable(Fixtures.tensor($0), requiresGrad: true) }
            let expected = (c["expected"] as! [String: Any]).mapValues(Fixtures.tensor)
            let (y, params, state) = try run(c, inputs)
            assertClose(y.value, expected["output"]!, rtol: 1e-4, atol: 2e-5, "\(name) output")
            for (key, value) in state { assertClose(value, expected[key]!, rtol: 1e-5, atol: 1e-6, "\(name) \(key)") }
            guard c["op"] as! String != "timestep" else { continue }
            y.backward(Fixtures.tensor(c["upstream"]!))
            for (key, v) in inputs where !(c["op"] as! String == "timestep") {
                let g = try XCTUnwrap(v.grad, "\(name): no gradient for \(key)")
                assertClose(g, expected["grad_" + key]!, rtol: 1e-4, atol: 5e-5, "\(name) grad \(key)")
                gradientsChecked += 1
            }
            for (key, p) in params where expected["grad_" + key] != nil {
                let g = try XCTUnwrap(p.grad, "\(name): no gradient for parameter \(key)")
                assertClose(g, expected["grad_" + key]!, rtol: 1e-4, atol: 5e-5, "\(name) grad \(key)")
                gradientsChecked += 1
            }
        }
        XCTAssertGreaterThan(gradientsChecked, 60)
    }

    // MARK: - Finite differences

    func testMultiheadAttentionGradients() {
        let factory = ParameterFactory(seed: 3)
        let selfAttention = MultiheadAttention("attn", embedDimension: 8, heads: 2, factory: factory)
        let padding = NDArray<Int32>([0, 0, 0, 1, 0, 0, 0, 0], shape: [2, 4])
        assertGradients([randomTensor([2, 4, 8], seed: 1)]) { v in
            selfAttention(v[0], keyPaddingMask: padding, causal: true)
        }
        let cross = MultiheadAttention("cross", embedDimension: 8, heads: 4, keyDimension: 5, valueDimension: 3, factory: factory)
        assertGradients([randomTensor([1, 3, 8], seed: 2), randomTensor([1, 4, 5], seed: 3), randomTensor([1, 4, 3], seed: 4)]) { v in
            cross(v[0], key: v[1], value: v[2])
        }
    }

    func testFusedAttentionPathEqualsRecordedPath() {
        let factory = ParameterFactory(seed: 11)
        let attention = MultiheadAttention("attn", embedDimension: 16, heads: 4, factory: factory)
        let cross = MultiheadAttention("cross", embedDimension: 16, heads: 2, keyDimension: 12, valueDimension: 12, factory: factory)
        let x = randomTensor([3, 7, 16], seed: 12), memory = randomTensor([3, 5, 12], seed: 13)
        let padding = NDArray<Int32>([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1], shape: [3, 5])
        let selfPadding = NDArray<Int32>((0..<21).map { $0 % 7 >= 5 && $0 >= 14 ? 1 : 0 }, shape: [3, 7])
        // Recorded: an input that requires gradients makes every op record (the composed path).
        let recordedSelf = attention(Variable(x, requiresGrad: true), keyPaddingMask: selfPadding, causal: true)
        let fusedSelf = withoutGradient { attention(Variable(x), keyPaddingMask: selfPadding, causal: true) }
        XCTAssertNotNil(recordedSelf.node)
        XCTAssertNil(fusedSelf.node)
        assertClose(fusedSelf.value, recordedSelf.value, rtol: 1e-5, atol: 1e-6, "self-attention fused vs recorded")
        let recordedCross = cross(Variable(x, requiresGrad: true), key: Variable(memory), value: Variable(memory), keyPaddingMask: padding)
        let fusedCross = withoutGradient { cross(Variable(x), key: Variable(memory), value: Variable(memory), keyPaddingMask: padding) }
        assertClose(fusedCross.value, recordedCross.value, rtol: 1e-5, atol: 1e-6, "cross-attention fused vs recorded")
    }

    func testGroupNormGradients() {
        let weight = randomTensor([6], seed: 21, low: 0.5, high: 1.5), bias = randomTensor([6], seed: 22)
        assertGradients([randomTensor([2, 6, 3, 2], seed: 23), weight, bias], epsilon: 1e-2, atol: 3e-3) { v in
            Variable.groupNorm(v[0], groups: 3, weight: v[1], bias: v[2])
        }
        assertGradients([randomTensor([3, 4, 5], seed: 24)], atol: 3e-3) { v in
            Variable.groupNorm(v[0], groups: 2, weight: nil, bias: nil)
        }
    }

    func testBatchNorm1dGradients() {
        let bn = BatchNorm1d("bn", features: 3, factory: ParameterFactory(seed: 5))
        assertGradients([randomTensor([4, 3, 5], seed: 31)], atol: 3e-3) { v in
            bn(v[0], context: ForwardContext(training: true, seed: 1))
        }
        assertGradients([randomTensor([6, 3], seed: 32)], atol: 3e-3) { v in
            bn(v[0], context: ForwardContext(training: true, seed: 1))
        }
        // Evaluation: an affine map of the input.
        assertGradients([randomTensor([6, 3], seed: 33)]) { v in bn(v[0], context: nil) }
    }

    func testConvTranspose2dGradients() {
        for (s, p, op, d, g) in [((2, 2), (1, 1), (1, 1), (1, 1), 1), ((1, 2), (0, 1), (0, 0), (2, 1), 2)] {
            assertGradients([randomTensor([2, 4, 3, 3], seed: 41), randomTensor([4, 3, 3, 2], seed: 42),
                             randomTensor([3 * g], seed: 43)]) { v in
                Variable.convTranspose2d(v[0], weight: v[1], bias: v[2], stride: s, padding: p, outputPadding: op,
                                         dilation: d, groups: g)
            }
        }
        // The layer: torch's weight layout [C_in, C_out/groups, kh, kw].
        let layer = ConvTranspose2d("up", inChannels: 4, outChannels: 2, kernel: (4, 4), stride: (2, 2), padding: (1, 1),
                                    factory: ParameterFactory(seed: 6))
        XCTAssertEqual(layer.weight.shape, [4, 2, 4, 4])
        XCTAssertEqual(layer(Variable(randomTensor([1, 4, 5, 6], seed: 44))).shape, [1, 2, 10, 12])
    }

    func testUpsamplingGradients() {
        assertGradients([randomTensor([1, 2, 3, 4], seed: 51)]) { v in v[0].resizeNearest(to: (7, 5)) }
        assertGradients([randomTensor([1, 2, 3, 4], seed: 52)]) { v in Upsample(scale: (2, 2), mode: .nearest)(v[0]) }
        assertGradients([randomTensor([1, 2, 3, 4], seed: 53)]) { v in
            Upsample(scale: (2, 3), mode: .bilinear(alignCorners: false))(v[0])
        }
    }

    func testTimestepEmbeddingHandComputed() {
        // t = 1, D = 4, shift 1: h = 2, ω = [1, exp(−ln(10000)·1/1)] = [1, 1e-4].
        let e = TimestepEmbedding.sinusoidal([1], dimension: 4)
        assertClose(e, Tensor([sin(1), sin(1e-4), cos(1), cos(1e-4)], shape: [1, 4]), rtol: 1e-6, atol: 1e-7, "t=1")
        // t = 0 flipped: cos(0) = 1 first, then sin(0) = 0; odd D pads a zero column.
        let z = TimestepEmbedding.sinusoidal([0], dimension: 5, flipSinToCos: true, downscaleFrequencyShift: 0)
        XCTAssertEqual(z.scalars, [1, 1, 0, 0, 0])
    }

    // MARK: - Graph ops

    /// A random graph: node features [N, F], edges (source, destination), some nodes without edges.
    static func graph(nodes n: Int, edges e: Int, seed: UInt64) -> (NDArray<Int32>, NDArray<Int32>) {
        var rng = RandomGenerator(seed: seed)
        let source = (0..<e).map { _ in Int32(rng.uniform(0, Float(n)).rounded(.down)) % Int32(n) }
        let destination = (0..<e).map { _ in Int32(rng.uniform(0, Float(n - 1)).rounded(.down)) % Int32(n - 1) }
        return (NDArray(source), NDArray(destination))
    }

    func testGraphOpGradients() {
        let (src, dst) = Self.graph(nodes: 7, edges: 15, seed: 61)
        let expandedDst = NDArray((0..<15 * 3).map { dst.elements[$0 / 3] }, shape: [15, 3])
        var rng = RandomGenerator(seed: 62)
        let perElement = NDArray((0..<15 * 3).map { _ in Int32(rng.uniform(0, 7).rounded(.down)) % 7 }, shape: [15, 3])
        assertGradients([randomTensor([7, 3], seed: 63)]) { v in v[0].indexSelect(src) }
        assertGradients([randomTensor([7, 3], seed: 64), randomTensor([15, 3], seed: 65)]) { v in v[0].indexAdding(dst, v[1]) }
        assertGradients([randomTensor([7, 3], seed: 66)]) { v in v[0].gather(perElement, axis: 0) }
        assertGradients([randomTensor([7, 3], seed: 67), randomTensor([15, 3], seed: 68)]) { v in
            v[0].scatterAdding(perElement, v[1], axis: 0)
        }
        assertGradients([randomTensor([7, 3], seed: 69), randomTensor([15, 3], seed: 70)]) { v in
            v[0].scatterAdding(expandedDst, v[1], axis: 0)
        }
        assertGradients([randomTensor([15, 3], seed: 71)]) { v in v[0].segmentSum(dst, count: 7) }
        assertGradients([randomTensor([15, 2, 3], seed: 72, low: -3, high: 3)]) { v in v[0].segmentSoftmax(dst, count: 7) }
        // Along an inner axis: [2, 15, 4] with the segments on axis 1.
        assertGradients([randomTensor([2, 15, 4], seed: 73)]) { v in v[0].segmentSoftmax(dst, count: 7, axis: 1) }
        // A message-passing step: softmax attention logits per destination, weighted messages summed.
        assertGradients([randomTensor([7, 4], seed: 74), randomTensor([15, 1], seed: 75)]) { v in
            let weights = v[1].segmentSoftmax(dst, count: 7)
            return (v[0].indexSelect(src) * weights).segmentSum(dst, count: 7)
        }
    }

    /// The multi-threaded paths (column split, destination ranges, whole outer slices) against a
    /// plain loop, on inputs large enough to run in parallel.
    func testGraphOpsThreadedMatchSerialLoops() {
        let saved = Threading.count
        defer { Threading.count = saved }
        Threading.count = 3
        let n = 500, e = 4000
        let (src, dst) = Self.graph(nodes: n, edges: e, seed: 81)
        for width in [1, 5, 64] {
            let x = randomTensor([e, width], seed: 82)
            let xs = x.scalars
            // index_add / segment sum
            var expected = [Float](repeating: 0, count: n * width)
            for j in 0..<e { for k in 0..<width { expected[Int(dst.elements[j]) * width + k] += xs[j * width + k] } }
            assertClose(x.segmentSum(dst, count: n), Tensor(expected, shape: [n, width]), rtol: 1e-5, atol: 1e-5, "segmentSum \(width)")
            // scatter_add with the destinations expanded to [E, F] (the destination-sorted path when large)
            let expandedDst = NDArray((0..<e * width).map { dst.elements[$0 / width] }, shape: [e, width])
            assertClose(Tensor.zeros([n, width]).scatterAdding(expandedDst, x, axis: 0), Tensor(expected, shape: [n, width]),
                        rtol: 1e-5, atol: 1e-5, "scatterAdd expanded \(width)")
            // softmax: per segment and column
            var maxima = [Float](repeating: -.infinity, count: n * width), sums = [Double](repeating: 0, count: n * width)
            for j in 0..<e { for k in 0..<width { let i = Int(dst.elements[j]) * width + k; maxima[i] = max(maxima[i], xs[j * width + k]) } }
            for j in 0..<e { for k in 0..<width { let i = Int(dst.elements[j]) * width + k; sums[i] += Double(exp(xs[j * width + k] - maxima[i])) } }
            let softmax = (0..<e * width).map { p -> Float in
                let i = Int(dst.elements[p / width]) * width + p % width
                return Float(Double(exp(xs[p] - maxima[i])) / sums[i])
            }
            assertClose(x.segmentSoftmax(dst, count: n), Tensor(softmax, shape: [e, width]), rtol: 1e-5, atol: 1e-7, "segmentSoftmax \(width)")
            // index_select, gather with an expanded index, scatter_add with a per-element index
            let nodes = randomTensor([n, width], seed: 83), ns = nodes.scalars
            let selected = (0..<e * width).map { ns[Int(src.elements[$0 / width]) * width + $0 % width] }
            assertClose(nodes.indexSelect(src), Tensor(selected, shape: [e, width]), rtol: 0, atol: 0, "indexSelect \(width)")
            let expanded = NDArray((0..<e * width).map { src.elements[$0 / width] }, shape: [e, width])
            assertClose(nodes.gather(expanded, axis: 0), Tensor(selected, shape: [e, width]), rtol: 0, atol: 0, "gather \(width)")
            var rng = RandomGenerator(seed: 84)
            let perElement = NDArray((0..<e * width).map { _ in Int32(rng.uniform(0, Float(n)).rounded(.down)) % Int32(n) },
                                     shape: [e, width])
            var scattered = [Float](repeating: 0, count: n * width)
            for p in 0..<e * width { scattered[Int(perElement.elements[p]) * width + p % width] += xs[p] }
            assertClose(Tensor.zeros([n, width]).scatterAdding(perElement, x, axis: 0), Tensor(scattered, shape: [n, width]),
                        rtol: 1e-5, atol: 1e-5, "scatterAdd \(width)")
        }
        // Several outer slices: index_add along axis 1 of [4, E, 8].
        let x = randomTensor([4, e, 8], seed: 85), xs = x.scalars
        var expected = [Float](repeating: 0, count: 4 * n * 8)
        for o in 0..<4 { for j in 0..<e { for k in 0..<8 { expected[(o * n + Int(dst.elements[j])) * 8 + k] += xs[(o * e + j) * 8 + k] } } }
        assertClose(x.segmentSum(dst, count: n, axis: 1), Tensor(expected, shape: [4, n, 8]), rtol: 1e-5, atol: 1e-5, "segmentSum axis 1")
    }
}
