#!/usr/bin/env python3
"""Generates Tests/Fixtures/efficientnet_lite0_parity.h5: 4 real images and PyTorch's EfficientNet-Lite0
logits for them, for the parity test of MLCore's EfficientNetLite.

Images (uint8 [4, 224, 224, 3] RGB, gzip): scikit-learn's bundled china.jpg and flower.jpg, and the first
normal and the first globally defective image of the prepared textile dataset (data/datasets/textile.h5,
250x250). Each is centre-cropped to a square of side floor(224/256 of the shorter side + 0.5) at offset
floor((extent - side) / 2) and resized to 224x224 with
Pillow's bicubic filter (the checkpoint's recorded preprocessing); normalisation ((x - 127)/128) is left
to the test. Outputs: `logits` float32 [4, 1000], `top5` int64 [4, 5], `stage_means` (mean of each stage
output per image, float32 [4, 7]) and attributes naming the sources and versions. The third image is
also written as Tests/Fixtures/textile_nominal_224.png (for the PNG decoder test); the original JPEG of
that textile image is copied byte for byte from the conformal-clip-data wheel (prepared by `make data`)
to Tests/Fixtures/textile_nominal_0001.jpg, and Pillow's bicubic resize of its full 250x250 pixels to
100x100 is stored as `textile_down_100` (for the JPEG decoder and downscaling tests).
Licenses and attribution of the photos: the `image_attribution` attribute.

Two interpreters: the images are prepared with the project venv (Pillow, scikit-learn, h5py), the
network runs in the torch venv (Tools/reference/requirements-torch.txt; `make torch-venv`). Run from the
repository root:
  .venv-torch/bin/python Tools/reference/make_efficientnet_fixture.py
(it calls .venv/bin/python for the image step itself).
"""
import hashlib
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests" / "Fixtures" / "efficientnet_lite0_parity.h5"
PNG = ROOT / "Tests" / "Fixtures" / "textile_nominal_224.png"
JPEG = ROOT / "Tests" / "Fixtures" / "textile_nominal_0001.jpg"
TEXTILE_WHEEL = ROOT / "data" / "downloads" / "conformal_clip_data-0.1.4-py3-none-any.whl"
TEXTILE_MEMBER = "conformal_clip_data/data/textile_images/simulated/nominal/textile_0001.jpg"
ATTRIBUTION = ("china.jpg and flower.jpg (scikit-learn's bundled photos): CC BY 2.0, "
               "https://creativecommons.org/licenses/by/2.0/, by danielbuechele "
               "(https://www.flickr.com/photos/danielbuechele/6061409035) and vultilion "
               "(https://www.flickr.com/photos/vultilion/6056698931), via scikit-learn; stored here cropped "
               "and resized. Textile images: conformal-clip-data 0.1.4, MIT.")
CHECKPOINT = ROOT / "data" / "models" / "efficientnet-lite0.h5"
SIZE = 224


def prepare_images():
    """Project venv: crop + resize the 4 images and write them (and their provenance) to OUT."""
    import h5py
    import numpy as np
    import sklearn
    from PIL import Image

    def crop_resize(img):
        w, h = img.size
        side = int(min(w, h) * SIZE / (SIZE + 32) + 0.5)
        left, top = (w - side) // 2, (h - side) // 2
        return np.asarray(img.convert("RGB").crop((left, top, left + side, top + side))
                          .resize((SIZE, SIZE), Image.BICUBIC))

    images, names = [], []
    folder = Path(sklearn.__file__).parent / "datasets" / "images"
    for name in ("china.jpg", "flower.jpg"):
        path = folder / name
        images.append(crop_resize(Image.open(path)))
        names.append(f"scikit-learn {sklearn.__version__} datasets/images/{name} "
                     f"sha256 {hashlib.sha256(path.read_bytes()).hexdigest()}")
    with h5py.File(ROOT / "data" / "datasets" / "textile.h5", "r") as f:
        labels = f["label"][:]
        for wanted in (0, 2):
            i = int(np.flatnonzero(labels == wanted)[0])
            images.append(crop_resize(Image.fromarray(f["images"][i])))
            names.append(f"textile.h5 images[{i}] ({f['filename'][i].decode()}, label {wanted})")
    # The textile image also as a PNG, for the PNG decoder test (its pixels equal images[2]), and its
    # original JPEG, whose Pillow decoding must be the pixels textile.h5 holds.
    Image.fromarray(images[2]).save(PNG, optimize=True)
    import io
    import zipfile
    with zipfile.ZipFile(TEXTILE_WHEEL) as wheel:
        JPEG.write_bytes(wheel.read(TEXTILE_MEMBER))
    textile = Image.open(io.BytesIO(JPEG.read_bytes())).convert("RGB")
    with h5py.File(ROOT / "data" / "datasets" / "textile.h5", "r") as f:
        assert f["filename"][0].decode().endswith("nominal/textile_0001.jpg")
        assert (np.asarray(textile) == f["images"][0]).all(), "textile.h5 images[0] is not the JPEG's pixels"
    down = np.asarray(textile.resize((100, 100), Image.BICUBIC))
    with h5py.File(OUT, "w") as f:
        f.create_dataset("images", data=np.stack(images), compression="gzip", compression_opts=9, shuffle=True)
        f.create_dataset("textile_down_100", data=down, compression="gzip", compression_opts=9, shuffle=True)
        f.attrs["image_sources"] = json.dumps(names)
        f.attrs["image_attribution"] = ATTRIBUTION
        f.attrs["preprocessing"] = ("centre crop of floor(224/256 of the shorter side + 0.5), Pillow BICUBIC resize "
                                    "to 224x224, uint8 RGB; the test normalises with the checkpoint's mean/std")


def run_network():
    """Torch venv: run the reference network on the stored images and add the outputs to OUT."""
    import h5py
    import numpy as np
    import torch
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from efficientnet_torch import EfficientNetLite, load_checkpoint, normalise

    torch.set_num_threads(1)
    config, params = load_checkpoint(CHECKPOINT)
    model = EfficientNetLite(config, params).eval()
    with h5py.File(OUT, "a") as f:
        x = normalise(f["images"][:], config)
        starts = [i for i, b in enumerate(config["blocks"]) if not b["skip"]]
        ends = [s - 1 for s in starts[1:]] + [len(config["blocks"]) - 1]
        with torch.no_grad():
            logits, taps = model(x, taps=tuple(ends))
        top5 = torch.topk(logits, 5, dim=1).indices
        for name in ("logits", "top5", "stage_means"):
            if name in f:
                del f[name]
        f.create_dataset("logits", data=logits.numpy().astype(np.float32))
        f.create_dataset("top5", data=top5.numpy().astype(np.int64))
        f.create_dataset("stage_means", data=torch.stack([taps[e].mean(dim=(1, 2, 3)) for e in ends], 1).numpy())
        f.attrs["generator"] = "Tools/reference/make_efficientnet_fixture.py"
        f.attrs["torch"] = str(torch.__version__)
        with h5py.File(CHECKPOINT, "r") as c:
            f.attrs["checkpoint_source"] = c.attrs["source"]
        probs = torch.softmax(logits, 1)
        for row, p in zip(top5.tolist(), probs):
            print(row, [round(float(p[k]), 3) for k in row])
    print(f"{OUT}: {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    if sys.argv[1:] == ["--images"]:
        prepare_images()
    else:
        subprocess.run([str(ROOT / ".venv" / "bin" / "python"), __file__, "--images"], check=True)
        run_network()
