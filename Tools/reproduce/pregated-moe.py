"""Reproduce Pre-gated MoE (Docs/pregated-moe.md): build the MoE from SmolLM2 (moefy), train gates
and pre-gates on real text, run real inference with offloaded experts under the four policies and a
sweep of fast-tier budgets, and simulate the paper's GPU setting; write results/pregated-moe/*.json,
a markdown table beside the paper's numbers and an SVG plot of latency against the fast-tier budget.

    python Tools/reproduce/pregated-moe.py            # the full run
    python Tools/reproduce/pregated-moe.py --quick    # a few minutes (CI)

Runs the built executable (.build/release/pregated-moe); existing result files are reused, so an
interrupted run resumes. Standard library only.
"""

import argparse
from pathlib import Path

from plotkit import (PALETTE, bar_plot, beside_paper, combine_verdicts, line_plot, markdown_table, verdict_row,
                     write_verdict)
from tool_reports import run_report

TOOL = Path(".build/release/pregated-moe")
POLICIES = ["gpu-only", "pregated", "on-demand", "prefetch-all"]
OFFLOADED = ["pregated", "on-demand", "prefetch-all"]
MODELS = ["base-8", "base-128", "large-128"]

FULL = dict(iterations=15, train=192, eval=48, steps=200, prompts=6, new_tokens=24, budget_prompts=3,
            budget_tokens=12, budgets=[1, 2, 4, 8], batches="1,2,4,8,16", steps_sim=64)
QUICK = dict(iterations=5, train=24, eval=8, steps=60, prompts=2, new_tokens=8, budget_prompts=1,
             budget_tokens=6, budgets=[1, 2, 4], batches="1,4,16", steps_sim=16)

# The paper's numbers (authors' raw data: A100, batch 1; Docs/pregated-moe.md).
PAPER_MS = {"base-8": {"gpu-only": 0.95, "pregated": 1.20, "on-demand": 2.03, "prefetch-all": 6.73},
            "base-128": {"gpu-only": 0.95, "pregated": 1.13, "on-demand": 1.79, "prefetch-all": 101.6},
            "large-128": {"gpu-only": None, "pregated": 1.39, "on-demand": 2.63, "prefetch-all": 173.5}}
PAPER_TOKENS = {"gpu-only": 143, "pregated": 116, "on-demand": 74, "prefetch-all": 24}
PAPER_SPEEDUP = 1.69  # base-8, batch 1: OnDemand 2.03 / Pre-gated 1.20 ms per block
# The headline claim (abstract) and where Docs/pregated-moe.md holds the reproduction tables.
CLAIM = ("pre-gating (block N chooses block N+1's experts, fetched while N computes) decodes 1.69× faster than "
         "fetching experts on demand, with the conventional gate's model quality")
LINK = "Docs/pregated-moe.md#reproduction"
MIN_OVERLAP = 0.05  # below it pre-gating's copies did not overlap compute (overlap_ratio in the run report)
PAPER_BYTES = {"gpu-only": 905_969_664, "prefetch-all": 301_989_888, "on-demand": 75_497_472, "pregated": 150_994_944}


def run(args, output):
    """Runs pregated-moe with args, writing the report to output (reused when it exists)."""
    return run_report(TOOL, args, output)


def memory_formula(policy, blocks, experts, active, expert_bytes):
    """Peak expert bytes (ExpertMemory.peakBytes)."""
    return expert_bytes * {"gpu-only": blocks * experts, "prefetch-all": 2 * experts,
                           "on-demand": active, "pregated": 2 * active}[policy]


