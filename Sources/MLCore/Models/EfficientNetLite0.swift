import Foundation
import Synchronization

/// EfficientNet-Lite (Tan & Le 2019, the TensorFlow "lite" variant: ReLU6, no squeeze-excitation,
/// stem and head not scaled) in the layout of the efficientnet_pytorch code base
/// (lukemelas/EfficientNet-PyTorch model.py, as adapted by ml-illustrated/EfficientNet-Lite-PyTorch):
/// parameter names `_conv_stem`, `_bn0`, `_blocks.N.{_expand_conv,_bn0,_depthwise_conv,_bn1,_project_conv,_bn2}`,
/// `_conv_head`, `_bn1`, `_fc`; every convolution uses TensorFlow "SAME" padding.
///
/// Two forward paths: `forward(_:context:taps:)` on `Variable`s (differentiable, training with batch
/// statistics, dropout and drop-connect) and `predict(_:taps:)`, a fast inference engine with
/// BatchNorm folded into the convolutions, an internal [C, N·H·W] layout (each 1×1 convolution is one
/// GEMM over the whole batch), fused bias + ReLU6 epilogues and reused buffers.

/// Hyper-parameters of an EfficientNet-Lite checkpoint (its `config` attribute, written by
/// Tools/data/convert_efficientnet.py).
public struct EfficientNetLiteConfig: CheckpointConfig, Codable, Equatable {
    /// One MBConv block.
    public struct Block: Codable, Sendable, Equatable {
        /// Depthwise kernel size, its stride, expansion ratio of the 1×1 expand conv, channels in and out.
        public var kernelSize: Int, stride: Int, expandRatio: Int, inChannels: Int, outChannels: Int
        /// Identity skip connection (stride 1 and equal channels).
        public var skip: Bool

        enum CodingKeys: String, CodingKey {
            case kernelSize = "kernel_size", stride, expandRatio = "expand_ratio", inChannels = "in_channels"
            case outChannels = "out_channels", skip
        }

