"""elpv-dataset's electroluminescence solar-cell images (PNG) -> mlcore anomaly dataset.

elpv_dataset/data/labels.csv lists, per image, its path (images/cellNNNN.png), the probability that the
cell is defective as judged by an expert (0, 1/3, 2/3 or 1) and the cell type (mono or poly); the
2,624 images are 8-bit greyscale 300x300. Stored in the layout of the textile dataset (reb's
AnomalyDataset): `images` uint8 [N, 300, 300, 3] (the grey level copied into R, G and B, since the
tools read RGB), `label` int32 [N] with 0 = defect probability 0 (normal), 1 = 1/3, 2 = 2/3, 3 = 1,
`filename`, `cell_type` (strings) and `defect_probability` (float64), in the order of labels.csv.
There are no pixel masks.
"""

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import PIL
from PIL import Image

import h5common
from h5common import ConversionError

ROOT = "elpv_dataset/data/"
LABELS = ["normal", "defect p=1/3", "defect p=2/3", "defect p=1"]
SIZE = 300


def convert(wheel_path: Path, output_path: Path, entry: dict) -> str:
    with zipfile.ZipFile(wheel_path) as wheel:
        rows = [line.split() for line in wheel.read(ROOT + "labels.csv").decode("ascii").splitlines() if line.strip()]
        if not rows or any(len(r) != 3 for r in rows):
            raise ConversionError(f"{ROOT}labels.csv: expected 'path probability type' rows")
        with h5common.create(output_path) as f:
            h5common.write_root(f, entry, ROOT + "{labels.csv,images/*.png}")
            images = f.create_dataset("images", shape=(len(rows), SIZE, SIZE, 3), dtype=np.uint8,
                                      chunks=(1, SIZE, SIZE, 3), compression="gzip", compression_opts=4)
            labels, probabilities, types = [], [], []
            for index, (path, probability, cell_type) in enumerate(rows):
                p = float(probability)
                level = int(round(3 * p))
                if abs(3 * p - level) > 1e-6 or not 0 <= level <= 3:
                    raise ConversionError(f"{path}: defect probability {probability}, expected 0, 1/3, 2/3 or 1")
                if cell_type not in ("mono", "poly"):
                    raise ConversionError(f"{path}: cell type {cell_type!r}, expected mono or poly")
                with Image.open(io.BytesIO(wheel.read(ROOT + path))) as image:
                    if image.size != (SIZE, SIZE) or image.mode != "L":
                        raise ConversionError(f"{path}: {image.mode} {image.size}, expected L {SIZE}x{SIZE}")
                    grey = np.asarray(image)
                images[index] = np.repeat(grey[:, :, None], 3, axis=2)
                labels.append(level)
                probabilities.append(p)
                types.append(cell_type)
            f.create_dataset("label", data=np.asarray(labels, np.int32))
            f.create_dataset("defect_probability", data=np.asarray(probabilities, np.float64))
            h5common.string_dataset(f, "filename", [path for path, _, _ in rows])
            h5common.string_dataset(f, "cell_type", types)
            h5common.set_json(f, "label_names", LABELS)
            counts = {name: labels.count(i) for i, name in enumerate(LABELS)}
            h5common.set_json(f, "label_counts", counts)
            h5common.set_json(f, "cell_type_counts", {t: types.count(t) for t in ("mono", "poly")})
            h5common.set_str(f, "channels", "greyscale copied into R, G and B")
            h5common.set_str(f, "decoder", f"Pillow {PIL.__version__}")
    return f"{len(rows)} images " + json.dumps(counts)