def table(s, out, quick):
    lines = [f"# Pre-gated MoE reproduction ({'QUICK' if quick else 'full'} run)", "",
             "The MoE is **constructed** from SmolLM2-135M-Instruct (each SwiGLU FFN split into 8 experts of",
             "192 neurons; MoE on all 30 layers), not a pre-trained MoE; the fast tier is a byte-capped",
             "in-process cache and the slow tier the HDF5 file (CPU), not GPU and CPU memory. The paper's",
             "GPU numbers are compared with the discrete-event simulation (DES) of its setting.", ""]
    simulations = s["simulate"]["metrics"]["simulations"]
    # 1. Latency per MoE block (DES, PCIe, batch 1) beside the paper.
    lines += ["## Latency per MoE decoder block, batch 1, PCIe 25 GB/s (DES) vs paper (A100)", ""]
    rows = []
    for row in simulations:
        if row["batch"] != 1:
            continue
        cells = []
        for p in POLICIES:
            v = row["policies"][p]
            paper = PAPER_MS[row["model"]][p]
            oom = " (OOM)" if v["out_of_memory"] else ""
            cells.append(f"{v['ms_per_block']:.2f}{oom} / {paper if paper is not None else 'OOM'}")
        rows.append([row["model"]] + cells)
    lines.append(markdown_table(["model"] + POLICIES, rows))
    lines += ["Cells: simulated ms / paper ms. Compute per block is the paper's GPU-only 0.95 ms (an input);",
              "OOM: expert bytes above a 40 GB device.", ""]
    # 2. Throughput base-8 and the batch trend.
    lines += ["## Throughput, base-8 (DES, PCIe) vs paper (batch 1)", ""]
    rows = []
    for row in simulations:
        if row["model"] != "base-8":
            continue
        t = {p: row["policies"][p]["tokens_per_second"] for p in POLICIES}
        rows.append([row["batch"]] + [f"{t[p]:.0f}" for p in POLICIES]
                    + [f"{row['policies']['on-demand']['ms_per_block'] / row['policies']['pregated']['ms_per_block']:.2f}×"])
    rows.append(["paper, batch 1"] + [PAPER_TOKENS[p] for p in POLICIES] + [f"{PAPER_SPEEDUP}×"])
    lines.append(markdown_table(["batch"] + [f"{p} tokens/s" for p in POLICIES] + ["pre-gated speed-up over on-demand"], rows))
    lines += ["tokens/s of the 6 simulated MoE decoder blocks (batch ÷ time per step); the paper measured the whole model.", ""]
    # 3. Memory.
    b = 2 * 768 * 3072 * 4
    lines += ["## Expert bytes in fast memory, base-8 (L = 6, E = 8, max active 4, 18,874,368 B per float32 expert)", ""]
    lines.append(beside_paper([[p, f"{memory_formula(p, 6, 8, 4, b):,}", f"{PAPER_BYTES[p]:,}"] for p in POLICIES],
                              headers=("policy", "formula", "paper")))
    lines += ["Formula: GPU-only L·E, Prefetch 2·E, OnDemand A, Pre-gated 2·A experts (tested in SimulationTests).", ""]
    # 4. Real run on the constructed MoE.
    r = s["run"]["metrics"]
    lines += [f"## Real inference on the constructed SmolLM2 MoE (CPU, k = {s['run']['config']['k']}, pre-gate routing, "
              f"fast tier 2 blocks = {2 * 8 * r['expert_bytes'] / 2**20:.1f} MiB; gpu-only: all)", ""]
    rows = []
    for p in POLICIES:
        v = r["policies"][p]
        rows.append([p, f"{v['decode_latency_ms_mean']:.1f}", f"{v['decode_latency_ms_p50']:.1f}", f"{v['decode_latency_ms_p99']:.1f}",
                     f"{v['tokens_per_second']:.1f}", f"{v['peak_fast_tier_bytes'] / 2**20:.1f}", f"{v['bytes_migrated'] / 1e6:.0f}",
                     f"{v['stall_seconds']:.2f}", f"{v['overlap_ratio']:.2f}", f"{v['cache_hit_rate']:.2f}"])
    lines.append(markdown_table(["policy", "decode ms/token mean", "p50", "p99", "tokens/s", "peak fast-tier MiB", "migrated MB",
                                 "stall s", "overlap", "hit rate"], rows))
    lines += [f"Identical tokens and log-probabilities across policies: **{r['identical_outputs']}**.", ""]
    if "run_slow" in s:
        rs = s["run_slow"]["metrics"]
        lines += [f"With the link throttled to {s['run_slow']['config']['link_gbps']} GB/s (`--link-gbps`):", ""]
        lines.append(markdown_table(["policy", "decode ms/token", "tokens/s", "stall s", "overlap"],
                                    [[p, f"{rs['policies'][p]['decode_latency_ms_mean']:.1f}", f"{rs['policies'][p]['tokens_per_second']:.1f}",
                                      f"{rs['policies'][p]['stall_seconds']:.2f}", f"{rs['policies'][p]['overlap_ratio']:.2f}"]
                                     for p in POLICIES]))
    # 5. Quality.
    g = s["gates"]["metrics"]
    ppl = g["perplexity"]
    lines += [f"## Quality: held-out perplexity ({g['eval_tokens']} tokens of tweets and gensim text; routers trained on {g['train_tokens']} tokens)", ""]
    lines.append(markdown_table(["k", "dense", "gate", "pre-gate", "oracle top-k", "pre-gate recall of gate"],
                                [[k, f"{ppl['dense']:.1f}", f"{ppl[f'gate_k{k}_trained']:.1f}", f"{ppl[f'pregate_k{k}_trained']:.1f}",
                                  f"{ppl[f'oracle_k{k}']:.1f}", f"{g['pregate_recall_of_gate'][f'k{k}']:.3f}"] for k in [1, 2, 4]]).rstrip("\n"))
    if "gate_k2_initial" in ppl:
        lines += ["", "Untrained (centroid) routers: " + ", ".join(
            f"k={k} gate {ppl[f'gate_k{k}_initial']:.1f} / pre-gate {ppl[f'pregate_k{k}_initial']:.1f}" for k in [1, 2, 4])]
    lines += ["", "Paper: pre-gated fine-tuned Switch models keep the conventional gate's accuracy (within noise) on its tasks;",
              "here the MoE is constructed without fine-tuning the experts, so k < E loses FFN mass in every one of the 30",
              "layers and perplexity rises sharply; the comparison that carries over is gate vs pre-gate at equal k.",
              "Oracle top-k: the k experts with the largest output norm per token (all computed): the best any router can do here.", ""]
    (out / "table.md").write_text("\n".join(lines))


