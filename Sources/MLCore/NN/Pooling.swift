/// Pooling and resizing of NCHW feature maps, forward and backward: max pooling, average pooling,
/// adaptive average pooling and bilinear interpolation, with torch's index conventions.

extension Variable {
    /// Runs `body(plane, out)` for each of the N·C planes in parallel over a fresh output [N, C, OH, OW].
    fileprivate static func perPlane(_ x: Tensor, _ oh: Int, _ ow: Int,
                                     _ body: (Int, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) -> Tensor {
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        let out = Tensor(uninitializedShape: [n, c, oh, ow])
        let px = x.storage.pointer + x.offset, po = out.storage.pointer
        withExtendedLifetime(x) {
            Threading.parallelFor(n * c, grain: Swift.max(1, 8192 / Swift.max(h * w, 1))) { range in
                for p in range { body(p, px + p * h * w, po + p * oh * ow) }
            }
        }
        return out
    }

    /// Max pooling (torch.nn.functional.max_pool2d, ceil_mode false): x [N, C, H, W] → [N, C, OH, OW],
    /// OH = ⌊(H + 2p − d·(k − 1) − 1)/s⌋ + 1; padding counts as −∞. The gradient goes to the first
    /// maximum of each window (row-major order, as torch).
    /// - Precondition: padding ≤ kernel/2 (torch's rule).
    public func maxPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                          dilation: (Int, Int) = (1, 1)) -> Variable {
        require(rank == 4, "maxPool2d: input \(shape) must be [N, C, H, W]")
        require(padding.0 <= kernel.0 / 2 && padding.1 <= kernel.1 / 2, "maxPool2d: padding \(padding) exceeds half the kernel \(kernel)")
        let win = Window2d(kernel: kernel, stride: stride ?? kernel, padding: Padding2d(padding.0, padding.1), dilation: dilation)
        let h = shape[2], w = shape[3]
        let (oh, ow) = win.outputSize(h, w, op: "maxPool2d")
        let xc = value.contiguous()
        let recording = Variable.recording(self)
        let indices = recording ? UnsafeMutablePointer<Int32>.allocate(capacity: xc.shape[0] * xc.shape[1] * oh * ow) : nil
        let out = Variable.perPlane(xc, oh, ow) { p, src, dst in
            for y in 0..<oh {
                for x in 0..<ow {
                    var best = -Float.infinity, at = -1
                    for i in 0..<win.kernel.h {
                        let iy = y * win.stride.h - win.padding.top + i * win.dilation.h
                        if iy < 0 || iy >= h { continue }
                        for j in 0..<win.kernel.w {
                            let ix = x * win.stride.w - win.padding.left + j * win.dilation.w
                            if ix < 0 || ix >= w { continue }
                            let v = src[iy * w + ix]
                            if v > best || at < 0 || v.isNaN { best = v; at = iy * w + ix; if v.isNaN { break } }
                        }
                    }
                    dst[y * ow + x] = best
                    indices?[p * oh * ow + y * ow + x] = Int32(at)
                }
            }
        }
        guard let indices else { return Variable(out) }
        final class Box { let p: UnsafeMutablePointer<Int32>; init(_ p: UnsafeMutablePointer<Int32>) { self.p = p }; deinit { p.deallocate() } }
        let box = Box(indices), inputShape = shape
        return Variable.record(out, op: "maxPool2d", [self]) { g, _ in
            let gc = g.contiguous(), pg = gc.storage.pointer + gc.offset
            let dx = Tensor(shape: inputShape, repeating: 0), pd = dx.storage.pointer
            let planes = inputShape[0] * inputShape[1]
            withExtendedLifetime((gc, box)) {
                for p in 0..<planes {
                    for q in 0..<oh * ow { let at = Int(box.p[p * oh * ow + q]); if at >= 0 { pd[p * h * w + at] += pg[p * oh * ow + q] } }
                }
            }
            return [dx]
        }
    }