        /// One entry of the config's `blocks` (`skip` defaults to false).
        /// - Throws: `DecodingError` naming the missing or mistyped key.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            kernelSize = try c.require(.kernelSize)
            stride = try c.require(.stride)
            expandRatio = try c.require(.expandRatio)
            inChannels = try c.require(.inChannels)
            outChannels = try c.require(.outChannels)
            skip = try c.decodeIfPresent(Bool.self, forKey: .skip) ?? false
        }
    }
    /// The MBConv blocks in order (16 for Lite0).
    public var blocks: [Block]
    /// Output channels of the 3×3 stride-2 stem.
    public var stemChannels: Int
    /// Output channels of the 1×1 head convolution (the pooled feature width).
    public var headChannels: Int
    /// Classifier outputs.
    public var numClasses: Int
    /// BatchNorm ε (1e-3, TensorFlow's).
    public var batchNormEpsilon: Float
    /// Dropout before the classifier (training only).
    public var dropoutRate: Float
    /// Stochastic-depth rate of the last block (scaled by block index / count; training only).
    public var dropConnectRate: Float
    /// Square input resolution (224 for Lite0).
    public var resolution: Int
    /// Per-channel normalisation of 0–255 RGB values: (x − mean)/std.
    public var mean: [Float], std: [Float]
    /// Fraction of the shorter side kept by the centre crop before resizing (224/(224 + 32)).
    public var cropFraction: Float

    enum CodingKeys: String, CodingKey {
        case blocks, stemChannels = "stem_channels", headChannels = "head_channels", numClasses = "num_classes"
        case batchNormEpsilon = "batch_norm_epsilon", dropoutRate = "dropout_rate", dropConnectRate = "drop_connect_rate"
        case resolution, activation, padding, preprocessing
    }

    enum PreprocessingKeys: String, CodingKey { case mean, std }

    /// Decodes the config Tools/data/convert_efficientnet.py writes: `blocks` (each `kernel_size`,
    /// `stride`, `expand_ratio`, `in_channels`, `out_channels`, optional `skip`), `stem_channels`,
    /// `head_channels`, `num_classes`, `batch_norm_epsilon`, `dropout_rate`, `drop_connect_rate`,
    /// `resolution`, `preprocessing.mean`/`.std` (3 numbers each); `activation` (relu6) and
    /// `padding` (tf-same) are checked when present.
    /// - Throws: `DecodingError` (→ `CheckpointError.badConfig` through `init(json:file:)`) naming the
    ///   missing or malformed key (`blocks[3].kernel_size`, `preprocessing.mean`).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard c.contains(.blocks), let list = try c.decodeIfPresent([Block].self, forKey: .blocks), !list.isEmpty else {
            throw c.invalid(.blocks, expected: "a non-empty array of blocks")
        }
        blocks = list
        stemChannels = try c.require(.stemChannels)
        headChannels = try c.require(.headChannels)
        numClasses = try c.require(.numClasses)
        batchNormEpsilon = try c.requireFloat(.batchNormEpsilon)
        dropoutRate = try c.requireFloat(.dropoutRate)
        dropConnectRate = try c.requireFloat(.dropConnectRate)
        resolution = try c.require(.resolution)
        if let act = try c.decodeIfPresent(String.self, forKey: .activation), act != "relu6" {
            throw c.invalid(.activation, expected: "relu6 (found \(act))")
        }
        if let padding = try c.decodeIfPresent(String.self, forKey: .padding), padding != "tf-same" {
            throw c.invalid(.padding, expected: "tf-same (found \(padding))")
        }
        let pre = try c.nestedContainer(keyedBy: PreprocessingKeys.self, forKey: .preprocessing)
        func floats(_ key: PreprocessingKeys) throws -> [Float] {
            guard let a = try? pre.decode([Double].self, forKey: key), a.count == 3 else {
                throw pre.invalid(key, expected: "3 numbers")
            }
            return a.map { Float($0) }
        }
        mean = try floats(.mean)
        std = try floats(.std)
        cropFraction = Float(resolution) / Float(resolution + 32)
    }

    /// Encodes the keys `init(from:)` reads (the crop fraction is derived from the resolution).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(blocks, forKey: .blocks)
        try c.encode(stemChannels, forKey: .stemChannels)
        try c.encode(headChannels, forKey: .headChannels)
        try c.encode(numClasses, forKey: .numClasses)
        try c.encode(batchNormEpsilon, forKey: .batchNormEpsilon)
        try c.encode(dropoutRate, forKey: .dropoutRate)
        try c.encode(dropConnectRate, forKey: .dropConnectRate)
        try c.encode(resolution, forKey: .resolution)
        try c.encode("relu6", forKey: .activation)
        try c.encode("tf-same", forKey: .padding)
        var pre = c.nestedContainer(keyedBy: PreprocessingKeys.self, forKey: .preprocessing)
        try pre.encode(mean, forKey: .mean)
        try pre.encode(std, forKey: .std)
    }

    /// The index of the first block of each stage (a stage starts where the skip connection does not
    /// apply: a stride or channel change), e.g. [0, 1, 3, 5, 8, 11, 15] for Lite0's 7 stages.
    public var stageStarts: [Int] { blocks.indices.filter { !blocks[$0].skip } }
    /// The last block of each stage: the blocks whose outputs `taps` return.
    public var stageEnds: [Int] { stageStarts.dropFirst().map { $0 - 1 } + [blocks.count - 1] }
}

/// One inverted-residual (MBConv) block without squeeze-excitation.
public final class MBConvBlock: Module {
    /// This block's hyper-parameters.
    public let config: EfficientNetLiteConfig.Block
    /// 1×1 expansion and its BatchNorm (absent when the expand ratio is 1).
    public let expandConv: Conv2d?, bn0: BatchNorm2d?
    /// k×k depthwise convolution (TF "SAME") and its BatchNorm.
    public let depthwiseConv: Conv2d, bn1: BatchNorm2d
    /// 1×1 projection (linear, no activation) and its BatchNorm.
    public let projectConv: Conv2d, bn2: BatchNorm2d

    /// Every parameter and buffer of the block, in checkpoint order.
    public var parameters: [Parameter] {
        (expandConv?.parameters ?? []) + (bn0?.parameters ?? []) + depthwiseConv.parameters + bn1.parameters
            + projectConv.parameters + bn2.parameters
    }