def plots(s, budget_rows, out):
    """budget.svg: decode latency (ms/token) against the fast-tier budget (MiB, log scale), one line per
    policy; latency.svg: ms per MoE block at batch 1 (base-8), the paper's A100 beside the simulation."""
    colours = {"pregated": PALETTE[1], "on-demand": PALETTE[0], "prefetch-all": PALETTE[2], "gpu-only": "#7f7f7f"}
    series = [dict(label=p, points=sorted(points), colour=colours[p]) for p, points in sorted(budget_rows.items())]
    xs = sorted({x for _, points in budget_rows.items() for x, _ in points})
    (out / "budget.svg").write_text(line_plot(series, title="Real decode latency vs fast-tier budget (k = 1)",
                                              x_label="fast-tier budget (MiB, log scale)", y_label="decode ms / token",
                                              x_log=True, x_ticks=[(x, f"{x:.0f}") for x in xs]))
    row = next(r for r in s["simulate"]["metrics"]["simulations"] if r["model"] == "base-8" and r["batch"] == 1)
    (out / "latency.svg").write_text(bar_plot(
        POLICIES, [dict(label="paper (A100)", values=[PAPER_MS["base-8"][p] for p in POLICIES]),
                   dict(label="simulated (DES, PCIe)", values=[row["policies"][p]["ms_per_block"] for p in POLICIES])],
        title="base-8, batch 1: ms per MoE decoder block", x_label="policy", y_label="ms per MoE block", legend_width=170))


def latency_interval(v, z=1.96):
    """(mean, standard error) of a policy's decode latency from its report: σ estimated from the
    p50–p99 spread under a normal model (σ ≈ (p99 − p50) / 2.326), SE = σ/√steps. The reports keep
    no per-token latencies; this is an approximation that widens with tail jitter."""
    sigma = max(v["decode_latency_ms_p99"] - v["decode_latency_ms_p50"], 0.0) / 2.326
    return v["decode_latency_ms_mean"], sigma / max(v["decode_steps"], 1) ** 0.5


