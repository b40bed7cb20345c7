import MLCore

/// How a test patch is scored against the memory bank (Docs/reb.md; Lyu et al. 2023).
public enum ScoringMethod: Sendable, Equatable, CustomStringConvertible {
    /// PatchCore: d²(q, m*), the squared distance to the nearest bank feature (k = 1).
    case knn
    /// REB's LDKNN: d²(q, m*) − λ·ρ_K(m*).
    case ldknn(k: Int, lambda: Float)

    /// "knn" or "ldknn_k9" (λ = 1) / "ldknn_k9_lambda0.5".
    public var description: String {
        switch self {
        case .knn: return "knn"
        case .ldknn(let k, let lambda): return lambda == 1 ? "ldknn_k\(k)" : "ldknn_k\(k)_lambda\(lambda)"
        }
    }
}

/// The nearest bank feature of every patch of a batch of images.
public struct PatchMatches: Sendable {
    /// Squared distances to the nearest bank feature, [N·P].
    public var distances: [Float]
    /// Index of that feature in the bank, [N·P].
    public var nearest: [Int32]
}

/// Scores images against a memory bank: patch features, exact nearest bank feature (`FlatL2Index`),
/// patch scores by kNN or LDKNN, image score and pixel map (`AnomalyMaps`).
public final class AnomalyScorer {
    /// The feature extractor (same settings as the bank's).
    public let extractor: PatchFeatureExtractor
    /// The memory bank.
    public let bank: MemoryBank
    /// The exact index over the bank's features.
    public let index: FlatL2Index

    /// - Throws: `SearchError` when the bank holds non-finite features.
    public init(extractor: PatchFeatureExtractor, bank: MemoryBank) throws {
        self.extractor = extractor
        self.bank = bank
        index = try FlatL2Index(vectors: bank.features, dimension: bank.dimension)
    }

    /// Nearest bank feature of every patch of `images`.
    /// - Throws: `SearchError` for non-finite features.
    public func match(_ images: [RGBImage]) throws -> PatchMatches {
        let features = extractor(images).contiguous().scalars
        let found = try index.search(features, k: 1)
        return PatchMatches(distances: found.distances, nearest: found.indices)
    }

    /// Patch scores of `matches` under `method`.
    /// - Throws: `REBError.invalidArgument` when K is outside what the bank stores.
    public func patchScores(_ matches: PatchMatches, method: ScoringMethod) throws -> [Float] {
        switch method {
        case .knn: return matches.distances
        case .ldknn(let k, let lambda):
            return LocalDensityKNN.scores(distances: matches.distances, nearest: matches.nearest, densities: try bank.densities(k: k),
                                          lambda: lambda)
        }
    }

    /// Image scores (`AnomalyMaps.imageScore`) of patch scores [N·P] laid out image by image;
    /// `window` 3 is the reference's 3×3 stride-3 average pool then max, 1 a plain max.
    public func imageScores(_ patchScores: [Float], window: Int = 3) -> [Float] {
        let p = extractor.patchesPerImage
        return stride(from: 0, to: patchScores.count, by: p).map {
            AnomalyMaps.imageScore(Array(patchScores[$0..<($0 + p)]), height: extractor.gridHeight, width: extractor.gridWidth,
                                   window: window)
        }
    }

    /// Pixel anomaly map [S, S] (S = input size) of image `image` of a batch's patch scores.
    public func pixelMap(_ patchScores: [Float], image: Int, sigma: Float = 4) -> [Float] {
        let p = extractor.patchesPerImage
        return AnomalyMaps.pixelMap(Array(patchScores[(image * p)..<((image + 1) * p)]), height: extractor.gridHeight,
                                    width: extractor.gridWidth, size: extractor.config.inputSize, sigma: sigma)
    }
}
