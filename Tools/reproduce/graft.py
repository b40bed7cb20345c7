"""Reproduce the graft sweep (Docs/graft.md): a learning-rate sweep on dev, fine-tuning per task, k and
seed under the zero-shot verbaliser head, the power check, localization at each sparsity with its
controls (base patch alone, random mask of the same size), evaluation, and mask overlap within and
across tasks; writes results/graft/*.json, a markdown table beside the paper's claims with a verdict
per claim, and an SVG plot of the fraction of the fine-tuning gain kept against sparsity.

    python Tools/reproduce/graft.py            # the full sweep (see FULL; several hours on 2 cores)
    python Tools/reproduce/graft.py --quick    # a few minutes: 1 seed, k = 64, one recipe, 1 sparsity
    python Tools/reproduce/graft.py --seeds 13,21   # only these seeds (reuses finished reports)

Runs the built `graft` executable (.build/release/graft); existing result files are reused, so an
interrupted sweep resumes. Standard library only.
"""

import argparse
import itertools
import json
import statistics
from pathlib import Path

from plotkit import beside_paper, combine_verdicts, line_plot, markdown_table, signed, t_interval, verdict_row, write_verdict
from tool_reports import run_report

GRAFT = Path(".build/release/graft")
TASKS = ["polarity", "subjectivity"]
PAPER_SEEDS = [13, 21, 42, 87, 100]

# Fine-tuning recipes of the learning-rate sweep (issue: SGD 1e-3/1e-2/3e-2, AdamW 2e-5/5e-5); every
# one clips the gradient norm at 1 (the reference) and keeps the latest best dev evaluation (>=).
RECIPES = {
    "sgd-1e-3": ["--optimizer", "sgd", "--learning-rate", 1e-3, "--weight-decay", 1e-4, "--batch-size", 2,
                 "--steps", 1000, "--eval-every", 100],
    "sgd-1e-2": ["--optimizer", "sgd", "--learning-rate", 1e-2, "--weight-decay", 1e-4, "--batch-size", 2,
                 "--steps", 1000, "--eval-every", 100],
    "sgd-3e-2": ["--optimizer", "sgd", "--learning-rate", 3e-2, "--weight-decay", 1e-4, "--batch-size", 2,
                 "--steps", 1000, "--eval-every", 100],
    "adamw-2e-5": ["--optimizer", "adamw", "--learning-rate", 2e-5, "--weight-decay", 0.01, "--batch-size", 8,
                   "--steps", 150, "--eval-every", 25],
    "adamw-5e-5": ["--optimizer", "adamw", "--learning-rate", 5e-5, "--weight-decay", 0.01, "--batch-size", 8,
                   "--steps", 150, "--eval-every", 25],
    # QUICK only: AdamW 5e-5 in 30 steps.
    "adamw-5e-5-short": ["--optimizer", "adamw", "--learning-rate", 5e-5, "--weight-decay", 0.01, "--batch-size", 8,
                         "--steps", 30, "--eval-every", 15],
}

FULL = dict(seeds=PAPER_SEEDS, ks=[16, 64, "full"], sweep_seed=13, recipes=["sgd-1e-3", "sgd-1e-2", "sgd-3e-2",
                                                                           "adamw-2e-5", "adamw-5e-5"],
            sparsities=[1e-5, 1e-4, 1e-3, 1e-2], epochs=10, test_per_class=500, dev_per_class=64,
            weight_decay_zero=True, force=False)
QUICK = dict(seeds=[13], ks=[64], sweep_seed=13, recipes=["adamw-5e-5-short"], sparsities=[1e-4], epochs=1,
             test_per_class=100, dev_per_class=32, weight_decay_zero=False, force=True)

# The headline claim (abstract) and where Docs/graft.md holds the reproduction tables.
CLAIM = "grafting ~0.01% of the fine-tuned parameters (sparsity 1e-4) onto the pre-trained model keeps >95% of fine-tuned accuracy"
HEADLINE_SPARSITY = 1e-4
LINK = "Docs/graft.md#reproduction"


