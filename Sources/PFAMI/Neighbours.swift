import Foundation
import MLCore

/// PFAMI's neighbours x̃_k = P_λk(x) (Fu et al. 2023, §4.2; wjfu99/MIA-Gen attack_model_PFAMI.py
/// `norm_image_dataset_perturbation`): a centre crop to ⌊S·λ_k⌋ pixels (torchvision CenterCrop: offset
/// round((S − c)/2), round half to even as Python's `round`), then a bilinear resize back to S×S
/// (torch interpolate, align_corners = false, no antialiasing). λ_k = linspace(start, end, K).
public struct Neighbourhood: Sendable, Equatable {
    /// Strengths λ_k, k = 0..<K.
    public let strengths: [Double]

    /// λ = linspace(start, end, count) (the reference: 0.95 … 0.70, K = 10).
    /// - Throws: `PFAMIError.invalidArgument` for K < 1 or a strength outside (0, 1].
    public init(start: Double = 0.95, end: Double = 0.70, count: Int = 10) throws {
        guard count >= 1 else { throw PFAMIError.invalidArgument("the number of neighbours must be at least 1, got \(count)") }
        guard start > 0, start <= 1, end > 0, end <= 1 else {
            throw PFAMIError.invalidArgument("crop strengths must be in (0, 1], got \(start) … \(end)")
        }
        // numpy.linspace: start + k·step with step = (end − start)/(K − 1), the last value exactly `end`.
        let step = count == 1 ? 0 : (end - start) / Double(count - 1)
        strengths = (0..<count).map { $0 == count - 1 && count > 1 ? end : start + Double($0) * step }
    }

    /// Neighbours K.
    public var count: Int { strengths.count }

    /// The crop side ⌊S·λ⌋ (Python's `int(size * strength)`, computed in Double as numpy's float64).
    public static func cropSize(_ size: Int, strength: Double) -> Int { Int((Double(size) * strength).rounded(.towardZero)) }

    /// The crop's top/left offset: round((S − c)/2) with ties to even (torchvision `center_crop`).
    public static func cropOffset(_ size: Int, crop: Int) -> Int {
        Int((Double(size - crop) / 2).rounded(.toNearestOrEven))
    }

    /// (crop, offset) per neighbour for side S.
    public func geometry(size: Int) -> [(crop: Int, offset: Int)] {
        strengths.map { s in
            let c = Swift.max(1, Self.cropSize(size, strength: s))
            return (c, Self.cropOffset(size, crop: c))
        }
    }

    /// Neighbour k of each image: images [N, C, S, S] → [N, C, S, S].
    public func neighbour(_ images: Tensor, _ k: Int) -> Tensor {
        let size = images.shape[2]
        let (crop, offset) = geometry(size: size)[k]
        let cropped = images.sliced(offset..<(offset + crop), axis: 2).sliced(offset..<(offset + crop), axis: 3).contiguous()
        return cropped.resizeBilinear(to: (size, size), alignCorners: false)
    }
}
