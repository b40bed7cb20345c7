import Foundation
import MLCore

/// The generative model families PFAMI attacks here (Docs/pfami.md, "Models").
public enum ModelKind: String, Sendable, Codable, CaseIterable {
    /// The convolutional VAE (`ConvVAE`).
    case vae
    /// The small DDPM (`DiffusionUNet` + `NoiseSchedule`).
    case ddpm
    /// The analytic Gaussian-KDE "generator" of the positive control (`KDEModel`).
    case kde
}

/// A generative model seen through its loss, PFAMI's stand-in for −log p (Fu et al. 2023, §4.1;
/// Docs/pfami.md, "Probe losses"). Every probe is one black-box query.
public protocol ProbeModel: AnyObject {
    /// The family.
    var kind: ModelKind { get }
    /// Image channels C the model takes.
    var channels: Int { get }
    /// Image side S the model takes.
    var size: Int { get }
    /// The trainable parameters (empty for the KDE).
    var parameters: [Parameter] { get }
    /// The loss of each image for one probe: images [N, C, S, S] in [0, 1] → N losses. `probe` is the
    /// DDPM's timestep t, or the index of a VAE's repeated pass; image i's noise (ε of the DDPM, the
    /// reparameterisation ε of the VAE) is drawn from `RandomGenerator(seed: noiseSeeds[i], stream: probe)`,
    /// so equal seeds give equal noise (common random numbers). No gradients are recorded.
    func losses(_ images: Tensor, probe: Int, noiseSeeds: [UInt64]) -> [Float]
    /// The mean training loss of a batch (images [N, C, S, S] in [0, 1]), recording gradients; the
    /// noise is drawn from `rng`.
    func trainingLoss(_ images: Tensor, rng: inout RandomGenerator) -> Variable
    /// The config written into the checkpoint (`architecture` is `pfami-<kind>`).
    var configJSON: JSONValue { get throws }
}

/// Draws `count` standard normals per image from `RandomGenerator(seed: seeds[i], stream: stream)`:
/// [seeds.count · count] row-major.
func seededNormals(_ seeds: [UInt64], stream: Int, count: Int) -> [Float] {
    var out = [Float](repeating: 0, count: seeds.count * count)
    for (i, seed) in seeds.enumerated() {
        var g = RandomGenerator(seed: seed, stream: UInt64(stream))
        for j in 0..<count { out[i * count + j] = g.normal() }
    }
    return out
}

// MARK: - VAE

/// The convolutional VAE's sizes (Docs/pfami.md, "Models").
public struct VAEConfig: Sendable, Codable, Equatable {
    /// Image channels C.
    public var channels: Int
    /// Image side S (divisible by 4).
    public var size: Int
    /// Channels of the first convolution (the second has twice as many).
    public var width: Int
    /// Latent dimension.
    public var latent: Int

    /// The sizes; defaults are the full run's VAE (Docs/pfami.md).
    public init(channels: Int, size: Int, width: Int = 32, latent: Int = 16) {
        (self.channels, self.size, self.width, self.latent) = (channels, size, width, latent)
    }
}

/// A small convolutional VAE (Kingma & Welling 2014) in the shape of pythae's convolutional VAEs the
/// reference trains (wjfu99/MIA-Gen VAEs/), scaled down: encoder conv 4×4/2 (C → w), ReLU, conv 4×4/2
/// (w → 2w), ReLU, flatten, linear heads μ and log σ² (latent d); decoder linear (d → 2w·(S/4)²),
/// ReLU, transposed conv 4×4/2 (2w → w), ReLU, transposed conv 4×4/2 (w → C), sigmoid.
/// Loss per image (pythae's VAE): ‖x̂ − x‖² summed over pixels + KL(q(z|x) ‖ N(0, I)), one
/// reparameterised sample z = μ + σ·ε; x in [0, 1].
public final class ConvVAE: ProbeModel, Module {
    /// The sizes the VAE was built with.
    public let config: VAEConfig
    let conv1: Conv2d, conv2: Conv2d, mu: Linear, logVariance: Linear
    let decoderInput: Linear, deconv1: ConvTranspose2d, deconv2: ConvTranspose2d