    /// Average pooling (torch.nn.functional.avg_pool2d, ceil_mode false): x [N, C, H, W] → [N, C, OH, OW],
    /// OH = ⌊(H + 2p − k)/s⌋ + 1. The divisor is k_h·k_w when `countIncludePad` (torch's default), else
    /// the number of non-padding pixels in the window.
    public func avgPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                          countIncludePad: Bool = true) -> Variable {
        require(rank == 4, "avgPool2d: input \(shape) must be [N, C, H, W]")
        require(padding.0 <= kernel.0 / 2 && padding.1 <= kernel.1 / 2, "avgPool2d: padding \(padding) exceeds half the kernel \(kernel)")
        let win = Window2d(kernel: kernel, stride: stride ?? kernel, padding: Padding2d(padding.0, padding.1))
        let h = shape[2], w = shape[3]
        let (oh, ow) = win.outputSize(h, w, op: "avgPool2d")
        // Window y covers rows [y·s − p, y·s − p + k) clipped to [0, H); the third value is its extent
        // inside the padded input (torch's divisor with count_include_pad).
        func span(_ o: Int, _ s: Int, _ p: Int, _ k: Int, _ n: Int) -> (Int, Int, Int) {
            let start = o * s - p, end = Swift.min(start + k, n + p)
            return (Swift.max(start, 0), Swift.min(end, n), end - start)
        }
        let rows = (0..<oh).map { span($0, win.stride.h, padding.0, kernel.0, h) }
        let cols = (0..<ow).map { span($0, win.stride.w, padding.1, kernel.1, w) }
        return windowAverage(rows: rows.map { ($0.0, $0.1) }, cols: cols.map { ($0.0, $0.1) }, op: "avgPool2d") { y, x in
            Float(countIncludePad ? rows[y].2 * cols[x].2 : (rows[y].1 - rows[y].0) * (cols[x].1 - cols[x].0))
        }
    }

    /// Adaptive average pooling (torch.nn.functional.adaptive_avg_pool2d): x [N, C, H, W] → [N, C, OH, OW];
    /// output cell y averages rows ⌊y·H/OH⌋ ..< ⌈(y + 1)·H/OH⌉ (likewise columns).
    public func adaptiveAvgPool2d(_ size: (Int, Int)) -> Variable {
        require(rank == 4 && size.0 > 0 && size.1 > 0, "adaptiveAvgPool2d: input \(shape) must be [N, C, H, W], output size \(size) positive")
        func bins(_ n: Int, _ on: Int) -> [(Int, Int)] { (0..<on).map { ($0 * n / on, (($0 + 1) * n + on - 1) / on) } }
        let rows = bins(shape[2], size.0), cols = bins(shape[3], size.1)
        return windowAverage(rows: rows, cols: cols, op: "adaptiveAvgPool2d") { y, x in
            Float((rows[y].1 - rows[y].0) * (cols[x].1 - cols[x].0))
        }
    }

    /// out[y, x] = Σ over rows[y] × cols[x] of the input plane / divisor(y, x), per plane, and its
    /// backward (each output's gradient / divisor spread over its window). Windows are half-open
    /// [start, end) ranges inside the input.
    private func windowAverage(rows: [(Int, Int)], cols: [(Int, Int)], op: String,
                               divisor: @escaping (Int, Int) -> Float) -> Variable {
        let h = shape[2], w = shape[3], oh = rows.count, ow = cols.count
        let xc = value.contiguous()
        let out = Variable.perPlane(xc, oh, ow) { _, src, dst in
            for y in 0..<oh {
                for x in 0..<ow {
                    var s: Float = 0
                    for iy in rows[y].0..<rows[y].1 { for ix in cols[x].0..<cols[x].1 { s += src[iy * w + ix] } }
                    dst[y * ow + x] = s / divisor(y, x)
                }
            }
        }
        let inputShape = shape
        return Variable.record(out, op: op, [self]) { g, _ in
            let gc = g.contiguous(), pg = gc.storage.pointer + gc.offset
            let dx = Tensor(shape: inputShape, repeating: 0), pd = dx.storage.pointer
            withExtendedLifetime(gc) {
                for p in 0..<inputShape[0] * inputShape[1] {
                    for y in 0..<oh {
                        for x in 0..<ow {
                            let v = pg[p * oh * ow + y * ow + x] / divisor(y, x)
                            for iy in rows[y].0..<rows[y].1 { for ix in cols[x].0..<cols[x].1 { pd[p * h * w + iy * w + ix] += v } }
                        }
                    }
                }
            }
            return [dx]
        }
    }

    /// Bilinear resize (torch.nn.functional.interpolate(mode="bilinear", size=…), no antialiasing):
    /// x [N, C, H, W] → [N, C, OH, OW]. Source coordinate of output index i:
    /// align_corners true: i·(H − 1)/(OH − 1) (0 when OH = 1); false: max((i + 0.5)·H/OH − 0.5, 0).
    /// Neighbours ⌊src⌋ and min(⌊src⌋ + 1, H − 1), weights 1 − λ and λ = src − ⌊src⌋
    /// (aten/src/ATen/native/UpSample.h, area_pixel_compute_source_index).
    public func resizeBilinear(to size: (Int, Int), alignCorners: Bool) -> Variable {
        require(rank == 4 && size.0 > 0 && size.1 > 0, "resizeBilinear: input \(shape) must be [N, C, H, W], size \(size) positive")
        let h = shape[2], w = shape[3], oh = size.0, ow = size.1
        func taps(_ n: Int, _ on: Int) -> [(Int, Int, Float)] {
            (0..<on).map { i in
                let src: Float
                if alignCorners {
                    src = on > 1 ? Float(i) * (Float(n - 1) / Float(on - 1)) : 0
                } else {
                    src = Swift.max((Float(i) + 0.5) * (Float(n) / Float(on)) - 0.5, 0)
                }
                let i0 = Swift.min(Int(src), n - 1)
                let i1 = Swift.min(i0 + 1, n - 1)
                return (i0, i1, src - Float(i0))
            }
        }
        let ty = taps(h, oh), tx = taps(w, ow)
        let xc = value.contiguous()
        let out = Variable.perPlane(xc, oh, ow) { _, src, dst in
            for y in 0..<oh {
                let (y0, y1, ly) = ty[y]
                let r0 = src + y0 * w, r1 = src + y1 * w
                for x in 0..<ow {
                    let (x0, x1, lx) = tx[x]
                    let top = r0[x0] * (1 - lx) + r0[x1] * lx
                    let bottom = r1[x0] * (1 - lx) + r1[x1] * lx
                    dst[y * ow + x] = top * (1 - ly) + bottom * ly
                }
            }
        }
        let inputShape = shape
        return Variable.record(out, op: "resizeBilinear", [self]) { g, _ in
            let gc = g.contiguous(), pg = gc.storage.pointer + gc.offset
            let dx = Tensor(shape: inputShape, repeating: 0), pd = dx.storage.pointer
            withExtendedLifetime(gc) {
                Threading.parallelFor(inputShape[0] * inputShape[1], grain: 1) { range in
                    for p in range {
                        let gp = pg + p * oh * ow, d = pd + p * h * w
                        for y in 0..<oh {
                            let (y0, y1, ly) = ty[y]
                            for x in 0..<ow {
                                let (x0, x1, lx) = tx[x]
                                let v = gp[y * ow + x]
                                d[y0 * w + x0] += v * (1 - ly) * (1 - lx)
                                d[y0 * w + x1] += v * (1 - ly) * lx
                                d[y1 * w + x0] += v * ly * (1 - lx)
                                d[y1 * w + x1] += v * ly * lx
                            }
                        }
                    }
                }
            }
            return [dx]
        }
    }
}

extension Tensor {
    /// Max pooling; see `Variable.maxPool2d`.
    public func maxPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                          dilation: (Int, Int) = (1, 1)) -> Tensor {
        withoutGradient { Variable(self).maxPool2d(kernel: kernel, stride: stride, padding: padding, dilation: dilation).value }
    }
    /// Average pooling; see `Variable.avgPool2d`.
    public func avgPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                          countIncludePad: Bool = true) -> Tensor {
        Variable(self).avgPool2d(kernel: kernel, stride: stride, padding: padding, countIncludePad: countIncludePad).value
    }
    /// Adaptive average pooling; see `Variable.adaptiveAvgPool2d`.
    public func adaptiveAvgPool2d(_ size: (Int, Int)) -> Tensor { Variable(self).adaptiveAvgPool2d(size).value }
    /// Bilinear resize; see `Variable.resizeBilinear`.
    public func resizeBilinear(to size: (Int, Int), alignCorners: Bool) -> Tensor {
        Variable(self).resizeBilinear(to: size, alignCorners: alignCorners).value
    }
}
