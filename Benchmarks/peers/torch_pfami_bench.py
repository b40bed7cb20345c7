#!/usr/bin/env python3
"""The PyTorch side of PFAMI's model benchmark: one training step of the same networks as
Sources/PFAMI/Models.swift (the DDPM's two-level UNet of width 16 with GroupNorm(8), timestep embedding
and transposed-convolution upsampling; the conv VAE of width 32, latent 16) on a batch of 32 greyscale
32x32 images, the models' own objectives (ε-MSE at a random t per image under the linear β 1e-4..0.02
schedule, T = 1000; summed squared error + KL), backward, clip_grad_norm_(1), Adam (lr 1e-3) — as
Benchmarks/mlcore-bench/ModelBench.swift `pfami`. Eager mode; threads as MLCore's (--threads); timed as
mlcore-bench times MLCore (one warm-up, median of repeats). Needs torch (`make torch-venv`;
`make bench-models` runs it). JSON like mlcore-bench's, with the environment recorded."""
import argparse
import math
import os
import platform
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see efficientnet_torch_bench.py
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import emit, measure  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--output")
p.add_argument("--repeats", type=int, default=7)
p.add_argument("--threads", type=int, default=os.cpu_count())
p.add_argument("--filter", help="only cases whose name contains this")
args = p.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(1)


def timestep_embedding(t, dim):
    """diffusers' get_timestep_embedding with flip_sin_to_cos=True, downscale_freq_shift=0."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)
    angles = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=1)


class Block(nn.Module):
    def __init__(self, c, o, e, g):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(g, c), nn.Conv2d(c, o, 3, padding=1)
        self.time_emb_proj = nn.Linear(e, o)
        self.norm2, self.conv2 = nn.GroupNorm(g, o), nn.Conv2d(o, o, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(c, o, 1) if c != o else None

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x))) + self.time_emb_proj(emb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.conv_shortcut(x) if self.conv_shortcut is not None else x) + h


class UNet(nn.Module):
    def __init__(self, c=1, b=16, g=8):
        super().__init__()
        e = 4 * b
        self.b = b
        self.linear_1, self.linear_2 = nn.Linear(b, e), nn.Linear(e, e)
        self.conv_in = nn.Conv2d(c, b, 3, padding=1)
        self.down0, self.downsample0 = Block(b, b, e, g), nn.Conv2d(b, b, 3, stride=2, padding=1)
        self.down1, self.downsample1 = Block(b, 2 * b, e, g), nn.Conv2d(2 * b, 2 * b, 3, stride=2, padding=1)
        self.mid = Block(2 * b, 2 * b, e, g)
        self.upsample1, self.up1 = nn.ConvTranspose2d(2 * b, 2 * b, 4, 2, 1), Block(4 * b, 2 * b, e, g)
        self.upsample0, self.up0 = nn.ConvTranspose2d(2 * b, 2 * b, 4, 2, 1), Block(3 * b, b, e, g)
        self.conv_norm_out, self.conv_out = nn.GroupNorm(g, b), nn.Conv2d(b, c, 3, padding=1)

    def forward(self, x, t):
        emb = F.silu(self.linear_2(F.silu(self.linear_1(timestep_embedding(t, self.b)))))
        s0 = self.down0(self.conv_in(x), emb)
        s1 = self.down1(self.downsample0(s0), emb)
        m = self.mid(self.downsample1(s1), emb)
        u1 = self.up1(torch.cat([self.upsample1(m), s1], 1), emb)
        u0 = self.up0(torch.cat([self.upsample0(u1), s0], 1), emb)
        return self.conv_out(F.silu(self.conv_norm_out(u0)))


class VAE(nn.Module):
    def __init__(self, c=1, size=32, w=32, latent=16):
        super().__init__()
        q = size // 4
        self.shape = (2 * w, q, q)
        self.conv1, self.conv2 = nn.Conv2d(c, w, 4, 2, 1), nn.Conv2d(w, 2 * w, 4, 2, 1)
        self.mu, self.log_var = nn.Linear(2 * w * q * q, latent), nn.Linear(2 * w * q * q, latent)
        self.fc = nn.Linear(latent, 2 * w * q * q)
        self.deconv1, self.deconv2 = nn.ConvTranspose2d(2 * w, w, 4, 2, 1), nn.ConvTranspose2d(w, c, 4, 2, 1)

    def loss(self, x):
        h = F.relu(self.conv2(F.relu(self.conv1(x)))).flatten(1)
        mu, lv = self.mu(h), self.log_var(h)
        z = mu + torch.exp(0.5 * lv) * torch.randn_like(mu)
        xh = torch.sigmoid(self.deconv2(F.relu(self.deconv1(F.relu(self.fc(z)).view(-1, *self.shape)))))
        kl = -0.5 * (1 + lv - mu.pow(2) - lv.exp()).sum(1)
        return ((xh - x) ** 2).sum((1, 2, 3)).add(kl).mean()


alpha_bar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0).float()
images = torch.rand(32, 1, 32, 32, generator=torch.Generator().manual_seed(3))


def ddpm_loss(model):
    t = torch.randint(0, 1000, (32,))
    eps = torch.randn_like(images)
    ab = alpha_bar[t][:, None, None, None]
    noisy = ab.sqrt() * (2 * images - 1) + (1 - ab).sqrt() * eps
    return F.mse_loss(model(noisy, t), eps)


results = []
for name, model, loss in [("pfami_ddpm_train_step_b32", UNet(), ddpm_loss), ("pfami_vae_train_step_b32", VAE(), lambda m: m.loss(images))]:
    if args.filter and args.filter not in name:
        continue
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(model=model, loss=loss, optimizer=optimizer):
        optimizer.zero_grad()
        loss(model).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    results.append(measure(name, "pfami", 32e9, "images/s", step, args.repeats))
emit({"tool": "torch_pfami_bench", "results": results, "environment": {
    "torch": torch.__version__, "threads": torch.get_num_threads(), "cpu": platform.processor() or platform.machine(),
    "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"), "OMP_WAIT_POLICY": os.environ["OMP_WAIT_POLICY"],
    "repeats": args.repeats}}, args.output)
