import XCTest
@testable import MLCore

/// Conv2d (general, pointwise, grouped, depthwise, asymmetric padding), unfold, pooling, bilinear
/// resize and BatchNorm2d: forward values and gradients against PyTorch
/// (Tests/Fixtures/vision_ops.json, Tools/reference/make_vision_fixtures.py) and central finite
/// differences.
final class VisionOpsTests: XCTestCase {
    static func pair(_ any: Any?) -> (Int, Int) {
        let a = (any as! [NSNumber]).map(\.intValue)
        return (a[0], a[1])
    }

    /// Runs one fixture case's op on Variables that require gradients.
    func run(_ c: [String: Any], _ inputs: [String: Variable]) -> (Variable, [String: Tensor]) {
        let args = c["args"] as! [String: Any]
        switch c["op"] as! String {
        case "conv2d":
            let p = (args["padding"] as! [NSNumber]).map(\.intValue)
            let y = Variable.conv2d(inputs["input"]!, weight: inputs["weight"]!, bias: inputs["bias"],
                                    stride: Self.pair(args["stride"]),
                                    padding: Padding2d(top: p[0], bottom: p[1], left: p[2], right: p[3]),
                                    dilation: Self.pair(args["dilation"]), groups: (args["groups"] as! NSNumber).intValue)
            return (y, [:])
        case "unfold":
            let pd = Self.pair(args["padding"])
            return (inputs["input"]!.unfold(kernel: Self.pair(args["kernel"]), stride: Self.pair(args["stride"]),
                                            padding: Padding2d(pd.0, pd.1), dilation: Self.pair(args["dilation"])), [:])
        case "maxPool2d":
            return (inputs["input"]!.maxPool2d(kernel: Self.pair(args["kernel"]), stride: Self.pair(args["stride"]),
                                               padding: Self.pair(args["padding"]), dilation: Self.pair(args["dilation"])), [:])
        case "avgPool2d":
            return (inputs["input"]!.avgPool2d(kernel: Self.pair(args["kernel"]), stride: Self.pair(args["stride"]),
                                               padding: Self.pair(args["padding"]),
                                               countIncludePad: args["count_include_pad"] as! Bool), [:])
        case "adaptiveAvgPool2d":
            return (inputs["input"]!.adaptiveAvgPool2d(Self.pair(args["size"])), [:])
        case "resizeBilinear":
            return (inputs["input"]!.resizeBilinear(to: Self.pair(args["size"]), alignCorners: args["align_corners"] as! Bool), [:])
        case "batchNorm2d":
            var rm: Tensor? = Fixtures.tensor(args["running_mean"]!), rv: Tensor? = Fixtures.tensor(args["running_var"]!)
            let y = Variable.batchNorm2d(inputs["input"]!, weight: inputs["weight"], bias: inputs["bias"], runningMean: &rm,
                                         runningVar: &rv, training: args["training"] as! Bool,
                                         momentum: (args["momentum"] as! NSNumber).floatValue,
                                         epsilon: (args["epsilon"] as! NSNumber).floatValue)
            return (y, (args["training"] as! Bool) ? ["running_mean": rm!, "running_var": rv!] : [:])
        case let op:
            XCTFail("unknown op \(op)")
            return (inputs["input"]!, [:])
        }
    }

    func testValuesAndGradientsMatchPyTorch() throws {
        let cases = try Fixtures.json("vision_ops.json")["cases"] as! [[String: Any]]
        XCTAssertGreaterThanOrEqual(cases.count, 39)
        for c in cases {
            let name = c["name"] as! String
            let inputs = (c["inputs"] as! [String: Any]).mapValues { Variable(Fixtures.tensor($0), requiresGrad: true) }
            let expected = (c["expected"] as! [String: Any]).mapValues(Fixtures.tensor)
            let (y, state) = run(c, inputs)
            assertClose(y.value, expected["output"]!, rtol: 1e-5, atol: 1e-4, "\(name) output")
            for (k, v) in state { assertClose(v, expected[k]!, rtol: 1e-5, atol: 1e-5, "\(name) \(k)") }
            y.backward(Fixtures.tensor(c["upstream"]!))
            for (k, v) in inputs {
                guard let g = v.grad else { XCTFail("\(name): no gradient for \(k)"); continue }
                assertClose(g, expected["grad_" + k]!, rtol: 1e-4, atol: 2e-3, "\(name) grad_\(k)")
            }
        }
    }