    /// A block whose parameters are named under `factory`'s scope (`_blocks.N`).
    init(_ b: EfficientNetLiteConfig.Block, epsilon: Float, factory: ParameterFactory) {
        config = b
        let hidden = b.inChannels * b.expandRatio
        if b.expandRatio != 1 {
            expandConv = Conv2d("_expand_conv", inChannels: b.inChannels, outChannels: hidden, kernel: (1, 1),
                                padding: nil, bias: false, factory: factory)
            bn0 = BatchNorm2d("_bn0", features: hidden, epsilon: epsilon, momentum: 0.01, factory: factory)
        } else {
            expandConv = nil
            bn0 = nil
        }
        depthwiseConv = Conv2d("_depthwise_conv", inChannels: hidden, outChannels: hidden,
                               kernel: (b.kernelSize, b.kernelSize), stride: (b.stride, b.stride), padding: nil, groups: hidden,
                               bias: false, factory: factory)
        bn1 = BatchNorm2d("_bn1", features: hidden, epsilon: epsilon, momentum: 0.01, factory: factory)
        projectConv = Conv2d("_project_conv", inChannels: hidden, outChannels: b.outChannels, kernel: (1, 1),
                             padding: nil, bias: false, factory: factory)
        bn2 = BatchNorm2d("_bn2", features: b.outChannels, epsilon: epsilon, momentum: 0.01, factory: factory)
    }

    /// x [N, Cin, H, W] → [N, Cout, H/stride, W/stride]. In training, the residual branch is dropped per
    /// sample with probability `dropConnect` (stochastic depth, survivors scaled by 1/(1 − p)).
    public func callAsFunction(_ x: Variable, context: ForwardContext?, dropConnect: Float) -> Variable {
        var h = x
        if let expandConv, let bn0 { h = bn0(expandConv(h), context: context).relu6() }
        h = bn1(depthwiseConv(h), context: context).relu6()
        h = bn2(projectConv(h), context: context)
        guard config.skip else { return h }
        if let context, context.isTraining, dropConnect > 0 {
            let keep = 1 - dropConnect, n = h.shape[0]
            let mask = Tensor(shape: [n, 1, 1, 1]) { _ in context.rng.uniform() < keep ? 1 / keep : 0 }
            h = h * mask
        }
        return h + x
    }
}

/// EfficientNet-Lite classifier: images [N, 3, H, W] (normalised, see `preprocess`) → logits [N, classes].
public final class EfficientNetLite: CheckpointLoadable {
    /// The hyper-parameters the network was built from.
    public let config: EfficientNetLiteConfig
    /// Stem: 3×3 stride-2 convolution and its BatchNorm.
    public let convStem: Conv2d, bn0: BatchNorm2d
    /// The MBConv blocks (`_blocks.N`).
    public let blocks: [MBConvBlock]
    /// Head: 1×1 convolution to `headChannels` and its BatchNorm.
    public let convHead: Conv2d, bn1: BatchNorm2d
    /// Classifier `_fc` [classes, headChannels].
    public let fc: Linear
    /// Every parameter and buffer, in checkpoint order.
    public var parameters: [Parameter] {
        convStem.parameters + bn0.parameters + blocks.flatMap(\.parameters) + convHead.parameters + bn1.parameters + fc.parameters
    }

    /// A network of `config` with parameters from `factory` (random or placeholders).
    /// BatchNorm momentum 0.01 (TensorFlow's 0.99 decay, as efficientnet_pytorch sets it).
    public init(config: EfficientNetLiteConfig, factory: ParameterFactory) {
        self.config = config
        let eps = config.batchNormEpsilon
        convStem = Conv2d("_conv_stem", inChannels: 3, outChannels: config.stemChannels, kernel: (3, 3), stride: (2, 2),
                          padding: nil, bias: false, factory: factory)
        bn0 = BatchNorm2d("_bn0", features: config.stemChannels, epsilon: eps, momentum: 0.01, factory: factory)
        blocks = config.blocks.enumerated().map { MBConvBlock($1, epsilon: eps, factory: factory.scoped("_blocks.\($0)")) }
        let last = config.blocks.last!.outChannels
        convHead = Conv2d("_conv_head", inChannels: last, outChannels: config.headChannels, kernel: (1, 1), padding: nil,
                          bias: false, factory: factory)
        bn1 = BatchNorm2d("_bn1", features: config.headChannels, epsilon: eps, momentum: 0.01, factory: factory)
        fc = Linear("_fc", inFeatures: config.headChannels, outFeatures: config.numClasses, factory: factory)
    }

