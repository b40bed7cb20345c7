import Foundation
import MLCore

/// The images PFAMI's generative models are trained on and attacked with (Docs/pfami.md, "Data"): a
/// uint8 array `images` [N, H, W, C] (C = 1 greyscale or 3 RGB) in an HDF5 dataset file, read as
/// Float32 [N, C, S, S] in [0, 1] at the side S the models take. Images of another size are resized
/// once at load: RGB with `RGBImage.resized` (Pillow-style antialiased bicubic, the downscaling of
/// the 250×250 textile images to 32×32), greyscale the same way through a grey RGB copy.
public struct ImageSet: Sendable {
    /// The dataset file.
    public let path: String
    /// The images [N, C, S, S] in [0, 1].
    public let images: Tensor
    /// Channels C.
    public var channels: Int { images.shape[1] }
    /// Side S.
    public var size: Int { images.shape[2] }
    /// Images N.
    public var count: Int { images.shape[0] }

    /// Reads every image of `path` at side `size`.
    /// - Throws: `PFAMIError.badImages` (not uint8 [N, H, W, 1|3], no image), `HDF5Error`.
    public init(path: String, size: Int) throws {
        self.path = path
        let file = try HDF5File(path: path)
        let data = try file.dataset("images")
        guard data.rank == 4, data.shape[3] == 1 || data.shape[3] == 3 else {
            throw PFAMIError.badImages(file: path, reason: "have shape \(data.shape)")
        }
        guard data.elementType == .uint8 else { throw PFAMIError.badImages(file: path, reason: "are \(data.elementType)") }
        guard data.shape[0] > 0 else { throw PFAMIError.badImages(file: path, reason: "are an empty array") }
        let n = data.shape[0], h = data.shape[1], w = data.shape[2], c = data.shape[3]
        let pixels = try data.read(as: UInt8.self)
        var out = [Float](repeating: 0, count: n * c * size * size)
        let plane = size * size
        for i in 0..<n {
            let start = i * h * w * c
            var source = Array(pixels[start..<(start + h * w * c)])
            if h != size || w != size {
                let rgb = c == 3 ? source : source.flatMap { [$0, $0, $0] }
                let resized = RGBImage(width: w, height: h, pixels: rgb).resized(width: size, height: size).pixels
                source = c == 3 ? resized : stride(from: 0, to: resized.count, by: 3).map { resized[$0] }
            }
            for p in 0..<plane {
                for ch in 0..<c { out[(i * c + ch) * plane + p] = Float(source[p * c + ch]) / 255 }
            }
        }
        images = Tensor(out, shape: [n, c, size, size])
    }

    /// An image set from a tensor [N, C, S, S] in [0, 1] (tests, the analytic toy).
    public init(images: Tensor, path: String = "<memory>") {
        require(images.rank == 4 && images.shape[2] == images.shape[3], "ImageSet: images \(images.shape) must be [N, C, S, S]")
        self.images = images.contiguous()
        self.path = path
    }

    /// The images at `rows`, in that order: [rows.count, C, S, S].
    public func batch(_ rows: [Int]) -> Tensor { images.indexSelect(rows, axis: 0) }
}

/// Who a record set belongs to, in the reference's three-way split (wjfu99/MIA-Gen attacker_PFAMI.py).
public enum SplitRole: String, Sendable, Codable, CaseIterable {
    /// The attacked model: its members and hold-out are the attack's evaluation records.
    case target
    /// A model trained like the target on other data, whose members/hold-out train PFAMI_NNs.
    case shadow
    /// The calibration model φ, trained on data disjoint from the target's records.
    case reference
}

/// The member / hold-out split of the reference (wjfu99/MIA-Gen attacker_PFAMI.py, Docs/pfami.md,
/// "Splits"): the dataset's rows are shuffled once with `seed`, then cut into consecutive disjoint
/// blocks, for target, shadow and reference in turn: `members` member rows, then `holdout` hold-out
/// rows. (The reference cuts CelebA's index ranges in order; a seeded shuffle replaces that here
/// because the digits file is ordered by its source.)
public struct MemberSplits: Sendable, Equatable, Codable {
    /// Members per role.
    public let members: Int
    /// Hold-out records per role.
    public let holdout: Int
    /// Seed of the shuffle.
    public let seed: UInt64
    /// Rows of the dataset (N).
    public let datasetCount: Int
    private let order: [Int]

    /// - Throws: `PFAMIError.emptySet` for zero members or hold-out, `.notEnoughImages` when
    ///   3·(members + holdout) > N.
    public init(datasetCount: Int, members: Int, holdout: Int, seed: UInt64, file: String = "dataset") throws {
        guard members >= 1 else { throw PFAMIError.emptySet(what: "the member set", reason: "0 members per model") }
        guard holdout >= 1 else { throw PFAMIError.emptySet(what: "the hold-out set", reason: "0 hold-out records per model") }
        let needed = 3 * (members + holdout)
        guard needed <= datasetCount else { throw PFAMIError.notEnoughImages(file: file, needed: needed, available: datasetCount) }
        var rng = RandomGenerator(seed: seed)
        order = rng.permutation(datasetCount)
        self.members = members
        self.holdout = holdout
        self.seed = seed
        self.datasetCount = datasetCount
    }

    /// The member rows of `role`.
    public func members(of role: SplitRole) -> [Int] {
        let start = Self.position(role) * (members + holdout)
        return Array(order[start..<(start + members)])
    }

    /// The hold-out rows of `role`.
    public func holdout(of role: SplitRole) -> [Int] {
        let start = Self.position(role) * (members + holdout) + members
        return Array(order[start..<(start + holdout)])
    }

    static func position(_ role: SplitRole) -> Int { SplitRole.allCases.firstIndex(of: role)! }
}
