/// Upsampling of NCHW feature maps (torch.nn.functional.interpolate, torch.nn.Upsample): nearest
/// neighbour here, bilinear through `Variable.resizeBilinear` (Pooling.swift).

extension Variable {
    /// Nearest-neighbour resize (interpolate(mode="nearest", size=…)): x [N, C, H, W] → [N, C, OH, OW],
    /// output index i reads input index min(⌊i·(H/OH)⌋, H − 1) with the ratio in Float, as torch's
    /// nearest_idx (aten/src/ATen/native/UpSample.h) does. The gradient of each input pixel is the sum
    /// over the outputs that copied it.
    public func resizeNearest(to size: (Int, Int)) -> Variable {
        require(rank == 4 && size.0 > 0 && size.1 > 0, "resizeNearest: input \(shape) must be [N, C, H, W], size \(size) positive")
        let n = shape[0], c = shape[1], h = shape[2], w = shape[3], oh = size.0, ow = size.1
        func sources(_ from: Int, _ to: Int) -> [Int] {
            let scale = Float(from) / Float(to)
            return (0..<to).map { Swift.min(Int((Float($0) * scale).rounded(.down)), from - 1) }
        }
        let sy = sources(h, oh), sx = sources(w, ow)
        let xc = value.contiguous(), px = xc.storage.pointer + xc.offset
        let out = Tensor(uninitializedShape: [n, c, oh, ow]), po = out.storage.pointer
        withExtendedLifetime(xc) {
            Threading.parallelFor(n * c, grain: Swift.max(1, 8192 / Swift.max(oh * ow, 1))) { range in
                for p in range {
                    let src = px + p * h * w, dst = po + p * oh * ow
                    for y in 0..<oh {
                        let row = src + sy[y] * w, o = dst + y * ow
                        for x in 0..<ow { o[x] = row[sx[x]] }
                    }
                }
            }
        }
        let inputShape = shape
        return Variable.record(out, op: "resizeNearest", [self]) { g, _ in
            let gc = g.contiguous(), pg = gc.storage.pointer + gc.offset
            let dx = Tensor(shape: inputShape, repeating: 0), pd = dx.storage.pointer
            withExtendedLifetime(gc) {
                Threading.parallelFor(n * c, grain: Swift.max(1, 8192 / Swift.max(oh * ow, 1))) { range in
                    for p in range {
                        let gp = pg + p * oh * ow, d = pd + p * h * w
                        for y in 0..<oh {
                            let row = d + sy[y] * w, gr = gp + y * ow
                            for x in 0..<ow { row[sx[x]] += gr[x] }
                        }
                    }
                }
            }
            return [dx]
        }
    }
}

extension Tensor {
    /// Nearest-neighbour resize without gradients; see `Variable.resizeNearest`.
    public func resizeNearest(to size: (Int, Int)) -> Tensor { Variable(self).resizeNearest(to: size).value }
}

/// Upsampling by an integer factor (torch.nn.Upsample(scale_factor=…, mode=…)): the output is
/// [N, C, H·s_h, W·s_w]. With integer factors torch's coordinate scale 1/scale_factor equals H/OH, so
/// the results equal interpolate(size=…). No parameters.
public final class Upsample: Module {
    /// How output pixels are computed from the input.
    public enum Mode: Sendable, Equatable {
        /// Copy of the nearest input pixel (torch's "nearest").
        case nearest
        /// Bilinear interpolation (torch's "bilinear"), with or without align_corners.
        case bilinear(alignCorners: Bool)
    }

    /// Integer factors (rows, columns).
    public let scale: (Int, Int)
    /// Interpolation mode.
    public let mode: Mode
    /// None.
    public var parameters: [Parameter] { [] }

    /// - Precondition: positive factors.
    public init(scale: (Int, Int), mode: Mode = .nearest) {
        require(scale.0 > 0 && scale.1 > 0, "Upsample: scale \(scale) must be positive")
        self.scale = scale
        self.mode = mode
    }

    /// x [N, C, H, W] → [N, C, H·s_h, W·s_w].
    public func callAsFunction(_ x: Variable) -> Variable {
        require(x.rank == 4, "Upsample: input \(x.shape) must be [N, C, H, W]")
        let size = (x.shape[2] * scale.0, x.shape[3] * scale.1)
        switch mode {
        case .nearest: return x.resizeNearest(to: size)
        case .bilinear(let alignCorners): return x.resizeBilinear(to: size, alignCorners: alignCorners)
        }
    }
}
