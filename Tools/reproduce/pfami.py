"""Reproduce PFAMI (Docs/pfami.md): train a target and a reference model per family (a conv VAE and a small
DDPM on scikit-learn's digits at 32×32) on disjoint splits, extract the probe losses at each record and its
10 crop neighbours (the DDPM's in two shards joined by `pfami merge`), and attack with PFAMI_Met (k* = 5 and
all neighbours), its uncalibrated ablation, Loss and the LiRA-style calibration; the analytic KDE positive
control runs through the same commands. Writes results/pfami/<mode>/*.json, table.md (means over the seeds
beside the paper's claim), roc_<family>.svg (log-scale FPR) and verdict.json.

    python Tools/reproduce/pfami.py            # the full run (3 seeds; Docs/pfami.md gives its cost)
    python Tools/reproduce/pfami.py --quick    # about 2 minutes on 2 idle cores (CI)

Runs the built executable (.build/release/pfami); existing result files are reused, so an interrupted run
resumes; a settings.json stamp makes a run with other settings (or after RESULTS_VERSION changes) refuse them. Standard library only.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

from plotkit import (PALETTE, beside_paper, combine_verdicts, finish, line_plot, markdown_table, signed, t_interval,
                     verdict_row)
from tool_reports import run_report

TOOL = Path(".build/release/pfami")
CLAIM = "PFAMI raises the attack success rate (ASR) by about 27.9% over the best baseline"
LINK = "Docs/pfami.md#reproduction"
FULL = dict(seeds=[0, 1, 2], control=dict(members=128, holdout=128),
            families={"vae": dict(members=256, holdout=256, width=32, steps=3000, batch=64, lr=1e-3, probes=None, records=None, nns=True),
                      "ddpm": dict(members=64, holdout=64, width=8, steps=3000, batch=32, lr=2e-3, probes=None, records=None, nns=True)})
# QUICK: PFAMI_NNs for the VAE only (a shadow DDPM would add a minute).
QUICK = dict(seeds=[0], control=dict(members=48, holdout=48),
             families={"vae": dict(members=64, holdout=64, width=16, steps=300, batch=32, lr=1e-3, probes=None, records=None, nns=True),
                       "ddpm": dict(members=32, holdout=32, width=8, steps=100, batch=32, lr=2e-3, probes="0,100,200", records=None, nns=False)})
# (method, --k): PFAMI_Met as the reference code (k* = 5) and as the paper (all neighbours); the baselines.
METHODS = [("met", "5"), ("met", "all"), ("met-uncalibrated", "5"), ("loss", "5"), ("lira", "5")]


def methods(family, s):
    """The attacks run on a family: METHODS, PFAMI_NNs when a shadow model is trained, SecMI on the DDPM."""
    return METHODS + ([("nns", "5")] if s["nns"] else []) + ([("secmi", "5")] if family == "ddpm" else [])


def baselines(family):
    """The baselines PFAMI is compared with: Loss, LiRA-style and, on the DDPM, SecMI."""
    return ["loss", "lira"] + (["secmi"] if family == "ddpm" else [])


def label(method, k):
    return {"met": f"PFAMI_Met (k*={k})" if k != "all" else "PFAMI_Met (all k)", "met-uncalibrated": "Met, uncalibrated (k*=5)",
            "loss": "Loss", "lira": "LiRA-style (offline)", "nns": "PFAMI_NNs (shadow-trained CNN on D)",
            "secmi": "SecMI (DDIM, t_sec = 100)"}[method]


def train(out, family, s, role, seed):
    args = ["train", "--model", family, "--role", role, "--members", s["members"], "--holdout", s["holdout"], "--split-seed", seed,
            "--seed", seed, "--save", out / f"{family}-{role}-s{seed}.h5"]
    if family != "kde":
        args += ["--width", s["width"], "--steps", s["steps"], "--batch-size", s["batch"], "--learning-rate", s["lr"],
                 "--groups", 8 if s["width"] % 8 == 0 else 4]
        if s.get("probes"):
            args += ["--probes", s["probes"]]
    return run_report(TOOL, args, out / f"train-{family}-{role}-s{seed}.json")


def features(out, family, s, seed, shards=1, attacked="target"):
    """The feature file of one family and seed (of the target's records, or the shadow's for PFAMI_NNs);
    with shards > 1, run as shards and joined by `pfami merge`."""
    target, reference = out / f"{family}-{attacked}-s{seed}.h5", out / f"{family}-reference-s{seed}.h5"
    name = f"features-{family}" + ("" if attacked == "target" else f"-{attacked}") + f"-s{seed}"
    final = out / f"{name}.h5"
    base = ["features", "--target", target, "--reference", reference, "--seed", seed]
    if s.get("probes"):
        base += ["--probes", s["probes"]]
    if s.get("records"):
        base += ["--records-per-class", s["records"]]
    if shards == 1:
        return run_report(TOOL, base + ["--save", final], out / f"{name}.json"), final
    reports = [run_report(TOOL, base + ["--shard", f"{i}/{shards}", "--save", out / f"{name}-{i}.h5"], out / f"{name}-{i}.json")
               for i in range(shards)]
    if not final.exists():
        subprocess.run([str(TOOL), "merge", "--quiet", "--save", str(final)] + [str(out / f"{name}-{i}.h5") for i in range(shards)], check=True)
    return reports, final


def attack(out, family, seed, method, k, feature_file, control, shadow=None):
    path = out / f"attack-{family}-{method}-k{k}-s{seed}.json"
    scores = out / f"scores-{family}-{method}-k{k}-s{seed}.jsonl"
    if path.exists():
        return json.loads(path.read_text())
    command = [str(TOOL), "attack", "--features", str(feature_file), "--method", method, "--k", k, "--control", str(control),
               "--output", str(path), "--quiet"] + (["--shadow", str(shadow)] if method == "nns" else [])
    print("+", " ".join(command), file=sys.stderr, flush=True)
    with open(scores, "w") as f:
        subprocess.run(command, check=True, stdout=f)
    return json.loads(path.read_text())


def reproduce(settings, out):
    r = {"train": {}, "features": {}, "attack": {}, "control": {}}
    for seed in settings["seeds"]:
        c = settings["control"]
        for role in ("target", "reference"):
            train(out, "kde", c, role, seed)
        _, control = features(out, "kde", c, seed)
        r["control"][seed] = attack(out, "kde", seed, "met", "5", control, control)
        for family, s in settings["families"].items():
            for role in ("target", "reference") + (("shadow",) if s["nns"] else ()):
                r["train"][(family, role, seed)] = train(out, family, s, role, seed)
            r["features"][(family, seed)], feature_file = features(out, family, s, seed, shards=2 if family == "ddpm" else 1)
            shadow = features(out, family, s, seed, attacked="shadow")[1] if s["nns"] else None
            for method, k in methods(family, s):
                r["attack"][(family, method, k, seed)] = attack(out, family, seed, method, k, feature_file, control, shadow)
    return r


def fmt(mean, lo, hi, digits=3, scale=1.0):
    if lo == hi:
        return f"{mean * scale:.{digits}f}"
    return f"{mean * scale:.{digits}f} [{lo * scale:.{digits}f}, {hi * scale:.{digits}f}]"


def asr_gains(r, family, seeds):
    """Per seed: PFAMI_Met's ASR minus the best baseline's, in points."""
    out = []
    for x in seeds:
        met = r["attack"][(family, "met", "5", x)]["metrics"]["asr"]
        best = max(r["attack"][(family, b, "5", x)]["metrics"]["asr"] for b in baselines(family))
        out.append(100 * (met - best))
    return out


def gain_interval(r, family, seeds):
    """(mean, low, high) of the ASR gain: a t interval over the seeds, or with one seed ±1.96·√2·SE of an
    ASR (SE = √(p(1 − p)/members) at the met ASR p; √2 for a difference of two such rates)."""
    diffs = asr_gains(r, family, seeds)
    if len(diffs) > 1:
        return t_interval(diffs)
    m = r["attack"][(family, "met", "5", seeds[0])]["metrics"]
    p = m["asr"]
    half = 100 * 1.96 * (2 * max(p * (1 - p), 0.25 / m["members"]) / m["members"]) ** 0.5
    return diffs[0], diffs[0] - half, diffs[0] + half


def family_verdict(r, family, seeds):
    measurable = all(r["train"][(family, "target", s)]["metrics"]["gap"]["measurable"] for s in seeds)
    mean, lo, hi = gain_interval(r, family, seeds)
    span = f"{signed(mean)} points [{signed(lo)}, {signed(hi)}]"
    if not measurable:
        return "not comparable", f"the {family} target's train/hold-out gap is not measurable at this training length (gain {span})"
    if lo > 0:
        return "reproduced", f"{family}: PFAMI_Met ASR {span} over the best baseline"
    if hi < 0:
        return "not reproduced", f"{family}: PFAMI_Met ASR {span} against the best baseline"
    if mean > 0:
        return "partly", f"{family}: PFAMI_Met ASR {span} over the best baseline, the interval includes 0"
    return "not comparable", f"{family}: the run cannot tell PFAMI_Met from the best baseline (ASR {span})"


def verdict(r, settings, quick, run_name):
    seeds = settings["seeds"]
    parts = []
    for family in settings["families"]:
        v, why = family_verdict(r, family, seeds)
        parts.append(dict(claim=f"ASR gain over the best baseline ({family})", verdict=v, why=why))
    overall = combine_verdicts([p["verdict"] for p in parts])
    all_diffs = [d for family in settings["families"] for d in asr_gains(r, family, seeds)]
    mean, lo, hi = t_interval(all_diffs)
    # One seed: the per-family intervals are in the parts; a t interval over two families would mean nothing.
    interval = (lo, hi) if len(seeds) > 1 else None
    why = "; ".join(p["why"] for p in parts)
    return verdict_row("pfami", CLAIM, "+27.9% ASR", mean, interval, overall, why, LINK, quick, run_name, parts, unit=" points")


def table(r, settings, quick):
    seeds = settings["seeds"]
    lines = [f"# PFAMI reproduction ({'QUICK' if quick else 'full'}: seeds {', '.join(map(str, seeds))}; means with 95% t intervals over seeds)\n"]
    control = [r["control"][s]["metrics"]["auc"] for s in seeds]
    lines.append(f"Positive control (analytic Gaussian-KDE generator, h = 0.1, PFAMI_Met k* = 5): AUC {fmt(*t_interval(control))}.\n")
    rows = []
    for family, s in settings["families"].items():
        for seedless in [(family, role) for role in ("target", "reference", "shadow") if (family, role, seeds[0]) in r["train"]]:
            gaps = [r["train"][(family, seedless[1], x)]["metrics"]["gap"] for x in seeds]
            rows.append([family, seedless[1], s["members"], s["steps"], fmt(*t_interval([g["member_loss"] for g in gaps]), digits=4),
                         fmt(*t_interval([g["holdout_loss"] for g in gaps]), digits=4), fmt(*t_interval([g["gap"] for g in gaps]), digits=4),
                         "yes" if all(g["measurable"] for g in gaps) else "**no**", fmt(*t_interval([g["loss_auc"] for g in gaps]))])
    lines.append("## Models (train vs hold-out loss)\n")
    lines.append(markdown_table(["family", "role", "members", "steps", "member loss", "hold-out loss", "gap", "measurable (gap > 2 SE)",
                                 "loss-attack AUC"], rows))
    lines.append("\n## Attacks on the target models\n")
    rows = []
    for family, s in settings["families"].items():
        for method, k in methods(family, s):
            ms = [r["attack"][(family, method, k, x)]["metrics"] for x in seeds]
            rows.append([family, label(method, k), fmt(*t_interval([m["auc"] for m in ms])), fmt(*t_interval([m["asr"] for m in ms])),
                         fmt(*t_interval([m["asr_reference"] for m in ms])),
                         fmt(*t_interval([m["max_balanced_accuracy"] for m in ms])), fmt(*t_interval([m["tpr_at1_pct_fpr"] for m in ms])),
                         fmt(*t_interval([m["tpr_at1_pct_fpr_reference"] for m in ms])), ms[0]["queries_per_record"],
                         fmt(*t_interval([m["control_auc"] for m in ms]))])
    lines.append(markdown_table(["family", "attack", "AUC", "ASR", "ASR (ref. variant)", "max bal. acc.", "TPR@1%FPR", "TPR@1%FPR (ref. variant)",
                                 "queries/record", "control AUC"], rows))
    lines.append("\n## Beside the paper\n")
    rows = []
    for family in settings["families"]:
        mean, lo, hi = gain_interval(r, family, seeds)
        v, _ = family_verdict(r, family, seeds)
        rows.append([f"ASR gain of PFAMI_Met (k*=5) over the best of {', '.join(label(b, '5') for b in baselines(family))} ({family})", "+27.9%",
                     f"{signed(mean)} points [{signed(lo)}, {signed(hi)}]", v])
    lines.append(beside_paper(rows))
    speed = []
    for family in settings["families"]:
        reports = r["features"][(family, seeds[0])]
        reports = reports if isinstance(reports, list) else [reports]
        speed.append([family, sum(x["metrics"]["records"] for x in reports), reports[0]["metrics"]["queries_per_record"],
                      f"{sum(x['metrics']['records'] for x in reports) / sum(x['timing']['features_s'] for x in reports):.2f}"])
    lines.append("\n## Feature extraction speed (seed 0)\n")
    lines.append(markdown_table(["family", "records", "queries/record", "records/s"], speed))
    return "\n".join(lines)


def plot(r, family, seed):
    series = []
    shown = [("met", "5"), ("met", "all"), ("loss", "5"), ("lira", "5")] + ([("secmi", "5")] if family == "ddpm" else [])
    for i, (method, k) in enumerate(shown):
        roc = r["attack"][(family, method, k, seed)]["metrics"]["roc"]
        floor = 1e-3
        pts = [(max(f, floor), t) for f, t in zip(roc["fpr"], roc["tpr"])]
        series.append(dict(label=label(method, k), points=pts, colour=PALETTE[i]))
    # TPR = FPR is a curve on the log axis: drawn through 31 points.
    chance = [10 ** (-3 + 3 * i / 30) for i in range(31)]
    series.append(dict(label="chance", points=[(x, x) for x in chance], dashed=True, colour="#888888"))
    return line_plot(series, title=f"PFAMI on the {family} (seed {seed}): ROC", x_label="false-positive rate (log; 0 drawn at 0.001)",
                     y_label="true-positive rate", x_log=True, x_ticks=[1e-3, 1e-2, 1e-1, 1], y_range=(0, 1))


def check(r, settings):
    problems = []
    for s in settings["seeds"]:
        if r["control"][s]["metrics"]["auc"] < 0.95:
            problems.append(f"seed {s}: the positive control's AUC is {r['control'][s]['metrics']['auc']:.3f} (< 0.95)")
    for key, a in r["attack"].items():
        m = a["metrics"]
        if not (0 <= m["auc"] <= 1) or m["control_auc"] is None:
            problems.append(f"{key}: AUC {m['auc']} or no control AUC")
    return problems


# Bumped whenever the tool's reports or features change meaning, so that older cached results are not mixed in.
RESULTS_VERSION = 3


def check_settings(out, settings):
    """Existing reports in `out` are reused (resume); refuse them when they were made with other settings
    or an older results version (the reference code's stale-cache pitfall)."""
    stamp = out / "settings.json"
    current = json.dumps(dict(results_version=RESULTS_VERSION, settings=settings), sort_keys=True, default=str)
    stale = [p for p in out.iterdir() if p.name != stamp.name]
    if stamp.exists():
        if stamp.read_text() != current:
            sys.exit(f"pfami.py: {out} holds results of other settings or an older results version; remove it and rerun")
    elif stale:
        sys.exit(f"pfami.py: {out} holds results without a settings stamp (an older run); remove it and rerun")
    stamp.write_text(current)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small settings, about 2 minutes")
    parser.add_argument("--seeds", help="comma-separated seeds (default: the mode's), e.g. one seed of the full run")
    parser.add_argument("--families", help="comma-separated model families (default: vae,ddpm)")
    args = parser.parse_args()
    settings = dict(QUICK if args.quick else FULL)
    variant = ""
    if args.seeds:
        settings["seeds"] = [int(x) for x in args.seeds.split(",")]
        variant += "-seeds" + args.seeds.replace(",", "")
    if args.families:
        settings["families"] = {f: settings["families"][f] for f in args.families.split(",")}
        variant += "-" + args.families.replace(",", "")
    out = Path("results/pfami") / (("quick" if args.quick else "full") + variant)
    out.mkdir(parents=True, exist_ok=True)
    check_settings(out, settings)
    r = reproduce(settings, out)
    problems = check(r, settings)
    text = table(r, settings, args.quick)
    (out / "table.md").write_text(text)
    for family in settings["families"]:
        (out / f"roc_{family}.svg").write_text(plot(r, family, settings["seeds"][0]))
    row = verdict(r, settings, args.quick, "make pfami" + (" QUICK=1" if args.quick else ""))
    finish(out, row, problems, wrote="roc_*.svg")


if __name__ == "__main__":
    main()
