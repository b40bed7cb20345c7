"""Reproduce REB on the textile images (Docs/reb.md, "Reproduction"): for each split seed the
handcrafted detectability ceiling (`reb baseline`), memory banks without a coreset (LDKNN densities
from all training patches, the reference's default) with ImageNet features and with the backbone after
DefectMaker self-supervision (`reb ssl-train`), kNN (PatchCore) and LDKNN for K in {3,5,7,9,11}; on the
first seed the coreset ablation (densities from all patches vs the coreset only), the DefectMaker
defects per kind, maps and a contact sheet; then the elpv solar cells as a second data set (per defect
level and cell type). Writes results/reb/<mode>/*.json, table.md (means over the seeds with 95%
Student-t intervals, the paper's numbers, a verdict per claim from the per-seed paired differences),
auroc_vs_k.svg, heatmaps.png, defectmaker.png and verdict.json.

    python Tools/reproduce/reb.py            # full: 200 training normals, all 1,800 test images, 3 seeds
    python Tools/reproduce/reb.py --quick    # 1–2 min idle: 15 training normals, 15 test images per label

Runs the built `reb` executable (.build/release/reb); existing result files are reused, so an
interrupted run resumes (REB_BINARY overrides the executable, e.g. a copy kept while rebuilding). The
heat-map picture and the elpv cell types use numpy, h5py and Pillow from the project's .venv
(Tools/data/requirements.txt); everything else is the standard library. Exits non-zero when a report
is missing a metric or holds an AUROC outside [0, 1], or elpv is not prepared (CI runs --quick as a check).
"""

import argparse
import json
import os
import sys
from pathlib import Path

from plotkit import (PALETTE, beside_paper, combine_verdicts, line_plot, markdown_table, signed, t_interval, verdict_row,
                     write_verdict)
from tool_reports import run_report

REB = Path(os.environ.get("REB_BINARY", ".build/release/reb"))
KS = [3, 5, 7, 9, 11]
# Every setting of one mode. seeds: split seeds of the main rows (ImageNet and SSL features, no coreset,
# densities from all training patches); ablations (coreset ratios × density source, the synthetic
# defects, the maps) run on the first seed. elpv: the second data set (train normals, test per label).
FULL = dict(train_normals=200, test_per_label=None, seeds=[0, 1, 2], coresets=[0.1], synthetic=60, sheet=4,
            ssl=["--steps", 120, "--normals-per-step", 4], elpv=dict(train_normals=200, test_per_label=None, coreset=0.1))
QUICK = dict(train_normals=15, test_per_label=15, seeds=[0, 1, 2], coresets=[0.25], synthetic=6, sheet=2,
             ssl=["--steps", 3, "--normals-per-step", 2, "--frozen-steps", 1, "--eval-normals", 2],
             elpv=dict(train_normals=15, test_per_label=10, coreset=0.25))
# The patch features of every run (Docs/reb.md, "Diagnosis": the taps and resolution checked) and the
# main rows' coreset ratio (1: none); --stages, --input-size and --main-coreset override them.
FEATURES = ["--stages", "2,4", "--input-size", 224]
MAIN_CORESET = 1

PAPER = [
    ("REB (DefectMaker-SSL VGG11/ResNet18 + LDKNN), MVTec AD", "image AUROC 99.5%"),
    ("REB, MVTec LOCO AD", "image AUROC 88.0%"),
    ("PatchCore WideResNet-50 (kNN), MVTec AD", "image AUROC 99.2%, pixel AUROC 98.1%, PRO 94.4%"),
]

# The headline claim (abstract) and where Docs/reb.md holds the reproduction table.
CLAIM = "REB's local-density kNN (LDKNN) over DefectMaker-SSL features beats PatchCore's kNN and reaches 99.5% image AUROC on MVTec AD"
PAPER_K, PAPER_AUROC = 9, 0.995
LINK = "Docs/reb.md#reproduction-make-reb"
STATISTICS = [("laplacian_block_ratio", "max 12×12 mean |Laplacian| / median"), ("horizontal_gradient", "mean |horizontal gradient|")]