    func testConvGradientsFiniteDifferences() {
        let x = randomTensor([2, 4, 5, 6], seed: 1)
        // General (stride 2, asymmetric padding, dilation), grouped, pointwise and depthwise.
        assertGradients([x, randomTensor([3, 4, 3, 2], seed: 2), randomTensor([3], seed: 3)]) {
            Variable.conv2d($0[0], weight: $0[1], bias: $0[2], stride: (2, 1),
                            padding: Padding2d(top: 0, bottom: 1, left: 2, right: 1), dilation: (1, 2))
        }
        assertGradients([x, randomTensor([6, 2, 3, 3], seed: 4)]) {
            Variable.conv2d($0[0], weight: $0[1], padding: .all(1), groups: 2)
        }
        assertGradients([x, randomTensor([5, 4, 1, 1], seed: 5), randomTensor([5], seed: 6)]) {
            Variable.conv2d($0[0], weight: $0[1], bias: $0[2])
        }
        for (stride, pad) in [((1, 1), Padding2d.all(1)), ((2, 2), Padding2d(top: 1, bottom: 2, left: 1, right: 2))] {
            assertGradients([x, randomTensor([4, 1, 5, 5], seed: 7), randomTensor([4], seed: 8)]) {
                Variable.conv2d($0[0], weight: $0[1], bias: $0[2], stride: stride, padding: pad, groups: 4)
            }
        }
    }

