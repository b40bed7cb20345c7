import Dispatch

/// 2-D convolution (NCHW) and patch extraction (unfold), forward and backward.
///
/// General convolutions lower to im2col + GEMM (OpenBLAS through `BLAS.sgemm`); 1×1 convolutions with
/// stride 1 and no padding skip the im2col copy; depthwise convolutions (groups == input channels ==
/// output channels) use a direct kernel over one padded plane at a time, the hot path of
/// EfficientNet and MobileNet. Semantics follow torch.nn.functional.conv2d and
/// torch.nn.functional.unfold (weight layout [out, in/groups, kh, kw], patch row order c·kh·kw + i·kw + j).

/// Zero padding of the four borders of a feature map, in pixels.
public struct Padding2d: Sendable, Equatable, CustomStringConvertible {
    /// Rows added above and below, columns added left and right (zeros).
    public var top: Int, bottom: Int, left: Int, right: Int

    /// Explicit (possibly asymmetric) padding, as torch.nn.functional.pad's (left, right, top, bottom).
    public init(top: Int, bottom: Int, left: Int, right: Int) {
        require(top >= 0 && bottom >= 0 && left >= 0 && right >= 0, "Padding2d: negative padding \([top, bottom, left, right])")
        (self.top, self.bottom, self.left, self.right) = (top, bottom, left, right)
    }

    /// Symmetric padding: `height` rows above and below, `width` columns left and right (torch's `padding=(h, w)`).
    public init(_ height: Int, _ width: Int) { self.init(top: height, bottom: height, left: width, right: width) }

    /// Symmetric padding `p` on every side.
    public static func all(_ p: Int) -> Padding2d { Padding2d(p, p) }
    /// No padding.
    public static let zero = Padding2d(0, 0)

    /// TensorFlow "SAME" padding for an input of `size` (H, W): output ⌈size / stride⌉, total padding
    /// max((out − 1)·stride + (k − 1)·dilation + 1 − size, 0), floor(total/2) before (top/left) and the
    /// rest after (source: tensorflow/python/ops/nn_ops.py, and efficientnet_pytorch's
    /// Conv2dDynamicSamePadding / Conv2dStaticSamePadding, which pad [total//2, total − total//2]).
    public static func tfSame(input size: (Int, Int), kernel: (Int, Int), stride: (Int, Int),
                              dilation: (Int, Int) = (1, 1)) -> Padding2d {
        func pads(_ n: Int, _ k: Int, _ s: Int, _ d: Int) -> (Int, Int) {
            let out = (n + s - 1) / s
            let total = Swift.max((out - 1) * s + (k - 1) * d + 1 - n, 0)
            return (total / 2, total - total / 2)
        }
        let (t, b) = pads(size.0, kernel.0, stride.0, dilation.0)
        let (l, r) = pads(size.1, kernel.1, stride.1, dilation.1)
        return Padding2d(top: t, bottom: b, left: l, right: r)
    }

    /// Human-readable form for error messages.
    public var description: String { "(top \(top), bottom \(bottom), left \(left), right \(right))" }
}

/// The window geometry shared by convolution, unfold and pooling: kernel, stride, padding, dilation.
public struct Window2d: Sendable, Equatable {
    /// Kernel extent (rows, columns).
    public var kernel: (h: Int, w: Int)
    /// Step between windows (rows, columns).
    public var stride: (h: Int, w: Int)
    /// Zero (or −∞ for max pooling) border.
    public var padding: Padding2d
    /// Spacing between kernel taps (1: dense).
    public var dilation: (h: Int, w: Int)

    /// - Precondition: kernel, stride and dilation are positive.
    public init(kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: Padding2d = .zero, dilation: (Int, Int) = (1, 1)) {
        require(kernel.0 > 0 && kernel.1 > 0 && stride.0 > 0 && stride.1 > 0 && dilation.0 > 0 && dilation.1 > 0,
                "Window2d: kernel \(kernel), stride \(stride), dilation \(dilation) must be positive")
        self.kernel = (kernel.0, kernel.1)
        self.stride = (stride.0, stride.1)
        self.padding = padding
        self.dilation = (dilation.0, dilation.1)
    }

    /// Equal geometry (tuples are compared element-wise).
    public static func == (a: Window2d, b: Window2d) -> Bool {
        a.kernel == b.kernel && a.stride == b.stride && a.padding == b.padding && a.dilation == b.dilation
    }

    /// Output extent (floor mode, as torch with ceil_mode false): ⌊(n + pads − d·(k − 1) − 1)/s⌋ + 1.
    public func outputSize(_ h: Int, _ w: Int, op: String) -> (Int, Int) {
        let eh = h + padding.top + padding.bottom - dilation.h * (kernel.h - 1) - 1
        let ew = w + padding.left + padding.right - dilation.w * (kernel.w - 1) - 1
        require(eh >= 0 && ew >= 0, "\(op): input \(h)×\(w) with padding \(padding) is smaller than the dilated kernel \(kernel)")
        return (eh / stride.h + 1, ew / stride.w + 1)
    }
}