def run(args, output):
    """Runs reb with args, writing the report to output (reused when it exists)."""
    return run_report(REB, args, output)


def split_args(settings, seed, dataset=None):
    args = ["--train-normals", settings["train_normals"], "--split-seed", seed]
    if settings["test_per_label"]:
        args += ["--test-per-label", settings["test_per_label"]]
    return args + (["--dataset", dataset] if dataset else [])


def reproduce(settings, out: Path):
    """Every report of the run: {"baseline": {seed: report}, "imagenet": {seed: eval}, "ssl": {seed: eval},
    "ssl_train": {seed: report}, "fits": {name: fit}, "ablations": {(ratio, density): eval}}."""
    r = dict(baseline={}, imagenet={}, ssl={}, ssl_train={}, fits={}, ablations={})
    ks = ["--ks", ",".join(map(str, KS))]
    for n, seed in enumerate(settings["seeds"]):
        split = split_args(settings, seed)
        r["baseline"][seed] = run(["baseline"] + split, out / f"baseline-seed{seed}.json")
        bank = out / f"bank-seed{seed}.h5"
        r["fits"][f"imagenet-{seed}"] = run(["fit", "--coreset", MAIN_CORESET, "--max-k", max(KS), "--save", bank] + FEATURES + split,
                                            out / f"fit-seed{seed}.json")
        extra = ["--save-maps", out / "maps.h5", "--synthetic", settings["synthetic"]] if n == 0 else []
        r["imagenet"][seed] = run(["eval", "--bank", bank] + ks + extra + split, out / f"eval-seed{seed}.json")
        # DefectMaker-SSL features: fine-tune the backbone (reb ssl-train) on this split's training
        # normals, then the same bank and scores with the fine-tuned backbone.
        weights = out / f"ssl-backbone-seed{seed}.h5"
        r["ssl_train"][seed] = run(["ssl-train", "--seed", seed, "--save", weights] + settings["ssl"] + split,
                                   out / f"ssl-train-seed{seed}.json")
        bank = out / f"bank-ssl-seed{seed}.h5"
        r["fits"][f"ssl-{seed}"] = run(["fit", "--weights", weights, "--coreset", MAIN_CORESET, "--max-k", max(KS), "--save", bank] + FEATURES + split,
                                       out / f"fit-ssl-seed{seed}.json")
        r["ssl"][seed] = run(["eval", "--weights", weights, "--bank", bank] + ks + split, out / f"eval-ssl-seed{seed}.json")
    # Coreset ablations on the first seed: densities from all training patches (the reference) and
    # from the coreset only (this tool's earlier computation).
    seed = settings["seeds"][0]
    split = split_args(settings, seed)
    for ratio in settings["coresets"]:
        for density in ("all", "bank"):
            bank = out / f"bank-coreset{ratio:g}-{density}.h5"
            r["fits"][f"coreset{ratio:g}-{density}"] = run(["fit", "--coreset", ratio, "--density-from", density, "--max-k", max(KS),
                                                            "--save", bank] + FEATURES + split, out / f"fit-coreset{ratio:g}-{density}.json")
            r["ablations"][(ratio, density)] = run(["eval", "--bank", bank] + ks + split, out / f"eval-coreset{ratio:g}-{density}.json")
    run(["defectmaker", "--count", settings["sheet"], "--save", out / "defectmaker.h5", "--sheet", out / "defectmaker.png"] + split,
        out / "defectmaker.json")
    return r


