"""Reproduce the graft sweep (Docs/graft.md): fine-tune per task and seed, localize at each
sparsity, evaluate, compare masks; write results/graft/*.json, a markdown table beside the
paper's claims and an SVG plot of graft/FT accuracy against sparsity.

    python Tools/reproduce/graft.py            # the full sweep (2 tasks x 5 seeds x 4 sparsities)
    python Tools/reproduce/graft.py --quick    # a few minutes: 1 seed, 200 steps, 2 sparsities
    python Tools/reproduce/graft.py --seeds 13,21   # only these seeds (reuses finished reports)

Runs the built `graft` executable (.build/release/graft); existing result files are reused, so an
interrupted sweep resumes. Standard library only.
"""

import argparse
import json
import statistics
from pathlib import Path

from tool_reports import run_report

GRAFT = Path(".build/release/graft")
TASKS = ["polarity", "subjectivity"]
PAPER_SEEDS = [13, 21, 42, 87, 100]

FULL = dict(seeds=PAPER_SEEDS, k=16, steps=1000, eval_every=100, sparsities=[1e-5, 1e-4, 1e-3, 1e-2],
            epochs=10, test_per_class=500, dev_per_class=64)
QUICK = dict(seeds=[13], k=16, steps=200, eval_every=50, sparsities=[1e-4, 1e-3],
             epochs=3, test_per_class=100, dev_per_class=32)

PAPER_CLAIMS = [
    ("~0.01% of parameters recover >95% of fine-tuned performance", "graft/FT accuracy ratio at sparsity 1e-4"),
    ("40-90% ECE reduction in-distribution (graft vs fine-tuned)", "ECE reduction vs FT, test"),
    ("better OOD accuracy than fine-tuning", "OOD (movie reviews) accuracy, graft vs FT"),
    ("regions of different tasks are nearly disjoint", "Jaccard / overlap coefficient, polarity vs subjectivity"),
]


def run(args, output):
    """Runs graft with args, writing the report to output (reused when it exists)."""
    return run_report(GRAFT, args, output)


def sweep(settings, out: Path):
    common = ["--test-per-class", settings["test_per_class"], "--dev-per-class", settings["dev_per_class"]]
    rows = []
    masks = {}
    for seed in settings["seeds"]:  # seed-major: an interrupted sweep still has both tasks per seed
        for task in TASKS:
            tag = f"{task}-k{settings['k']}-s{seed}"
            ft = out / f"ft-{tag}.h5"
            finetune = run(["finetune", "--task", task, "--k", settings["k"], "--data-seed", seed,
                            "--steps", settings["steps"], "--eval-every", settings["eval_every"],
                            "--save", ft] + common, out / f"finetune-{tag}.json")
            mask_files = []
            for sparsity in settings["sparsities"]:
                mask = out / f"mask-{tag}-{sparsity:g}.h5"
                localize = run(["localize", "--finetuned", ft, "--sparsity", sparsity, "--epochs", settings["epochs"],
                                "--save-mask", mask] + common, out / f"localize-{tag}-{sparsity:g}.json")
                mask_files.append(mask)
                masks[(task, seed, sparsity)] = mask
                rows.append(dict(task=task, seed=seed, sparsity=sparsity, localize=localize["metrics"]))
            eval_args = ["eval", "--finetuned", ft, "--split", "test"] + common
            for mask in mask_files:
                eval_args += ["--mask", mask]
            evaluation = run(eval_args, out / f"eval-{tag}.json")["metrics"]
            for row, graft in zip(rows[-len(mask_files):], evaluation["grafts"]):
                row.update(pretrained=evaluation["pretrained"], finetuned=evaluation["finetuned"], graft=graft,
                           finetune=finetune["metrics"])
    overlaps = []
    for seed in settings["seeds"]:
        for sparsity in settings["sparsities"]:
            a, b = masks[("polarity", seed, sparsity)], masks[("subjectivity", seed, sparsity)]
            report = run(["overlap", a, b], out / f"overlap-s{seed}-{sparsity:g}.json")
            total = report["metrics"]["pairs"][0]["total"]
            overlaps.append(dict(kind="polarity vs subjectivity", seed=seed, sparsity=sparsity, **total))
    # Same task, different seeds: how stable a task's region is (a baseline for the cross-task overlap).
    if len(settings["seeds"]) > 1:
        for task in TASKS:
            for sparsity in settings["sparsities"]:
                a, b = masks[(task, settings["seeds"][0], sparsity)], masks[(task, settings["seeds"][1], sparsity)]
                report = run(["overlap", a, b], out / f"overlap-{task}-seeds-{sparsity:g}.json")
                overlaps.append(dict(kind=f"{task} seed {settings['seeds'][0]} vs {settings['seeds'][1]}",
                                     seed=None, sparsity=sparsity, **report["metrics"]["pairs"][0]["total"]))
    return rows, overlaps


