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

from plotkit import beside_paper, line_plot, markdown_table, signed, t_interval, verdict_row, write_verdict
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


# The headline claim (abstract) and where Docs/graft.md holds the reproduction tables.
CLAIM = "grafting ~0.01% of the fine-tuned parameters (sparsity 1e-4) onto the pre-trained model keeps >95% of fine-tuned accuracy"
HEADLINE_SPARSITY = 1e-4
LINK = "Docs/graft.md#reproduction"


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
             f"(mean ± std over seeds). Accuracies and ECE on the held-out test split.", ""]
    rows = []
    for e in summary:
        ood = (f"{e['pretrained_ood'][0]:.3f} / {e['finetuned_ood'][0]:.3f} / {e['graft_ood'][0]:.3f}"
               if "graft_ood" in e else "–")
        rows.append([e["task"], f"{e['sparsity']:g}", f"{e['selected'][0]:.0f}", fmt(e["pretrained_acc"]), fmt(e["finetuned_acc"]),
                     fmt(e["graft_acc"]), fmt(e["ratio"]), fmt(e["gain_recovered"]), fmt(e["pretrained_ece"]),
                     fmt(e["finetuned_ece"]), fmt(e["graft_ece"]), f"{fmt(e['ece_reduction'], percent=True)}%", ood])
    lines.append(markdown_table(["task", "sparsity", "selected", "pre acc", "FT acc", "graft acc", "graft/FT", "FT gain kept",
                                 "pre ECE", "FT ECE", "graft ECE", "ECE reduction", "OOD acc pre / FT / graft"], rows))
    lines.append(markdown_table(["masks", "sparsity", "seed", "Jaccard", "overlap coefficient"],
                                [[o["kind"], f"{o['sparsity']:g}", o["seed"] if o["seed"] is not None else "–",
                                  f"{o['jaccard']:.4f}", f"{o['overlap_coefficient']:.4f}"] for o in overlaps]))
    lines += ["## Beside the paper's claims", ""]
    by = {(e["task"], e["sparsity"]): e for e in summary}
    claims = []
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
        claims.append([claim, "; ".join(measured) or "not measured"])
    lines.append(beside_paper(claims, headers=("paper (abstract)", "measured here")))
    return "\n".join(lines)


def plot(summary, settings):
    """graft/FT accuracy ratio (mean, with ±std bars) against sparsity (log axis), one line per task."""
    series = []
    for task in TASKS:
        points = [(e["sparsity"], e["ratio"][0]) for e in summary if e["task"] == task]
        if points:
            series.append(dict(label=task, points=points, errors=[e["ratio"][1] for e in summary if e["task"] == task]))
    return line_plot(series, title="graft / fine-tuned test accuracy (mean ± std over seeds)",
                     x_label="sparsity (fraction of graftable parameters)", y_label="graft / FT test accuracy",
                     x_log=True, x_ticks=[(s, f"{s:g}") for s in settings["sparsities"]],
                     references=[(1.0, "1.0"), (0.95, "paper: > 0.95")])


def verdict(rows, settings, quick, run):
    """The headline claim's summary row. The ratio "graft keeps > 95% of FT accuracy" only tests
    grafting when fine-tuning beat the pre-trained model beyond noise — with several (task, seed) runs
    the 95% t-interval of the paired gain FT − pre over the runs, with one seed per task the binomial
    noise of the two test accuracies (√(2p(1−p)/n) per task, 1.96σ of the mean gain) — and by enough
    that the pre-trained model itself stays below 0.95 of FT accuracy (else the threshold passes
    without any graft)."""
    at = [r for r in rows if r["sparsity"] == HEADLINE_SPARSITY]
    if not at:
        return verdict_row("graft", CLAIM, ">95%", None, None, "not comparable",
                           f"sparsity {HEADLINE_SPARSITY:g} not in this run", LINK, quick, run)
    pre = [r["pretrained"]["test"]["accuracy"] for r in at]
    ft = [r["finetuned"]["test"]["accuracy"] for r in at]
    gains = [b - a for a, b in zip(pre, ft)]
    ratios = [r["graft"]["graft_ft_accuracy_ratio"] for r in at]
    seeds = len({r["seed"] for r in at})
    if seeds >= 2:
        gain, gain_lo, gain_hi = t_interval(gains)
        noise = f"t-interval over {len(gains)} task × seed runs"
    else:
        n = 2 * settings["test_per_class"]
        variance = statistics.fmean(2 * p * (1 - p) / n for p in pre) / len(gains)
        gain = statistics.fmean(gains)
        gain_lo, gain_hi = gain - 1.96 * variance ** 0.5, gain + 1.96 * variance ** 0.5
        noise = f"binomial noise of {n} test tweets per task"
    ratio, ratio_lo, ratio_hi = t_interval(ratios)
    pre_ratio = statistics.fmean(a / b for a, b in zip(pre, ft))
    gain_text = (f"FT − pre-trained test accuracy {signed(100 * gain)} points (95% {signed(100 * gain_lo)} to "
                 f"{signed(100 * gain_hi)}, {noise})")
    if gain_lo <= 0:
        v = "not comparable"
        why = (f"fine-tuning does not beat the pre-trained model beyond noise: {gain_text}; a graft/FT ratio "
               f"near 1 (here {ratio:.3f}) cannot tell a graft from no fine-tuning")
    elif pre_ratio >= 0.95:
        v = "not comparable"
        why = (f"the pre-trained model alone keeps {pre_ratio:.3f} of FT accuracy, so the 0.95 threshold passes without "
               f"a graft (graft/FT {ratio:.3f}); {gain_text}")
    elif ratio_lo >= 0.95:
        v, why = "reproduced", f"graft/FT {ratio:.3f} ≥ 0.95 over its interval; {gain_text}"
    elif ratio >= 0.95:
        v, why = "partly", f"graft/FT {ratio:.3f} but its interval reaches {ratio_lo:.3f} < 0.95; {gain_text}"
    else:
        v, why = "not reproduced", f"graft/FT {ratio:.3f} < 0.95; {gain_text}"
    return verdict_row("graft", CLAIM, ">95% of FT accuracy", ratio, (ratio_lo, ratio_hi) if len(ratios) > 1 else None,
                       v, why, LINK, quick, run)


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
    (out / "sparsity.svg").write_text(plot(summary, settings))
    row = verdict(rows, settings, args.quick, "make graft" + (" QUICK=1" if args.quick else ""))
    write_verdict(out, row)
    with open(out / "table.md", "a") as f:
        f.write(f"\n## Verdict\n\n**{row['verdict']}**: {row['why']}.\n")
    print((out / "table.md").read_text())


if __name__ == "__main__":
    main()