def run(args, output):
    """Runs graft with args, writing the report to output (reused when it exists)."""
    return run_report(GRAFT, args, output)


def finetune(task, k, seed, recipe, settings, out, extra=(), tag_extra=""):
    common = ["--test-per-class", settings["test_per_class"], "--dev-per-class", settings["dev_per_class"]]
    tag = f"{task}-k{k}-s{seed}-{recipe}{tag_extra}"
    ft = out / f"ft-{tag}.h5"
    args = list(RECIPES[recipe])
    for i in range(0, len(extra), 2):  # an extra option replaces the recipe's
        if extra[i] in args:
            j = args.index(extra[i])
            del args[j:j + 2]
    report = run(["finetune", "--task", task, "--k", k, "--data-seed", seed, "--save", ft]
                 + args + list(extra) + common, out / f"finetune-{tag}.json")
    return tag, ft, report["metrics"]


def sweep(settings, out: Path):
    common = ["--test-per-class", settings["test_per_class"], "--dev-per-class", settings["dev_per_class"]]
    # 1. Learning-rate sweep on dev (seed sweep_seed), per task and k: the recipe with the best dev accuracy.
    chosen, sweep_rows = {}, []
    for task in TASKS:
        for k in settings["ks"]:
            results = []
            for recipe in settings["recipes"]:
                _, _, m = finetune(task, k, settings["sweep_seed"], recipe, settings, out)
                results.append((m["dev_accuracy"], recipe))
                sweep_rows.append(dict(task=task, k=k, recipe=recipe, pre_dev=m["pretrained_dev_accuracy"],
                                       ft_dev=m["dev_accuracy"], best_step=m["best_step"]))
            chosen[(task, k)] = max(results, key=lambda r: r[0])[1]  # first of equal dev accuracies
    # 2. Per seed, task and k: fine-tune with the chosen recipe, power check, localize, evaluate.
    rows, masks = [], {}
    for k in settings["ks"]:
        for seed in settings["seeds"]:
            for task in TASKS:
                recipe = chosen[(task, k)]
                tag, ft, m = finetune(task, k, seed, recipe, settings, out)
                passed = m["power_check"]["passed"]
                mask_files = []
                if passed or settings["force"]:
                    for sparsity in settings["sparsities"]:
                        mask = out / f"mask-{tag}-{sparsity:g}.h5"
                        args = ["localize", "--finetuned", ft, "--sparsity", sparsity, "--epochs", settings["epochs"],
                                "--save-mask", mask] + common + ([] if passed else ["--force"])
                        localize = run(args, out / f"localize-{tag}-{sparsity:g}.json")["metrics"]
                        mask_files.append((sparsity, mask, localize))
                        masks[(task, k, seed, sparsity)] = mask
                eval_args = ["eval", "--finetuned", ft, "--split", "test"] + common
                for _, mask, _ in mask_files:
                    eval_args += ["--mask", mask]
                evaluation = run(eval_args, out / f"eval-{tag}.json")["metrics"]
                base = dict(task=task, k=k, seed=seed, recipe=recipe, finetune=m, power=m["power_check"],
                            pretrained=evaluation["pretrained"], finetuned=evaluation["finetuned"],
                            gain=evaluation["finetuning_gain"])
                if not mask_files:
                    rows.append(dict(base, sparsity=None))
                for (sparsity, _, localize), graft in zip(mask_files, evaluation["grafts"]):
                    rows.append(dict(base, sparsity=sparsity, localize=localize, graft=graft))
    # 3. What the base patch picks without weight decay (polarity, k = 64 or the first k, sweep seed).
    diagnostics = []
    if settings["weight_decay_zero"]:
        k = 64 if 64 in settings["ks"] else settings["ks"][0]
        recipe = chosen[("polarity", k)]
        for wd_tag, extra in [("", []), ("-wd0", ["--weight-decay", 0])]:
            tag, ft, m = finetune("polarity", k, settings["sweep_seed"], recipe, settings, out, extra, wd_tag)
            localize = run(["localize", "--finetuned", ft, "--sparsity", HEADLINE_SPARSITY, "--epochs", 1, "--force",
                            "--save-mask", out / f"mask-{tag}-diag.h5"] + common, out / f"localize-{tag}-diag.json")["metrics"]
            diagnostics.append(dict(weight_decay=0 if wd_tag else "recipe", recipe=recipe, k=k, dev=m["dev_accuracy"],
                                    **localize["base_patch_diagnostics"]))
    # 4. Overlap: across tasks (same seed) and within a task (pairs of seeds), per k and sparsity.
    overlaps = []
    for k in settings["ks"]:
        for sparsity in settings["sparsities"]:
            for seed in settings["seeds"]:
                a, b = masks.get(("polarity", k, seed, sparsity)), masks.get(("subjectivity", k, seed, sparsity))
                if a and b:
                    report = run(["overlap", a, b], out / f"overlap-k{k}-s{seed}-{sparsity:g}.json")
                    overlaps.append(dict(kind="cross-task", k=k, sparsity=sparsity, seeds=(seed, seed),
                                         **report["metrics"]["pairs"][0]["total"]))
            for task in TASKS:
                for s1, s2 in itertools.combinations(settings["seeds"], 2):
                    a, b = masks.get((task, k, s1, sparsity)), masks.get((task, k, s2, sparsity))
                    if a and b:
                        report = run(["overlap", a, b], out / f"overlap-{task}-k{k}-s{s1}-s{s2}-{sparsity:g}.json")
                        overlaps.append(dict(kind=f"same task ({task})", k=k, sparsity=sparsity, seeds=(s1, s2),
                                             **report["metrics"]["pairs"][0]["total"]))
    return dict(chosen={f"{t} k={k}": r for (t, k), r in chosen.items()}, sweep=sweep_rows), rows, diagnostics, overlaps