def elpv(settings, out: Path):
    """The second data set: elpv solar cells, ImageNet features, kNN and LDKNN, the baseline statistics;
    per-image scores for the per-cell-type AUROC."""
    e = settings["elpv"]
    split = split_args(e, 0, "elpv")
    baseline = run(["baseline", "--scores", out / "elpv-baseline.jsonl"] + split, out / "elpv-baseline.json")
    bank = out / "elpv-bank.h5"
    fit = run(["fit", "--coreset", e["coreset"], "--max-k", max(KS), "--save", bank] + FEATURES + split, out / "elpv-fit.json")
    evaluation = run(["eval", "--bank", bank, "--ks", ",".join(map(str, KS)), "--save-scores", out / "elpv-scores.jsonl"] + split,
                     out / "elpv-eval.json")
    return baseline, fit, evaluation


def auroc(scores, labels):
    """AUROC (labels > 0 positive) by the Mann–Whitney rank sum, ties at their average rank."""
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for t in range(i, j + 1):
            ranks[order[t]] = (i + j) / 2 + 1
        i = j + 1
    positives = sum(1 for l in labels if l > 0)
    negatives = len(labels) - positives
    return (sum(r for r, l in zip(ranks, labels) if l > 0) - positives * (positives + 1) / 2) / (positives * negatives)


def elpv_table(baseline, fit, evaluation, out: Path):
    """Image AUROC per defect level and per cell type (mono / poly: normals and defects of that type)."""
    import h5py
    with h5py.File("data/datasets/elpv.h5") as f:
        cell = [t.decode() if isinstance(t, bytes) else t for t in f["cell_type"][:]]
    lines = [json.loads(l) for l in (out / "elpv-scores.jsonl").read_text().splitlines()]
    base = {json.loads(l)["index"]: json.loads(l) for l in (out / "elpv-baseline.jsonl").read_text().splitlines()}
    levels = ["defect p=1/3", "defect p=2/3", "defect p=1"]
    rows = []

    def row(name, score):
        labels = [x["label"] for x in lines]
        values = [score(x) for x in lines]
        cells = [f"{100 * auroc(values, labels):.1f}"]
        for level in levels:
            keep = [i for i, x in enumerate(lines) if x["label"] == 0 or x["label_name"] == level]
            cells.append(f"{100 * auroc([values[i] for i in keep], [labels[i] for i in keep]):.1f}")
        for kind in ("mono", "poly"):
            keep = [i for i, x in enumerate(lines) if cell[x["index"]] == kind]
            cells.append(f"{100 * auroc([values[i] for i in keep], [labels[i] for i in keep]):.1f}")
        rows.append([name] + cells)

    for key, label in STATISTICS:
        row(f"baseline: {label}", lambda x, key=key: base[x["index"]][key])
    for name in ["knn", f"ldknn_k{PAPER_K}"]:
        label = "kNN (k = 1, PatchCore)" if name == "knn" else f"LDKNN K = {PAPER_K}"
        row(f"{label}, coreset {fit['config']['coreset']:g} (densities from all patches)", lambda x, name=name: x["scores"][name])
    counts = evaluation["inputs"]["split_sizes"]["test_per_label"]
    head = [f"## Second data set: elpv solar cells", "",
            f"elpv-dataset 1.0.0.post1 (CC BY-NC-SA 4.0): {fit['inputs']['split_sizes']['train']} defect-free training cells, "
            f"test {', '.join(f'{n} {k}' for k, n in sorted(counts.items()))}; ImageNet features as above. "
            "No pixel masks: pixel AUROC only on the textile DefectMaker proxy.", ""]
    return "\n".join(head + [markdown_table(["detector", "image AUROC", "p = 1/3", "p = 2/3", "p = 1", "mono cells", "poly cells"], rows)])


