import MLCore

extension MemoryBank {
    /// The file format name (root attribute `format`).
    public static let format = "reb-memory-bank"

    /// Writes the bank atomically: `/features` float32 [M, D], `/neighbor_distances` float32 [M, K_max],
    /// root attributes `format`, `format_version` (1) and the provenance (`backbone`, `backbone_sha256`,
    /// `input_size`, `stages`, `pretrain_dimension`, `dimension`, `patch_size`, `image_height`,
    /// `image_width`, `dataset`, `train_images`, `seed`, `coreset_ratio`, `total_patches`, `density_from`).
    /// - Throws: `HDF5Error`.
    public func write(to path: String) throws {
        try HDF5File.createAtomically(path) { file in
            let root = file.root
            try root.createDataset("features", shape: [count, dimension], data: features)
            try root.createDataset("neighbor_distances", shape: [count, storedNeighbors], data: neighborDistances)
            let a = root.attributes, p = provenance
            try a.set("format", .string(MemoryBank.format))
            try a.set("format_version", .int(1))
            try a.set("backbone", .string(p.backbone))
            try a.set("backbone_sha256", .string(p.backboneSHA256))
            try a.set("input_size", .int(p.features.inputSize))
            try a.set("stages", .ints(p.features.stages))
            try a.set("pretrain_dimension", .int(p.features.pretrainDimension))
            try a.set("dimension", .int(p.features.dimension))
            try a.set("patch_size", .int(p.features.patchSize))
            try a.set("image_height", .int(p.imageHeight))
            try a.set("image_width", .int(p.imageWidth))
            try a.set("dataset", .string(p.dataset))
            try a.set("train_images", .int(p.trainImages))
            try a.set("seed", .string(String(p.seed)))
            try a.set("coreset_ratio", .double(p.coresetRatio))
            try a.set("total_patches", .int(p.totalPatches))
            try a.set("density_from", .string(p.densitySource.rawValue))
        }
    }

    /// Reads a bank written by `write` (a file without `density_from`, written before it existed,
    /// has densities among the bank features: `.bank`).
    /// - Throws: `REBError.badBank` (not a bank, missing attribute, shapes that disagree),
    ///   `HDF5Error` (missing or unreadable file).
    public static func read(from path: String) throws -> MemoryBank {
        let file = try HDF5File(path: path)
        let a = file.root.attributes
        func attribute<T>(_ name: String, _ expected: String, _ get: (String) throws -> T) throws -> T {
            guard (try? a.contains(name)) == true, let v = try? get(name) else {
                throw REBError.badBank(file: path, key: name, expected: expected)
            }
            return v
        }
        guard (try? a.string("format")) == MemoryBank.format else {
            throw REBError.badBank(file: path, key: "format", expected: "'\(MemoryBank.format)' (a file written by `reb fit`)")
        }
        let features = PatchFeatureConfig(inputSize: try attribute("input_size", "an integer", a.int),
                                          stages: try attribute("stages", "integers", a.ints),
                                          pretrainDimension: try attribute("pretrain_dimension", "an integer", a.int),
                                          dimension: try attribute("dimension", "an integer", a.int),
                                          patchSize: try attribute("patch_size", "an integer", a.int))
        let provenance = BankProvenance(
            backbone: try attribute("backbone", "a string", a.string), backboneSHA256: try attribute("backbone_sha256", "a string", a.string),
            features: features, imageHeight: try attribute("image_height", "an integer", a.int),
            imageWidth: try attribute("image_width", "an integer", a.int), dataset: try attribute("dataset", "a string", a.string),
            trainImages: try attribute("train_images", "an integer", a.int),
            seed: UInt64(try attribute("seed", "a decimal string", a.string)) ?? 0,
            coresetRatio: try attribute("coreset_ratio", "a number", a.double), totalPatches: try attribute("total_patches", "an integer", a.int),
            densitySource: try a.contains("density_from")
                ? attribute("density_from", "all_patches or bank", { name -> DensitySource in
                    guard let source = DensitySource(rawValue: try a.string(name)) else { throw REBError.badBank(file: path, key: name, expected: "all_patches or bank") }
                    return source
                }) : .bank)
        guard (try? file.root.contains("features")) == true, (try? file.root.contains("neighbor_distances")) == true else {
            throw REBError.badBank(file: path, key: "features", expected: "datasets /features and /neighbor_distances")
        }
        let f = try file.dataset("features"), n = try file.dataset("neighbor_distances")
        guard f.rank == 2, f.shape[1] == features.dimension, f.shape[0] >= 2 else {
            throw REBError.badBank(file: path, key: "features", expected: "float32 [M ≥ 2, \(features.dimension)] (the dimension attribute), found \(f.shape)")
        }
        guard n.rank == 2, n.shape[0] == f.shape[0], n.shape[1] >= 1 else {
            throw REBError.badBank(file: path, key: "neighbor_distances", expected: "[\(f.shape[0]), K_max], found \(n.shape)")
        }
        return MemoryBank(features: try f.read(as: Float.self), dimension: features.dimension,
                          neighborDistances: try n.read(as: Float.self), storedNeighbors: n.shape[1], provenance: provenance)
    }
}