// MARK: - im2col / col2im

enum Im2col {
    /// Visits every (patch row, output row) pair of im2col: `body(column, image, dx)` gets the offset of
    /// output row y of patch row (c, i, j) in the column matrix [channels·kh·kw, OH·OW], the offset of
    /// input row y·s_h + i·d_h − pt in the channel planes (nil when that row is padding), and the column
    /// shift j·d_w − pl.
    @inline(__always)
    static func forEachRow(channels: Int, h: Int, w: Int, window g: Window2d, oh: Int, ow: Int,
                           _ body: (_ column: Int, _ image: Int?, _ dx: Int) -> Void) {
        let kh = g.kernel.h, kw = g.kernel.w
        for c in 0..<channels {
            for i in 0..<kh {
                let dy = i * g.dilation.h - g.padding.top
                for j in 0..<kw {
                    let row = ((c * kh + i) * kw + j) * oh * ow, dx = j * g.dilation.w - g.padding.left
                    for y in 0..<oh {
                        let iy = y * g.stride.h + dy
                        body(row + y * ow, iy < 0 || iy >= h ? nil : (c * h + iy) * w, dx)
                    }
                }
            }
        }
    }

    /// Patches of `channels` planes (H×W, contiguous at `src`) into `dst` [channels·kh·kw, OH·OW].
    static func forward(_ src: UnsafePointer<Float>, channels: Int, h: Int, w: Int, window g: Window2d,
                        oh: Int, ow: Int, into dst: UnsafeMutablePointer<Float>) {
        forEachRow(channels: channels, h: h, w: w, window: g, oh: oh, ow: ow) { column, image, dx in
            let out = dst + column
            guard let image else { out.update(repeating: 0, count: ow); return }
            let line = src + image
            if g.stride.w == 1 {
                // Valid columns x with 0 ≤ x + dx < w.
                let lo = Swift.min(ow, Swift.max(0, -dx))
                let hi = Swift.max(lo, Swift.min(ow, w - dx))
                if lo > 0 { out.update(repeating: 0, count: lo) }
                if hi > lo { (out + lo).update(from: line + lo + dx, count: hi - lo) }
                if ow > hi { (out + hi).update(repeating: 0, count: ow - hi) }
            } else {
                for x in 0..<ow {
                    let ix = x * g.stride.w + dx
                    out[x] = ix >= 0 && ix < w ? line[ix] : 0
                }
            }
        }
    }

    /// The adjoint of `forward`: adds each column entry of `src` [channels·kh·kw, OH·OW] back to its
    /// pixel in `dst` (channels planes H×W, accumulated, not cleared).
    static func backward(_ src: UnsafePointer<Float>, channels: Int, h: Int, w: Int, window g: Window2d,
                         oh: Int, ow: Int, into dst: UnsafeMutablePointer<Float>) {
        forEachRow(channels: channels, h: h, w: w, window: g, oh: oh, ow: ow) { column, image, dx in
            guard let image else { return }
            let line = dst + image, col = src + column
            for x in 0..<ow {
                let ix = x * g.stride.w + dx
                if ix >= 0 && ix < w { line[ix] += col[x] }
            }
        }
    }
}

// MARK: - Depthwise kernel

