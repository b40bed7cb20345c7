import XCTest
import MLCore
@testable import REB

/// LDKNN densities of a coreset bank from all training patches (the REB reference's
/// `get_ld_dist(embeddings, core_embeddings)`) against a brute force, and the bank file's record of it.
final class FullSetDensityTests: XCTestCase {
    private func provenance(ratio: Double, source: DensitySource) -> BankProvenance {
        BankProvenance(backbone: "b.h5", backboneSHA256: "abc", features: PatchFeatureConfig(inputSize: 64, stages: [2, 4], dimension: 6),
                       imageHeight: 250, imageWidth: 250, dataset: "d.h5", trainImages: 3, seed: 9, coresetRatio: ratio, totalPatches: 400,
                       densitySource: source)
    }

    /// ρ_K of each kept feature = mean of its K smallest squared distances to all other training
    /// patches (by row, in Double), for K = 1…5; a duplicate of a kept patch counts at distance 0.
    func testCoresetDensitiesFromAllPatchesMatchBruteForce() throws {
        var rng = RandomGenerator(seed: 5)
        let n = 400, d = 6
        var rows = (0..<(n * d)).map { _ in rng.normal() }
        rows.replaceSubrange((10 * d)..<(11 * d), with: rows[(200 * d)..<(201 * d)])  // row 10 duplicates row 200
        let patches = Tensor(rows, shape: [n, d])
        var coresetRng = RandomGenerator(seed: 1)
        let kept = try GreedyCoreset.select(patches, ratio: 0.1, rng: &coresetRng)
        var buildRng = RandomGenerator(seed: 1)
        let bank = try MemoryBank.build(patches: patches, maxK: 5, provenance: provenance(ratio: 0.1, source: .allPatches), rng: &buildRng)
        XCTAssertEqual(bank.count, 40)
        for (b, row) in kept.enumerated() {
            XCTAssertEqual(Array(bank.features[(b * d)..<((b + 1) * d)]), Array(rows[(row * d)..<((row + 1) * d)]))
            var distances: [Double] = []
            for j in 0..<n where j != row {
                var s = 0.0
                for t in 0..<d { let diff = Double(rows[row * d + t]) - Double(rows[j * d + t]); s += diff * diff }
                distances.append(s)
            }
            distances.sort()
            for k in 1...5 {
                let expected = distances.prefix(k).reduce(0, +) / Double(k)
                XCTAssertEqual(Double(try bank.densities(k: k)[b]), expected, accuracy: 1e-4 * max(1, expected), "bank feature \(b), K = \(k)")
            }
            if row == 10 || row == 200 { XCTAssertEqual(bank.neighborDistances[b * 5], 0, accuracy: 1e-4) }
        }
        // Among the coreset only, the same points are farther apart: ρ is larger for every feature.
        var bankRng = RandomGenerator(seed: 1)
        let sparse = try MemoryBank.build(patches: patches, maxK: 5, provenance: provenance(ratio: 0.1, source: .bank), rng: &bankRng)
        XCTAssertEqual(sparse.features, bank.features)
        for (a, b) in zip(try sparse.densities(k: 5), try bank.densities(k: 5)) { XCTAssertGreaterThan(a, b) }
        // More stored neighbours than patches to search among: refused (all patches: 399 others).
        var again = RandomGenerator(seed: 1)
        XCTAssertThrowsError(try MemoryBank.build(patches: patches, maxK: 400, provenance: provenance(ratio: 0.1, source: .allPatches), rng: &again)) {
            XCTAssertEqual(($0 as? REBError)?.category, .usage)
        }
    }

    /// The bank file records where the densities come from; files written before the attribute
    /// existed read as `.bank`; an unknown value is a bad bank.
    func testDensitySourceRoundTripsThroughTheBankFile() throws {
        let x = Tensor((0..<60).map { Float($0 % 7) + Float($0) * 0.01 }, shape: [10, 6])
        var rng = RandomGenerator(seed: 0)
        let bank = try MemoryBank.build(patches: x, maxK: 2, provenance: provenance(ratio: 1, source: .allPatches), rng: &rng)
        let path = NSTemporaryDirectory() + "reb-density-\(UUID().uuidString).h5"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try bank.write(to: path)
        XCTAssertEqual(try MemoryBank.read(from: path).provenance.densitySource, .allPatches)
        // Rewrite the file with density_from = `value` (nil: without the attribute, as older files).
        func rewrite(_ value: String?) throws -> String {
            let source = try HDF5File(path: path)
            let attributes = try source.root.attributes.all().filter { $0.name != "density_from" }
            let features = try source.dataset("features").read(as: Float.self), neighbors = try source.dataset("neighbor_distances").read(as: Float.self)
            let out = NSTemporaryDirectory() + "reb-density-\(UUID().uuidString).h5"
            try HDF5File.createAtomically(out) { file in
                try file.root.createDataset("features", shape: [bank.count, 6], data: features)
                try file.root.createDataset("neighbor_distances", shape: [bank.count, 2], data: neighbors)
                for (name, v) in attributes { try file.root.attributes.set(name, v) }
                if let value { try file.root.attributes.set("density_from", .string(value)) }
            }
            return out
        }
        let unknown = try rewrite("nearby"), older = try rewrite(nil)
        defer { for f in [unknown, older] { try? FileManager.default.removeItem(atPath: f) } }
        XCTAssertThrowsError(try MemoryBank.read(from: unknown)) {
            XCTAssertEqual(($0 as? REBError)?.category, .badData)
            XCTAssertTrue("\($0)".contains("density_from"), "\($0)")
        }
        XCTAssertEqual(try MemoryBank.read(from: older).provenance.densitySource, .bank)
    }
}