    /// Checkpoint architecture "efficientnet-lite". `load(from:)` is strict: every key of the
    /// network, BatchNorm running statistics and `num_batches_tracked` included, must be present
    /// with its shape.
    public static var architectures: [String] { ["efficientnet-lite"] }

    /// A network of `config` (every part is required; the checkpoint's keys choose nothing).
    public static func build(config: EfficientNetLiteConfig, checkpointKeys: Set<String>?, factory: ParameterFactory) -> EfficientNetLite {
        EfficientNetLite(config: config, factory: factory)
    }

    /// Differentiable forward pass. x [N, 3, H, W] → logits [N, classes]; `taps` (stage indices 0..<7
    /// for Lite0) selects stage outputs [N, C_s, H_s, W_s] to return as well (the last block of each
    /// stage, as `EfficientNetLiteConfig.stageEnds`).
    /// Training (context training): batch statistics, dropout before `_fc`, drop-connect rate scaled by
    /// block index / block count (efficientnet_pytorch extract_features).
    public func forward(_ x: Variable, context: ForwardContext? = nil, taps: Set<Int> = []) -> (logits: Variable, taps: [Int: Variable]) {
        let (last, out) = runBlocks(x, context: context, taps: taps, through: blocks.count - 1)
        let h = bn1(convHead(last), context: context).relu6()
        let pooled = h.mean(axes: [2, 3])
        let logits = fc(pooled.dropout(config.dropoutRate, context: context))
        return (logits, out)
    }

    /// Differentiable stage outputs only: the stem and the blocks up to the last stage in `stages`
    /// (stage indices as `forward`'s taps), nothing after — so in training mode no later BatchNorm
    /// updates its running statistics and no work is spent on the head.
    /// - Returns: [stage: [N, C_s, H_s, W_s]].
    /// - Precondition: `stages` is non-empty and within 0..<stageCount.
    public func stageOutputs(_ x: Variable, context: ForwardContext? = nil, stages: Set<Int>) -> [Int: Variable] {
        require(!stages.isEmpty && stages.allSatisfy { (0..<stageCount).contains($0) },
                "EfficientNetLite.stageOutputs: stages \(stages.sorted()) must be in 0..<\(stageCount)")
        return runBlocks(x, context: context, taps: stages, through: config.stageEnds[stages.max()!]).taps
    }

    /// Stem and blocks 0...`lastBlock` (drop-connect rate scaled by block index / block count), with
    /// the outputs of the stages in `taps`.
    private func runBlocks(_ x: Variable, context: ForwardContext?, taps: Set<Int>, through lastBlock: Int) -> (Variable, taps: [Int: Variable]) {
        require(x.rank == 4 && x.shape[1] == 3, "EfficientNetLite: input \(x.shape) must be [N, 3, H, W]")
        var h = bn0(convStem(x), context: context).relu6()
        var out: [Int: Variable] = [:]
        let ends = config.stageEnds
        for (i, block) in blocks.enumerated() where i <= lastBlock {
            h = block(h, context: context, dropConnect: config.dropConnectRate * Float(i) / Float(blocks.count))
            if let stage = ends.firstIndex(of: i), taps.contains(stage) { out[stage] = h }
        }
        return (h, out)
    }

    // MARK: Inference engine

    private let engineLock = Mutex<InferenceEngine?>(nil)

    /// Fast inference (evaluation mode, no graph): x [N, 3, H, W] normalised → logits [N, classes] and
    /// the requested stage outputs [N, C_s, H_s, W_s] (see `forward`). Folds BatchNorm into the
    /// convolutions on first use (call `invalidateInferenceCache()` after changing parameters); buffers
    /// are reused across calls of the same input shape. Calls are serialised.
    public func predict(_ x: Tensor, taps: Set<Int> = []) -> (logits: Tensor, taps: [Int: Tensor]) {
        require(x.rank == 4 && x.shape[1] == 3, "EfficientNetLite.predict: input \(x.shape) must be [N, 3, H, W]")
        return engineLock.withLock { engine in
            if engine == nil { engine = InferenceEngine(self) }
            return engine!.run(x.contiguous(), taps: taps)
        }
    }

