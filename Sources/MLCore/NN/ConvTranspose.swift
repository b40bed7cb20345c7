/// Transposed 2-D convolution (torch.nn.functional.conv_transpose2d, torch.nn.ConvTranspose2d), NCHW:
/// the adjoint of `Variable.conv2d` with the same window. Forward is GEMM + col2im (Wᵀ·x into the
/// patch matrix, then each patch added onto the output); backward is im2col + GEMM, the forward
/// convolution's own path (Convolution.swift's `Im2col`).

extension Variable {
    /// conv_transpose2d: x [N, C_in, H, W], weight [C_in, C_out/groups, kh, kw] (torch's layout),
    /// bias [C_out] → [N, C_out, OH, OW] with OH = (H − 1)·s_h − 2·p_h + d_h·(kh − 1) + op_h + 1 (same for
    /// OW); `padding` p trims the output border, `outputPadding` op adds rows/columns at the bottom and
    /// right (torch's output_padding, to pick among the input sizes a strided conv2d maps to H).
    /// - Precondition: groups divide C_in and C_out; op < stride or op < dilation (as torch).
    public static func convTranspose2d(_ x: Variable, weight: Variable, bias: Variable? = nil, stride: (Int, Int) = (1, 1),
                                       padding: (Int, Int) = (0, 0), outputPadding: (Int, Int) = (0, 0),
                                       dilation: (Int, Int) = (1, 1), groups: Int = 1) -> Variable {
        require(x.rank == 4 && weight.rank == 4, "convTranspose2d: input \(x.shape) must be [N, C, H, W] and weight \(weight.shape) [C, O/groups, kh, kw]")
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        let og = weight.shape[1], kh = weight.shape[2], kw = weight.shape[3]
        require(groups > 0 && c % groups == 0 && weight.shape[0] == c, "convTranspose2d: input \(x.shape), weight \(weight.shape) and groups \(groups) do not fit")
        let o = og * groups, cg = c / groups
        require(bias.map { $0.shape == [o] } ?? true, "convTranspose2d: bias \(bias!.shape) for \(o) output channels")
        require(outputPadding.0 >= 0 && outputPadding.1 >= 0
                && (outputPadding.0 < stride.0 || outputPadding.0 < dilation.0)
                && (outputPadding.1 < stride.1 || outputPadding.1 < dilation.1),
                "convTranspose2d: output padding \(outputPadding) must be smaller than stride \(stride) or dilation \(dilation)")
        let oh = (h - 1) * stride.0 - 2 * padding.0 + dilation.0 * (kh - 1) + outputPadding.0 + 1
        let ow = (w - 1) * stride.1 - 2 * padding.1 + dilation.1 * (kw - 1) + outputPadding.1 + 1
        require(oh > 0 && ow > 0, "convTranspose2d: input \(x.shape) with padding \(padding) gives an empty output")
        // The conv2d that maps [OH, OW] back to [H, W]; this op is its input gradient.
        let win = Window2d(kernel: (kh, kw), stride: stride, padding: Padding2d(padding.0, padding.1), dilation: dilation)
        let kk = og * kh * kw, l = h * w, ol = oh * ow
        let xc = x.value.contiguous(), wc = weight.value.contiguous()
        let px = xc.storage.pointer + xc.offset, pw = wc.storage.pointer + wc.offset
        let out = Tensor(shape: [n, o, oh, ow], repeating: 0), po = out.storage.pointer
        withExtendedLifetime((xc, wc)) {
            let col = UnsafeMutablePointer<Float>.allocate(capacity: kk * l)
            defer { col.deallocate() }
            for b in 0..<n {
                for gi in 0..<groups {
                    // col [og·kh·kw, H·W] = W_gᵀ · x_g, then col2im onto the output planes.
                    BLAS.sgemm(transA: true, transB: false, m: kk, n: l, k: cg, alpha: 1, a: pw + gi * cg * kk, lda: kk,
                               b: px + (b * c + gi * cg) * l, ldb: l, beta: 0, c: col, ldc: l)
                    Im2col.backward(col, channels: og, h: oh, w: ow, window: win, oh: h, ow: w,
                                    into: po + (b * o + gi * og) * ol)
                }
            }
        }
        if let bias { addChannelBias(out, bias.value.contiguous()) }
        var inputs = [x, weight]
        if let bias { inputs.append(bias) }
        return record(out, op: "convTranspose2d", inputs) { g, needs in
            let gc = g.contiguous(), pg = gc.storage.pointer + gc.offset
            let dx = needs[0] ? Tensor(uninitializedShape: xc.shape) : nil
            let dw = needs[1] ? Tensor(shape: wc.shape, repeating: 0) : nil
            withExtendedLifetime((gc, xc, wc, dx, dw)) {
                let col = UnsafeMutablePointer<Float>.allocate(capacity: kk * l)
                defer { col.deallocate() }
                for b in 0..<n {
                    for gi in 0..<groups {
                        // im2col of the output gradient: [og·kh·kw, H·W], the conv2d of g with the window.
                        Im2col.forward(pg + (b * o + gi * og) * ol, channels: og, h: oh, w: ow, window: win, oh: h, ow: w, into: col)
                        let xg = px + (b * c + gi * cg) * l
                        if let dx {
                            // dx_g [cg, H·W] = W_g [cg, kk] · col
                            BLAS.sgemm(transA: false, transB: false, m: cg, n: l, k: kk, alpha: 1, a: pw + gi * cg * kk, lda: kk,
                                       b: col, ldb: l, beta: 0, c: dx.storage.pointer + (b * c + gi * cg) * l, ldc: l)
                        }
                        if let dw {
                            // dW_g [cg, kk] += x_g [cg, H·W] · colᵀ
                            BLAS.sgemm(transA: false, transB: true, m: cg, n: kk, k: l, alpha: 1, a: xg, lda: l,
                                       b: col, ldb: l, beta: 1, c: dw.storage.pointer + gi * cg * kk, ldc: kk)
                        }
                    }
                }
            }
            var grads: [Tensor?] = [dx, dw]
            if needs.count > 2 { grads.append(needs[2] ? gc.sum(axes: [0, 2, 3]) : nil) }
            return grads
        }
    }
}

