import Foundation
import MLCore
import XCTest

@testable import PFAMI

final class ModelTests: XCTestCase {
    /// d/dθ of Σ w ⊙ f by central differences on a few elements of one parameter.
    func checkParameter(_ parameter: Parameter, elements: [Int], model: () -> Variable, weights: Tensor,
                        epsilon: Float = 1e-2, tolerance: Float = 3e-2, file: StaticString = #filePath, line: UInt = #line) {
        for p in [parameter] { p.zeroGradient() }
        withGradient { (model() * weights).sum() }.backward()
        let analytic = parameter.grad!.contiguous().scalars
        for i in elements {
            var v = parameter.value.contiguous()
            let original = v.withUnsafeBufferPointer { $0[i] }
            func loss(_ x: Float) -> Double {
                v.withUnsafeMutableBufferPointer { $0[i] = x }
                parameter.value = v
                return withoutGradient { Double((model().value * weights).sum().item) }
            }
            let numeric = Float((loss(original + epsilon) - loss(original - epsilon)) / (2 * Double(epsilon)))
            _ = loss(original)
            XCTAssertEqual(analytic[i], numeric, accuracy: tolerance * Swift.max(1, abs(numeric)), "\(parameter.name)[\(i)]", file: file, line: line)
        }
    }

    /// GroupNorm and ConvTranspose gradients through the whole UNet on a 1×1×4×4 input: the input's
    /// gradient (GradientCheck) and a few elements of a GroupNorm γ and a transposed convolution's kernel.
    func testUNetGradients() throws {
        let unet = DiffusionUNet(config: DDPMConfig(channels: 1, size: 4, width: 4, groups: 2), factory: ParameterFactory(seed: 5))
        var rng = RandomGenerator(seed: 9)
        let x = Tensor(shape: [2, 1, 4, 4]) { _ in rng.normal() }
        let results = GradientCheck.check([x], epsilon: 1e-2, absoluteTolerance: 2e-3, relativeTolerance: 3e-2) { v in
            unet(v[0], timesteps: [3, 700])
        }
        for r in results { XCTAssertTrue(r.passed, r.description) }
        let weights = Tensor(shape: [2, 1, 4, 4]) { _ in rng.uniform(-1, 1) }
        let named = Dictionary(uniqueKeysWithValues: unet.parameters.map { ($0.name, $0) })
        for name in ["up.1.norm1.weight", "up.0.norm2.bias", "up.0.upsample.weight", "up.1.upsample.weight", "conv_norm_out.weight"] {
            let p = try XCTUnwrap(named[name], name)
            checkParameter(p, elements: [0, p.value.count / 2, p.value.count - 1], model: { unet(Variable(x), timesteps: [3, 700]) }, weights: weights)
        }
    }

    /// The names each model creates are its parameters (so save/load see every tensor), and a saved
    /// model loads back strictly with the same losses.
    func testNamesAndCheckpointRoundTrip() throws {
        let factory = ParameterFactory(seed: 1)
        let unet = DiffusionUNet(config: DDPMConfig(channels: 1, size: 8, width: 8, groups: 4), factory: factory)
        XCTAssertEqual(factory.createdNames, unet.parameters.map(\.name))
        let vaeFactory = ParameterFactory(seed: 2)
        let vae = ConvVAE(config: VAEConfig(channels: 3, size: 8, width: 4, latent: 3), factory: vaeFactory)
        XCTAssertEqual(vaeFactory.createdNames, vae.parameters.map(\.name))
        let splits = try MemberSplits(datasetCount: 30, members: 4, holdout: 3, seed: 0)
        let provenance = ModelProvenance(dataset: "d.h5", datasetSHA256: "00", role: .shadow, splits: splits)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pfami-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = RandomGenerator(seed: 4)
        for model in [unet, vae] as [ProbeModel] {
            let path = dir.appendingPathComponent("\(model.kind.rawValue).h5").path
            try PFAMICheckpoint.save(model, provenance: provenance, to: path)
            let (loaded, p) = try PFAMICheckpoint.load(path)
            XCTAssertEqual(p, provenance)
            XCTAssertEqual(loaded.kind, model.kind)
            let x = Tensor(shape: [2, model.channels, 8, 8]) { _ in rng.uniform() }
            XCTAssertEqual(loaded.losses(x, probe: 10, noiseSeeds: [1, 2]), model.losses(x, probe: 10, noiseSeeds: [1, 2]))
        }
    }