    /// The stage outputs only (feature extraction): [stage: [N, C_s, H_s, W_s]].
    public func features(_ x: Tensor, stages: Set<Int>) -> [Int: Tensor] { predict(x, taps: stages).taps }

    /// Drops the folded weights and buffers of `predict` (after training or loading new parameters).
    public func invalidateInferenceCache() { engineLock.withLock { $0 = nil } }

    /// Number of stages `taps` can name.
    public var stageCount: Int { config.stageStarts.count }

    /// Images HWC RGB UInt8 of any size → the network input [N, 3, R, R]: centre crop of `cropFraction`
    /// of the shorter side, bicubic resize to R×R (Pillow-style, antialiased), then `normalize`
    /// (the preprocessing the converter records).
    public func preprocess(_ images: [RGBImage]) -> Tensor {
        let r = config.resolution
        return normalize(images.map { $0.centerCropped(fraction: config.cropFraction).resized(width: r, height: r) })
    }

    /// Images HWC RGB UInt8, all of one size H×W → [N, 3, H, W] with (x − mean)/std per channel.
    /// - Precondition: the images share one size.
    public func normalize(_ images: [RGBImage]) -> Tensor {
        guard let first = images.first else { return Tensor.zeros([0, 3, config.resolution, config.resolution]) }
        let h = first.height, w = first.width
        require(images.allSatisfy { $0.width == w && $0.height == h }, "EfficientNetLite.normalize: images of different sizes")
        let out = Tensor(uninitializedShape: [images.count, 3, h, w])
        let po = out.storage.pointer
        for (n, image) in images.enumerated() {
            image.pixels.withUnsafeBufferPointer { px in
                for c in 0..<3 {
                    let plane = po + (n * 3 + c) * h * w, m = config.mean[c], s = 1 / config.std[c]
                    for i in 0..<h * w { plane[i] = (Float(px[i * 3 + c]) - m) * s }
                }
            }
        }
        return out
    }
}

/// The folded, buffer-reusing inference path of `EfficientNetLite` (internal layout [C, N·H·W]).
final class InferenceEngine: @unchecked Sendable {
    /// A convolution with BatchNorm folded in: weight' = weight·scale, bias' = shift.
    struct FoldedConv {
        let weight: Tensor  // [O, C/groups·kh·kw] contiguous
        let bias: Tensor    // [O]
        let out: Int, kernel: Int, stride: Int
    }
    struct Block {
        let expand: FoldedConv?, depthwise: FoldedConv, project: FoldedConv
        let skip: Bool
    }
    let stem: FoldedConv
    let blocks: [Block]
    let head: FoldedConv
    let fcWeight: Tensor, fcBias: Tensor
    let stageEnds: [Int]
    /// Workspace: four activation buffers of `capacity` floats, reused while the input shape repeats.
    var buffers: [UnsafeMutablePointer<Float>] = []
    var capacity = 0
    var column: UnsafeMutablePointer<Float>? = nil
    var columnCapacity = 0

    init(_ model: EfficientNetLite) {
        func fold(_ conv: Conv2d, _ bn: BatchNorm2d) -> FoldedConv {
            let (scale, shift) = bn.inferenceAffine
            let w = conv.weight.value.contiguous()
            let o = w.shape[0], per = w.count / o
            var values = w.scalars
            for i in 0..<o { for j in 0..<per { values[i * per + j] *= scale[i] } }
            return FoldedConv(weight: Tensor(values, shape: [o, per]), bias: Tensor(shift), out: o,
                              kernel: w.shape[2], stride: conv.stride.0)
        }
        stem = fold(model.convStem, model.bn0)
        blocks = model.blocks.map { b in
            Block(expand: b.expandConv.map { fold($0, b.bn0!) }, depthwise: fold(b.depthwiseConv, b.bn1),
                  project: fold(b.projectConv, b.bn2), skip: b.config.skip)
        }
        head = fold(model.convHead, model.bn1)
        fcWeight = model.fc.weight.value.contiguous()
        fcBias = model.fc.bias!.value.contiguous()
        stageEnds = model.config.stageEnds
    }