    /// Parameters named `encoder.*` and `decoder.*` from `factory`.
    /// - Precondition: size divisible by 4.
    public init(config: VAEConfig, factory: ParameterFactory) {
        require(config.size % 4 == 0 && config.size >= 4, "ConvVAE: image side \(config.size) must be a multiple of 4")
        self.config = config
        let w = config.width, flat = 2 * w * (config.size / 4) * (config.size / 4)
        let e = factory.scoped("encoder"), d = factory.scoped("decoder")
        conv1 = Conv2d("conv1", inChannels: config.channels, outChannels: w, kernel: (4, 4), stride: (2, 2), padding: .all(1), factory: e)
        conv2 = Conv2d("conv2", inChannels: w, outChannels: 2 * w, kernel: (4, 4), stride: (2, 2), padding: .all(1), factory: e)
        mu = Linear("mu", inFeatures: flat, outFeatures: config.latent, factory: e)
        logVariance = Linear("log_var", inFeatures: flat, outFeatures: config.latent, factory: e)
        decoderInput = Linear("fc", inFeatures: config.latent, outFeatures: flat, factory: d)
        deconv1 = ConvTranspose2d("deconv1", inChannels: 2 * w, outChannels: w, kernel: (4, 4), stride: (2, 2), padding: (1, 1), factory: d)
        deconv2 = ConvTranspose2d("deconv2", inChannels: w, outChannels: config.channels, kernel: (4, 4), stride: (2, 2), padding: (1, 1), factory: d)
    }

    public var kind: ModelKind { .vae }
    public var channels: Int { config.channels }
    public var size: Int { config.size }
    public var parameters: [Parameter] {
        [conv1, conv2].flatMap(\.parameters) + mu.parameters + logVariance.parameters + decoderInput.parameters
            + deconv1.parameters + deconv2.parameters
    }
    public var configJSON: JSONValue { get throws { try encodedJSON(config) } }

    /// x [N, C, S, S] → (μ, log σ²) [N, d] each.
    public func encode(_ x: Variable) -> (Variable, Variable) {
        let h = conv2(conv1(x).relu()).relu().flattened(from: 1)
        return (mu(h), logVariance(h))
    }

    /// z [N, d] → x̂ [N, C, S, S] in (0, 1).
    public func decode(_ z: Variable) -> Variable {
        let q = config.size / 4
        let h = decoderInput(z).relu().reshaped([z.shape[0], 2 * config.width, q, q])
        return deconv2(deconv1(h).relu()).sigmoid()
    }

    /// Per-image loss [N]: Σ (x̂ − x)² + KL, with z = μ + exp(½ log σ²)·ε.
    func perImageLoss(_ x: Variable, epsilon: Tensor) -> Variable {
        let (m, lv) = encode(x)
        let z = m + (lv * 0.5).exp() * epsilon
        let reconstruction = (decode(z) - x).square().sum(axes: [1, 2, 3])
        // KL(N(μ, σ²) ‖ N(0, 1)) = −½ Σ (1 + log σ² − μ² − σ²).
        let kl = ((lv + 1) - m.square() - lv.exp()).sum(axis: 1) * -0.5
        return reconstruction + kl
    }

    public func losses(_ images: Tensor, probe: Int, noiseSeeds: [UInt64]) -> [Float] {
        let n = images.shape[0]
        let eps = Tensor(seededNormals(noiseSeeds, stream: probe, count: config.latent), shape: [n, config.latent])
        return withoutGradient { perImageLoss(Variable(images), epsilon: eps).value.scalars }
    }

    public func trainingLoss(_ images: Tensor, rng: inout RandomGenerator) -> Variable {
        let n = images.shape[0]
        let eps = Tensor(shape: [n, config.latent]) { _ in rng.normal() }
        return perImageLoss(Variable(images), epsilon: eps).mean()
    }
}