enum Depthwise {
    /// One channel plane: out[y, x] = b + Σ_ij w[i, j]·in[y·s + i·d − pt, x·s + j·d − pl], optionally
    /// clamped to [0, 6], via a zero-padded copy of the plane in `scratch` (capacity `scratchCount`).
    /// Eight outputs of a row (fewer at its end) accumulate all k_h·k_w taps in one register before one store; for
    /// horizontal stride 2 the padded plane is first split into its even and odd columns so that the
    /// taps are contiguous loads too.
    @inline(__always)
    static func plane(_ src: UnsafePointer<Float>, h: Int, w: Int, weight: UnsafePointer<Float>, bias: Float,
                      window g: Window2d, oh: Int, ow: Int, relu6: Bool = false, out: UnsafeMutablePointer<Float>,
                      scratch: UnsafeMutablePointer<Float>) {
        let ph = h + g.padding.top + g.padding.bottom, pw = w + g.padding.left + g.padding.right
        pad(src, h: h, w: w, padding: g.padding, into: scratch)
        let kh = g.kernel.h, kw = g.kernel.w, sh = g.stride.h, sw = g.stride.w
        let dh = g.dilation.h, dw = g.dilation.w
        // Column phases: phase r of a padded row holds columns r, r + sw, ... (one phase when sw == 1).
        let phases = sw <= 2 ? sw : 0
        let evenWidth = (pw + 1) / 2, oddWidth = pw / 2
        let split = scratch + ph * pw
        if phases == 2 {
            for y in 0..<ph {
                let row = scratch + y * pw, even = split + y * evenWidth, odd = split + ph * evenWidth + y * oddWidth
                for q in 0..<oddWidth { even[q] = row[2 * q]; odd[q] = row[2 * q + 1] }
                if evenWidth > oddWidth { even[oddWidth] = row[2 * oddWidth] }
            }
        }
        /// Address of the input under output column 0 for tap (row r, column j) in the phase layout.
        @inline(__always) func tap(_ r: Int, _ j: Int) -> UnsafePointer<Float> {
            if phases == 1 { return UnsafePointer(scratch + r * pw + j * dw) }
            let c = j * dw
            return UnsafePointer((c & 1 == 0 ? split + r * evenWidth : split + ph * evenWidth + r * oddWidth) + (c >> 1))
        }
        let kk = kh * kw
        let zero = Vec8(repeating: 0), six = Vec8(repeating: 6)
        @inline(__always) func finish(_ v: Vec8) -> Vec8 {
            relu6 ? v.replacing(with: zero, where: v .< zero).replacing(with: six, where: v .> six) : v
        }
        withUnsafeTemporaryAllocation(of: Vec8.self, capacity: kk) { wv in
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: kk) { taps in
                for t in 0..<kk { wv[t] = Vec8(repeating: weight[t]) }
                for y in 0..<oh {
                    let o = out + y * ow
                    var x = 0
                    if phases > 0 {
                        // The k_h·k_w input rows under output row y, as pointers at output column 0.
                        for i in 0..<kh { for j in 0..<kw { taps[i * kw + j] = tap(y * sh + i * dh, j) } }
                        // 32 outputs at a time in four independent accumulators (one accumulator would
                        // chain k_h·k_w dependent FMAs).
                        while x + 32 <= ow {
                            let b = Vec8(repeating: bias)
                            var a0 = b, a1 = b, a2 = b, a3 = b
                            for t in 0..<kk {
                                let p = taps[t] + x, w8 = wv[t]
                                a0 = a0.addingProduct(load8(p), w8)
                                a1 = a1.addingProduct(load8(p + 8), w8)
                                a2 = a2.addingProduct(load8(p + 16), w8)
                                a3 = a3.addingProduct(load8(p + 24), w8)
                            }
                            store8(finish(a0), o + x); store8(finish(a1), o + x + 8)
                            store8(finish(a2), o + x + 16); store8(finish(a3), o + x + 24)
                            x += 32
                        }
                        // Then 8 at a time, the taps split over two accumulators. The last group of a row
                        // may be partial: its loads run past the row (into the next row or the scratch's
                        // slack) and only the valid lanes are stored.
                        while x < ow {
                            var a0 = Vec8(repeating: bias), a1 = zero
                            var t = 0
                            while t + 1 < kk {
                                a0 = a0.addingProduct(load8(taps[t] + x), wv[t])
                                a1 = a1.addingProduct(load8(taps[t + 1] + x), wv[t + 1])
                                t += 2
                            }
                            if t < kk { a0 = a0.addingProduct(load8(taps[t] + x), wv[t]) }
                            let acc = finish(a0 + a1)
                            if x + 8 <= ow {
                                store8(acc, o + x)
                            } else {
                                for lane in 0..<(ow - x) { o[x + lane] = acc[lane] }
                            }
                            x += 8
                        }
                    }
                    // Strides above 2: scalar.
                    while x < ow {
                        var s = bias
                        for i in 0..<kh {
                            let line = scratch + (y * sh + i * dh) * pw + x * sw
                            for j in 0..<kw { s += weight[i * kw + j] * line[j * dw] }
                        }
                        o[x] = relu6 ? Swift.min(Swift.max(s, 0), 6) : s
                        x += 1
                    }
                }
            }
        }
    }

    /// Scratch floats `plane` needs for an H×W input under `g` (the padded plane, its column phases and
    /// 8 floats of slack for the loads of a row's last, partial group).
    static func scratchCount(h: Int, w: Int, window g: Window2d) -> Int {
        2 * (h + g.padding.top + g.padding.bottom) * (w + g.padding.left + g.padding.right) + 8
    }

    /// Copies an H×W plane into a zero border of `padding`.
    @inline(__always)
    static func pad(_ src: UnsafePointer<Float>, h: Int, w: Int, padding p: Padding2d, into dst: UnsafeMutablePointer<Float>) {
        let pw = w + p.left + p.right, ph = h + p.top + p.bottom
        if p.top > 0 { dst.update(repeating: 0, count: p.top * pw) }
        for y in 0..<h {
            let row = dst + (y + p.top) * pw
            if p.left > 0 { row.update(repeating: 0, count: p.left) }
            (row + p.left).update(from: src + y * w, count: w)
            if p.right > 0 { (row + p.left + w).update(repeating: 0, count: p.right) }
        }
        if p.bottom > 0 { (dst + (h + p.top) * pw).update(repeating: 0, count: (ph - h - p.top) * pw) }
    }

    /// Forward over all planes of x [N, C, H, W] with weight [C, 1, kh, kw] (parallel over planes).
    static func forward(_ x: Tensor, weight: Tensor, bias: Tensor?, window g: Window2d) -> Tensor {
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        let (oh, ow) = g.outputSize(h, w, op: "conv2d")
        let out = Tensor(uninitializedShape: [n, c, oh, ow])
        forward(x.storage.pointer + x.offset, planes: n * c, h: h, w: w, weight: weight.storage.pointer + weight.offset,
                bias: bias.map { UnsafePointer($0.storage.pointer + $0.offset) }, window: g, out: out.storage.pointer) { $0 % c }
        withExtendedLifetime((x, weight, bias)) {}
        return out
    }

    /// Pointer form of `forward` over `planes` planes of H×W (inference engines call it on their own
    /// buffers): plane p uses the weights and bias of channel `channel(p)` (p % C for NCHW, p / N for a
    /// [C, N, H, W] layout) and is clamped to [0, 6] afterwards when `relu6`.
    static func forward(_ px: UnsafePointer<Float>, planes: Int, h: Int, w: Int, weight: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, window g: Window2d, relu6: Bool = false,
                        out: UnsafeMutablePointer<Float>, channel: (Int) -> Int) {
        let (oh, ow) = g.outputSize(h, w, op: "conv2d")
        let k = g.kernel.h * g.kernel.w, count = oh * ow
        let scratchCount = scratchCount(h: h, w: w, window: g)
        // 8 tasks per thread, taken dynamically: a thread the (shared) machine deschedules holds back
        // one small task, not half the layer.
        let tasks = Threading.count == 1 ? 1 : Swift.min(planes, 8 * Threading.count)
        func run(_ task: Int) {
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchCount)
            defer { scratch.deallocate() }
            for p in planes * task / tasks..<planes * (task + 1) / tasks {
                let ch = channel(p)
                plane(px + p * h * w, h: h, w: w, weight: weight + ch * k, bias: bias?[ch] ?? 0, window: g,
                      oh: oh, ow: ow, relu6: relu6, out: out + p * count, scratch: scratch)
            }
        }
        if tasks == 1 { run(0); return }
        withoutActuallyEscaping(run) { run in
            let body = UncheckedSendable(run)
            DispatchQueue.concurrentPerform(iterations: tasks) { body.value($0) }
        }
    }

    /// The window of the input gradient as a forward depthwise convolution, or nil when the forward
    /// padding exceeds the dilated kernel (then `backward` scatters instead).
    ///
    /// For stride s the output gradient g [OH, OW] is spread onto a grid ĝ of ((OH − 1)·s_h + 1) ×
    /// ((OW − 1)·s_w + 1) with g[y, x] at (y·s_h, x·s_w) and zeros between; then
    /// dx = ĝ ⋆ w' (stride 1, the forward dilation), w' the kernel rotated by 180°, padded by
    /// (k − 1)·d − p before and so much after that the result is H × W (the transposed convolution).
    static func inputGradientWindow(h: Int, w: Int, oh: Int, ow: Int, window g: Window2d) -> Window2d? {
        let spanH = (g.kernel.h - 1) * g.dilation.h, spanW = (g.kernel.w - 1) * g.dilation.w
        let hu = (oh - 1) * g.stride.h + 1, wu = (ow - 1) * g.stride.w + 1
        let top = spanH - g.padding.top, left = spanW - g.padding.left
        let bottom = h - hu - top + spanH, right = w - wu - left + spanW
        guard top >= 0, left >= 0, bottom >= 0, right >= 0 else { return nil }
        return Window2d(kernel: (g.kernel.h, g.kernel.w), padding: Padding2d(top: top, bottom: bottom, left: left, right: right),
                        dilation: (g.dilation.h, g.dilation.w))
    }

    /// Gradients of the depthwise convolution: dx [N, C, H, W], dw [C, 1, kh, kw], db [C].
    ///
    /// Per plane, with ĝ the output gradient spread onto the stride grid (see `inputGradientWindow`):
    /// dx = ĝ ⋆ rot180(w) through the vectorised forward kernel, and
    /// dw[i, j] = Σ_{Y, X} ĝ[Y, X] · x_pad[Y + i·d_h, X + j·d_w] as 8-wide dot products, row by row. Both do
    /// s_h·s_w times the necessary multiplies for strided layers (zeros of ĝ) and still beat the
    /// scalar scatter; the scatter remains for paddings wider than the kernel.
    static func backward(_ x: Tensor, weight: Tensor, grad g: Tensor, window win: Window2d,
                         needInput: Bool, needWeight: Bool, needBias: Bool) -> (Tensor?, Tensor?, Tensor?) {
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        let oh = g.shape[2], ow = g.shape[3]
        guard let flipWindow = inputGradientWindow(h: h, w: w, oh: oh, ow: ow, window: win) else {
            return scatterBackward(x, weight: weight, grad: g, window: win, needInput: needInput, needWeight: needWeight,
                                   needBias: needBias)
        }
        let kh = win.kernel.h, kw = win.kernel.w, k = kh * kw
        let sh = win.stride.h, sw = win.stride.w, dh = win.dilation.h, dw = win.dilation.w
        let ph = h + win.padding.top + win.padding.bottom, pw = w + win.padding.left + win.padding.right
        let hu = (oh - 1) * sh + 1, wu = (ow - 1) * sw + 1, wu8 = (wu + 7) / 8 * 8
        let spread = sh > 1 || sw > 1
        let dx = needInput ? Tensor(uninitializedShape: x.shape) : nil
        let dW = needWeight ? Tensor(uninitializedShape: weight.shape) : nil
        let dB = needBias ? Tensor(uninitializedShape: [c]) : nil
        let px = x.storage.pointer + x.offset, pwt = weight.storage.pointer + weight.offset, pg = g.storage.pointer + g.offset
        let pdx = dx?.storage.pointer, pdw = dW?.storage.pointer, pdb = dB?.storage.pointer
        let planeScratch = scratchCount(h: hu, w: wu, window: flipWindow)
        withExtendedLifetime((x, weight, g, dx, dW, dB)) {
            Threading.parallelFor(c, grain: 1) { range in
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: planeScratch)
                let padded = UnsafeMutablePointer<Float>.allocate(capacity: ph * pw + 8)
                let spreadPlane = UnsafeMutablePointer<Float>.allocate(capacity: spread ? hu * wu : 1)
                let gridRows = UnsafeMutablePointer<Float>.allocate(capacity: hu * wu8)
                let tapAcc = UnsafeMutablePointer<Vec8>.allocate(capacity: k)
                defer { scratch.deallocate(); padded.deallocate(); spreadPlane.deallocate(); gridRows.deallocate(); tapAcc.deallocate() }
                // Zeros that stay: the stride grid's gaps, the rows' padding to wu8, the slack.
                if spread { spreadPlane.update(repeating: 0, count: hu * wu) }
                gridRows.update(repeating: 0, count: hu * wu8)
                (padded + ph * pw).update(repeating: 0, count: 8)
                var rotated = [Float](repeating: 0, count: k), wAcc = [Float](repeating: 0, count: k)
                for ch in range {
                    let wp = pwt + ch * k
                    for t in 0..<k { rotated[t] = wp[k - 1 - t]; wAcc[t] = 0 }
                    var bAcc: Float = 0
                    for b in 0..<n {
                        let gp = pg + (b * c + ch) * oh * ow
                        // ĝ: the gradient itself for stride 1, else spread onto the stride grid (the
                        // zeros between stay from the first fill).
                        var gu = UnsafePointer(gp)
                        if spread {
                            for y in 0..<oh {
                                let row = spreadPlane + y * sh * wu, src = gp + y * ow
                                for xx in 0..<ow { row[xx * sw] = src[xx] }
                            }
                            gu = UnsafePointer(spreadPlane)
                        }
                        if let pdx {
                            rotated.withUnsafeBufferPointer { r in
                                plane(gu, h: hu, w: wu, weight: r.baseAddress!, bias: 0, window: flipWindow, oh: h, ow: w,
                                      out: pdx + (b * c + ch) * h * w, scratch: scratch)
                            }
                        }
                        if pdw != nil {
                            pad(px + (b * c + ch) * h * w, h: h, w: w, padding: win.padding, into: padded)
                            // ĝ again with rows padded by zeros to a multiple of 8, so every dot product
                            // is whole vectors (the lanes past a row multiply zeros; the input rows'
                            // overrun lands in the next row or the slack).
                            for y in 0..<oh {
                                let row = gridRows + y * sh * wu8, src = gp + y * ow
                                if sw == 1 { row.update(from: src, count: ow) } else { for xx in 0..<ow { row[xx * sw] = src[xx] } }
                            }
                            // Row by row, every tap: the gradient row and the k_h input rows under it
                            // stay in L1 while the k_h·k_w dot products accumulate.
                            for t in 0..<k { tapAcc[t] = Vec8(repeating: 0) }
                            for y in 0..<hu {
                                let gl = UnsafePointer(gridRows + y * wu8)
                                for i in 0..<kh {
                                    let row = UnsafePointer(padded + (y + i * dh) * pw)
                                    for j in 0..<kw {
                                        let xl = row + j * dw, t = i * kw + j
                                        var a = tapAcc[t], xx = 0
                                        while xx < wu8 { a = a.addingProduct(load8(gl + xx), load8(xl + xx)); xx += 8 }
                                        tapAcc[t] = a
                                    }
                                }
                            }
                            for t in 0..<k { wAcc[t] += tapAcc[t].sum() }
                        }
                        if pdb != nil { for q in 0..<oh * ow { bAcc += gp[q] } }
                    }
                    if let pdw { for q in 0..<k { pdw[ch * k + q] = wAcc[q] } }
                    if let pdb { pdb[ch] = bAcc }
                }
            }
        }
        return (dx, dW, dB)
    }

    /// The scalar scatter form of `backward`, for paddings wider than the dilated kernel.
    static func scatterBackward(_ x: Tensor, weight: Tensor, grad g: Tensor, window win: Window2d,
                                needInput: Bool, needWeight: Bool, needBias: Bool) -> (Tensor?, Tensor?, Tensor?) {
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        let oh = g.shape[2], ow = g.shape[3]
        let kh = win.kernel.h, kw = win.kernel.w, k = kh * kw
        let sh = win.stride.h, sw = win.stride.w, dh = win.dilation.h, dw = win.dilation.w
        let ph = h + win.padding.top + win.padding.bottom, pw = w + win.padding.left + win.padding.right
        let dx = needInput ? Tensor(uninitializedShape: x.shape) : nil
        let dW = needWeight ? Tensor(uninitializedShape: weight.shape) : nil
        let dB = needBias ? Tensor(uninitializedShape: [c]) : nil
        let px = x.storage.pointer + x.offset, pwt = weight.storage.pointer + weight.offset, pg = g.storage.pointer + g.offset
        let pdx = dx?.storage.pointer, pdw = dW?.storage.pointer, pdb = dB?.storage.pointer
        withExtendedLifetime((x, weight, g, dx, dW, dB)) {
            Threading.parallelFor(c, grain: 1) { range in
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: ph * pw)
                defer { scratch.deallocate() }
                for ch in range {
                    var wAcc = [Float](repeating: 0, count: k)
                    var bAcc: Float = 0
                    for b in 0..<n {
                        let gp = pg + (b * c + ch) * oh * ow
                        if pdw != nil {
                            pad(px + (b * c + ch) * h * w, h: h, w: w, padding: win.padding, into: scratch)
                            for i in 0..<kh {
                                for j in 0..<kw {
                                    var s: Float = 0
                                    for y in 0..<oh {
                                        let line = scratch + (y * sh + i * dh) * pw + j * dw, gl = gp + y * ow
                                        for xx in 0..<ow { s += gl[xx] * line[xx * sw] }
                                    }
                                    wAcc[i * kw + j] += s
                                }
                            }
                        }
                        if pdb != nil { for q in 0..<oh * ow { bAcc += gp[q] } }
                        if let pdx {
                            scratch.update(repeating: 0, count: ph * pw)
                            let wp = pwt + ch * k
                            for y in 0..<oh {
                                let gl = gp + y * ow
                                for i in 0..<kh {
                                    for j in 0..<kw {
                                        let wv = wp[i * kw + j]
                                        let line = scratch + (y * sh + i * dh) * pw + j * dw
                                        for xx in 0..<ow { line[xx * sw] += wv * gl[xx] }
                                    }
                                }
                            }
                            let o = pdx + (b * c + ch) * h * w
                            for y in 0..<h {
                                (o + y * w).update(from: scratch + (y + win.padding.top) * pw + win.padding.left, count: w)
                            }
                        }
                    }
                    if let pdw { for q in 0..<k { pdw[ch * k + q] = wAcc[q] } }
                    if let pdb { pdb[ch] = bAcc }
                }
            }
        }
        return (dx, dW, dB)
    }
}

