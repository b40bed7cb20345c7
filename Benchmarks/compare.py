#!/usr/bin/env python3
"""Joins mlcore-bench and peer benchmark JSON files into one markdown table of ratios
(MLCore throughput / peer throughput; > 1 means MLCore is faster). Usage:
compare.py MLCORE.json PEER.json [PEER.json ...] (the peers' results are joined)"""
import json
import sys

ours = {r["name"]: r for r in json.load(open(sys.argv[1]))["results"]}
peer = {r["name"]: r for path in sys.argv[2:] for r in json.load(open(path))["results"]}
rows = []
for n in (512, 1024, 2048):
    m, c, p = ours.get(f"sgemm_mlcore_{n}"), ours.get(f"sgemm_cblas_{n}"), peer.get(f"sgemm_numpy_{n}")
    i = ours.get(f"sgemm_mlcore_into_{n}")
    if m and c:
        rows.append((f"sgemm {n}", f"{m['throughput']:.1f} GFLOP/s", f"raw cblas_sgemm {c['throughput']:.1f}",
                     m["throughput"] / c["throughput"]))
    if i and c:
        rows.append((f"sgemm {n}, reused output", f"{i['throughput']:.1f} GFLOP/s",
                     f"raw cblas_sgemm {c['throughput']:.1f}", i["throughput"] / c["throughput"]))
    if m and p:
        rows.append((f"sgemm {n}", f"{m['throughput']:.1f} GFLOP/s", f"numpy {p['throughput']:.1f}",
                     m["throughput"] / p["throughput"]))
for name in ("add", "mul", "exp", "gelu_tanh", "softmax_rows_1024", "sum", "checkpoint_read_all"):
    if name in ours and name in peer:
        o, q = ours[name], peer[name]
        who = "h5py" if name.startswith("checkpoint") else "numpy"
        rows.append((name, f"{o['throughput']:.2f} {o['unit']}", f"{who} {q['throughput']:.2f}",
                     o["throughput"] / q["throughput"]))
for variant in ("default", "foreach"):
    o, q = ours.get("adamw_step_mlcore"), peer.get(f"adamw_step_torch_{variant}")
    if o and q:
        rows.append(("AdamW step, MiniLM-L6 parameters", f"{o['median_s'] * 1e3:.1f} ms",
                     f"torch {variant} {q['median_s'] * 1e3:.1f} ms", o["throughput"] / q["throughput"]))
# channels_last is PyTorch's faster layout for this CNN: compared as a second row.
o, q = ours.get("efficientnet_lite0_b8"), peer.get("efficientnet_lite0_b8_channels_last")
if o and q:
    rows.append(("efficientnet_lite0_b8 vs torch channels_last", f"{o['throughput']:.3f} {o['unit']}",
                 f"torch {q['throughput']:.3f}", o["throughput"] / q["throughput"]))
if "gelu_erf" in ours:
    rows.append(("gelu_erf (no numpy peer)", f"{ours['gelu_erf']['throughput']:.2f} GB/s", "-", float("nan")))
# Model cases (peer: PyTorch, Benchmarks/peers/torch_models_bench.py).
for name in sorted(ours):
    if name.startswith(("bert_", "llama_", "efficientnet_")) and name in peer:
        o, q = ours[name], peer[name]
        rows.append((name, f"{o['throughput']:.3f} {o['unit']}", f"torch {q['throughput']:.3f}", o["throughput"] / q["throughput"]))
print("| case | MLCore | peer | ratio |")
print("|---|---|---|---|")
for case, a, b, r in rows:
    print(f"| {case} | {a} | {b} | {r:.2f} |" if r == r else f"| {case} | {a} | {b} | - |")
