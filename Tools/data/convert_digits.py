"""scikit-learn's bundled digits (sklearn/datasets/data/digits.csv.gz) -> mlcore image dataset.

The CSV holds 1,797 rows of 65 integers: 64 pixel values in 0..16 (an 8x8 image, row-major) and the
digit label 0..9. Stored as
- `images_8x8` uint8 [N, 8, 8]: the original values 0..16;
- `images` uint8 [N, 32, 32, 1]: the 8x8 image scaled to 0..255 (round(v * 255 / 16), round half to
  even as numpy does) and upsampled to 32x32 with Pillow's Image.resize(BILINEAR) — for an
  enlargement this is the triangle filter at pixel centres (the align_corners=False convention),
  the taps that fall outside the image dropped and the rest renormalised; then rounded to uint8;
- `label` int32 [N], in the CSV's order.
The PFAMI tool (Docs/pfami.md) trains its generative models on the 32x32 images.
"""

import gzip
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import PIL
from PIL import Image

import h5common
from h5common import ConversionError

MEMBER = "sklearn/datasets/data/digits.csv.gz"
SIZE = 32


def upsample(grey8: np.ndarray) -> np.ndarray:
    """uint8 [8, 8] -> uint8 [32, 32] by Pillow's bilinear resize."""
    with Image.fromarray(grey8, mode="L") as image:
        return np.asarray(image.resize((SIZE, SIZE), Image.BILINEAR))


def convert(wheel_path: Path, output_path: Path, entry: dict) -> str:
    with zipfile.ZipFile(wheel_path) as wheel:
        text = gzip.decompress(wheel.read(MEMBER)).decode("ascii")
    rows = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.int64)
    if rows.ndim != 2 or rows.shape[1] != 65:
        raise ConversionError(f"{MEMBER}: expected rows of 65 integers, got shape {rows.shape}")
    pixels, labels = rows[:, :64], rows[:, 64]
    if pixels.min() < 0 or pixels.max() > 16 or labels.min() < 0 or labels.max() > 9:
        raise ConversionError(f"{MEMBER}: pixel values outside 0..16 or labels outside 0..9")
    small = pixels.reshape(-1, 8, 8).astype(np.uint8)
    grey8 = np.round(small.astype(np.float64) * 255.0 / 16.0).astype(np.uint8)
    large = np.stack([upsample(g) for g in grey8])[:, :, :, None]
    with h5common.create(output_path) as f:
        h5common.write_root(f, entry, MEMBER)
        f.create_dataset("images", data=large, chunks=(64, SIZE, SIZE, 1), compression="gzip", compression_opts=4)
        f.create_dataset("images_8x8", data=small)
        f.create_dataset("label", data=labels.astype(np.int32))
        h5common.set_json(f, "label_names", [str(d) for d in range(10)])
        counts = {str(d): int((labels == d).sum()) for d in range(10)}
        h5common.set_json(f, "label_counts", counts)
        h5common.set_str(f, "channels", "greyscale, one channel")
        h5common.set_str(f, "resampling", "0..16 scaled to 0..255 (round half even), Pillow Image.resize "
                                          f"BILINEAR 8x8 -> {SIZE}x{SIZE}, rounded to uint8")
        h5common.set_str(f, "decoder", f"numpy {np.__version__}, Pillow {PIL.__version__}")
    return f"{len(labels)} images {SIZE}x{SIZE} " + json.dumps(counts)