def interval(values):
    """(mean, low, high) with a 95% t-interval over the values (seeds)."""
    return t_interval(values) if values else (float("nan"),) * 3


def fmt(triple, digits=3, percent=False):
    m, lo, hi = triple
    if m != m:
        return "–"
    scale, unit = (100, "%") if percent else (1, "")
    if lo == hi:
        return f"{scale * m:.{digits}f}{unit}"
    return f"{scale * m:.{digits}f}{unit} [{scale * lo:.{digits}f}, {scale * hi:.{digits}f}]"


def summarize(rows, settings):
    """One entry per task, k and sparsity with means and 95% t-intervals over the seeds; only runs
    whose fine-tuning passed the power check count (the others are listed as failed)."""
    summary = []
    for task in TASKS:
        for k in settings["ks"]:
            runs = {r["seed"]: r for r in rows if r["task"] == task and r["k"] == k}
            if not runs:
                continue
            first = list(runs.values())
            entry = dict(task=task, k=k, recipe=first[0]["recipe"], seeds=len(first),
                         passed=sum(r["power"]["passed"] for r in first),
                         pre_dev=interval([r["power"]["pretrained_dev_accuracy"] for r in first]),
                         ft_dev=interval([r["power"]["finetuned_dev_accuracy"] for r in first]),
                         pre_acc=interval([r["pretrained"]["test"]["accuracy"] for r in first]),
                         ft_acc=interval([r["finetuned"]["test"]["accuracy"] for r in first]),
                         gain=interval([r["gain"]["gain"] for r in first]),
                         mcnemar=[r["gain"]["mcnemar_p"] for r in first],
                         per_seed_gain=[(r["gain"]["gain"], r["gain"]["gain_lower"], r["gain"]["gain_upper"]) for r in first],
                         grafts=[])
            for sparsity in settings["sparsities"]:
                group = [r for r in rows if r["task"] == task and r["k"] == k and r["sparsity"] == sparsity
                         and (r["power"]["passed"] or settings["force"])]
                if not group:
                    continue
                def stat(f):
                    return interval([v for v in (f(r) for r in group) if v is not None])
                g = dict(sparsity=sparsity, runs=len(group),
                         selected=stat(lambda r: r["graft"]["selected"]),
                         base_selected=stat(lambda r: r["localize"]["base_patch_selected"]),
                         flips=[r["localize"]["flipped_per_epoch"] for r in group],
                         best_epoch=[r["localize"]["best_epoch"] for r in group],
                         graft_acc=stat(lambda r: r["graft"]["test"]["accuracy"]),
                         ratio=stat(lambda r: r["graft"]["graft_ft_accuracy_ratio"]),
                         kept=stat(lambda r: r["graft"]["gain_kept"].get("estimate")),
                         kept_ci=[(r["graft"]["gain_kept"].get("lower"), r["graft"]["gain_kept"].get("upper")) for r in group],
                         base_kept=stat(lambda r: r["graft"].get("controls", {}).get("base_patch", {}).get("gain_kept", {}).get("estimate")),
                         random_kept=stat(lambda r: r["graft"].get("controls", {}).get("random", {}).get("gain_kept", {}).get("estimate")),
                         pre_ece=stat(lambda r: r["pretrained"]["test"]["ece"]),
                         ft_ece=stat(lambda r: r["finetuned"]["test"]["ece"]),
                         graft_ece=stat(lambda r: r["graft"]["test"]["ece"]),
                         ece_reduction=stat(lambda r: r["graft"].get("ece_reduction_vs_ft")))
                if task == "polarity":
                    g.update(pre_ood=stat(lambda r: r["pretrained"]["ood"]["accuracy"]),
                             ft_ood=stat(lambda r: r["finetuned"]["ood"]["accuracy"]),
                             graft_ood=stat(lambda r: r["graft"]["ood"]["accuracy"]),
                             ood_advantage=stat(lambda r: r["graft"]["ood"]["accuracy"] - r["finetuned"]["ood"]["accuracy"]))
                entry["grafts"].append(g)
            summary.append(entry)
    return summary


