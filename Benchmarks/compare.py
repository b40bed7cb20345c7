#!/usr/bin/env python3
"""Joins mlcore-bench and peer benchmark JSON files into one markdown table of ratios
(MLCore throughput / peer throughput; > 1 means MLCore is faster). Usage:
compare.py FILE.json [FILE.json ...]: the files written by mlcore-bench (tool "mlcore-bench") are
MLCore's, all others the peers'; results of several files are joined (make bench-models runs each
model case in its own process, so each result's peak_rss_mib is that case's)."""
import json
import sys

docs = [json.load(open(path)) for path in sys.argv[1:]]
ours = {r["name"]: r for d in docs if d.get("tool") == "mlcore-bench" for r in d["results"]}
peer = {r["name"]: r for d in docs if d.get("tool") != "mlcore-bench" for r in d["results"]}
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
if "gelu_erf" in ours:
    rows.append(("gelu_erf (no numpy peer)", f"{ours['gelu_erf']['throughput']:.2f} GB/s", "-", float("nan")))
if rows:
    print("| case | MLCore | peer | ratio |")
    print("|---|---|---|---|")
    for case, a, b, r in rows:
        print(f"| {case} | {a} | {b} | {r:.2f} |" if r == r else f"| {case} | {a} | {b} | - |")


def rss(r):
    return f"{r['peak_rss_mib']:.0f} MiB" if "peak_rss_mib" in r else "-"


# Model cases (peers: PyTorch, Benchmarks/peers/torch_*_bench.py); channels_last is PyTorch's faster
# layout for the CNN, compared as a second row.
model_rows = []
for name in sorted(ours):
    if not name.startswith(("bert_", "llama_", "efficientnet_", "pfami_")):
        continue
    for peer_name, label in ((name, "torch"), (name + "_channels_last", "torch channels_last")):
        if peer_name in peer:
            o, q = ours[name], peer[peer_name]
            model_rows.append((name if label == "torch" else f"{name} vs {label}", f"{o['throughput']:.2f} {o['unit']}",
                               f"{q['throughput']:.2f}", o["throughput"] / q["throughput"], rss(o), rss(q)))
if model_rows:
    print("| case | MLCore | torch | ratio | MLCore peak RSS | torch peak RSS |")
    print("|---|---|---|---|---|---|")
    for row in model_rows:
        print("| %s | %s | %s | %.2f | %s | %s |" % row)

# Exact kNN (REB's scoring) vs faiss IndexFlatL2 on the same sizes (make bench-knn).
knn_rows = []
for name in sorted(ours):
    if name.startswith("knn_"):
        base = name.replace("_threaded_gemm", "")
        if base in peer:
            o, q = ours[name], peer[base]
            knn_rows.append((name, f"{o['median_s'] * 1e3:.0f} ms ({o['throughput']:.1f} GFLOP/s)",
                             f"{q['median_s'] * 1e3:.0f} ms ({q['throughput']:.1f})", o["throughput"] / q["throughput"]))
if knn_rows:
    print("| case | MLCore | faiss IndexFlatL2 | ratio |")
    print("|---|---|---|---|")
    for row in knn_rows:
        print("| %s | %s | %s | %.2f |" % row)


# Graph ops (make bench-graph): gather / scatter_add / index_add / segment softmax vs torch on the same graph.
graph_rows = [(name, ours[name], peer[name]) for name in sorted(ours) if name.startswith("graph_") and name in peer]
if graph_rows:
    print("| case | MLCore | torch | ratio | MLCore peak RSS | torch peak RSS |")
    print("|---|---|---|---|---|---|")
    for name, o, q in graph_rows:
        print(f"| {name} | {o['median_s'] * 1e3:.1f} ms | {q['median_s'] * 1e3:.1f} ms | "
              f"{o['throughput'] / q['throughput']:.2f} | {rss(o)} | {rss(q)} |")

# `mlcore metric auroc` / `metric trec` at scale vs scikit-learn / pytrec_eval on the same files
# (make bench-metrics; Benchmarks/peers/metrics_cli_bench.py).
metric_rows = []
for name, peer_name in (("metric_auroc_1e6", "scikit-learn"), ("metric_trec_1e4x1000", "pytrec_eval")):
    if name in ours and name in peer:
        o, q = ours[name], peer[name]
        metric_rows.append((name, f"{o['median_s']:.2f} s", f"{peer_name} {q['median_s']:.2f} s", q["median_s"] / o["median_s"]))
if metric_rows:
    print("| case | mlcore metric (whole command) | peer (in-process, read + compute) | ratio |")
    print("|---|---|---|---|")
    for row in metric_rows:
        print("| %s | %s | %s | %.2f |" % row)
