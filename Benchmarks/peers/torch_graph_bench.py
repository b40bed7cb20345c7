#!/usr/bin/env python3
"""PyTorch (CPU) peer of Benchmarks/mlcore-bench/GraphBench.swift: the same graph sizes (random
uniform destinations), ops and protocol (one warm-up, median of repeats; Benchmarks/peers/timing.py),
in M edges/s. The ops are what PyTorch Geometric runs for message passing:

- graph_gather_*: x.gather(0, index.view(-1, 1).expand(E, F)) (the index as an expanded view);
- graph_scatter_add_*: torch.zeros(N, F).scatter_add(0, expanded index, src);
- graph_index_add_*: torch.zeros(N, F).index_add(0, index, src);
- graph_segment_softmax_*: torch_geometric.utils.softmax's computation: scatter_reduce amax of
  the detached values, exp(x − max[index]), index_add of the exponentials, division by sum[index].

`_fwd` runs under torch.no_grad(); `_fwdbwd` runs on a leaf with requires_grad and calls
backward(upstream) (forward + backward).

Needs torch (`make torch-venv`). Usage:
  torch_graph_bench.py [--repeats N] [--threads N] [--nodes N] [--edges E] [--features F] [--output FILE]
"""
import argparse
import os
import platform
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the other torch peers (shared machine)
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import emit, measure  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--output")
p.add_argument("--repeats", type=int, default=7)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--nodes", type=int, default=100_000)
p.add_argument("--edges", type=int, default=1_000_000)
p.add_argument("--features", type=int, default=64)
p.add_argument("--filter")
args = p.parse_args()
torch.set_num_threads(args.threads)

n, e, f = args.nodes, args.edges, args.features
gen = torch.Generator().manual_seed(7)
index = torch.randint(0, n, (e,), generator=gen)
expanded = index.view(-1, 1).expand(e, f)
node_rows = torch.empty(n, f).uniform_(-1, 1, generator=gen)
edge_rows = torch.empty(e, f).uniform_(-4, 4, generator=gen)
edge_grad = torch.empty(e, f).uniform_(-1, 1, generator=gen)
node_grad = torch.empty(n, f).uniform_(-1, 1, generator=gen)


def segment_softmax(src):
    """torch_geometric.utils.softmax (index given, dim 0), written out as PyG's scatter calls do."""
    maxima = torch.zeros(n, f).scatter_reduce(0, expanded, src.detach(), reduce="amax", include_self=False)
    out = (src - maxima.index_select(0, index)).exp()
    sums = torch.zeros(n, f).index_add(0, index, out) + 1e-16
    return out / sums.index_select(0, index)


def fwd(fn, x):
    def run():
        with torch.no_grad():
            fn(x)
    return run


def fwdbwd(fn, x, upstream):
    leaf = x.clone().requires_grad_(True)  # once: the timed step does not copy the input

    def run():
        leaf.grad = None  # a fresh gradient each step (no accumulation), as MLCore's fresh leaf
        fn(leaf).backward(upstream)
    return run


def gather(x):
    return x.gather(0, expanded)


def scatter_add(src):
    return torch.zeros(n, f).scatter_add(0, expanded, src)


def index_add(src):
    return torch.zeros(n, f).index_add(0, index, src)


cases = [("graph_gather", gather, node_rows, edge_grad), ("graph_scatter_add", scatter_add, edge_rows, node_grad),
         ("graph_index_add", index_add, edge_rows, node_grad), ("graph_segment_softmax", segment_softmax, edge_rows, edge_grad)]
results = []
for name, fn, x, upstream in cases:
    for suffix, make in (("_fwd", lambda: fwd(fn, x)), ("_fwdbwd", lambda: fwdbwd(fn, x, upstream))):
        if args.filter and args.filter not in name + suffix:
            continue
        results.append(measure(name + suffix, "graph", e * 1e3, "Medge/s", make(), args.repeats))

emit({"tool": "torch-graph", "results": results,
      "environment": {"torch": torch.__version__, "threads": torch.get_num_threads(), "python": platform.python_version(),
                      "nodes": n, "edges": e, "features": f, "repeats": args.repeats,
                      "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
                      "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY")}}, args.output)
