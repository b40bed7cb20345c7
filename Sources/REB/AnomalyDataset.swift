import Foundation
import MLCore

/// An image anomaly-detection dataset in HDF5 (Tools/data/convert_textile.py): `images` uint8
/// [N, H, W, 3], `label` int32 [N] (0 = normal, > 0 = a defect type), `filename` strings [N] and the
/// root attribute `label_names` (JSON array, index = label).
public struct AnomalyDataset: Sendable {
    /// The HDF5 file.
    public let path: String
    /// Image rows and columns (every image has the same size).
    public let height: Int, width: Int
    /// Per-image labels, 0 = normal.
    public let labels: [Int]
    /// Name of each label value ("normal", "local defect", "global defect").
    public let labelNames: [String]
    /// Per-image source file names.
    public let filenames: [String]
    private let file: HDF5File

    /// Number of images.
    public var count: Int { labels.count }

    /// Opens the dataset and checks its layout.
    /// - Throws: `REBError.badImages` (not uint8 [N, H, W, 3]), `.badDataset` (labels or names),
    ///   `HDF5Error` (missing or unreadable file).
    public init(path: String) throws {
        self.path = path
        file = try HDF5File(path: path)
        let images = try file.dataset("images")
        guard images.rank == 4 else { throw REBError.badImages(file: path, reason: "have shape \(images.shape)") }
        guard images.shape[3] == 3 else {
            throw REBError.badImages(file: path, reason: "have \(images.shape[3]) channels (shape \(images.shape))")
        }
        guard images.elementType == .uint8 else { throw REBError.badImages(file: path, reason: "are \(images.elementType)") }
        height = images.shape[1]
        width = images.shape[2]
        let labelSet = try file.dataset("label")
        guard labelSet.shape == [images.shape[0]] else {
            throw REBError.badDataset(file: path, key: "label", expected: "\(images.shape[0]) labels (one per image)")
        }
        labels = try labelSet.read(as: Int32.self).map(Int.init)
        filenames = try file.root.contains("filename") ? file.dataset("filename").readStrings() : labels.indices.map { "image \($0)" }
        let namesText = try file.root.attributes.contains("label_names") ? file.root.attributes.string("label_names") : ""
        if case .array(let names)? = try? JSONValue.parse(namesText) {
            labelNames = names.compactMap(\.stringValue)
        } else {
            labelNames = (0...(labels.max() ?? 0)).map { $0 == 0 ? "normal" : "defect \($0)" }
        }
        guard labels.allSatisfy({ $0 >= 0 && $0 < labelNames.count }) else {
            throw REBError.badDataset(file: path, key: "label", expected: "values in 0..<\(labelNames.count) (label_names)")
        }
    }

    /// The images at `indices`, in that order.
    /// - Throws: `HDF5Error` on a read failure.
    public func images(_ indices: [Int]) throws -> [RGBImage] {
        let data = try file.dataset("images")
        return try indices.map { i in
            RGBImage(width: width, height: height, pixels: try data.readRows(i..<(i + 1), as: UInt8.self))
        }
    }
}

/// The deterministic split of an anomaly dataset (Docs/reb.md, "Adaptation and deviations"): the normal images are
/// shuffled with a seeded generator; the first `trainCount` are the training set (the memory bank's
/// images), the rest the held-out normal images; the test set is the held-out normals plus every
/// defect image, in dataset order.
public struct AnomalySplit: Sendable, Equatable {
    /// Indices of the training (normal) images.
    public let train: [Int]
    /// Indices of the normal images not trained on.
    public let heldOutNormal: [Int]
    /// Held-out normals and all defects, ascending.
    public let test: [Int]

    /// - Parameters:
    ///   - labels: per-image labels (0 = normal).
    ///   - trainCount: normal images to train on.
    ///   - seed: seed of the shuffle.
    /// - Throws: `REBError.emptySet` when there is no normal image or `trainCount` < 1,
    ///   `.invalidArgument` when `trainCount` leaves no held-out normal image.
    public init(labels: [Int], trainCount: Int, seed: UInt64) throws {
        let normals = labels.indices.filter { labels[$0] == 0 }
        guard trainCount >= 1, !normals.isEmpty else {
            throw REBError.emptySet(what: "the training set", reason: "\(normals.count) normal images, \(trainCount) asked for (expected at least 1)")
        }
        guard trainCount < normals.count else {
            throw REBError.invalidArgument("\(trainCount) training normal images leave no held-out normal image (the dataset has \(normals.count) normal images)")
        }
        var rng = RandomGenerator(seed: seed)
        // Sorted positions in the ascending `normals` map to sorted image indices.
        let (members, holdOut) = Splits.memberHoldOut(count: normals.count, members: trainCount, using: &rng)
        train = members.map { normals[$0] }
        heldOutNormal = holdOut.map { normals[$0] }
        test = (heldOutNormal + labels.indices.filter { labels[$0] != 0 }).sorted()
    }

    /// This split with at most `limit` images of each test label (the first in dataset order), for quick runs.
    public func limitingTest(perLabel limit: Int, labels: [Int]) -> [Int] {
        var taken: [Int: Int] = [:]
        return test.filter { i in
            taken[labels[i], default: 0] += 1
            return taken[labels[i]]! <= limit
        }
    }
}
