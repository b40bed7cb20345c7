import Foundation

/// The sinusoidal timestep embedding of diffusion models (Ho et al. 2020, DDPM, after Vaswani et al.
/// 2017, §3.5), as diffusers' `get_timestep_embedding` (diffusers/models/embeddings.py) computes it.
public enum TimestepEmbedding {
    /// Embeds each timestep t as [sin(t·ω_0), …, sin(t·ω_{h−1}), cos(t·ω_0), …, cos(t·ω_{h−1})] with
    /// h = ⌊D/2⌋ and ω_k = exp(−ln(maxPeriod)·k/(h − downscaleFrequencyShift)), times `scale`; a zero
    /// column is appended when D is odd.
    ///
    /// Defaults are `get_timestep_embedding`'s own (flip_sin_to_cos false, downscale_freq_shift 1,
    /// scale 1, max_period 10000). diffusers' UNet2DModel and UNet2DConditionModel build their
    /// `Timesteps` module with flip_sin_to_cos true and freq_shift 0 instead: pass those to match them.
    /// Computed in Double and rounded once to Float (diffusers computes in float32).
    ///
    /// - Parameters:
    ///   - timesteps: N timesteps (may be fractional).
    ///   - dimension: D ≥ 2.
    ///   - flipSinToCos: cos half first, then sin (flip_sin_to_cos).
    ///   - downscaleFrequencyShift: the shift in the exponent's denominator (downscale_freq_shift); must be < h.
    /// - Returns: [N, D].
    public static func sinusoidal(_ timesteps: [Float], dimension: Int, flipSinToCos: Bool = false,
                                  downscaleFrequencyShift: Float = 1, scale: Float = 1, maxPeriod: Float = 10_000) -> Tensor {
        let half = dimension / 2
        require(half >= 1 && Double(half) - Double(downscaleFrequencyShift) > 0,
                "TimestepEmbedding: dimension \(dimension) and frequency shift \(downscaleFrequencyShift) leave no frequencies")
        let denominator = Double(half) - Double(downscaleFrequencyShift)
        let frequencies = (0..<half).map { Foundation.exp(-Foundation.log(Double(maxPeriod)) * Double($0) / denominator) }
        var values = [Float](repeating: 0, count: timesteps.count * dimension)
        for (i, t) in timesteps.enumerated() {
            let row = i * dimension
            for k in 0..<half {
                let angle = Double(scale) * Double(t) * frequencies[k]
                let (first, second) = flipSinToCos ? (cos(angle), sin(angle)) : (sin(angle), cos(angle))
                values[row + k] = Float(first)
                values[row + half + k] = Float(second)
            }
        }
        return Tensor(values, shape: [timesteps.count, dimension])
    }
}