def check(r):
    problems = []
    for group in ("imagenet", "ssl"):
        for seed, evaluation in r[group].items():
            methods = evaluation["metrics"]["methods"]
            for name in ["knn"] + [f"ldknn_k{k}" for k in KS]:
                m = methods.get(name)
                if m is None:
                    problems.append(f"{group} seed {seed}: no {name} result")
                    continue
                values = [m["image_auroc"], m["image_auroc_plain_max"]] + list(m["image_auroc_per_type"].values())
                if not all(0 <= v <= 1 for v in values) or len(m["image_auroc_per_type"]) != 2:
                    problems.append(f"{group} seed {seed}: {name} has AUROCs {values}")
    for seed, b in r["baseline"].items():
        for key, _ in STATISTICS:
            if not 0 <= b["metrics"]["statistics"][key]["image_auroc"] <= 1:
                problems.append(f"baseline seed {seed}: {key}")
    for seed, s in r["ssl_train"].items():
        accuracy = s["metrics"]["held_out_accuracy"]
        if accuracy is None or not 0 <= accuracy <= 1 or not s["metrics"]["final_train_loss"] > 0:
            problems.append(f"ssl-train seed {seed}: held-out accuracy {accuracy}, final loss {s['metrics']['final_train_loss']}")
    return problems


def pct_interval(values):
    """'mean (95% low–high)' in percent over the seeds (Student t)."""
    mean, lo, hi = t_interval([100 * v for v in values])
    return f"{mean:.1f} ({lo:.1f}–{hi:.1f})" if len(values) > 1 else f"{mean:.1f}"