    deinit {
        for b in buffers { b.deallocate() }
        column?.deallocate()
    }

    /// Ensures four buffers of at least `count` floats.
    func reserve(_ count: Int) {
        guard count > capacity else { return }
        for b in buffers { b.deallocate() }
        buffers = (0..<4).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: count) }
        capacity = count
    }

    func run(_ x: Tensor, taps: Set<Int>) -> (logits: Tensor, taps: [Int: Tensor]) {
        let n = x.shape[0]
        var h = x.shape[2], w = x.shape[3]
        // Plan the largest activation: expanded channels at each block's input resolution.
        var largest = 0
        do {
            var ph = (h + 1) / 2, pw = (w + 1) / 2
            largest = stem.out * ph * pw
            for b in blocks {
                let hidden = b.depthwise.out
                largest = Swift.max(largest, hidden * ph * pw)
                ph = (ph + b.depthwise.stride - 1) / b.depthwise.stride
                pw = (pw + b.depthwise.stride - 1) / b.depthwise.stride
                largest = Swift.max(largest, b.project.out * ph * pw)
            }
            largest = Swift.max(largest, head.out * ph * pw)
        }
        reserve(largest * n)

        // Stem: per image im2col [27, OH·OW] and one GEMM into columns n·L ..< (n + 1)·L of [32, N·L].
        let win = Window2d(kernel: (stem.kernel, stem.kernel), stride: (stem.stride, stem.stride),
                           padding: .tfSame(input: (h, w), kernel: (stem.kernel, stem.kernel), stride: (stem.stride, stem.stride)))
        let (oh, ow) = win.outputSize(h, w, op: "EfficientNetLite stem")
        let l = oh * ow, kk = 3 * stem.kernel * stem.kernel
        if columnCapacity < kk * l {
            column?.deallocate()
            column = UnsafeMutablePointer<Float>.allocate(capacity: kk * l)
            columnCapacity = kk * l
        }
        var cur = buffers[0]
        let px = x.storage.pointer + x.offset
        withExtendedLifetime(x) {
            for b in 0..<n {
                Im2col.forward(px + b * 3 * h * w, channels: 3, h: h, w: w, window: win, oh: oh, ow: ow, into: column!)
                stem.weight.withUnsafeBufferPointer { wp in
                    BLAS.sgemm(transA: false, transB: false, m: stem.out, n: l, k: kk, alpha: 1, a: wp.baseAddress!, lda: kk,
                               b: column!, ldb: l, beta: 0, c: cur + b * l, ldc: n * l)
                }
            }
        }
        h = oh; w = ow
        InferenceEngine.epilogue(cur, rows: stem.out, columns: n * l, bias: stem.bias, relu6: true, residual: nil)
        var channels = stem.out
        var tapped: [Int: Tensor] = [:]
        for (i, b) in blocks.enumerated() {
            let free = buffers.filter { $0 != cur }
            var t = cur
            if let e = b.expand {
                InferenceEngine.pointwise(t, channels: channels, columns: n * h * w, e, relu6: true, residual: nil, into: free[0])
                t = free[0]
            }
            let dwOut = t == free[0] ? free[1] : free[0]
            let (nh, nw) = InferenceEngine.depthwise(t, channels: b.depthwise.out, n: n, h: h, w: w, b.depthwise, into: dwOut)
            let projOut = free.first { $0 != dwOut && $0 != t }!
            InferenceEngine.pointwise(dwOut, channels: b.depthwise.out, columns: n * nh * nw, b.project, relu6: false,
                                      residual: b.skip ? cur : nil, into: projOut)
            cur = projOut
            h = nh; w = nw; channels = b.project.out
            if let stage = stageEnds.firstIndex(of: i), taps.contains(stage) {
                tapped[stage] = InferenceEngine.toNCHW(cur, channels: channels, n: n, h: h, w: w)
            }
        }
        let headOut = buffers.first { $0 != cur }!
        InferenceEngine.pointwise(cur, channels: channels, columns: n * h * w, head, relu6: true, residual: nil, into: headOut)
        // Global average pool → [N, head] then the classifier.
        let pooled = Tensor(uninitializedShape: [n, head.out])
        let pp = pooled.storage.pointer, hw = h * w
        Threading.parallelFor(head.out, grain: 64) { range in
            for c in range {
                for b in 0..<n {
                    let row = headOut + c * n * hw + b * hw
                    var s: Float = 0
                    for i in 0..<hw { s += row[i] }
                    pp[b * head.out + c] = s / Float(hw)
                }
            }
        }
        let logits = Tensor.linear(pooled, weight: fcWeight, bias: fcBias)
        return (logits, tapped)
    }

    /// [C, N, H, W] buffer → NCHW tensor.
    static func toNCHW(_ src: UnsafeMutablePointer<Float>, channels: Int, n: Int, h: Int, w: Int) -> Tensor {
        let out = Tensor(uninitializedShape: [n, channels, h, w])
        let po = out.storage.pointer, hw = h * w
        for c in 0..<channels { for b in 0..<n { (po + (b * channels + c) * hw).update(from: src + (c * n + b) * hw, count: hw) } }
        return out
    }

    /// dst [O, L] = W [O, C] · src [C, L], then bias (+ residual) (+ ReLU6).
    static func pointwise(_ src: UnsafeMutablePointer<Float>, channels: Int, columns: Int, _ conv: FoldedConv, relu6: Bool,
                          residual: UnsafeMutablePointer<Float>?, into dst: UnsafeMutablePointer<Float>) {
        conv.weight.withUnsafeBufferPointer { wp in
            BLAS.sgemm(transA: false, transB: false, m: conv.out, n: columns, k: channels, alpha: 1, a: wp.baseAddress!,
                       lda: channels, b: src, ldb: columns, beta: 0, c: dst, ldc: columns)
        }
        epilogue(dst, rows: conv.out, columns: columns, bias: conv.bias, relu6: relu6, residual: residual)
    }

    /// row r ← row r + bias[r] (+ residual row r), clamped to [0, 6] when `relu6`.
    static func epilogue(_ p: UnsafeMutablePointer<Float>, rows: Int, columns: Int, bias: Tensor, relu6: Bool,
                         residual: UnsafeMutablePointer<Float>?) {
        bias.withUnsafeBufferPointer { bp in
            let pb = bp.baseAddress!
            Threading.parallelFor(rows, grain: Swift.max(1, 32768 / Swift.max(columns, 1))) { range in
                let zero = Vec8(repeating: 0), six = Vec8(repeating: 6)
                for r in range {
                    let row = p + r * columns, res = residual.map { $0 + r * columns }
                    let b8 = Vec8(repeating: pb[r])
                    var i = 0
                    while i + 8 <= columns {
                        var v = load8(row + i) + b8
                        if let res { v += load8(res + i) }
                        if relu6 { v = v.replacing(with: zero, where: v .< zero).replacing(with: six, where: v .> six) }
                        store8(v, row + i)
                        i += 8
                    }
                    while i < columns {
                        var v = row[i] + pb[r]
                        if let res { v += res[i] }
                        if relu6 { v = Swift.min(Swift.max(v, 0), 6) }
                        row[i] = v
                        i += 1
                    }
                }
            }
        }
    }

    /// Depthwise convolution (TF "SAME") + bias + ReLU6 over [C, N, H, W] planes; returns (OH, OW).
    static func depthwise(_ src: UnsafeMutablePointer<Float>, channels: Int, n: Int, h: Int, w: Int, _ conv: FoldedConv,
                          into dst: UnsafeMutablePointer<Float>) -> (Int, Int) {
        let k = conv.kernel, s = conv.stride
        let win = Window2d(kernel: (k, k), stride: (s, s), padding: .tfSame(input: (h, w), kernel: (k, k), stride: (s, s)))
        let (oh, ow) = win.outputSize(h, w, op: "depthwise")
        conv.weight.withUnsafeBufferPointer { wp in
            conv.bias.withUnsafeBufferPointer { bp in
                Depthwise.forward(src, planes: channels * n, h: h, w: w, weight: wp.baseAddress!, bias: bp.baseAddress!,
                                  window: win, relu6: true, out: dst) { $0 / n }
            }
        }
        return (oh, ow)
    }
}