def overlap_summary(overlaps, settings):
    out = []
    for k in settings["ks"]:
        for sparsity in settings["sparsities"]:
            cross = [o["jaccard"] for o in overlaps if o["k"] == k and o["sparsity"] == sparsity and o["kind"] == "cross-task"]
            same = [o["jaccard"] for o in overlaps if o["k"] == k and o["sparsity"] == sparsity and o["kind"].startswith("same")]
            if cross or same:
                out.append(dict(k=k, sparsity=sparsity, cross=interval(cross), cross_n=len(cross),
                                same=interval(same), same_n=len(same)))
    return out


def judge(triple, threshold, strict=False):
    """A verdict for "the quantity exceeds threshold": reproduced when its 95% interval over seeds
    clears it, partly when only the mean does — and at most partly for a single run, which has no
    interval over seeds."""
    m, lo, hi = triple
    above = (lambda x: x > threshold) if strict else (lambda x: x >= threshold)
    if above(lo) and lo != hi:
        return "reproduced"
    return "partly" if above(m) else "not reproduced"


def claims(summary, overlap_rows, settings):
    """The paper's four claims beside ours, each with a verdict: (claim, paper, measured, verdict)."""
    passed = [(e, g) for e in summary for g in e["grafts"] if e["passed"] > 0 or settings["force"]]
    at = [(e, g) for e, g in passed if g["sparsity"] == HEADLINE_SPARSITY]
    rows = []
    # 1. > 95% of FT accuracy at ~0.01%.
    parts, texts = [], []
    for e, g in at:
        texts.append(f"{e['task']} k={e['k']}: graft/FT {fmt(g['ratio'])}, gain kept {fmt(g['kept'], 2)} "
                     f"(base patch {fmt(g['base_kept'], 2)}, random {fmt(g['random_kept'], 2)}); FT − pre {fmt(e['gain'])}")
        parts.append("not comparable" if e["passed"] == 0 else judge(g["ratio"], 0.95))
    rows.append(["~0.01% of parameters recover >95% of fine-tuned performance", "> 0.95 of FT accuracy (GLUE, RoBERTa)",
                 "; ".join(texts) or "no run passed the power check", combine_verdicts(parts) if parts else "not comparable"])
    # 2. ECE reduction 40–90%.
    parts, texts = [], []
    for e, g in at:
        texts.append(f"{e['task']} k={e['k']}: {fmt(g['ece_reduction'], 1, percent=True)} (ECE FT {fmt(g['ft_ece'])}, graft {fmt(g['graft_ece'])})")
        m = g["ece_reduction"][0]
        v = judge(g["ece_reduction"], 0.4)
        parts.append("not comparable" if e["passed"] == 0 else v if v != "not reproduced" or m <= 0 else "partly")
    rows.append(["40–90% ECE reduction in-distribution (graft vs fine-tuned)", "40–90%", "; ".join(texts) or "–",
                 combine_verdicts(parts) if parts else "not comparable"])
    # 3. Better OOD.
    parts, texts = [], []
    for e, g in at:
        if "ood_advantage" in g:
            texts.append(f"k={e['k']}: graft − FT OOD accuracy {fmt(g['ood_advantage'])} (pre {fmt(g['pre_ood'])}, FT {fmt(g['ft_ood'])}, graft {fmt(g['graft_ood'])})")
            parts.append("not comparable" if e["passed"] == 0 else judge(g["ood_advantage"], 0, strict=True))
    rows.append(["better OOD accuracy than fine-tuning", "graft > FT on OOD sets", "; ".join(texts) or "–",
                 combine_verdicts(parts) if parts else "not comparable"])
    # 4. Nearly disjoint regions across tasks (and overlap tracking task similarity).
    parts, texts = [], []
    for o in overlap_rows:
        if o["cross_n"] and o["same_n"]:
            texts.append(f"k={o['k']} {o['sparsity']:g}: cross-task J {fmt(o['cross'])} (n={o['cross_n']}) vs same task, other seed "
                         f"{fmt(o['same'])} (n={o['same_n']})")
            c, s = o["cross"], o["same"]
            parts.append("reproduced" if c[2] < s[1] and c[0] < 0.1 else "partly" if c[2] < s[1] else "not reproduced")
        elif o["cross_n"]:
            texts.append(f"k={o['k']} {o['sparsity']:g}: cross-task J {fmt(o['cross'])} (one seed: no same-task baseline)")
            parts.append("not comparable")
    rows.append(["regions of different tasks are nearly disjoint", "small overlap across GLUE tasks", "; ".join(texts) or "–",
                 combine_verdicts(parts) if parts else "not comparable"])
    return rows