// MARK: - Tensor and Variable ops

extension Tensor {
    /// 2-D convolution (torch.nn.functional.conv2d): x [N, C, H, W], weight [O, C/groups, kh, kw],
    /// bias [O] → [N, O, OH, OW] with OH = ⌊(H + pt + pb − d·(kh − 1) − 1)/s⌋ + 1 (likewise OW).
    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
                              padding: Padding2d = .zero, dilation: (Int, Int) = (1, 1), groups: Int = 1) -> Tensor {
        Variable.conv2d(Variable(x), weight: Variable(weight), bias: bias.map { Variable($0) }, stride: stride,
                        padding: padding, dilation: dilation, groups: groups).value
    }

    /// Sliding-window patches (torch.nn.functional.unfold): x [N, C, H, W] → [N, C·kh·kw, L], L = OH·OW,
    /// row c·kh·kw + i·kw + j holding x[c, y·s + i·d − pt, x·s + j·d − pl] (0 outside).
    public func unfold(kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: Padding2d = .zero,
                       dilation: (Int, Int) = (1, 1)) -> Tensor {
        Variable(self).unfold(kernel: kernel, stride: stride, padding: padding, dilation: dilation).value
    }
}

extension Variable {
    /// Differentiable 2-D convolution (torch.nn.functional.conv2d), NCHW.
    /// - Parameters: x [N, C, H, W]; weight [O, C/groups, kh, kw]; bias [O] or nil; `padding` may be
    ///   asymmetric (see `Padding2d.tfSame`); groups divides C and O (groups == C == O is depthwise).
    /// - Returns: [N, O, OH, OW].
    public static func conv2d(_ x: Variable, weight: Variable, bias: Variable? = nil, stride: (Int, Int) = (1, 1),
                              padding: Padding2d = .zero, dilation: (Int, Int) = (1, 1), groups: Int = 1) -> Variable {
        require(x.rank == 4 && weight.rank == 4, "conv2d: input \(x.shape) must be [N, C, H, W] and weight \(weight.shape) [O, C/groups, kh, kw]")
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        let o = weight.shape[0], cg = weight.shape[1], kh = weight.shape[2], kw = weight.shape[3]
        require(groups > 0 && c % groups == 0 && o % groups == 0 && cg == c / groups,
                "conv2d: input \(x.shape), weight \(weight.shape) and groups \(groups) do not fit")
        require(bias.map { $0.shape == [o] } ?? true, "conv2d: bias \(bias!.shape) for \(o) output channels")
        let win = Window2d(kernel: (kh, kw), stride: stride, padding: padding, dilation: dilation)
        let (oh, ow) = win.outputSize(h, w, op: "conv2d")
        let xc = x.value.contiguous(), wc = weight.value.contiguous(), bc = bias?.value.contiguous()
        var inputs = [x, weight]
        if let bias { inputs.append(bias) }

        if groups == c && o == c && cg == 1 {
            let out = Depthwise.forward(xc, weight: wc, bias: bc, window: win)
            return record(out, op: "conv2d(depthwise)", inputs) { g, needs in
                let (dx, dw, db) = Depthwise.backward(xc, weight: wc, grad: g.contiguous(), window: win, needInput: needs[0],
                                                      needWeight: needs[1], needBias: needs.count > 2 && needs[2])
                return needs.count > 2 ? [dx, dw, db] : [dx, dw]
            }
        }

        let og = o / groups, kk = cg * kh * kw, l = oh * ow
        let pointwise = kh == 1 && kw == 1 && win.stride == (1, 1) && padding == .zero
        let out = Tensor(uninitializedShape: [n, o, oh, ow])
        let px = xc.storage.pointer + xc.offset, pw = wc.storage.pointer + wc.offset, po = out.storage.pointer
        withExtendedLifetime((xc, wc)) {
            let col = pointwise ? nil : UnsafeMutablePointer<Float>.allocate(capacity: kk * l)
            defer { col?.deallocate() }
            for b in 0..<n {
                for gi in 0..<groups {
                    let src = px + (b * c + gi * cg) * h * w
                    let operand: UnsafePointer<Float>
                    if let col {
                        Im2col.forward(src, channels: cg, h: h, w: w, window: win, oh: oh, ow: ow, into: col)
                        operand = UnsafePointer(col)
                    } else {
                        operand = UnsafePointer(src)
                    }
                    BLAS.sgemm(transA: false, transB: false, m: og, n: l, k: kk, alpha: 1, a: pw + gi * og * kk, lda: kk,
                               b: operand, ldb: l, beta: 0, c: po + (b * o + gi * og) * l, ldc: l)
                }
            }
        }
        if let bc { addChannelBias(out, bc) }
        return record(out, op: "conv2d", inputs) { g, needs in
            let gc = g.contiguous()
            let pg = gc.storage.pointer + gc.offset
            let dx = needs[0] ? Tensor(shape: xc.shape, repeating: 0) : nil
            let dw = needs[1] ? Tensor(shape: wc.shape, repeating: 0) : nil
            withExtendedLifetime((gc, xc, wc, dx, dw)) {
                let col = UnsafeMutablePointer<Float>.allocate(capacity: kk * l)
                defer { col.deallocate() }
                for b in 0..<n {
                    for gi in 0..<groups {
                        let src = px + (b * c + gi * cg) * h * w
                        let gb = pg + (b * o + gi * og) * l
                        if let dw {
                            let operand: UnsafePointer<Float>
                            if pointwise { operand = UnsafePointer(src) } else {
                                Im2col.forward(src, channels: cg, h: h, w: w, window: win, oh: oh, ow: ow, into: col)
                                operand = UnsafePointer(col)
                            }
                            // dW_g += g_g [og, L] · col_gᵀ [L, kk]
                            BLAS.sgemm(transA: false, transB: true, m: og, n: kk, k: l, alpha: 1, a: gb, lda: l,
                                       b: operand, ldb: l, beta: 1, c: dw.storage.pointer + gi * og * kk, ldc: kk)
                        }
                        if let dx {
                            let dst = dx.storage.pointer + (b * c + gi * cg) * h * w
                            // dcol = W_gᵀ [kk, og] · g_g [og, L]
                            BLAS.sgemm(transA: true, transB: false, m: kk, n: l, k: og, alpha: 1, a: pw + gi * og * kk, lda: kk,
                                       b: gb, ldb: l, beta: pointwise ? 1 : 0, c: pointwise ? dst : col, ldc: l)
                            if !pointwise {
                                Im2col.backward(col, channels: cg, h: h, w: w, window: win, oh: oh, ow: ow, into: dst)
                            }
                        }
                    }
                }
            }
            var grads: [Tensor?] = [dx, dw]
            if needs.count > 2 { grads.append(needs[2] ? gc.sum(axes: [0, 2, 3]) : nil) }
            return grads
        }
    }

