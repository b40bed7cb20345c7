#!/usr/bin/env python3
"""The PyTorch side of the optimizer benchmark: one torch.optim.AdamW step over a parameter set
shaped like all-MiniLM-L6-v2 (103 tensors, 22.7M floats: embeddings, 6 BERT layers, pooler), with
torch's default implementation on CPU (the single-tensor for-loop) and with foreach=True, timed as
Benchmarks/mlcore-bench times MLCore's `adamw_step_mlcore` (one warm-up, median of repeats). JSON
like mlcore-bench's; throughput in G parameters per second.

Needs torch (`make torch-venv`; `make bench-models` runs it). Usage:
  torch_optim_bench.py [--repeats N] [--output FILE]
"""
import argparse
import json
import os
import platform
from pathlib import Path

import torch

from timing import measure

p = argparse.ArgumentParser()
p.add_argument("--output")
p.add_argument("--repeats", type=int, default=7)
args = p.parse_args()


def minilm_shapes(vocab=30522, positions=512, width=384, ffn=1536, layers=6):
    """Parameter shapes of all-MiniLM-L6-v2 in checkpoint order (same list as mlcore-bench)."""
    shapes = [(vocab, width), (positions, width), (2, width), (width,), (width,)]
    for _ in range(layers):
        shapes += [(width, width), (width,)] * 4 + [(width,), (width,)]
        shapes += [(ffn, width), (ffn,), (width, ffn), (width,), (width,), (width,)]
    return shapes + [(width, width), (width,)]


gen = torch.Generator().manual_seed(1)
shapes = minilm_shapes()
count = sum(torch.Size(s).numel() for s in shapes)
results = []
for name, foreach in (("adamw_step_torch_default", None), ("adamw_step_torch_foreach", True)):
    params = [torch.empty(s).uniform_(-1, 1, generator=gen).requires_grad_(True) for s in shapes]
    for q in params:
        q.grad = torch.empty(q.shape).uniform_(-1, 1, generator=gen)
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01, foreach=foreach)
    results.append(measure(name, "optim", count, "Gparam/s", opt.step, args.repeats))
    del opt, params

doc = {"tool": "torch-optim", "results": results,
       "environment": {"torch": torch.__version__, "threads": torch.get_num_threads(),
                       "python": platform.python_version(), "parameters": count, "tensors": len(shapes),
                       "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"), "repeats": args.repeats}}
text = json.dumps(doc, sort_keys=True)
if args.output:
    Path(args.output).write_text(text + "\n")
else:
    print(text)