def table(r, settings, quick):
    seeds = settings["seeds"]
    test = (f"at most {settings['test_per_label']} test images per label" if settings["test_per_label"]
            else "all 800 held-out normals + 500 local + 500 global defects")
    main = ("no coreset (every training patch in the bank, the REB reference's default)" if MAIN_CORESET == 1
            else f"coreset {MAIN_CORESET:g}, densities from all training patches")
    lines = [f"# REB on textile ({'QUICK' if quick else 'full'} run)", "",
             f"EfficientNet-Lite0 features ({' '.join(map(str, FEATURES))}, D = 512); {settings['train_normals']} training normals, "
             f"{test}; split seeds {', '.join(map(str, seeds))}: each cell is the mean over the seeds with its 95% Student-t "
             f"interval. Image score = max of the 3×3 stride-3 average pool (REB), λ = 1. Main rows: {main}.", "",
             "## Detectability ceiling (`reb baseline`: one-line pixel statistics, no training)", ""]
    rows = []
    for key, label in STATISTICS:
        stats = [r["baseline"][s]["metrics"]["statistics"][key] for s in seeds]
        rows.append([label, pct_interval([x["image_auroc"] for x in stats]),
                     pct_interval([x["image_auroc_per_type"]["local defect"] for x in stats]),
                     pct_interval([x["image_auroc_per_type"]["global defect"] for x in stats])])
    lines += [markdown_table(["statistic", "image AUROC", "local defects", "global defects"], rows), "",
              f"## Detectors ({main})", ""]
    rows = []
    for features, group in (("ImageNet", "imagenet"), ("DefectMaker-SSL", "ssl")):
        for name in ["knn"] + [f"ldknn_k{k}" for k in KS]:
            ms = [r[group][s]["metrics"]["methods"][name] for s in seeds]
            label = "kNN (k = 1, PatchCore)" if name == "knn" else f"LDKNN K = {name.split('_k')[1]}"
            rows.append([features, label, pct_interval([m["image_auroc"] for m in ms]),
                         pct_interval([m["image_auroc_per_type"]["local defect"] for m in ms]),
                         pct_interval([m["image_auroc_per_type"]["global defect"] for m in ms]),
                         pct_interval([m["image_auroc_plain_max"] for m in ms])])
    lines += [markdown_table(["features", "scoring", "image AUROC", "local defects", "global defects", "plain-max image score"], rows), ""]
    c = r["ssl_train"][seeds[0]]["config"]
    learnt, text = ssl_learnt(r, seeds)
    lines += [f"DefectMaker-SSL: {c['steps']} SGD steps of {c['batch_images']} images, backbone frozen for the first {c['frozen_steps']}; "
              f"{text} on DefectMaker versions of {c['eval_normals']} held-out normals. "
              + ("The task was learnt (at least twice chance on every seed)." if learnt else
                 "**The task was not learnt (less than twice chance): the DefectMaker-SSL rows show a barely moved backbone, "
                 "not the paper's SSL features.**"), "",
              f"## Coreset and density source (split seed {seeds[0]}, ImageNet features)", ""]
    rows = []
    for (ratio, density), evaluation in r["ablations"].items():
        fit = r["fits"][f"coreset{ratio:g}-{density}"]
        for name in ["knn", f"ldknn_k{PAPER_K}"]:
            m = evaluation["metrics"]["methods"][name]
            per = m["image_auroc_per_type"]
            rows.append([f"{ratio:g}", fit["metrics"]["bank_size"], "all training patches" if density == "all" else "coreset only",
                         "kNN" if name == "knn" else f"LDKNN K = {PAPER_K}", f"{100 * m['image_auroc']:.1f}",
                         f"{100 * per['local defect']:.1f}", f"{100 * per['global defect']:.1f}"])
    first = r["imagenet"][seeds[0]]["metrics"]["methods"]
    for name in ["knn", f"ldknn_k{PAPER_K}"]:
        m = first[name]
        rows.append(["1", r["fits"][f"imagenet-{seeds[0]}"]["metrics"]["bank_size"], "all training patches",
                     "kNN" if name == "knn" else f"LDKNN K = {PAPER_K}", f"{100 * m['image_auroc']:.1f}",
                     f"{100 * m['image_auroc_per_type']['local defect']:.1f}", f"{100 * m['image_auroc_per_type']['global defect']:.1f}"])
    lines += [markdown_table(["coreset", "bank", "ρ from", "scoring", "image AUROC", "local", "global"], rows), ""]
    synthetic = r["imagenet"][seeds[0]]["metrics"].get("synthetic_defects")
    if synthetic:
        lines += [f"## DefectMaker defects on {synthetic['images']} held-out normals (split seed {seeds[0]}, ImageNet features)", "",
                  "Image AUROC of the defective images against the held-out normals, pooled and plain-max image score, and "
                  "pixel AUROC, per kind (the textile data has no masks: this is the pixel-level proxy).", ""]
        rows = []
        for kind in sorted(synthetic["knn"]["per_kind"]) + ["all"]:
            cells = [kind]
            for name in ("knn", f"ldknn_k{PAPER_K}"):
                k = synthetic[name] if kind == "all" else synthetic[name]["per_kind"][kind]
                cells += [f"{100 * k['image_auroc_vs_held_out_normals']:.1f}", f"{100 * k['image_auroc_plain_max_vs_held_out_normals']:.1f}",
                          f"{100 * k['pixel_auroc']:.1f}"]
            rows.append(cells)
        lines.append(markdown_table(["kind", "kNN pooled", "kNN plain max", "kNN pixel", "LDKNN pooled", "LDKNN plain max", "LDKNN pixel"], rows))
    lines += ["", "## The paper's numbers (other data and backbones)", ""]
    lines.append(beside_paper(PAPER, headers=("method", "claim")))
    return "\n".join(lines)


