#!/usr/bin/env python3
"""Generates Tests/Fixtures/pfami_neighbours.json: PFAMI's neighbours in float64 PyTorch.

For a [1, 2, 32, 32] image on a 1/64 grid and λ = numpy.linspace(0.95, 0.70, 10) (the reference's
strengths, wjfu99/MIA-Gen attack/attack_model_PFAMI.py): the crop side int(S·λ), the offset
int(round((S − c)/2)) (torchvision.transforms.functional.center_crop; Python's round is half to even),
the cropped image resized back to S×S with torch.nn.functional.interpolate(mode="bilinear",
align_corners=False) — torchvision's Resize on tensors calls the same interpolation (antialias only
matters when shrinking). Also the crop geometry for S = 64 (the paper's CelebA side).

Run with the torch venv (Tools/reference/requirements-torch.txt; `make torch-venv`):
  .venv-torch/bin/python Tools/reference/make_pfami_fixtures.py   (torch 2.13.0+cpu)
"""
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

OUT = Path(__file__).resolve().parents[2] / "Tests" / "Fixtures" / "pfami_neighbours.json"
torch.manual_seed(20261208)
SIZE = 32
strengths = np.linspace(0.95, 0.70, 10)


def geometry(size):
    crops = [int(size * s) for s in strengths]
    return crops, [int(round((size - c) / 2.0)) for c in crops]


image = torch.randint(0, 65, (1, 2, SIZE, SIZE)).to(torch.float64) / 64
crops, offsets = geometry(SIZE)
neighbours = []
for c, o in zip(crops, offsets):
    cropped = image[:, :, o:o + c, o:o + c]
    resized = F.interpolate(cropped, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
    neighbours.append([float(f"{v:.12g}") for v in resized.reshape(-1).tolist()])
crops64, offsets64 = geometry(64)
fixture = {
    "strengths": strengths.tolist(), "size": SIZE, "shape": list(image.shape),
    "image": image.reshape(-1).tolist(), "crops": crops, "offsets": offsets, "neighbours": neighbours,
    "crops_64": crops64, "offsets_64": offsets64,
    "generator": "Tools/reference/make_pfami_fixtures.py", "torch": torch.__version__,
}
OUT.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
print(f"wrote {OUT} ({OUT.stat().st_size} bytes): crops {crops} offsets {offsets}; 64: {crops64} {offsets64}")