    /// Adds bias [C] to every plane of a contiguous [N, C, H, W] tensor in place (a fresh buffer the
    /// caller owns).
    static func addChannelBias(_ out: Tensor, _ bias: Tensor) {
        let n = out.shape[0], c = out.shape[1], l = out.shape[2] * out.shape[3]
        let po = out.storage.pointer, pb = bias.storage.pointer + bias.offset
        withExtendedLifetime(bias) {
            Threading.parallelFor(n * c, grain: Swift.max(1, 16384 / Swift.max(l, 1))) { range in
                for p in range {
                    let v = pb[p % c], row = po + p * l
                    for i in 0..<l { row[i] += v }
                }
            }
        }
    }

    /// Differentiable patch extraction (torch.nn.functional.unfold, im2col): [N, C, H, W] → [N, C·kh·kw, L].
    /// Its backward is col2im (torch.nn.functional.fold of the gradient).
    public func unfold(kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: Padding2d = .zero,
                       dilation: (Int, Int) = (1, 1)) -> Variable {
        require(rank == 4, "unfold: input \(shape) must be [N, C, H, W]")
        let n = shape[0], c = shape[1], h = shape[2], w = shape[3]
        let win = Window2d(kernel: kernel, stride: stride, padding: padding, dilation: dilation)
        let (oh, ow) = win.outputSize(h, w, op: "unfold")
        let kk = c * kernel.0 * kernel.1, l = oh * ow
        let xc = value.contiguous()
        let out = Tensor(uninitializedShape: [n, kk, l])
        let px = xc.storage.pointer + xc.offset, po = out.storage.pointer
        withExtendedLifetime(xc) {
            Threading.parallelFor(n, grain: 1) { range in
                for b in range {
                    Im2col.forward(px + b * c * h * w, channels: c, h: h, w: w, window: win, oh: oh, ow: ow, into: po + b * kk * l)
                }
            }
        }
        let inputShape = shape
        return Variable.record(out, op: "unfold", [self]) { g, _ in
            let gc = g.contiguous()
            let dx = Tensor(shape: inputShape, repeating: 0)
            let pg = gc.storage.pointer + gc.offset, pd = dx.storage.pointer
            withExtendedLifetime(gc) {
                Threading.parallelFor(n, grain: 1) { range in
                    for b in range {
                        Im2col.backward(pg + b * kk * l, channels: c, h: h, w: w, window: win, oh: oh, ow: ow, into: pd + b * c * h * w)
                    }
                }
            }
            return [dx]
        }
    }
}