    /// Same seed, same noise (common random numbers); another seed, another loss.
    func testSeededNoise() {
        let vae = ConvVAE(config: VAEConfig(channels: 1, size: 8, width: 4, latent: 3), factory: ParameterFactory(seed: 2))
        let x = Tensor(shape: [2, 1, 8, 8]) { Float($0 % 7) / 7 }
        XCTAssertEqual(vae.losses(x, probe: 0, noiseSeeds: [5, 5])[0], vae.losses(x, probe: 0, noiseSeeds: [5, 6])[0])
        XCTAssertNotEqual(vae.losses(x, probe: 0, noiseSeeds: [5, 6])[1], vae.losses(x, probe: 1, noiseSeeds: [5, 6])[1])
    }

    /// Disjoint blocks per role; too few images and empty sets are refused.
    func testSplits() throws {
        let s = try MemberSplits(datasetCount: 100, members: 10, holdout: 5, seed: 3)
        let all = SplitRole.allCases.flatMap { s.members(of: $0) + s.holdout(of: $0) }
        XCTAssertEqual(all.count, 45)
        XCTAssertEqual(Set(all).count, 45)
        XCTAssertThrowsError(try MemberSplits(datasetCount: 44, members: 10, holdout: 5, seed: 3)) {
            XCTAssertEqual($0 as? PFAMIError, .notEnoughImages(file: "dataset", needed: 45, available: 44))
        }
        XCTAssertThrowsError(try MemberSplits(datasetCount: 100, members: 0, holdout: 5, seed: 3))
    }

    /// A feature file reads back; a truncated dataset is named in a one-line error.
    func testFeatureFileRoundTripAndTruncation() throws {
        let block = FeatureBlock(rows: [3, 4], labels: [1, 0], probeCount: 2, neighbourCount: 1, targetOriginal: [1, 2, 3, 4],
                                 targetNeighbours: [2, 2, 3, 3], referenceOriginal: [1, 1, 1, 1], referenceNeighbours: [1, 1, 1, 1])
        let dir = FileManager.default.temporaryDirectory
        let path = dir.appendingPathComponent("pfami-features-\(UUID().uuidString).h5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try HDF5File.createAtomically(path) { try FeatureFile.write(block, provenance: ["seed": "1"], to: $0) }
        let (read, provenance) = try FeatureFile.read(path)
        XCTAssertEqual(read, block)
        XCTAssertEqual(provenance["seed"]?.stringValue, "1")
        let bad = dir.appendingPathComponent("pfami-bad-\(UUID().uuidString).h5").path
        defer { try? FileManager.default.removeItem(atPath: bad) }
        try HDF5File.createAtomically(bad) { file in
            try FeatureFile.write(block, provenance: ["seed": "1"], to: file)
            try file.root.remove("reference_original")
            try file.root.createDataset("reference_original", shape: [1, 2], data: [Float](repeating: 1, count: 2))
        }
        XCTAssertThrowsError(try FeatureFile.read(bad)) { error in
            XCTAssertEqual((error as? PFAMIError)?.category, .badData)
            XCTAssertTrue("\(error)".contains("reference_original"), "\(error)")
        }
    }

    /// The VAE and DDPM reject images of another size through the feature path.
    func testInputSizeMismatch() {
        let vae = ConvVAE(config: VAEConfig(channels: 1, size: 8, width: 4, latent: 3), factory: ParameterFactory(seed: 2))
        let images = ImageSet(images: Tensor(shape: [2, 1, 12, 12], repeating: 0.5))
        let config = FeatureConfig(probes: [0], neighbourhood: try! Neighbourhood(count: 2), commonRandomNumbers: true, seed: 0, batchSize: 2)
        XCTAssertThrowsError(try FluctuationFeatures.compute(target: vae, reference: vae, images: images, rows: [0, 1], labels: [1, 0], config: config)) {
            XCTAssertEqual(($0 as? PFAMIError)?.category, .usage)
        }
    }
}
