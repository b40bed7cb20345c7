import MLCore

/// Image AUROC of anomaly scores, overall and per defect type (Docs/reb.md, "Evaluation"; the
/// paper's Table 1 reports image AUROC per MVTec category).
public struct ImageAUROC: Sendable, Equatable {
    /// AUROC of all images: label 0 normal (negative), any label > 0 anomalous (positive).
    public var overall: Double
    /// For each defect label t > 0 present: AUROC of the normal images against the images of type t
    /// only, keyed by `labelNames[t]`.
    public var perType: [String: Double]

    /// - Parameters:
    ///   - scores: one score per image (higher: more anomalous).
    ///   - labels: one label per image, 0 normal, > 0 a defect type (an index into `labelNames`).
    ///   - labelNames: names of the labels.
    /// - Throws: `MetricsError` when a class is missing or a score is not finite.
    public init(scores: [Double], labels: [Int], labelNames: [String]) throws {
        overall = try ROC.auroc(scores: scores, labels: labels.map { $0 > 0 ? 1 : 0 })
        perType = [:]
        for t in Set(labels).sorted() where t > 0 {
            let keep = labels.indices.filter { labels[$0] == 0 || labels[$0] == t }
            perType[labelNames[t]] = try ROC.auroc(scores: keep.map { scores[$0] }, labels: keep.map { labels[$0] > 0 ? 1 : 0 })
        }
    }
}

extension AnomalyDataset {
    /// Calls `body` with consecutive batches of `indices` (at most `batchSize` each, in order) and
    /// their decoded images, then `progress` with the batch's size.
    /// - Throws: what `body` throws; `HDF5Error` and image errors from reading.
    public func forEachBatch(_ indices: [Int], batchSize: Int, progress: (Int) -> Void = { _ in },
                             _ body: (_ batch: ArraySlice<Int>, _ images: [RGBImage]) throws -> Void) throws {
        for batch in Batching.cut(indices, batchSize: batchSize) {
            try body(batch[...], try images(batch))
            progress(batch.count)
        }
    }
}

/// Pixel-level evaluation on synthetic defects (Docs/reb.md, "Evaluation"): the textile dataset has
/// no pixel masks, so DefectMaker puts one defect on each of a set of held-out normal images (the
/// six kinds in turn, cut fills from `donors`) and the pixel maps of kNN and LDKNN are scored
/// against the defect masks at the network's input size (masks resized by nearest neighbour).
public struct SyntheticDefectEvaluation: Sendable {
    /// Results of one scoring method on the defects of one kind (or all).
    public struct KindResult: Sendable, Equatable {
        /// Pixel AUROC over all pixels of these defective images.
        public var pixelAUROC: Double
        /// Image AUROC of these defective images (positive) against the given normal images' scores
        /// (negative), with the pooled image score; nil when no normal scores were given.
        public var imageAUROCAgainstNormals: Double?
        /// The same with the plain maximum of the patch scores as the image score.
        public var imageAUROCPlainMaxAgainstNormals: Double?
    }

    /// Results of one scoring method.
    public struct MethodResult: Sendable, Equatable {
        /// Pixel AUROC over all pixels of all defective images.
        public var pixelAUROC: Double
        /// Image AUROC of the defective images (positive) against the given normal images' scores
        /// (negative); nil when no normal scores were given.
        public var imageAUROCAgainstNormals: Double?
        /// The same with plain-maximum image scores; nil when no normal plain-maximum scores were given.
        public var imageAUROCPlainMaxAgainstNormals: Double?
        /// By `DefectKind.description` ("rect-cut", …): the same metrics on that kind's defects only.
        public var perKind: [String: KindResult]
    }

    /// Defective images evaluated.
    public var images: Int
    /// Fraction of the evaluated pixels inside a defect.
    public var defectivePixelFraction: Double
    /// One result per method, in the order of `methods`.
    public var results: [MethodResult]

