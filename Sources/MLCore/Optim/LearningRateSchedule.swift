import Foundation

/// Learning-rate schedules as pure functions of the step: `learningRate(base:step:)` where `step` is
/// the number of optimizer steps already taken (0 before the first), as Hugging Face's LambdaLR-based
/// schedules and torch's schedulers (stepped once per optimizer step) count it.
public enum LearningRateSchedule: Sendable, Equatable {
    /// lr = base (transformers.get_constant_schedule).
    case constant
    /// Linear warm-up from 0 to base over `warmupSteps`, then base
    /// (transformers.get_constant_schedule_with_warmup): factor = s / max(1, W) for s < W, else 1.
    case constantWithWarmup(warmupSteps: Int)
    /// Linear warm-up from 0 to base over `warmupSteps`, then linear decay to 0 at `totalSteps`
    /// (transformers.get_linear_schedule_with_warmup):
    /// factor = s / max(1, W) for s < W, else max(0, (T − s) / max(1, T − W)).
    case linearWarmupDecay(warmupSteps: Int, totalSteps: Int)
    /// Linear warm-up, then cosine decay (transformers.get_cosine_schedule_with_warmup):
    /// factor = s / max(1, W) for s < W, else max(0, ½(1 + cos(π · 2c · p))) with
    /// p = (s − W) / max(1, T − W) and c = `cycles` (0.5: one half-cosine from base to 0).
    case cosineWarmupDecay(warmupSteps: Int, totalSteps: Int, cycles: Double)
    /// Cosine annealing with warm restarts (SGDR, Loshchilov & Hutter 2017;
    /// torch.optim.lr_scheduler.CosineAnnealingWarmRestarts stepped once per step): periods of
    /// T₀, T₀·m, T₀·m², … steps; within a period of length Tᵢ at position t,
    /// lr = η_min + (base − η_min) · ½(1 + cos(π t / Tᵢ)).
    case cosineWarmRestarts(period: Int, periodMultiplier: Int, minimum: Float)

    /// Half-cosine decay after warm-up (c = 0.5, Hugging Face's default).
    public static func cosineWarmupDecay(warmupSteps: Int, totalSteps: Int) -> LearningRateSchedule {
        .cosineWarmupDecay(warmupSteps: warmupSteps, totalSteps: totalSteps, cycles: 0.5)
    }

    /// The learning rate for the update after `step` completed steps, from the group's base rate.
    /// - Precondition: step ≥ 0; periods ≥ 1 and multiplier ≥ 1 for warm restarts.
    public func learningRate(base: Float, step: Int) -> Float {
        require(step >= 0, "LearningRateSchedule: negative step \(step)")
        let s = Double(step), b = Double(base)
        switch self {
        case .constant:
            return base
        case .constantWithWarmup(let warmup):
            return step < warmup ? Float(b * s / Double(Swift.max(1, warmup))) : base
        case .linearWarmupDecay(let warmup, let total):
            if step < warmup { return Float(b * s / Double(Swift.max(1, warmup))) }
            return Float(b * Swift.max(0, Double(total - step) / Double(Swift.max(1, total - warmup))))
        case .cosineWarmupDecay(let warmup, let total, let cycles):
            if step < warmup { return Float(b * s / Double(Swift.max(1, warmup))) }
            let progress = Double(step - warmup) / Double(Swift.max(1, total - warmup))
            return Float(b * Swift.max(0, 0.5 * (1 + cos(Double.pi * cycles * 2 * progress))))
        case .cosineWarmRestarts(let period, let multiplier, let minimum):
            require(period >= 1 && multiplier >= 1, "cosineWarmRestarts: period \(period) and multiplier \(multiplier) must be ≥ 1")
            var t = step, length = period
            while t >= length { t -= length; length *= multiplier }
            let m = Double(minimum)
            return Float(m + (b - m) * (1 + cos(Double.pi * Double(t) / Double(length))) / 2)
        }
    }
}