extension Tensor {
    /// Transposed convolution without gradients; see `Variable.convTranspose2d`.
    public static func convTranspose2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
                                       padding: (Int, Int) = (0, 0), outputPadding: (Int, Int) = (0, 0),
                                       dilation: (Int, Int) = (1, 1), groups: Int = 1) -> Tensor {
        Variable.convTranspose2d(Variable(x), weight: Variable(weight), bias: bias.map { Variable($0) }, stride: stride,
                                 padding: padding, outputPadding: outputPadding, dilation: dilation, groups: groups).value
    }
}

/// A transposed convolution layer (torch.nn.ConvTranspose2d): `prefix.weight` [C_in, C_out/groups, kh, kw]
/// and optionally `prefix.bias` [C_out]. Initialisation as torch: U(±1/√fan_in) for both, where torch's
/// fan_in of this weight is C_out/groups·kh·kw (its dimension 1).
public final class ConvTranspose2d: Module {
    /// Kernel [C_in, C_out/groups, kh, kw] (`prefix.weight`).
    public let weight: Parameter
    /// Bias [C_out] (`prefix.bias`), or nil.
    public let bias: Parameter?
    /// Window settings as torch's constructor arguments.
    public let stride: (Int, Int), padding: (Int, Int), outputPadding: (Int, Int), dilation: (Int, Int)
    /// Channel groups.
    public let groups: Int
    /// weight, then bias.
    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    /// - Precondition: groups divide both channel counts.
    public init(_ prefix: String, inChannels: Int, outChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), outputPadding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1),
                groups: Int = 1, bias: Bool = true, factory: ParameterFactory) {
        require(groups > 0 && inChannels % groups == 0 && outChannels % groups == 0,
                "ConvTranspose2d \(prefix): groups \(groups) must divide \(inChannels) and \(outChannels)")
        let bound = 1 / Float(outChannels / groups * kernel.0 * kernel.1).squareRoot()
        weight = factory.make(joinKey(prefix, "weight"), [inChannels, outChannels / groups, kernel.0, kernel.1], .uniform(bound: bound))
        self.bias = bias ? factory.make(joinKey(prefix, "bias"), [outChannels], .uniform(bound: bound)) : nil
        (self.stride, self.padding, self.outputPadding, self.dilation, self.groups) = (stride, padding, outputPadding, dilation, groups)
    }

    /// x [N, C_in, H, W] → [N, C_out, OH, OW].
    public func callAsFunction(_ x: Variable) -> Variable {
        Variable.convTranspose2d(x, weight: weight, bias: bias, stride: stride, padding: padding, outputPadding: outputPadding,
                                 dilation: dilation, groups: groups)
    }
}