/// A 2-D convolution layer (torch.nn.Conv2d): parameters `prefix.weight` [O, C/groups, kh, kw] and
/// optionally `prefix.bias` [O]; default initialisation as torch (kaiming-uniform a = √5, i.e.
/// U(−1/√fan_in, 1/√fan_in) for weight and bias).
public final class Conv2d: Module {
    /// Kernel [O, C/groups, kh, kw] (`prefix.weight`).
    public let weight: Parameter
    /// Bias [O] (`prefix.bias`), or nil.
    public let bias: Parameter?
    /// Stride (rows, columns).
    public let stride: (Int, Int)
    /// Dilation (rows, columns).
    public let dilation: (Int, Int)
    /// Channel groups (in channels = groups: depthwise).
    public let groups: Int
    /// Fixed padding, or nil for TensorFlow "SAME" padding computed from each input's size.
    public let padding: Padding2d?
    /// weight, then bias.
    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    /// - Parameters: `padding` nil means TensorFlow "SAME" (`Padding2d.tfSame`).
    public init(_ prefix: String, inChannels: Int, outChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: Padding2d? = .zero, dilation: (Int, Int) = (1, 1), groups: Int = 1, bias: Bool = true,
                factory: ParameterFactory) {
        require(inChannels % groups == 0 && outChannels % groups == 0, "Conv2d \(prefix): groups \(groups) must divide \(inChannels) and \(outChannels)")
        let fanIn = inChannels / groups * kernel.0 * kernel.1
        let bound = 1 / Float(fanIn).squareRoot()
        weight = factory.make(joinKey(prefix, "weight"), [outChannels, inChannels / groups, kernel.0, kernel.1], .uniform(bound: bound))
        self.bias = bias ? factory.make(joinKey(prefix, "bias"), [outChannels], .uniform(bound: bound)) : nil
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
    }

    /// The padding used for an input of `h`×`w`.
    public func padding(forInput h: Int, _ w: Int) -> Padding2d {
        padding ?? .tfSame(input: (h, w), kernel: (weight.shape[2], weight.shape[3]), stride: stride, dilation: dilation)
    }

    /// x [N, C, H, W] → [N, O, OH, OW].
    public func callAsFunction(_ x: Variable) -> Variable {
        Variable.conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding(forInput: x.shape[2], x.shape[3]),
                        dilation: dilation, groups: groups)
    }
}
