"""Reproduce REB on the textile images (Docs/reb.md): build memory banks at several coreset ratios,
evaluate kNN (PatchCore) and LDKNN for K in {3,5,7,9,11}, with ImageNet features and with the
backbone after DefectMaker self-supervision (reb ssl-train), and write results/reb/<mode>/*.json, a
markdown table beside the paper's numbers, an SVG plot of image AUROC against K, a PNG of
anomaly heat maps over a few test images, the pixel AUROC of DefectMaker defects on held-out normals
and a DefectMaker contact sheet (defectmaker.png).

    python Tools/reproduce/reb.py            # full: 200 training normals, all 1,800 test images
    python Tools/reproduce/reb.py --quick    # a few minutes: 30 training normals, 30 test images per label

Runs the built `reb` executable (.build/release/reb); existing result files are reused, so an
interrupted run resumes (REB_BINARY overrides the executable, e.g. a copy kept while rebuilding). The heat-map picture uses numpy, h5py and Pillow from the project's .venv
(Tools/data/requirements.txt); everything else is the standard library. Exits non-zero when a
report is missing a metric or holds an AUROC outside [0, 1] (CI runs --quick as a check).
"""

import argparse
import os
import sys
from pathlib import Path

from plotkit import (PALETTE, auroc_standard_error, beside_paper, combine_verdicts, line_plot, markdown_table, signed,
                     verdict_row, write_verdict)
from tool_reports import run_report

REB = Path(os.environ.get("REB_BINARY", ".build/release/reb"))
KS = [3, 5, 7, 9, 11]
FULL = dict(train_normals=200, test_per_label=None, coresets=[0.01, 0.1], maps_coreset=0.1, synthetic=60, sheet=4,
            ssl=["--steps", 120, "--normals-per-step", 4])
QUICK = dict(train_normals=30, test_per_label=30, coresets=[0.1, 0.25], maps_coreset=0.1, synthetic=12, sheet=2,
             ssl=["--steps", 6, "--normals-per-step", 2, "--frozen-steps", 2, "--eval-normals", 4])

PAPER = [
    ("REB (DefectMaker-SSL VGG11/ResNet18 + LDKNN), MVTec AD", "image AUROC 99.5%"),
    ("REB, MVTec LOCO AD", "image AUROC 88.0%"),
    ("PatchCore WideResNet-50 (kNN), MVTec AD", "image AUROC 99.2%, pixel AUROC 98.1%, PRO 94.4%"),
]

# The headline claim (abstract) and where Docs/reb.md holds the reproduction table.
CLAIM = "REB's local-density kNN (LDKNN) over DefectMaker-SSL features beats PatchCore's kNN and reaches 99.5% image AUROC on MVTec AD"
PAPER_K, PAPER_AUROC = 9, 0.995
LINK = "Docs/reb.md#reproduction-make-reb"


def run(args, output):
    """Runs reb with args, writing the report to output (reused when it exists)."""
    return run_report(REB, args, output)


def reproduce(settings, out: Path):
    split = ["--train-normals", settings["train_normals"]]
    if settings["test_per_label"]:
        split += ["--test-per-label", settings["test_per_label"]]
    evals = {}
    for ratio in settings["coresets"]:
        bank = out / f"bank-coreset{ratio:g}.h5"
        fit = run(["fit", "--coreset", ratio, "--max-k", max(KS), "--save", bank] + split, out / f"fit-coreset{ratio:g}.json")
        maps = (["--save-maps", out / "maps.h5", "--synthetic", settings["synthetic"]]
                if ratio == settings["maps_coreset"] else [])
        evaluation = run(["eval", "--bank", bank, "--ks", ",".join(map(str, KS))] + maps + split,
                         out / f"eval-coreset{ratio:g}.json")
        evals[ratio] = (fit, evaluation)
    # DefectMaker-SSL features: fine-tune the backbone (reb ssl-train), then the same bank and scores
    # at the heat-map coreset ratio with the fine-tuned backbone.
    ssl_weights = out / "ssl-backbone.h5"
    ssl = run(["ssl-train", "--save", ssl_weights] + settings["ssl"] + split, out / "ssl-train.json")
    ratio = settings["maps_coreset"]
    bank = out / f"bank-ssl-coreset{ratio:g}.h5"
    fit = run(["fit", "--weights", ssl_weights, "--coreset", ratio, "--max-k", max(KS), "--save", bank] + split,
              out / f"fit-ssl-coreset{ratio:g}.json")
    evaluation = run(["eval", "--weights", ssl_weights, "--bank", bank, "--ks", ",".join(map(str, KS))] + split,
                     out / f"eval-ssl-coreset{ratio:g}.json")
    ssl_evals = {ratio: (fit, evaluation)}
    run(["defectmaker", "--count", settings["sheet"], "--save", out / "defectmaker.h5", "--sheet", out / "defectmaker.png"] + split,
        out / "defectmaker.json")
    return evals, ssl, ssl_evals