def plot(r, seeds):
    """Image AUROC against LDKNN's K (mean over the seeds), ImageNet and SSL features, with kNN's
    level (k = 1, no K) as a dashed line of the same colour."""
    series = []
    for features, group in (("ImageNet", "imagenet"), ("SSL", "ssl")):
        mean = lambda name: 100 * sum(r[group][s]["metrics"]["methods"][name]["image_auroc"] for s in seeds) / len(seeds)
        series.append(dict(label=f"LDKNN {features}", points=[(k, mean(f"ldknn_k{k}")) for k in KS]))
        series.append(dict(label=f"kNN {features}", points=[(KS[0], mean("knn")), (KS[-1], mean("knn"))], dashed=True))
    for i, s in enumerate(series):
        s["colour"] = PALETTE[(i // 2) % len(PALETTE)]
    return line_plot(series, title="Image AUROC vs LDKNN K, mean over split seeds (dashed: kNN, k = 1)",
                     x_label="K (LDKNN neighbours for the density)", y_label="image AUROC (%)", x_ticks=KS)


def ssl_learnt(r, seeds):
    """(learnt, text): whether every seed's DefectMaker task reached a held-out accuracy of at least
    twice chance ("well above chance", Docs/reb.md) — before that the SSL rows are a barely moved backbone."""
    accs = [r["ssl_train"][s]["metrics"]["held_out_accuracy"] or 0 for s in seeds]
    chance = r["ssl_train"][seeds[0]]["config"].get("chance_accuracy", 1 / 7)
    text = (f"held-out DefectMaker accuracy {', '.join(f'{100 * a:.1f}%' for a in accs)} (seeds {', '.join(map(str, seeds))}) "
            f"against chance {100 * chance:.1f}%")
    return all(a >= 2 * chance for a in accs), text


def paired_claim(r, seeds, a, b, what):
    """Verdict on 'a beats b' from the per-seed differences of image AUROC: the mean and its 95%
    Student-t interval over the seeds; beyond noise when the interval excludes 0."""
    diffs = [100 * (a(s) - b(s)) for s in seeds]
    mean, lo, hi = t_interval(diffs)
    text = (f"{what}: {signed(mean)} points image AUROC, 95% {signed(lo)} to {signed(hi)} over {len(seeds)} split seeds "
            f"(per seed {', '.join(signed(d) for d in diffs)})")
    if len(seeds) > 1 and lo > 0:
        return "reproduced", text
    if len(seeds) > 1 and hi < 0:
        return "not reproduced", text
    return "not comparable", text + " — within noise"


def verdict(r, settings, quick, run_name):
    """The summary row: LDKNN vs kNN (both feature sets), SSL vs ImageNet features (LDKNN K = 9), and the
    99.5% level (SSL + LDKNN, mean over the seeds; not comparable: other data and backbone)."""
    seeds = settings["seeds"]
    m = lambda group, name: (lambda s: r[group][s]["metrics"]["methods"][name]["image_auroc"])
    parts = []
    for features, group in (("ImageNet", "imagenet"), ("DefectMaker-SSL", "ssl")):
        v, why = paired_claim(r, seeds, m(group, f"ldknn_k{PAPER_K}"), m(group, "knn"), f"LDKNN K = {PAPER_K} − kNN, {features} features")
        parts.append(dict(claim=f"LDKNN beats kNN (PatchCore), {features} features", verdict=v, why=why))
    v, why = paired_claim(r, seeds, m("ssl", f"ldknn_k{PAPER_K}"), m("imagenet", f"ldknn_k{PAPER_K}"),
                          f"DefectMaker-SSL − ImageNet features, LDKNN K = {PAPER_K}")
    learnt, text = ssl_learnt(r, seeds)
    if not learnt:
        v, why = "not comparable", f"the self-supervised task was not learnt ({text}; at least twice chance is required), so {why}"
    parts.append(dict(claim="DefectMaker-SSL features beat ImageNet features", verdict=v, why=why))
    values = [m("ssl", f"ldknn_k{PAPER_K}")(s) for s in seeds]
    mean, lo, hi = t_interval([100 * x for x in values])
    level_text = (f"image AUROC {mean:.1f}% (95% {lo:.1f}–{hi:.1f}) vs the paper's 99.5% on MVTec AD with VGG11/ResNet18 "
                  "(here simulated textile, EfficientNet-Lite0, CPU-scale SSL)")
    parts.append(dict(claim="99.5% image AUROC", verdict="reproduced" if hi >= 100 * PAPER_AUROC else "not comparable", why=level_text))
    v = combine_verdicts(p["verdict"] for p in parts)
    why = "; ".join(f"{p['claim']}: {p['verdict']} ({p['why']})" for p in parts)
    return verdict_row("reb", CLAIM, "99.5% (MVTec AD)", mean, (lo, min(hi, 100.0)), v, why, LINK, quick, run_name, parts, unit="%")


def heatmaps(maps_file: Path, output: Path):
    """Input | kNN map | LDKNN map per row, through a blue–red ramp. Each method's maps share one scale
    (its minimum and maximum over all rows), so a row that is redder scores higher; the caption gives
    each map's maximum."""
    import h5py
    import numpy as np
    from PIL import Image, ImageDraw

    with h5py.File(maps_file) as f:
        images, knn, ld, labels = f["images"][:], f["maps_knn"][:], f["maps_ldknn"][:], f["label"][:]
        names = list(f.attrs["label_names"])

    def colour(m, lo, hi):
        t = np.clip((m - lo) / max(hi - lo, 1e-12), 0, 1)
        return (np.stack([t, 1 - np.abs(2 * t - 1), 1 - t], -1) * 255).astype(np.uint8)

    scales = [(float(m.min()), float(m.max())) for m in (knn, ld)]
    s = images.shape[1]
    sheet = Image.new("RGB", (3 * s, len(images) * (s + 16)), "white")
    draw = ImageDraw.Draw(sheet)
    for r, (img, a, b, lab) in enumerate(zip(images, knn, ld, labels)):
        y = r * (s + 16)
        draw.text((4, y + 2), f"{names[lab]}   |   kNN map, max {a.max():.3g}   |   LDKNN map, max {b.max():.3g}", fill="black")
        for c, tile in enumerate([img, colour(a, *scales[0]), colour(b, *scales[1])]):
            sheet.paste(Image.fromarray(tile), (c * s, y + 16))
    sheet.save(output)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small settings, a few minutes")
    parser.add_argument("--stages", default="2,4", help="backbone stages tapped (Docs/reb.md, Diagnosis: 0,1 sees the local defects)")
    parser.add_argument("--input-size", type=int, default=224, help="network input side (250: the textile images unresized)")
    parser.add_argument("--main-coreset", type=float, default=1.0, help="coreset ratio of the main rows (1: none)")
    args = parser.parse_args()
    global FEATURES, MAIN_CORESET
    FEATURES = ["--stages", args.stages, "--input-size", args.input_size]
    MAIN_CORESET = args.main_coreset
    settings = QUICK if args.quick else FULL
    variant = "" if (args.stages, args.input_size, args.main_coreset) == ("2,4", 224, 1.0) else \
        f"-stages{args.stages.replace(',', '')}-input{args.input_size}-coreset{args.main_coreset:g}"
    out = Path("results/reb") / (("quick" if args.quick else "full") + variant)
    out.mkdir(parents=True, exist_ok=True)
    r = reproduce(settings, out)
    problems = check(r)
    text = table(r, settings, args.quick)
    if Path("data/datasets/elpv.h5").exists():
        text += "\n\n" + elpv_table(*elpv(settings, out), out)
    else:
        problems.append("data/datasets/elpv.h5 is missing (make data)")
    (out / "table.md").write_text(text)
    (out / "auroc_vs_k.svg").write_text(plot(r, settings["seeds"]))
    heatmaps(out / "maps.h5", out / "heatmaps.png")
    row = verdict(r, settings, args.quick, "make reb" + (" QUICK=1" if args.quick else ""))
    write_verdict(out, row)
    with open(out / "table.md", "a") as f:
        f.write(f"\n## Verdict\n\n**{row['verdict']}**: {row['why']}.\n")
    print((out / "table.md").read_text())
    if problems:
        print("report check failed:\n  " + "\n  ".join(problems), file=sys.stderr)
        sys.exit(1)
    print(f"wrote {out}/table.md, auroc_vs_k.svg, heatmaps.png, defectmaker.png", file=sys.stderr)


if __name__ == "__main__":
    main()