def gain(pre, ft, graft):
    """The fraction of fine-tuning's accuracy gain that the graft keeps, (graft − pre)/(FT − pre);
    0 when fine-tuning gained nothing."""
    return (graft - pre) / (ft - pre) if ft != pre else 0.0


def mean_std(values):
    values = list(values)
    return (statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0)


def fmt(pair, percent=False):
    m, s = pair
    return f"{100 * m:.1f} ± {100 * s:.1f}" if percent else f"{m:.3f} ± {s:.3f}"


def summarize(rows, overlaps, settings):
    summary = []
    for task in TASKS:
        for sparsity in settings["sparsities"]:
            group = [r for r in rows if r["task"] == task and r["sparsity"] == sparsity]
            if not group:
                continue
            def stat(f):
                return mean_std(f(r) for r in group)
            entry = dict(task=task, sparsity=sparsity, seeds=len(group),
                         selected=stat(lambda r: r["graft"]["selected"]),
                         achieved_sparsity=stat(lambda r: r["graft"]["sparsity"]),
                         pretrained_acc=stat(lambda r: r["pretrained"]["test"]["accuracy"]),
                         finetuned_acc=stat(lambda r: r["finetuned"]["test"]["accuracy"]),
                         graft_acc=stat(lambda r: r["graft"]["test"]["accuracy"]),
                         ratio=stat(lambda r: r["graft"]["graft_ft_accuracy_ratio"]),
                         gain_recovered=stat(lambda r: gain(r["pretrained"]["test"]["accuracy"],
                                                            r["finetuned"]["test"]["accuracy"],
                                                            r["graft"]["test"]["accuracy"])),
                         pretrained_ece=stat(lambda r: r["pretrained"]["test"]["ece"]),
                         finetuned_ece=stat(lambda r: r["finetuned"]["test"]["ece"]),
                         graft_ece=stat(lambda r: r["graft"]["test"]["ece"]),
                         ece_reduction=stat(lambda r: r["graft"].get("ece_reduction_vs_ft", 0.0)))
            if task == "polarity":
                entry.update(finetuned_ood=stat(lambda r: r["finetuned"]["ood"]["accuracy"]),
                             graft_ood=stat(lambda r: r["graft"]["ood"]["accuracy"]),
                             pretrained_ood=stat(lambda r: r["pretrained"]["ood"]["accuracy"]),
                             finetuned_ood_ece=stat(lambda r: r["finetuned"]["ood"]["ece"]),
                             graft_ood_ece=stat(lambda r: r["graft"]["ood"]["ece"]))
            summary.append(entry)
    return summary


