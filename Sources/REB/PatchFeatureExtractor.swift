import MLCore

/// Settings of the patch features (Docs/reb.md; Lyu et al. 2023; PatchCore's `_embed`).
public struct PatchFeatureConfig: Sendable, Equatable {
    /// Square network input side: every image is resized (bicubic, whole image, no crop) to this.
    public var inputSize: Int
    /// EfficientNet-Lite stages whose outputs are tapped; the first sets the patch grid. Default
    /// [2, 4]: strides 8 and 16 (40 and 112 channels), the places of ResNet's layer2 and layer3.
    public var stages: [Int]
    /// PatchCore's `pretrain_embed_dimension` (each stage's pooled width).
    public var pretrainDimension: Int
    /// D, the patch feature width (`target_embed_dimension`).
    public var dimension: Int
    /// Neighbourhood side of the local aggregation (3, PatchCore's `patchsize`).
    public var patchSize: Int

    /// The defaults above: 224² input (28×28 grid), stages [2, 4], D = 512, 3×3 neighbourhoods.
    public init(inputSize: Int = 224, stages: [Int] = [2, 4], pretrainDimension: Int = 512, dimension: Int = 512, patchSize: Int = 3) {
        self.inputSize = inputSize
        self.stages = stages
        self.pretrainDimension = pretrainDimension
        self.dimension = dimension
        self.patchSize = patchSize
    }
}

/// PatchCore-style locally aware patch features from a frozen EfficientNet-Lite (Roth et al. 2022,
/// §3.1; patchcore/patchcore.py `_embed`): each tapped stage map is unfolded into 3×3 neighbourhoods
/// (zero padding 1, stride 1), later (coarser) stages are bilinearly upsampled (align_corners = false)
/// to the first stage's grid, each stage is adaptive-average-pooled to `pretrainDimension` and the
/// concatenation to D. Pooling and unfolding are linear, so stage l becomes one 3×3 convolution with
/// the weight A_lᵀ (`PatchAggregation`) and the upsampling is applied after it (the two commute).
public final class PatchFeatureExtractor {
    /// The backbone (inference engine, BatchNorm folded).
    public let model: EfficientNetLite
    /// The settings.
    public let config: PatchFeatureConfig
    /// Rows and columns of the patch grid (of the first stage).
    public let gridHeight: Int, gridWidth: Int
    /// Per stage: convolution weight [D, C_l, k, k].
    let weights: [Tensor]

    /// Patches per image.
    public var patchesPerImage: Int { gridHeight * gridWidth }

    /// - Throws: `REBError.invalidArgument` for stages outside the network or not in increasing order,
    ///   an input size under 32, widths < 1 or an even or non-positive patch size.
    public init(model: EfficientNetLite, config: PatchFeatureConfig) throws {
        let stageCount = model.stageCount
        guard !config.stages.isEmpty, config.stages.allSatisfy({ (0..<stageCount).contains($0) }),
              zip(config.stages, config.stages.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw REBError.invalidArgument("the tapped stages \(config.stages.map(String.init).joined(separator: ",")) must be increasing stage indices in 0..<\(stageCount)")
        }
        guard config.inputSize >= 32 else { throw REBError.invalidArgument("the input size \(config.inputSize) must be at least 32 pixels") }
        guard config.dimension >= 1, config.pretrainDimension >= 1 else { throw REBError.invalidArgument("feature widths must be positive") }
        guard config.patchSize >= 1, config.patchSize % 2 == 1 else {
            throw REBError.invalidArgument("the patch size \(config.patchSize) must be a positive odd number")
        }
        self.model = model
        self.config = config
        // Grid of each stage: TF "SAME" convolutions give ⌈size / stride⌉ at every strided layer.
        var size = (config.inputSize + 1) / 2
        var grids: [Int: Int] = [:]
        let ends = model.config.stageEnds
        for (i, block) in model.config.blocks.enumerated() {
            size = (size + block.stride - 1) / block.stride
            if let stage = ends.firstIndex(of: i) { grids[stage] = size }
        }
        gridHeight = grids[config.stages[0]]!
        gridWidth = gridHeight
        let channels = config.stages.map { model.config.blocks[ends[$0]].outChannels }
        let k = config.patchSize
        let matrices = PatchAggregation.matrices(widths: channels.map { $0 * k * k }, pretrainDimension: config.pretrainDimension,
                                                 dimension: config.dimension)
        // A_l [C·k·k, D] → conv weight [D, C, k, k] (transpose).
        weights = zip(channels, matrices).map { c, a in
            Tensor(a, shape: [c * k * k, config.dimension]).transposed().contiguous().reshaped([config.dimension, c, k, k])
        }
    }

    /// The network input of `images`: each resized to inputSize² (bicubic, antialiased) and normalised
    /// with the checkpoint's mean and std → [N, 3, S, S].
    public func input(_ images: [RGBImage]) -> Tensor {
        let s = config.inputSize
        return model.normalize(images.map { $0.resized(width: s, height: s) })
    }

    /// Patch features of `images` → [N·P, D] row-major (image-major, then grid row, then column).
    public func callAsFunction(_ images: [RGBImage]) -> Tensor {
        features(input(images))
    }

    /// Patch features of a network input x [N, 3, S, S] → [N·P, D].
    public func features(_ x: Tensor) -> Tensor {
        let maps = model.features(x, stages: Set(config.stages))
        let pad = Padding2d.all(config.patchSize / 2)
        var sum: Tensor?
        for (stage, weight) in zip(config.stages, weights) {
            var h = Tensor.conv2d(maps[stage]!, weight: weight, padding: pad)
            if h.shape[2] != gridHeight || h.shape[3] != gridWidth {
                h = h.resizeBilinear(to: (gridHeight, gridWidth), alignCorners: false)
            }
            sum = sum.map { $0 + h } ?? h
        }
        let n = x.shape[0]
        return sum!.permuted([0, 2, 3, 1]).contiguous().reshaped([n * patchesPerImage, config.dimension])
    }
}