def verdict(s, quick, run):
    """The headline claim's summary row: the speed-up of pre-gated over on-demand in the real run
    (k = 1, the paper's Switch routing) with an approximate 95% interval (delta method on the two
    means' standard errors), widened to cover the budget sweep's separate run of the same fast tier
    (2 blocks; the machine's load drifts between runs, which one run's spread does not show), and
    testable only when pre-gated copies overlapped compute at all (overlap ratio ≥ MIN_OVERLAP); and the
    quality claim, which is testable only when even the oracle router keeps the constructed MoE within
    1.2× of the dense model's perplexity."""
    policies = s["run"]["metrics"]["policies"]
    (pre, se_pre), (ond, se_ond) = latency_interval(policies["pregated"]), latency_interval(policies["on-demand"])
    speedup = ond / pre
    rel = ((se_pre / pre) ** 2 + (se_ond / ond) ** 2) ** 0.5
    lo, hi = speedup * (1 - 1.96 * rel), speedup * (1 + 1.96 * rel)
    steps = policies["pregated"]["decode_steps"]
    replicate = ""
    if "run_replicate" in s:
        r = s["run_replicate"]["metrics"]["policies"]
        again = r["on-demand"]["decode_latency_ms_mean"] / r["pregated"]["decode_latency_ms_mean"]
        lo, hi = min(lo, again), max(hi, again)
        replicate = f", {again:.2f}× in the budget sweep's run of the same fast tier"
    des = next(r for r in s["simulate"]["metrics"]["simulations"] if r["model"] == "base-8" and r["batch"] == 1)["policies"]
    des_speedup = des["on-demand"]["ms_per_block"] / des["pregated"]["ms_per_block"]
    speed_text = (f"real CPU run {speedup:.2f}× (95% ≈ {lo:.2f}–{hi:.2f}; {ond:.1f} vs {pre:.1f} ms/token over {steps} decode "
                  f"steps per policy{replicate}), simulated A100 setting {des_speedup:.2f}×, paper {PAPER_SPEEDUP}×")
    # No overlap of fetches with compute: the mechanism did not run (the copy thread found no free core),
    # so the run cannot test it. Otherwise faster beyond noise: reproduced when the interval reaches the
    # paper's 1.69×, partly below it; slower beyond noise: not reproduced; an interval around 1 means the
    # run cannot rank the two policies.
    overlap = policies["pregated"]["overlap_ratio"]
    if overlap < MIN_OVERLAP:
        speed = "not comparable"
        speed_text = (f"pre-gated fetches overlapped no compute (overlap ratio {overlap:.2f}; on a loaded machine the copy thread finds no free core), "
                      "so the run cannot test pre-gating: " + speed_text)
    elif lo > 1 and hi >= PAPER_SPEEDUP:
        speed = "reproduced"
    elif lo > 1:
        speed = "partly"
    elif hi < 1:
        speed = "not reproduced"
    else:
        speed = "not comparable"
        speed_text = "the run cannot rank pre-gated and on-demand, its interval includes 1: " + speed_text
    ppl = s["gates"]["metrics"]["perplexity"]
    dense, oracle, gate, pregate = ppl["dense"], ppl["oracle_k1"], ppl["gate_k1_trained"], ppl["pregate_k1_trained"]
    if oracle > 1.2 * dense:
        quality = "not comparable"
        quality_text = (f"the constructed MoE loses quality before any routing (k = 1 oracle perplexity {oracle:.3g} vs dense {dense:.3g}), "
                        f"so gate {gate:.3g} vs pre-gate {pregate:.3g} says nothing about a trained MoE")
    else:
        quality = "reproduced" if pregate <= 1.05 * gate else "not reproduced"
        quality_text = f"k = 1 perplexity pre-gate {pregate:.3g} vs gate {gate:.3g} (dense {dense:.3g})"
    parts = [dict(claim=f"{PAPER_SPEEDUP}× faster decoding than on-demand", verdict=speed, why=speed_text),
             dict(claim="the conventional gate's model quality", verdict=quality, why=quality_text)]
    v = combine_verdicts(p["verdict"] for p in parts)
    why = f"speed-up {speed}: {speed_text}; quality {quality}: {quality_text}"
    return verdict_row("pregated-moe", CLAIM, f"{PAPER_SPEEDUP}×", speedup, (lo, hi), v, why, LINK, quick, run, parts, unit="×")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few minutes: small training and runs (CI)")
    args = parser.parse_args()
    settings = QUICK if args.quick else FULL
    out = Path("results/pregated-moe") / ("quick" if args.quick else "full")
    out.mkdir(parents=True, exist_ok=True)
    moe, routers, trace = out / "moe8.h5", out / "routers.h5", out / "trace.h5"
    s = {}
    s["moefy"] = run(["moefy", "--weights", "smollm2", "--experts", 8, "--iterations", settings["iterations"], "--save", moe],
                     out / "moefy.json")
    s["gates"] = run(["train-gates", "--weights", moe, "--train-sequences", settings["train"], "--eval-sequences", settings["eval"],
                      "--steps", settings["steps"], "--ks", "1,2,4", "--save", routers],
                     out / "train-gates.json")
    # k = 1: the Switch Transformers' top-1 routing the paper evaluates (one expert fetched per block).
    common = ["--weights", moe, "--routers", routers, "--threads", 1, "--k", 1]
    s["run"] = run(["run"] + common + ["--prompts", settings["prompts"], "--max-new-tokens", settings["new_tokens"], "--score",
                                       "--save-trace", trace], out / "run.json")
    # The emulated slow link: transfers sleep, so overlap does not need a free core.
    s["run_slow"] = run(["run"] + common + ["--prompts", settings["budget_prompts"], "--max-new-tokens", settings["budget_tokens"],
                                            "--link-gbps", 1], out / "run-link1.json")
    block_mib = 8 * s["moefy"]["metrics"]["expert_bytes"] / 2**20
    budget_rows = {p: [] for p in OFFLOADED}
    for blocks in settings["budgets"]:
        mib = blocks * block_mib
        report = run(["run"] + common + ["--policy", ",".join(OFFLOADED), "--prompts", settings["budget_prompts"],
                                         "--max-new-tokens", settings["budget_tokens"], "--fast-tier-mib", f"{mib:.4f}"],
                     out / f"run-budget-{blocks}blocks.json")
        for p in OFFLOADED:
            budget_rows[p].append((mib, report["metrics"]["policies"][p]["decode_latency_ms_mean"]))
        if blocks == 2:  # the main run's fast tier: a second, separate measurement of the same setting
            s["run_replicate"] = report
    gpu = run(["run"] + common + ["--policy", "gpu-only", "--prompts", settings["budget_prompts"],
                                  "--max-new-tokens", settings["budget_tokens"]], out / "run-budget-all.json")
    budget_rows["gpu-only"] = [(30 * block_mib, gpu["metrics"]["policies"]["gpu-only"]["decode_latency_ms_mean"])]
    s["simulate"] = run(["simulate", "--model", "all", "--link", "pcie", "--batch", settings["batches"], "--steps", settings["steps_sim"]],
                        out / "simulate-pcie.json")
    run(["simulate", "--model", "all", "--link", "ssd", "--batch", settings["batches"], "--steps", settings["steps_sim"]], out / "simulate-ssd.json")
    run(["simulate", "--model", "base-8", "--routes", "zipf", "--batch", settings["batches"], "--steps", settings["steps_sim"]],
        out / "simulate-zipf.json")
    run(["simulate", "--model", "base-8", "--trace", trace], out / "simulate-trace.json")
    run(["simulate", "--model", "base-8", "--compute-ms", 1, "--fetch-ms", 0.75, "--steps", 1], out / "simulate-vector.json")
    table(s, out, args.quick)
    plots(s, budget_rows, out)
    row = verdict(s, args.quick, "make pregated-moe" + (" QUICK=1" if args.quick else ""))
    write_verdict(out, row)
    with open(out / "table.md", "a") as f:
        f.write(f"\n## Verdict\n\n**{row['verdict']}**: {row['why']}.\n")
    print((out / "table.md").read_text())


if __name__ == "__main__":
    main()