// MARK: - DDPM

/// The small DDPM's sizes (Docs/pfami.md, "Models").
public struct DDPMConfig: Sendable, Codable, Equatable {
    /// Image channels C.
    public var channels: Int
    /// Image side S (divisible by 4).
    public var size: Int
    /// Base width b of the UNet (levels b and 2b).
    public var width: Int
    /// GroupNorm groups (divides b).
    public var groups: Int
    /// The noise schedule (linear β 1e-4 → 0.02, T = 1000 by default).
    public var schedule: NoiseSchedule

    /// The sizes and schedule; the defaults are DDPM's linear β 1e-4 → 0.02, T = 1000.
    public init(channels: Int, size: Int, width: Int = 32, groups: Int = 8, schedule: NoiseSchedule = NoiseSchedule()) {
        (self.channels, self.size, self.width, self.groups, self.schedule) = (channels, size, width, groups, schedule)
    }
}

/// A residual block of the UNet (diffusers' ResnetBlock2D, simplified): GroupNorm, SiLU, conv 3×3,
/// plus a projection of the timestep embedding per channel, GroupNorm, SiLU, conv 3×3; a 1×1
/// convolution on the skip path when the width changes.
final class ResidualBlock: Module {
    let norm1: GroupNorm, conv1: Conv2d, time: Linear, norm2: GroupNorm, conv2: Conv2d, skip: Conv2d?

    init(_ prefix: String, in c: Int, out o: Int, timeWidth: Int, groups: Int, factory: ParameterFactory) {
        let f = factory.scoped(prefix)
        norm1 = GroupNorm("norm1", groups: groups, channels: c, factory: f)
        conv1 = Conv2d("conv1", inChannels: c, outChannels: o, kernel: (3, 3), padding: .all(1), factory: f)
        time = Linear("time_emb_proj", inFeatures: timeWidth, outFeatures: o, factory: f)
        norm2 = GroupNorm("norm2", groups: groups, channels: o, factory: f)
        conv2 = Conv2d("conv2", inChannels: o, outChannels: o, kernel: (3, 3), padding: .all(1), factory: f)
        skip = c == o ? nil : Conv2d("conv_shortcut", inChannels: c, outChannels: o, kernel: (1, 1), factory: f)
    }

    var parameters: [Parameter] {
        norm1.parameters + conv1.parameters + time.parameters + norm2.parameters + conv2.parameters + (skip?.parameters ?? [])
    }

    /// x [N, c, H, W], embedding [N, E] (already through SiLU) → [N, o, H, W].
    func callAsFunction(_ x: Variable, _ embedding: Variable) -> Variable {
        var h = conv1(norm1(x).silu())
        let o = h.shape[1]
        h = h + time(embedding).reshaped([x.shape[0], o, 1, 1])
        h = conv2(norm2(h).silu())
        return (skip.map { $0(x) } ?? x) + h
    }
}

/// A two-level UNet ε_θ(x_t, t) for the DDPM (Ho et al. 2020, appendix B, scaled down; the layer
/// names follow diffusers' UNet2DModel): the sinusoidal timestep embedding (width b, flip_sin_to_cos,
/// shift 0 as UNet2DModel) through linear–SiLU–linear (4b); conv_in 3×3 (C → b); a residual block at
/// S (b), a stride-2 convolution, a block at S/2 (b → 2b), a stride-2 convolution, a middle block at
/// S/4; up: transposed conv 4×4/2, concatenation with the skip, a block (4b → 2b), transposed conv,
/// concatenation, a block (3b → b); GroupNorm, SiLU, conv_out 3×3 (b → C).
public final class DiffusionUNet: ProbeModel, Module {
    /// The sizes and schedule the UNet was built with.
    public let config: DDPMConfig
    let time1: Linear, time2: Linear, convIn: Conv2d
    let down0: ResidualBlock, downsample0: Conv2d, down1: ResidualBlock, downsample1: Conv2d, middle: ResidualBlock
    let upsample1: ConvTranspose2d, up1: ResidualBlock, upsample0: ConvTranspose2d, up0: ResidualBlock
    let normOut: GroupNorm, convOut: Conv2d

