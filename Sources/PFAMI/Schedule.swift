import Foundation

/// The DDPM noise schedule (Ho et al. 2020, §2 and §4): linear β_t from β_1 to β_T over T steps,
/// α_t = 1 − β_t, ᾱ_t = ∏_{s ≤ t} α_s, indexed from 0 as diffusers' DDPMScheduler
/// (`betas = torch.linspace(beta_start, beta_end, T)`, `alphas_cumprod = cumprod(1 − betas)`).
public struct NoiseSchedule: Sendable, Equatable, Codable {
    /// Steps T.
    public let steps: Int
    /// β_0 (1e-4 in DDPM).
    public let betaStart: Double
    /// β_{T−1} (0.02 in DDPM).
    public let betaEnd: Double
    /// ᾱ_t for t = 0..<T, in Double.
    public let alphaBar: [Double]

    /// - Precondition: steps ≥ 2, 0 < betaStart ≤ betaEnd < 1.
    public init(steps: Int = 1000, betaStart: Double = 1e-4, betaEnd: Double = 0.02) {
        precondition(steps >= 2 && betaStart > 0 && betaStart <= betaEnd && betaEnd < 1, "NoiseSchedule: bad settings")
        self.steps = steps
        self.betaStart = betaStart
        self.betaEnd = betaEnd
        var product = 1.0
        alphaBar = (0..<steps).map { t in
            product *= 1 - (betaStart + (betaEnd - betaStart) * Double(t) / Double(steps - 1))
            return product
        }
    }

    enum CodingKeys: String, CodingKey { case steps, betaStart = "beta_start", betaEnd = "beta_end" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(steps: try c.decode(Int.self, forKey: .steps), betaStart: try c.decode(Double.self, forKey: .betaStart),
                  betaEnd: try c.decode(Double.self, forKey: .betaEnd))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(steps, forKey: .steps)
        try c.encode(betaStart, forKey: .betaStart)
        try c.encode(betaEnd, forKey: .betaEnd)
    }
}
