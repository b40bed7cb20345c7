import Foundation
import XCTest
@testable import MLCore

final class CheckpointTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func sample() -> [String: Tensor] {
        [
            "encoder.layer.0.weight": Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]),
            "encoder.layer.0.bias": Tensor([0.5, -0.5]),
            "encoder.layer.1.weight": Tensor(shape: [3, 2]) { Float($0) / 4 },
            "head.weight": Tensor([7], shape: [1, 1]),
        ]
    }

    func testSaveThenLoadRoundTripsEveryTensorAndAttribute() throws {
        let path = directory.appendingPathComponent("m.h5").path
        try CheckpointWriter.save(sample(), to: path, architecture: "toy", config: ["hidden_size": 3, "eps": 1e-12],
                                  source: ["package": "none"], attributes: ["name": "toy"], deflate: 4)
        let ckpt = try Checkpoint(path: path)
        XCTAssertEqual(ckpt.architecture, "toy")
        XCTAssertEqual(ckpt.config["hidden_size"]?.intValue, 3)
        XCTAssertEqual(ckpt.config["eps"]?.doubleValue, 1e-12)
        XCTAssertEqual(ckpt.source["package"]?.stringValue, "none")
        XCTAssertEqual(ckpt.keys, ["encoder.layer.0.bias", "encoder.layer.0.weight", "encoder.layer.1.weight", "head.weight"])
        XCTAssertEqual(ckpt.parameterCount, 6 + 2 + 6 + 1)
        let all = try ckpt.loadAll()
        for (k, v) in sample() { XCTAssertEqual(all[k], v, k) }
        // Stored as nested groups: /params/encoder/layer/0/weight.
        let file = try HDF5File(path: path)
        XCTAssertEqual(try file.dataset("/params/encoder/layer/0/weight").shape, [2, 3])
    }

    func testHalfPrecisionStorageLoadsAsFloat() throws {
        let path = directory.appendingPathComponent("half.h5").path
        try CheckpointWriter.save(["w": Tensor([0.5, -2, 1024, 0.099975586])], to: path, architecture: "toy",
                                  config: [:], halfPrecision: true)
        let file = try HDF5File(path: path)
        XCTAssertEqual(try file.dataset("/params/w").elementType, .float16)
        // 0.099975586 is exactly representable in half precision (1638 · 2^-14).
        XCTAssertEqual(try Checkpoint(path: path).tensor("w").scalars, [0.5, -2, 1024, 0.099975586])
    }

    func testStrictLoadingListsEveryProblemInOneError() throws {
        let path = directory.appendingPathComponent("m.h5").path
        try CheckpointWriter.save(sample(), to: path, architecture: "toy", config: [:])
        let ckpt = try Checkpoint(path: path)
        let expected: [String: [Int]] = [
            "encoder.layer.0.weight": [3, 2],      // shape mismatch
            "encoder.layer.0.bias": [2],
            "encoder.layer.1.weight": [3, 2],
            "encoder.layer.2.weight": [2, 2],      // missing
            "pooler.bias": [3],                    // missing
        ]                                          // head.weight unexpected
        XCTAssertThrowsError(try ckpt.load(expected: expected)) { error in
            guard case CheckpointError.stateDictMismatch(_, let missing, let unexpected, let shapes) = error else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(missing, ["encoder.layer.2.weight", "pooler.bias"])
            XCTAssertEqual(unexpected, ["head.weight"])
            XCTAssertEqual(shapes, [.init(key: "encoder.layer.0.weight", file: [2, 3], model: [3, 2])])
            let text = "\(error)"
            XCTAssertTrue(text.contains("2 missing (encoder.layer.2.weight, pooler.bias)"), text)
            XCTAssertTrue(text.contains("1 unexpected (head.weight)"), text)
            XCTAssertTrue(text.contains("encoder.layer.0.weight: file [2, 3], model [3, 2]"), text)
            XCTAssertFalse(text.contains("\n"))
            XCTAssertEqual((error as? CategorizedError)?.category.exitCode, 65)
        }
        // Tolerating unexpected keys still reports the rest.
        XCTAssertNoThrow(try ckpt.load(expected: ["head.weight": [1, 1]], allowUnexpected: true))
    }

    func testScopedLoaderReadsRelativeKeysAndChecksShapes() throws {
        let path = directory.appendingPathComponent("m.h5").path
        try CheckpointWriter.save(sample(), to: path, architecture: "toy", config: [:])
        let layer0 = try Checkpoint(path: path).scoped("encoder").scoped("layer.0")
        XCTAssertEqual(layer0.prefix, "encoder.layer.0")
        XCTAssertEqual(layer0.keys.sorted(), ["bias", "weight"])
        XCTAssertEqual(try layer0.tensor("bias").scalars, [0.5, -0.5])
        XCTAssertThrowsError(try layer0.tensor("weight", shape: [3, 3]))
        XCTAssertThrowsError(try layer0.tensor("gamma")) { error in
            XCTAssertEqual(error as? CheckpointError, .missingKey(file: path, key: "encoder.layer.0.gamma"))
        }
    }

    func testAFileThatIsNotACheckpointIsRejected() throws {
        let path = directory.appendingPathComponent("plain.h5").path
        let file = try HDF5File(path: path, mode: .create)
        try file.root.createDataset("x", shape: [1], data: [Float(1)])
        try file.close()
        XCTAssertThrowsError(try Checkpoint(path: path)) { error in
            XCTAssertEqual(error as? CheckpointError, .notACheckpoint(file: path, format: nil))
        }
        XCTAssertThrowsError(try Checkpoint(path: directory.appendingPathComponent("absent.h5").path)) { error in
            XCTAssertEqual((error as? CategorizedError)?.category.exitCode, 66)
        }
    }
}

final class CheckpointSaveFailureTests: XCTestCase {
    func testAFailedSaveLeavesTheExistingCheckpointIntact() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("keep-\(UUID().uuidString).h5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try CheckpointWriter.save(["w": Tensor([1, 2])], to: path, architecture: "toy", config: ["a": 1])
        XCTAssertThrowsError(try CheckpointWriter.save(["x": Tensor([1])], to: path, architecture: "toy",
                                                       config: ["bad": .double(.nan)]))
        let ckpt = try Checkpoint(path: path)
        XCTAssertEqual(ckpt.keys, ["w"])
        XCTAssertEqual(try ckpt.tensor("w").scalars, [1, 2])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path)
            .filter { $0.contains(URL(fileURLWithPath: path).lastPathComponent + ".partial") }
        XCTAssertEqual(leftovers, [])
    }
}