    /// - Precondition: size divisible by 4; groups divide the width.
    public init(config: DDPMConfig, factory: ParameterFactory) {
        require(config.size % 4 == 0 && config.size >= 4, "DiffusionUNet: image side \(config.size) must be a multiple of 4")
        require(config.width % config.groups == 0, "DiffusionUNet: \(config.groups) groups do not divide width \(config.width)")
        self.config = config
        let b = config.width, e = 4 * b, g = config.groups
        time1 = Linear("time_embedding.linear_1", inFeatures: b, outFeatures: e, factory: factory)
        time2 = Linear("time_embedding.linear_2", inFeatures: e, outFeatures: e, factory: factory)
        convIn = Conv2d("conv_in", inChannels: config.channels, outChannels: b, kernel: (3, 3), padding: .all(1), factory: factory)
        down0 = ResidualBlock("down.0", in: b, out: b, timeWidth: e, groups: g, factory: factory)
        downsample0 = Conv2d("down.0.downsample", inChannels: b, outChannels: b, kernel: (3, 3), stride: (2, 2), padding: .all(1), factory: factory)
        down1 = ResidualBlock("down.1", in: b, out: 2 * b, timeWidth: e, groups: g, factory: factory)
        downsample1 = Conv2d("down.1.downsample", inChannels: 2 * b, outChannels: 2 * b, kernel: (3, 3), stride: (2, 2), padding: .all(1), factory: factory)
        middle = ResidualBlock("mid", in: 2 * b, out: 2 * b, timeWidth: e, groups: g, factory: factory)
        upsample1 = ConvTranspose2d("up.1.upsample", inChannels: 2 * b, outChannels: 2 * b, kernel: (4, 4), stride: (2, 2), padding: (1, 1), factory: factory)
        up1 = ResidualBlock("up.1", in: 4 * b, out: 2 * b, timeWidth: e, groups: g, factory: factory)
        upsample0 = ConvTranspose2d("up.0.upsample", inChannels: 2 * b, outChannels: 2 * b, kernel: (4, 4), stride: (2, 2), padding: (1, 1), factory: factory)
        up0 = ResidualBlock("up.0", in: 3 * b, out: b, timeWidth: e, groups: g, factory: factory)
        normOut = GroupNorm("conv_norm_out", groups: g, channels: b, factory: factory)
        convOut = Conv2d("conv_out", inChannels: b, outChannels: config.channels, kernel: (3, 3), padding: .all(1), factory: factory)
    }

    public var kind: ModelKind { .ddpm }
    public var channels: Int { config.channels }
    public var size: Int { config.size }
    public var parameters: [Parameter] {
        time1.parameters + time2.parameters + convIn.parameters + down0.parameters + downsample0.parameters + down1.parameters
            + downsample1.parameters + middle.parameters + upsample1.parameters + up1.parameters + upsample0.parameters
            + up0.parameters + normOut.parameters + convOut.parameters
    }
    public var configJSON: JSONValue { get throws { try encodedJSON(config) } }

    /// ε_θ(x_t, t): x [N, C, S, S], timesteps N values → [N, C, S, S].
    public func callAsFunction(_ x: Variable, timesteps: [Float]) -> Variable {
        let t = Variable(TimestepEmbedding.sinusoidal(timesteps, dimension: config.width, flipSinToCos: true, downscaleFrequencyShift: 0))
        let embedding = time2(time1(t).silu()).silu()
        let h0 = convIn(x)
        let s0 = down0(h0, embedding)
        let s1 = down1(downsample0(s0), embedding)
        let m = middle(downsample1(s1), embedding)
        let u1 = up1(Variable.concatenate([upsample1(m), s1], axis: 1), embedding)
        let u0 = up0(Variable.concatenate([upsample0(u1), s0], axis: 1), embedding)
        return convOut(normOut(u0).silu())
    }