    /// Makes the defects and scores them.
    /// - Parameters:
    ///   - scorer: the memory bank and feature extractor.
    ///   - dataset: where `sources` are read from.
    ///   - sources: dataset rows of the normal images to put defects on.
    ///   - donors: images the cut fills are taken from.
    ///   - methods: the scoring methods (e.g. kNN and one LDKNN K).
    ///   - normalScores: per method, the pooled image scores of normal images to compare against (or []).
    ///   - normalPlainMaxScores: per method, their plain-maximum image scores (or []).
    ///   - batchSize: images per forward pass.
    ///   - rng: the defects' generator (same state, same defects).
    ///   - progress: called with each batch's size.
    /// - Throws: `REBError` (K above the bank's stored neighbours), `MetricsError`, read errors.
    public init(scorer: AnomalyScorer, dataset: AnomalyDataset, sources: [Int], donors: [RGBImage], methods: [ScoringMethod],
                normalScores: [[Float]], normalPlainMaxScores: [[Float]] = [], batchSize: Int, rng: inout RandomGenerator,
                progress: (Int) -> Void = { _ in }) throws {
        var pixelScores = [[Float]](repeating: [], count: methods.count), imageScores = pixelScores, plainScores = pixelScores
        var pixelLabels: [Int] = [], kinds: [String] = []
        let size = scorer.extractor.config.inputSize
        try dataset.forEachBatch(sources, batchSize: batchSize, progress: progress) { _, images in
            let made = DefectMaker().synthesize(images, donors: donors, rng: &rng)
            let matches = try scorer.match(made.map(\.image))
            for (m, method) in methods.enumerated() {
                let patch = try scorer.patchScores(matches, method: method)
                imageScores[m] += scorer.imageScores(patch)
                plainScores[m] += scorer.imageScores(patch, window: 1)
                for j in made.indices { pixelScores[m] += scorer.pixelMap(patch, image: j) }
            }
            for item in made {
                pixelLabels += DefectMaker.resizeMask(item.mask, width: dataset.width, height: dataset.height, size: size).map(Int.init)
                kinds.append(item.kind.description)
            }
        }
        images = sources.count
        defectivePixelFraction = Double(pixelLabels.reduce(0, +)) / Double(pixelLabels.count)
        let pixelsPerImage = size * size
        func againstNormals(_ normals: [Float], _ defects: [Float]) throws -> Double? {
            normals.isEmpty || defects.isEmpty ? nil
                : try ROC.auroc(scores: (normals + defects).map(Double.init), labels: normals.map { _ in 0 } + defects.map { _ in 1 })
        }
        func result(_ m: Int, images rows: [Int]) throws -> KindResult {
            let normals = m < normalScores.count ? normalScores[m] : [], plain = m < normalPlainMaxScores.count ? normalPlainMaxScores[m] : []
            var pixels: [Double] = [], labels: [Int] = []
            for j in rows {
                pixels += pixelScores[m][(j * pixelsPerImage)..<((j + 1) * pixelsPerImage)].map(Double.init)
                labels += pixelLabels[(j * pixelsPerImage)..<((j + 1) * pixelsPerImage)]
            }
            return KindResult(pixelAUROC: try ROC.auroc(scores: pixels, labels: labels),
                              imageAUROCAgainstNormals: try againstNormals(normals, rows.map { imageScores[m][$0] }),
                              imageAUROCPlainMaxAgainstNormals: try againstNormals(plain, rows.map { plainScores[m][$0] }))
        }
        results = try methods.indices.map { m in
            let all = try result(m, images: Array(kinds.indices))
            var perKind: [String: KindResult] = [:]
            for kind in Set(kinds) { perKind[kind] = try result(m, images: kinds.indices.filter { kinds[$0] == kind }) }
            return MethodResult(pixelAUROC: all.pixelAUROC, imageAUROCAgainstNormals: all.imageAUROCAgainstNormals,
                                imageAUROCPlainMaxAgainstNormals: all.imageAUROCPlainMaxAgainstNormals, perKind: perKind)
        }
    }
}

/// Pixel anomaly maps of a few test images, for inspection (Docs/reb.md, "Maps").
public struct AnomalyMapRecord: Sendable {
    /// The dataset row.
    public var index: Int
    /// Its label (0 normal, > 0 a defect type).
    public var label: Int
    /// The image resized to the network input, S×S.
    public var input: RGBImage
    /// kNN pixel map [S·S] (bilinear upsampling, Gaussian σ = 4).
    public var knn: [Float]
    /// LDKNN pixel map [S·S].
    public var ldknn: [Float]

    public init(index: Int, label: Int, input: RGBImage, knn: [Float], ldknn: [Float]) {
        self.index = index
        self.label = label
        self.input = input
        self.knn = knn
        self.ldknn = ldknn
    }

    /// Writes records (in the given order) as one HDF5 file: `/images` uint8 [N, S, S, 3],
    /// `/maps_knn` and `/maps_ldknn` float32 [N, S, S], `/index` and `/label` int32 [N]; root
    /// attributes `label_names`, `maps_k` (the LDKNN K) and any `attributes` given. Every dataset
    /// has one row per record, so files of disjoint record sets concatenate row-wise.
    /// - Throws: `HDF5Error`.
    public static func write(_ records: [AnomalyMapRecord], size: Int, labelNames: [String], mapsK: Int,
                             attributes: [String: HDF5AttributeValue] = [:], to path: String) throws {
        try HDF5File.createAtomically(path) { file in
            let n = records.count
            try file.root.createDataset("images", shape: [n, size, size, 3], data: records.flatMap(\.input.pixels))
            try file.root.createDataset("maps_knn", shape: [n, size, size], data: records.flatMap(\.knn))
            try file.root.createDataset("maps_ldknn", shape: [n, size, size], data: records.flatMap(\.ldknn))
            try file.root.createDataset("index", shape: [n], data: records.map { Int32($0.index) })
            try file.root.createDataset("label", shape: [n], data: records.map { Int32($0.label) })
            try file.root.attributes.set("label_names", .strings(labelNames))
            try file.root.attributes.set("maps_k", .int(mapsK))
            for (name, value) in attributes { try file.root.attributes.set(name, value) }
        }
    }
}

/// Encodes as report metrics: `pixel_auroc`, when normal scores were given
/// `image_auroc_vs_held_out_normals` and `image_auroc_plain_max_vs_held_out_normals`, and `per_kind`
/// (snake_case keys under `reb eval`'s `metrics.synthetic_defects`).
extension SyntheticDefectEvaluation.MethodResult: Encodable {
    enum CodingKeys: String, CodingKey {
        case pixelAUROC, imageAUROCAgainstNormals = "imageAurocVsHeldOutNormals"
        case imageAUROCPlainMaxAgainstNormals = "imageAurocPlainMaxVsHeldOutNormals", perKind
    }
}

/// The same keys for one defect kind (under `per_kind`).
extension SyntheticDefectEvaluation.KindResult: Encodable {
    enum CodingKeys: String, CodingKey {
        case pixelAUROC, imageAUROCAgainstNormals = "imageAurocVsHeldOutNormals"
        case imageAUROCPlainMaxAgainstNormals = "imageAurocPlainMaxVsHeldOutNormals"
    }
}