def table(state, summary, overlap_rows, diagnostics, settings, quick):
    lines = [f"# graft reproduction ({'QUICK' if quick else 'full'} run)", "",
             f"MiniLM-L6 with the zero-shot verbaliser head, k ∈ {settings['ks']} per class, seeds {settings['seeds']}, "
             f"{settings['epochs']} mask epochs (η scaled: the first epoch's largest score change = b), test "
             f"{2 * settings['test_per_class']} tweets per task, dev {2 * settings['dev_per_class']}. Means with 95% t-intervals "
             f"over seeds [low, high]; per-run intervals are paired bootstraps.", "", "## Learning-rate sweep (dev, seed "
             f"{settings['sweep_seed']})", ""]
    lines.append(markdown_table(["task", "k", "recipe", "pre dev", "FT dev", "best step"],
                                [[r["task"], r["k"], r["recipe"], f"{r['pre_dev']:.3f}", f"{r['ft_dev']:.3f}", r["best_step"]]
                                 for r in state["sweep"]]))
    lines += ["Chosen: " + ", ".join(f"{key}: {value}" for key, value in state["chosen"].items()) + ".", "",
              "## Fine-tuning (test)", ""]
    lines.append(markdown_table(
        ["task", "k", "recipe", "power check passed", "pre dev", "FT dev", "pre test", "FT test", "FT − pre test", "McNemar p (per seed)"],
        [[e["task"], e["k"], e["recipe"], f"{e['passed']}/{e['seeds']}", fmt(e["pre_dev"]), fmt(e["ft_dev"]), fmt(e["pre_acc"]),
          fmt(e["ft_acc"]), fmt(e["gain"]), ", ".join(f"{p:.2g}" for p in e["mcnemar"])] for e in summary]))
    lines += ["## Grafts and controls (test)", ""]
    rows = []
    for e in summary:
        for g in e["grafts"]:
            ood = (f"{g['pre_ood'][0]:.3f} / {g['ft_ood'][0]:.3f} / {g['graft_ood'][0]:.3f}" if "graft_ood" in g else "–")
            rows.append([e["task"], e["k"], f"{g['sparsity']:g}", f"{g['base_selected'][0]:.0f} → {g['selected'][0]:.0f}",
                         "; ".join("/".join(map(str, f)) for f in g["flips"]), fmt(g["graft_acc"]), fmt(g["ratio"]),
                         fmt(g["kept"], 2), fmt(g["base_kept"], 2), fmt(g["random_kept"], 2),
                         f"{fmt(g['pre_ece'])} / {fmt(g['ft_ece'])} / {fmt(g['graft_ece'])}", fmt(g["ece_reduction"], 1, percent=True), ood])
    lines.append(markdown_table(["task", "k", "sparsity", "base patch → learned mask", "flips per epoch (per seed)", "graft acc",
                                 "graft/FT", "FT gain kept", "kept: base patch", "kept: random", "ECE pre / FT / graft",
                                 "ECE reduction", "OOD acc pre / FT / graft"], rows))
    single = [(e, g) for e in summary for g in e["grafts"] if len(g["kept_ci"]) == 1]
    if single:
        lines.append("Bootstrap 95% intervals of the gain kept (single-seed rows): " + "; ".join(
            f"{e['task']} k={e['k']} {g['sparsity']:g}: [{g['kept_ci'][0][0]:.2f}, {g['kept_ci'][0][1]:.2f}]"
            for e, g in single if g["kept_ci"][0][0] is not None) + ".\n")
    if overlap_rows:
        lines += ["## Mask overlap (Jaccard)", ""]
        lines.append(markdown_table(["k", "sparsity", "polarity vs subjectivity (same seed)", "same task, two seeds"],
                                    [[o["k"], f"{o['sparsity']:g}", f"{fmt(o['cross'])} (n={o['cross_n']})",
                                      f"{fmt(o['same'])} (n={o['same_n']})"] for o in overlap_rows]))
    if diagnostics:
        lines += ["## What the base patch picks (polarity, sparsity 1e-4)", ""]
        lines.append(markdown_table(
            ["weight decay", "FT dev", "corr(|Δ|, |θ_pre|) in patch", "corr over all", "corr(Δ, θ_pre) in patch",
             "mean |θ_pre| patch / all", "patch ∩ top-s |θ_pre|"],
            [[d["weight_decay"], f"{d['dev']:.3f}", f"{d['pearson_abs_delta_abs_pretrained_selected'] or 0:.3f}",
              f"{d['pearson_abs_delta_abs_pretrained_all'] or 0:.3f}", f"{d['pearson_delta_pretrained_selected'] or 0:.3f}",
              f"{d['mean_abs_pretrained_selected']:.4f} / {d['mean_abs_pretrained_all']:.4f}",
              f"{d['overlap_with_largest_pretrained']:.3f}"] for d in diagnostics]))
    lines += ["## Beside the paper's claims", ""]
    lines.append(beside_paper(claims(summary, overlap_rows, settings)))
    return "\n".join(lines)