def check(evals):
    problems = []
    for ratio, (fit, evaluation) in evals.items():
        methods = evaluation["metrics"]["methods"]
        for name in ["knn"] + [f"ldknn_k{k}" for k in KS]:
            m = methods.get(name)
            if m is None:
                problems.append(f"coreset {ratio}: no {name} result")
                continue
            values = [m["image_auroc"], m["image_auroc_plain_max"]] + list(m["image_auroc_per_type"].values())
            if not all(0 <= v <= 1 for v in values) or len(m["image_auroc_per_type"]) != 2:
                problems.append(f"coreset {ratio}: {name} has AUROCs {values}")
        synthetic = evaluation["metrics"].get("synthetic_defects")
        if synthetic and not all(0 <= synthetic[m]["pixel_auroc"] <= 1 for m in ("knn", "ldknn_k9")):
            problems.append(f"coreset {ratio}: synthetic pixel AUROC {synthetic}")
        if fit["metrics"]["bank_size"] < 1:
            problems.append(f"coreset {ratio}: empty bank")
    return problems


def table(evals, settings, quick, ssl=None, ssl_evals=None):
    lines = [f"# REB on textile ({'QUICK' if quick else 'full'} run)", "",
             f"EfficientNet-Lite0 features (stages 2+4, 224² input, 28×28 patches, D = 512): ImageNet weights, and the same "
             f"after DefectMaker self-supervision (`reb ssl-train`); "
             f"{settings['train_normals']} training normals; "
             f"test = {'at most ' + str(settings['test_per_label']) + ' images per label' if settings['test_per_label'] else 'all 800 held-out normals + 500 local + 500 global defects'}; "
             "image score = max of the 3×3 stride-3 average pool (REB), λ = 1.", ""]
    rows = []
    for features, runs in (("ImageNet", evals), ("DefectMaker-SSL", ssl_evals or {})):
        for ratio, (fit, evaluation) in runs.items():
            methods = evaluation["metrics"]["methods"]
            for name in ["knn"] + [f"ldknn_k{k}" for k in KS]:
                m = methods[name]
                label = "kNN (k = 1, PatchCore)" if name == "knn" else f"LDKNN K = {name.split('_k')[1]}"
                per = m["image_auroc_per_type"]
                rows.append([features, f"{ratio:g}", fit["metrics"]["bank_size"], label, f"{100 * m['image_auroc']:.1f}",
                             f"{100 * per['local defect']:.1f}", f"{100 * per['global defect']:.1f}", f"{100 * m['image_auroc_plain_max']:.1f}"])
    lines.append(markdown_table(["features", "coreset", "bank", "scoring", "image AUROC", "local defects", "global defects",
                                 "plain-max image score"], rows))
    if ssl:
        c, m = ssl["config"], ssl["metrics"]
        lines += [f"DefectMaker-SSL: {c['steps']} SGD steps of {c['batch_images']} images ({c['normals_per_step']} normals × 7 versions), "
                  f"backbone frozen for the first {c['frozen_steps']}, lr {c['learning_rate']:g} (cosine, T0 = {c['restart_period']}); "
                  f"7-way accuracy {100 * m['final_train_accuracy']:.1f}% on the last training batches, "
                  f"{100 * (m['held_out_accuracy'] or 0):.1f}% on DefectMaker versions of {c['eval_normals']} held-out normals "
                  f"(chance 14.3%); {m['seconds_per_trained_step'] or float('nan'):.2f} s per trained step "
                  f"(the reference: 300 steps of 1,008 images at 256²).", ""]
    for ratio, (_, evaluation) in evals.items():
        synthetic = evaluation["metrics"].get("synthetic_defects")
        if synthetic:
            lines += [f"Pixel AUROC (the textile images have no masks): DefectMaker defects on {synthetic['images']} held-out normals, "
                      f"coreset {ratio:g}, {100 * synthetic['defective_pixel_fraction']:.2f}% defective pixels:", ""]
            lines.append(markdown_table(["scoring", "pixel AUROC", "image AUROC, synthetic vs held-out normals"],
                                        [[label, f"{100 * synthetic[name]['pixel_auroc']:.1f}",
                                          f"{100 * synthetic[name].get('image_auroc_vs_held_out_normals', float('nan')):.1f}"]
                                         for name, label in (("knn", "kNN (k = 1)"), ("ldknn_k9", "LDKNN K = 9"))]))
    lines += ["## The paper's numbers (other data and backbones)", ""]
    lines.append(beside_paper(PAPER, headers=("method", "claim")))
    return "\n".join(lines)