    /// Per-image mean over pixels of (ε − ε_θ(√ᾱ_t·x + √(1 − ᾱ_t)·ε, t))², x = 2·image − 1.
    func perImageLoss(_ images: Tensor, timesteps: [Int], epsilon: Tensor) -> Variable {
        let n = images.shape[0], plane = images.count / n
        let ab = timesteps.map { config.schedule.alphaBar[$0] }
        let a = Tensor(ab.map { Float($0.squareRoot()) }, shape: [n, 1, 1, 1])
        let s = Tensor(ab.map { Float((1 - $0).squareRoot()) }, shape: [n, 1, 1, 1])
        let noisy = (images * 2 - 1) * a + epsilon * s
        let predicted = self(Variable(noisy), timesteps: timesteps.map(Float.init))
        return (predicted - epsilon).square().sum(axes: [1, 2, 3]) * (1 / Float(plane))
    }

    public func losses(_ images: Tensor, probe: Int, noiseSeeds: [UInt64]) -> [Float] {
        let n = images.shape[0], plane = images.count / n
        let eps = Tensor(seededNormals(noiseSeeds, stream: probe, count: plane), shape: images.shape)
        return withoutGradient { perImageLoss(images, timesteps: Array(repeating: probe, count: n), epsilon: eps).value.scalars }
    }

    /// SecMI's loss (Duan et al. 2023, "Are Diffusion Models Vulnerable to Membership Inference
    /// Attacks?", §4; wjfu99/MIA-Gen attack_model_PFAMI.py `ddim_loss`): x = 2·image − 1 is carried by
    /// deterministic DDIM steps (x_{t'} = √ᾱ_{t'}·x̂_0 + √(1 − ᾱ_{t'})·ε_θ(x_t, t), x̂_0 = (x_t − √(1 − ᾱ_t)·ε_θ)/√ᾱ_t)
    /// from t = 0 through `interval`, 2·interval, … to t_sec − interval, then one step up to t_sec and one
    /// back; ℓ = Σ (x̂_{t_sec − interval} − x_{t_sec − interval})² over pixels, per image [N]. Lower ℓ
    /// means member. Queries: t_sec/interval + 1 forward passes.
    /// - Precondition: 0 < 2·interval ≤ tSec < T.
    public func secmiLoss(_ images: Tensor, tSec: Int = 100, interval: Int = 10) -> [Float] {
        require(interval > 0 && 2 * interval <= tSec && tSec < config.schedule.steps, "secmiLoss: t_sec \(tSec), interval \(interval)")
        let n = images.shape[0]
        func step(_ x: Tensor, from t: Int, to target: Int) -> Tensor {
            let eps = self(Variable(x), timesteps: Array(repeating: Float(t), count: n)).value
            let a = config.schedule.alphaBar[t], b = config.schedule.alphaBar[target]
            let x0 = (x - eps * Float((1 - a).squareRoot())) * Float(1 / a.squareRoot())
            return x0 * Float(b.squareRoot()) + eps * Float((1 - b).squareRoot())
        }
        return withoutGradient {
            var x = images * 2 - 1, t = 0
            for target in stride(from: interval, to: tSec, by: interval) { x = step(x, from: t, to: target); t = target }
            let back = step(step(x, from: t, to: t + interval), from: t + interval, to: t)
            return (back - x).square().sum(axes: [1, 2, 3]).scalars
        }
    }

    /// The DDPM objective (Ho et al. 2020, Algorithm 1): t uniform in 0..<T, ε ~ N(0, I).
    public func trainingLoss(_ images: Tensor, rng: inout RandomGenerator) -> Variable {
        let n = images.shape[0]
        let t = (0..<n).map { _ in rng.nextInt(below: config.schedule.steps) }
        let eps = Tensor(shape: images.shape) { _ in rng.normal() }
        return perImageLoss(images, timesteps: t, epsilon: eps).mean()
    }
}