def table(summary, overlaps, settings, quick):
    lines = [f"# graft reproduction ({'QUICK' if quick else 'full'} run)", "",
             f"MiniLM-L6, k = {settings['k']} per class, seeds {settings['seeds']}, {settings['steps']} SGD steps, "
             f"{settings['epochs']} mask epochs, test {2 * settings['test_per_class']} tweets per task "
             f"(mean ± std over seeds). Accuracies and ECE on the held-out test split.", "",
             "| task | sparsity | selected | pre acc | FT acc | graft acc | graft/FT | FT gain kept | pre ECE | FT ECE | graft ECE | ECE reduction | OOD acc pre / FT / graft |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for e in summary:
        ood = (f"{e['pretrained_ood'][0]:.3f} / {e['finetuned_ood'][0]:.3f} / {e['graft_ood'][0]:.3f}"
               if "graft_ood" in e else "–")
        lines.append(f"| {e['task']} | {e['sparsity']:g} | {e['selected'][0]:.0f} | {fmt(e['pretrained_acc'])} | "
                     f"{fmt(e['finetuned_acc'])} | {fmt(e['graft_acc'])} | {fmt(e['ratio'])} | {fmt(e['gain_recovered'])} | {fmt(e['pretrained_ece'])} | {fmt(e['finetuned_ece'])} | "
                     f"{fmt(e['graft_ece'])} | {fmt(e['ece_reduction'], percent=True)}% | {ood} |")
    lines += ["", "| masks | sparsity | seed | Jaccard | overlap coefficient |", "|---|---|---|---|---|"]
    for o in overlaps:
        lines.append(f"| {o['kind']} | {o['sparsity']:g} | {o['seed'] if o['seed'] is not None else '–'} | "
                     f"{o['jaccard']:.4f} | {o['overlap_coefficient']:.4f} |")
    lines += ["", "## Beside the paper's claims", "", "| paper (abstract) | measured here |", "|---|---|"]
    by = {(e["task"], e["sparsity"]): e for e in summary}
    for claim, what in PAPER_CLAIMS:
        measured = []
        if what.startswith("graft/FT"):
            for task in TASKS:
                if (task, 1e-4) in by:
                    measured.append(f"{task}: {fmt(by[(task, 1e-4)]['ratio'])}")
        elif what.startswith("ECE"):
            for task in TASKS:
                for s in settings["sparsities"]:
                    if (task, s) in by:
                        measured.append(f"{task} {s:g}: {fmt(by[(task, s)]['ece_reduction'], percent=True)}%")
        elif what.startswith("OOD"):
            for s in settings["sparsities"]:
                e = by.get(("polarity", s))
                if e:
                    measured.append(f"{s:g}: FT {e['finetuned_ood'][0]:.3f}, graft {e['graft_ood'][0]:.3f}")
        else:
            for o in overlaps:
                if o["kind"] == "polarity vs subjectivity":
                    measured.append(f"{o['sparsity']:g} seed {o['seed']}: J {o['jaccard']:.4f}")
        lines.append(f"| {claim} | {'; '.join(measured) or 'not measured'} |")
    return "\n".join(lines) + "\n"


def svg(summary, settings):
    """graft/FT accuracy ratio (mean, with ±std bars) against log10 sparsity, one line per task."""
    width, height, left, bottom, top, right = 560, 360, 60, 50, 30, 130
    sparsities = settings["sparsities"]
    xs = {s: i for i, s in enumerate(sparsities)}
    values = [e["ratio"][0] + d * e["ratio"][1] for e in summary for d in (-1, 1)] + [1.0]
    lo, hi = min(values + [0.9]) - 0.02, max(values) + 0.02
    def px(s):
        return left + (width - left - right) * (xs[s] / max(1, len(sparsities) - 1))
    def py(v):
        return height - bottom - (height - top - bottom) * (v - lo) / (hi - lo)
    colours = {"polarity": "#1f77b4", "subjectivity": "#d62728"}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="black"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="black"/>',
             f'<line x1="{left}" y1="{py(1.0):.1f}" x2="{width - right}" y2="{py(1.0):.1f}" stroke="#999" stroke-dasharray="4 3"/>',
             f'<line x1="{left}" y1="{py(0.95):.1f}" x2="{width - right}" y2="{py(0.95):.1f}" stroke="#ccc" stroke-dasharray="2 3"/>',
             f'<text x="{width - right + 4}" y="{py(0.95) + 4:.1f}" fill="#999">0.95</text>',
             f'<text x="{(left + width - right) / 2}" y="{height - 12}" text-anchor="middle">sparsity (fraction of graftable parameters)</text>',
             f'<text x="16" y="{(top + height - bottom) / 2}" transform="rotate(-90 16 {(top + height - bottom) / 2})" text-anchor="middle">graft / FT test accuracy</text>']
    for s in sparsities:
        parts.append(f'<text x="{px(s):.1f}" y="{height - bottom + 16}" text-anchor="middle">{s:g}</text>')
    for k in range(5):
        v = lo + (hi - lo) * k / 4
        parts.append(f'<text x="{left - 6}" y="{py(v) + 4:.1f}" text-anchor="end">{v:.2f}</text>')
    for i, task in enumerate(TASKS):
        points = [(e["sparsity"], e["ratio"]) for e in summary if e["task"] == task]
        if not points:
            continue
        c = colours[task]
        parts.append(f'<polyline fill="none" stroke="{c}" stroke-width="2" points="' +
                     " ".join(f"{px(s):.1f},{py(m):.1f}" for s, (m, _) in points) + '"/>')
        for s, (m, sd) in points:
            parts.append(f'<line x1="{px(s):.1f}" y1="{py(m - sd):.1f}" x2="{px(s):.1f}" y2="{py(m + sd):.1f}" stroke="{c}"/>')
            parts.append(f'<circle cx="{px(s):.1f}" cy="{py(m):.1f}" r="3.5" fill="{c}"/>')
        parts.append(f'<text x="{width - right + 10}" y="{top + 20 + 18 * i}" fill="{c}">{task}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="the few-minute run (CI)")
    parser.add_argument("--out", default="results/graft", help="output directory")
    parser.add_argument("--seeds", help="comma-separated subset of the seeds (e.g. 13,21), to summarise part of a sweep")
    args = parser.parse_args()
    settings = dict(QUICK if args.quick else FULL)
    if args.seeds:
        settings["seeds"] = [int(s) for s in args.seeds.split(",")]
    out = Path(args.out) / ("quick" if args.quick else "full")
    out.mkdir(parents=True, exist_ok=True)
    rows, overlaps = sweep(settings, out)
    summary = summarize(rows, overlaps, settings)
    (out / "summary.json").write_text(json.dumps(dict(settings=settings, summary=summary, overlaps=overlaps),
                                                 indent=1, sort_keys=True) + "\n")
    (out / "table.md").write_text(table(summary, overlaps, settings, args.quick))
    (out / "sparsity.svg").write_text(svg(summary, settings))
    print((out / "table.md").read_text())


if __name__ == "__main__":
    main()
