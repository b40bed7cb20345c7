import Foundation
import XCTest
@testable import MLCore

/// Files written by h5py read in Swift, and files written in Swift read by h5py. Skipped when no
/// Python with h5py is found: `$MLCORE_PYTHON`, the repository's `.venv/bin/python` (made by
/// `make setup`), then `python3` on PATH.
final class HDF5InteropTests: HDF5TestCase {
    /// A Python interpreter that can `import h5py`, or nil.
    private static let python: String? = {
        let repository = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var candidates: [String] = []
        if let fromEnvironment = ProcessInfo.processInfo.environment["MLCORE_PYTHON"] { candidates.append(fromEnvironment) }
        candidates.append(repository.appendingPathComponent(".venv/bin/python").path)
        candidates.append("/usr/bin/env python3")
        for candidate in candidates {
            let words = candidate.split(separator: " ").map(String.init)
            guard FileManager.default.isExecutableFile(atPath: words[0]) else { continue }
            if let result = try? run(words + ["-c", "import h5py"]), result.status == 0 { return candidate }
        }
        return nil
    }()

    private static func run(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    /// Runs `script` with the h5py Python and `arguments`; returns its standard output.
    private func python(_ script: String, _ arguments: [String]) throws -> String {
        guard let python = Self.python else {
            // make test creates .venv with h5py first, so a missing interpreter is a set-up failure.
            XCTFail("no Python with h5py (set MLCORE_PYTHON or run make setup)")
            throw CocoaError(.fileNoSuchFile)
        }
        let scriptPath = path("script.py")
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let result = try Self.run(python.split(separator: " ").map(String.init) + [scriptPath] + arguments)
        guard result.status == 0 else {
            XCTFail("python failed (\(result.status)): \(result.error)")
            throw CocoaError(.executableLoad)
        }
        return result.output
    }

    private static let writer = #"""
import sys, json
import h5py, numpy as np
path, libver = sys.argv[1], sys.argv[2]
kwargs = {} if libver == "default" else {"libver": ("earliest", "v110")}
S = h5py.string_dtype("utf-8")
with h5py.File(path, "w", **kwargs) as f:
    f.attrs.create("format", "mlcore-checkpoint", dtype=S)
    f.attrs["format_version"] = np.int64(1)
    f.attrs["flag"] = np.bool_(True)
    f.attrs["ratio"] = np.float32(0.5)
    f.attrs["names"] = np.array(["a", "naïve 日本 🙂"], dtype=S)
    f.attrs["sizes"] = np.array([1, -2, 3], dtype=np.int32)
    f.attrs["fixed"] = np.bytes_(b"fixed")
    f.attrs["config"] = json.dumps({"hidden": 384, "name": "ü"}, sort_keys=True, ensure_ascii=False)
    f.create_dataset("f32", data=np.arange(12, dtype=np.float32).reshape(3, 4) / 4)
    f.create_dataset("f16", data=np.array([0.5, -2, 65504, 2**-24, 0.1], dtype=np.float16))
    f.create_dataset("f64", data=np.array([0.1, -1e10], dtype=np.float64))
    f.create_dataset("i64", data=np.array([[-(2**62), 0, 2**62]], dtype=np.int64))
    f.create_dataset("u8", data=np.array([0, 7, 255], dtype=np.uint8))
    f.create_dataset("i8", data=np.array([-128, 127], dtype=np.int8))
    f.create_dataset("u32", data=np.array([4000000000], dtype=np.uint32))
    f.create_dataset("mask", data=np.array([True, False]))
    f.create_dataset("vocab", data=["[PAD]", "naïve 日本 🙂", ""], dtype=S)
    f.create_dataset("labels", data=np.array([b"ab", b"cde"], dtype="S5"))
    f.create_dataset("tokenizer_json", data='{"model": "ü"}', dtype=S)
    f.create_dataset("big", data=np.arange(800, dtype=np.float32).reshape(100, 8), chunks=(10, 8),
                     compression="gzip", compression_opts=4, shuffle=True)
    g = f.create_group("params/encoder")
    g.create_dataset("weight", data=np.ones((2, 3), dtype=np.float32))
    g["weight"].attrs.create("layout", "out,in", dtype=S)
"""#

    func testReadFilesWrittenByH5py() throws {
        for libver in ["default", "v110"] {
            let filePath = path("h5py-\(libver).h5")
            _ = try python(Self.writer, [filePath, libver])
            let file = try HDF5File(path: filePath)
            let root = file.root.attributes
            XCTAssertEqual(try root.string("format"), "mlcore-checkpoint")
            XCTAssertEqual(try root.int("format_version"), 1)
            XCTAssertEqual(try root.value("flag"), .int(1), "numpy bool (an HDF5 enum) reads as 0/1")
            XCTAssertEqual(try root.value("ratio"), .double(0.5))
            XCTAssertEqual(try root.value("names"), .strings(["a", "naïve 日本 🙂"]))
            XCTAssertEqual(try root.value("sizes"), .ints([1, -2, 3]))
            XCTAssertEqual(try root.value("fixed"), .string("fixed"))
            XCTAssertEqual(try root.string("config"), #"{"hidden": 384, "name": "ü"}"#)

            let f32 = try file.dataset("f32")
            XCTAssertEqual(f32.elementType, .float32)
            XCTAssertEqual(f32.shape, [3, 4])
            XCTAssertEqual(try f32.read(as: Float.self), (0..<12).map { Float($0) / 4 })
            XCTAssertEqual(try f32.readRows(1..<2, as: Float.self), [1, 1.25, 1.5, 1.75])
            let f16 = try file.dataset("f16")
            XCTAssertEqual(f16.elementType, .float16)
            XCTAssertEqual(try f16.read(as: Float.self), [0.5, -2, 65504, 0x1p-24, 0.099975586])
            XCTAssertEqual(try file.dataset("f64").read(as: Float.self), [0.1, -1e10])
            XCTAssertEqual(try file.dataset("i64").read(as: Int64.self), [-(1 << 62), 0, 1 << 62])
            XCTAssertEqual(try file.dataset("i64").shape, [1, 3])
            XCTAssertEqual(try file.dataset("u8").read(as: UInt8.self), [0, 7, 255])
            XCTAssertEqual(try file.dataset("i8").read(as: Int8.self), [-128, 127])
            XCTAssertEqual(try file.dataset("u32").read(as: UInt32.self), [4_000_000_000])
            let mask = try file.dataset("mask")
            XCTAssertEqual(mask.elementType, .other("enum of int8, 2 members"))
            assertHDF5Error(try mask.read(as: Int8.self)) {
                if case .typeMismatch(_, "/mask", _, "enum of int8, 2 members") = $0 { return true }
                return false
            }
            let vocab = try file.dataset("vocab")
            XCTAssertEqual(vocab.elementType, .string(variableLength: true))
            XCTAssertEqual(try vocab.readStrings(), ["[PAD]", "naïve 日本 🙂", ""])
            let labels = try file.dataset("labels")
            XCTAssertEqual(labels.elementType, .string(variableLength: false))
            XCTAssertEqual(try labels.readStrings(), ["ab", "cde"])
            XCTAssertEqual(try file.dataset("tokenizer_json").readString(), #"{"model": "ü"}"#)
            let big = try file.dataset("big")
            let info = try big.storageInfo()
            XCTAssertEqual(info.chunkShape, [10, 8])
            XCTAssertEqual(info.filters, ["shuffle", "deflate"])
            XCTAssertEqual(info.deflateLevel, 4)
            XCTAssertEqual(try big.readRows(55..<57, as: Float.self), (440..<456).map(Float.init))
            let weight = try file.dataset("params/encoder/weight")
            XCTAssertEqual(try weight.attributes.string("layout"), "out,in")
            XCTAssertEqual(try file.root.walk().filter { $0.kind == .dataset }.count, 13)
        }
    }

    private static let reader = #"""
import sys, json
import h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    out = {
        "half": f["half"][()].astype(float).tolist(),
        "half_dtype": str(f["half"].dtype),
        "ints": f["ints"][()].tolist(),
        "vlen": [s.decode("utf-8") for s in f["vlen"][()].ravel()],
        "fixed": [s.decode("utf-8") for s in f["fixed"][()]],
        "fixed_dtype": str(f["fixed"].dtype),
        "compression": [f["deflated"].compression, f["deflated"].compression_opts, list(f["deflated"].chunks)],
        "deflated_sum": float(f["deflated"][()].sum()),
        "attrs": {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in f["g"].attrs.items()},
    }
print(json.dumps(out, ensure_ascii=False, sort_keys=True))
"""#

    func testH5pyReadsFilesWrittenBySwift() throws {
        let filePath = path("swift.h5")
        do {
            let file = try HDF5File(path: filePath, mode: .create)
            try file.root.createDataset("half", shape: [2, 2], data: [Float](arrayLiteral: 0.5, -2, 2049, 65504), storedAs: .float16)
            try file.root.createDataset("ints", shape: [3], data: [Int64](arrayLiteral: .min, 0, .max))
            try file.root.createDataset("vlen", strings: ["naïve 日本 🙂", "", "x", "y"], shape: [2, 2])
            try file.root.createDataset("fixed", strings: ["ab", "日本"], layout: .fixedLength(bytes: nil))
            try file.root.createDataset("deflated", shape: [50, 4], data: [Float](repeating: 0.5, count: 200),
                                        chunks: [10, 4], deflate: 7)
            let group = try file.root.createGroup("g")
            try group.attributes.set("s", "naïve 日本 🙂")
            try group.attributes.set("i", 7)
            try group.attributes.set("d", 0.25)
            try group.attributes.set("ss", .strings(["a", "b"]))
            try group.attributes.set("is", .ints([1, 2]))
            try group.attributes.set("ds", .doubles([0.5, 1.5]))
        }
        let output = try python(Self.reader, [filePath])
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        XCTAssertEqual(json["half"] as? [[Double]], [[0.5, -2], [2048, 65504]])
        XCTAssertEqual(json["half_dtype"] as? String, "float16")
        XCTAssertEqual((json["ints"] as? [NSNumber])?.map(\.int64Value), [Int64.min, 0, Int64.max])
        XCTAssertEqual(json["vlen"] as? [String], ["naïve 日本 🙂", "", "x", "y"])
        XCTAssertEqual(json["fixed"] as? [String], ["ab", "日本"])
        XCTAssertEqual(json["fixed_dtype"] as? String, "|S6")
        let compression = try XCTUnwrap(json["compression"] as? [Any])
        XCTAssertEqual(compression[0] as? String, "gzip")
        XCTAssertEqual(compression[1] as? Int, 7)
        XCTAssertEqual(compression[2] as? [Int], [10, 4])
        XCTAssertEqual(json["deflated_sum"] as? Double, 100)
        let attributes = try XCTUnwrap(json["attrs"] as? [String: Any])
        XCTAssertEqual(attributes["s"] as? String, "naïve 日本 🙂")
        XCTAssertEqual(attributes["i"] as? Int, 7)
        XCTAssertEqual(attributes["d"] as? Double, 0.25)
        XCTAssertEqual(attributes["ss"] as? [String], ["a", "b"])
        XCTAssertEqual(attributes["is"] as? [Int], [1, 2])
        XCTAssertEqual(attributes["ds"] as? [Double], [0.5, 1.5])
    }
}