    func testUnfoldPoolingResizeGradientsFiniteDifferences() {
        let x = randomTensor([1, 2, 7, 6], seed: 9)
        assertGradients([x]) { $0[0].unfold(kernel: (3, 2), stride: (2, 1), padding: Padding2d(1, 0), dilation: (1, 2)) }
        // Max pooling away from ties: distinct, well-separated values.
        let distinct = Tensor(shape: [1, 2, 7, 6]) { Float(($0 * 37) % 84) * 0.1 }
        assertGradients([distinct]) { $0[0].maxPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1)) }
        assertGradients([x]) { $0[0].avgPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1), countIncludePad: true) }
        assertGradients([x]) { $0[0].avgPool2d(kernel: (3, 2), stride: (1, 2), padding: (1, 1), countIncludePad: false) }
        assertGradients([x]) { $0[0].adaptiveAvgPool2d((3, 4)) }
        for ac in [true, false] {
            assertGradients([x]) { $0[0].resizeBilinear(to: (4, 9), alignCorners: ac) }
        }
    }

    func testBatchNormGradientsFiniteDifferences() {
        let x = randomTensor([3, 2, 3, 4], seed: 10) * 2
        for training in [true, false] {
            assertGradients([x, randomTensor([2], seed: 11), randomTensor([2], seed: 12)]) {
                var rm: Tensor? = Tensor([0.1, -0.2]), rv: Tensor? = Tensor([0.8, 1.5])
                // Weight the output so the loss is not invariant to the normalisation.
                let y = Variable.batchNorm2d($0[0], weight: $0[1], bias: $0[2], runningMean: &rm, runningVar: &rv,
                                             training: training, epsilon: 1e-3)
                return y * randomTensor([3, 2, 3, 4], seed: 13)
            }
        }
    }

    func testBatchNormVectorisedStatisticsAgainstDouble() {
        // Planes of 20 (one 16-wide block and a tail of 4) and 4100 (two Float blocks) values far from
        // zero: the SIMD two-pass statistics and the backward sums against float64 by hand.
        for (h, w) in [(4, 5), (41, 100)] {
            let x = randomTensor([2, 3, h, w], seed: 30) + 1000
            let upstream = randomTensor([2, 3, h, w], seed: 31)
            let xv = Variable(x, requiresGrad: true), gamma = Variable(Tensor([0.5, 2, -1]), requiresGrad: true)
            var rm: Tensor? = Tensor.zeros([3]), rv: Tensor? = Tensor.ones([3])
            let y = Variable.batchNorm2d(xv, weight: gamma, bias: nil, runningMean: &rm, runningVar: &rv, training: true,
                                         momentum: 1, epsilon: 1e-3)
            y.backward(upstream)
            let l = h * w, m = 2 * l, xs = x.scalars.map(Double.init), gs = upstream.scalars.map(Double.init)
            for ch in 0..<3 {
                var idx: [Int] = []
                for b in 0..<2 { let start: Int = (b * 3 + ch) * l; idx += Array(start..<(start + l)) }
                let fm = Double(m)
                var mu = 0.0, v = 0.0, sumG = 0.0, sumGX = 0.0
                for i in idx { mu += xs[i] }
                mu /= fm
                for i in idx { let d: Double = xs[i] - mu; v += d * d }
                v /= fm
                let inv: Double = 1 / (v + 1e-3).squareRoot(), g = Double(gamma.value.scalars[ch])
                for i in idx { let d: Double = xs[i] - mu; sumG += gs[i]; sumGX += gs[i] * d * inv }
                XCTAssertEqual(Double(rm!.scalars[ch]), mu, accuracy: 1e-3)
                let unbiased: Double = v * fm / (fm - 1)
                XCTAssertEqual(Double(rv!.scalars[ch]), unbiased, accuracy: 1e-4 * v + 1e-6)
                XCTAssertEqual(Double(gamma.grad!.scalars[ch]), sumGX, accuracy: 1e-3 * Swift.max(1, abs(sumGX)))
                for i in [idx[0], idx[l + 3], idx[m - 1]] {
                    let xhat: Double = (xs[i] - mu) * inv
                    XCTAssertEqual(Double(y.value.scalars[i]), xhat * g, accuracy: 2e-3)
                    let inner: Double = fm * gs[i] - sumG - xhat * sumGX
                    let dx: Double = g * inv / fm * inner
                    XCTAssertEqual(Double(xv.grad!.scalars[i]), dx, accuracy: 2e-3 * Swift.max(1, abs(dx)))
                }
            }
        }
    }

    func testBatchNormModuleUpdatesRunningStatisticsAndLoadsTorchKeys() throws {
        let bn = BatchNorm2d("_bn0", features: 2, epsilon: 1e-3, factory: ParameterFactory(seed: 1))
        XCTAssertEqual(bn.parameters.map(\.name), ["_bn0.weight", "_bn0.bias", "_bn0.running_mean", "_bn0.running_var",
                                                   "_bn0.num_batches_tracked"])
        XCTAssertEqual(bn.trainableParameters.map(\.name), ["_bn0.weight", "_bn0.bias"])
        // Channel 0 all 1, channel 1 values 0 and 2 (mean 1, unbiased var 4/3 over M = 4).
        let x = Variable(Tensor([1, 1, 1, 1, 0, 2, 0, 2], shape: [1, 2, 2, 2]))
        _ = bn(x, context: ForwardContext(training: true, seed: 0))
        assertClose(bn.runningMean.value, Tensor([0.1, 0.1]), rtol: 1e-6, atol: 1e-6)
        assertClose(bn.runningVar.value, Tensor([0.9, 0.9 + 0.1 * 4 / 3]), rtol: 1e-6, atol: 1e-6)
        XCTAssertEqual(bn.numBatchesTracked.value.item, 1)
        // Evaluation uses the running statistics: (x − 0.1)/√(0.9 + 1e-3).
        let y = bn(Variable(Tensor(shape: [1, 2, 1, 1], repeating: 1)), context: nil)
        XCTAssertEqual(y.value.scalars[0], 0.9 / (0.901 as Float).squareRoot(), accuracy: 1e-5)
    }

    func testTfSamePaddingAndDepthwiseMatchesGeneralPath() {
        // TF SAME, k = 3, s = 2: H = 224 → out 112, total pad 1 → (0, 1); H = 7 → out 4, total 2 → (1, 1).
        XCTAssertEqual(Padding2d.tfSame(input: (224, 224), kernel: (3, 3), stride: (2, 2)), Padding2d(top: 0, bottom: 1, left: 0, right: 1))
        XCTAssertEqual(Padding2d.tfSame(input: (7, 7), kernel: (3, 3), stride: (2, 2)), Padding2d.all(1))
        XCTAssertEqual(Padding2d.tfSame(input: (14, 14), kernel: (5, 5), stride: (1, 1)), Padding2d.all(2))
        // The depthwise kernel (vectorised rows of 8, even/odd column split for stride 2, scalar tails)
        // agrees with per-channel convolutions through the im2col path.
        let x = randomTensor([2, 3, 11, 37], seed: 20), w = randomTensor([3, 1, 5, 5], seed: 21)
        let pad = Padding2d(top: 1, bottom: 2, left: 2, right: 1)
        for (stride, dilation) in [((1, 1), (1, 1)), ((2, 2), (1, 1)), ((1, 2), (2, 1)), ((2, 2), (1, 2)), ((3, 3), (1, 1))] {
            let fast = Tensor.conv2d(x, weight: w, stride: stride, padding: pad, dilation: dilation, groups: 3)
            var slices: [Tensor] = []
            for c in 0..<3 {
                // Two output channels (the second filter zero) so the reference takes im2col + GEMM,
                // not the depthwise kernel (one input and one output channel would be depthwise).
                let pair = Tensor.concatenate([w.sliced(c..<(c + 1), axis: 0), Tensor.zeros([1, 1, 5, 5])], axis: 0)
                slices.append(Tensor.conv2d(x.sliced(c..<(c + 1), axis: 1), weight: pair,
                                            stride: stride, padding: pad, dilation: dilation).sliced(0..<1, axis: 1))
            }
            assertClose(fast, Tensor.concatenate(slices, axis: 1), rtol: 1e-5, atol: 1e-5, "depthwise \(stride) \(dilation)")
        }
    }

    func testDepthwiseGradientsMatchGeneralPath() {
        // The depthwise backward (dx as a transposed convolution through the vectorised kernel, dw as
        // 8-wide dot products, both over the gradient spread onto the stride grid; the scalar scatter
        // for paddings wider than the kernel) against per-channel convolutions through im2col + GEMM.
        let x = randomTensor([2, 3, 13, 37], seed: 22), w = randomTensor([3, 1, 5, 3], seed: 23)
        let upstreamSeed: UInt64 = 24
        let cases: [((Int, Int), (Int, Int), Padding2d)] = [
            ((1, 1), (1, 1), Padding2d(top: 2, bottom: 2, left: 1, right: 1)),   // SAME, stride 1
            ((2, 2), (1, 1), Padding2d(top: 1, bottom: 2, left: 0, right: 1)),   // TF SAME, stride 2
            ((1, 2), (2, 1), Padding2d(top: 3, bottom: 1, left: 1, right: 0)),
            ((3, 2), (1, 2), Padding2d(top: 0, bottom: 0, left: 2, right: 2)),
            ((1, 1), (1, 1), Padding2d(top: 5, bottom: 0, left: 3, right: 1)),   // wider than the kernel: scatter
        ]
        for (stride, dilation, pad) in cases {
            let xv = Variable(x, requiresGrad: true), wv = Variable(w, requiresGrad: true)
            let bv = Variable(randomTensor([3], seed: 25), requiresGrad: true)
            let y = Variable.conv2d(xv, weight: wv, bias: bv, stride: stride, padding: pad, dilation: dilation, groups: 3)
            let upstream = randomTensor(y.shape, seed: upstreamSeed)
            y.backward(upstream)
            for c in 0..<3 {
                // The reference: one channel through im2col + GEMM (a second, zero filter makes it a
                // general convolution; one input and one output channel would take the depthwise path).
                let xc = Variable(x.sliced(c..<(c + 1), axis: 1).contiguous(), requiresGrad: true)
                let pair = Tensor.concatenate([w.sliced(c..<(c + 1), axis: 0), Tensor.zeros([1, 1, 5, 3])], axis: 0)
                let wc = Variable(pair, requiresGrad: true)
                let yc = Variable.conv2d(xc, weight: wc, stride: stride, padding: pad, dilation: dilation)
                let g = upstream.sliced(c..<(c + 1), axis: 1).contiguous()
                yc.backward(Tensor.concatenate([g, Tensor.zeros(g.shape)], axis: 1))
                let tag = "depthwise \(stride) \(dilation) \(pad) channel \(c)"
                assertClose(xv.grad!.sliced(c..<(c + 1), axis: 1), xc.grad!, rtol: 1e-4, atol: 1e-4, tag + " dx")
                assertClose(wv.grad!.sliced(c..<(c + 1), axis: 0), wc.grad!.sliced(0..<1, axis: 0), rtol: 1e-4, atol: 1e-4, tag + " dw")
                XCTAssertEqual(bv.grad!.scalars[c], upstream.sliced(c..<(c + 1), axis: 1).sum().item, accuracy: 1e-3, tag + " db")
            }
        }
    }
}