def plot(summary, settings):
    """Fraction of the fine-tuning gain kept (mean over seeds, with the interval as error bars) against
    sparsity, one line per task and k, and the random-mask control."""
    series = []
    for e in summary:
        points = [(g["sparsity"], g["kept"][0]) for g in e["grafts"] if g["kept"][0] == g["kept"][0]]
        if points:
            series.append(dict(label=f"{e['task']} k={e['k']}", points=points,
                               errors=[(g["kept"][2] - g["kept"][1]) / 2 for g in e["grafts"] if g["kept"][0] == g["kept"][0]]))
            random = [(g["sparsity"], g["random_kept"][0]) for g in e["grafts"] if g["random_kept"][0] == g["random_kept"][0]]
            if random:
                series.append(dict(label=f"{e['task']} k={e['k']} random mask", points=random))
    return line_plot(series, title="fraction of the fine-tuning gain kept by the graft",
                     x_label="sparsity (fraction of graftable parameters)", y_label="(graft − pre) / (FT − pre), test",
                     x_log=True, x_ticks=[(s, f"{s:g}") for s in settings["sparsities"]],
                     references=[(1.0, "1.0"), (0.0, "0")])


def verdict(summary, settings, quick, run_name):
    """The headline claim's summary row: graft/FT ≥ 0.95 at sparsity 1e-4 on runs whose fine-tuning
    passed the power check (FT ≥ pre + 5 points on dev); "not comparable" when none did."""
    at = [(e, g) for e in summary for g in e["grafts"] if g["sparsity"] == HEADLINE_SPARSITY and e["passed"] > 0]
    if not at:
        return verdict_row("graft", CLAIM, ">95% of FT accuracy", None, None, "not comparable",
                           "no fine-tuning run passed the power check (FT ≥ pre-trained + 5 points on dev)", LINK, quick, run_name)
    parts = []
    for e, g in at:
        m, lo, hi = g["ratio"]
        v = judge(g["ratio"], 0.95)
        parts.append(dict(claim=f"{e['task']} k={e['k']}", verdict=v,
                          why=f"graft/FT {m:.3f} [{lo:.3f}, {hi:.3f}], gain kept {fmt(g['kept'], 2)}, random mask {fmt(g['random_kept'], 2)}, "
                              f"FT − pre test {fmt(e['gain'])}"))
    ratios = [g["ratio"][0] for _, g in at]
    m, lo, hi = interval(ratios)
    v = combine_verdicts(p["verdict"] for p in parts)
    return verdict_row("graft", CLAIM, ">95% of FT accuracy", m, (lo, hi) if len(ratios) > 1 else None, v,
                       "; ".join(p["why"] for p in parts), LINK, quick, run_name, parts=parts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="the few-minute run (CI)")
    parser.add_argument("--out", default="results/graft", help="output directory")
    parser.add_argument("--seeds", help="comma-separated subset of the seeds (e.g. 13,21), to summarise part of a sweep")
    parser.add_argument("--ks", help="comma-separated subset of k (16,64,full)")
    args = parser.parse_args()
    settings = dict(QUICK if args.quick else FULL)
    if args.seeds:
        settings["seeds"] = [int(s) for s in args.seeds.split(",")]
    if args.ks:
        settings["ks"] = [k if k == "full" else int(k) for k in args.ks.split(",")]
    out = Path(args.out) / ("quick" if args.quick else "full")
    out.mkdir(parents=True, exist_ok=True)
    state, rows, diagnostics, overlaps = sweep(settings, out)
    summary = summarize(rows, settings)
    overlap_rows = overlap_summary(overlaps, settings)
    (out / "summary.json").write_text(json.dumps(dict(settings=settings, state=state, summary=summary, overlaps=overlap_rows,
                                                      diagnostics=diagnostics), indent=1, sort_keys=True, default=str) + "\n")
    (out / "table.md").write_text(table(state, summary, overlap_rows, diagnostics, settings, args.quick))
    (out / "sparsity.svg").write_text(plot(summary, settings))
    row = verdict(summary, settings, args.quick, "make graft" + (" QUICK=1" if args.quick else ""))
    write_verdict(out, row)
    with open(out / "table.md", "a") as f:
        f.write(f"\n## Verdict\n\n**{row['verdict']}**: {row['why']}.\n")
    print((out / "table.md").read_text())


if __name__ == "__main__":
    main()