def plot(evals, ssl_evals):
    """Image AUROC against LDKNN's K, one line per feature set and coreset ratio, with kNN's level
    (k = 1, no K) as a dashed line of the same colour."""
    series = []
    for features, runs in (("ImageNet", evals), ("SSL", ssl_evals)):
        for ratio, (_, evaluation) in runs.items():
            m = evaluation["metrics"]["methods"]
            name = f"{features}, coreset {ratio:g}"
            series.append(dict(label=f"LDKNN {name}", points=[(k, 100 * m[f"ldknn_k{k}"]["image_auroc"]) for k in KS]))
            series.append(dict(label=f"kNN {name}", points=[(KS[0], 100 * m["knn"]["image_auroc"]), (KS[-1], 100 * m["knn"]["image_auroc"])],
                               dashed=True))
    for i, s in enumerate(series):
        s["colour"] = PALETTE[(i // 2) % len(PALETTE)]
    return line_plot(series, title="Image AUROC vs LDKNN K (dashed: kNN, k = 1)", x_label="K (LDKNN neighbours for the density)",
                     y_label="image AUROC (%)", x_ticks=KS)


def verdict(evals, ssl_evals, quick, run):
    """The headline claim's summary row, from the SSL-feature evaluation at the paper's MVTec AD K:
    the direction (LDKNN above kNN beyond noise) and the level (99.5% image AUROC). Intervals are
    Hanley–McNeil 95% intervals of each AUROC (n anomalous, n normal test images); the difference's
    standard error treats the two AUROCs as independent (conservative: they share the test images)."""
    features, runs = ("DefectMaker-SSL", ssl_evals) if ssl_evals else ("ImageNet", evals)
    ratio, (_, evaluation) = next(iter(runs.items()))
    methods = evaluation["metrics"]["methods"]
    counts = evaluation["inputs"]["split_sizes"]["test_per_label"]
    types = methods["knn"]["image_auroc_per_type"]
    positives = sum(n for name, n in counts.items() if name in types)
    negatives = sum(n for name, n in counts.items() if name not in types)
    ld, knn = methods[f"ldknn_k{PAPER_K}"]["image_auroc"], methods["knn"]["image_auroc"]
    se_ld, se_knn = (auroc_standard_error(a, positives, negatives) for a in (ld, knn))
    diff, se_diff = ld - knn, (se_ld ** 2 + se_knn ** 2) ** 0.5
    lo, hi = ld - 1.96 * se_ld, min(ld + 1.96 * se_ld, 1.0)
    diff_text = (f"LDKNN K = {PAPER_K} − kNN {signed(100 * diff)} points, 95% {signed(100 * (diff - 1.96 * se_diff))} to "
                 f"{signed(100 * (diff + 1.96 * se_diff))} ({features} features, coreset {ratio:g}, {positives} defective / "
                 f"{negatives} normal test images)")
    if diff - 1.96 * se_diff > 0:
        direction, said = "reproduced", "LDKNN beats kNN beyond noise"
    elif diff + 1.96 * se_diff < 0:
        direction, said = "not reproduced", "LDKNN is below kNN beyond noise"
    else:
        direction, said = "not comparable", "LDKNN vs kNN is within noise"
    level_text = f"image AUROC {100 * ld:.1f}% (95% {100 * lo:.1f}–{100 * hi:.1f}) vs the paper's 99.5%"
    if hi >= PAPER_AUROC:
        level = "reproduced"
    else:
        level = "not comparable"
        level_text += " on MVTec AD with VGG11/ResNet18 (here simulated textile, EfficientNet-Lite0, CPU-scale SSL)"
    parts = [dict(claim="LDKNN beats kNN (PatchCore)", verdict=direction, why=diff_text),
             dict(claim="99.5% image AUROC", verdict=level, why=level_text)]
    v = combine_verdicts(p["verdict"] for p in parts)
    why = f"{said}: {diff_text}; level {level}: {level_text}"
    return verdict_row("reb", CLAIM, "99.5% (MVTec AD)", 100 * ld, (100 * lo, 100 * hi), v, why, LINK, quick, run, parts, unit="%")


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
    args = parser.parse_args()
    settings = QUICK if args.quick else FULL
    out = Path("results/reb") / ("quick" if args.quick else "full")
    out.mkdir(parents=True, exist_ok=True)
    evals, ssl, ssl_evals = reproduce(settings, out)
    problems = check(evals) + check(ssl_evals)
    accuracy = ssl["metrics"]["held_out_accuracy"]
    if accuracy is None or not 0 <= accuracy <= 1 or not ssl["metrics"]["final_train_loss"] > 0:
        problems.append(f"ssl-train: held-out accuracy {accuracy}, final loss {ssl['metrics']['final_train_loss']}")
    (out / "table.md").write_text(table(evals, settings, args.quick, ssl, ssl_evals))
    (out / "auroc_vs_k.svg").write_text(plot(evals, ssl_evals))
    heatmaps(out / "maps.h5", out / "heatmaps.png")
    row = verdict(evals, ssl_evals, args.quick, "make reb" + (" QUICK=1" if args.quick else ""))
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
