#!/usr/bin/env python3
"""The numpy and h5py side of `make bench`: the same cases as Benchmarks/mlcore-bench, timed the
same way (one warm-up, median of repeats), JSON with the same fields. Runs under the same
OPENBLAS_CORETYPE as MLCore (the Makefile exports it); the BLAS numpy uses is recorded.
"""
import argparse
import json
import os
import platform

import h5py
import numpy as np

from timing import measure

p = argparse.ArgumentParser()
p.add_argument("--output")
p.add_argument("--repeats", type=int, default=7)
p.add_argument("--elements", type=int, default=1 << 24)
p.add_argument("--checkpoint", default="data/models/minilm-l6.h5")
p.add_argument("--filter")
args = p.parse_args()
results = []


def record(name, group, work, unit, fn):
    if args.filter and args.filter not in name:
        return
    results.append(measure(name, group, work, unit, fn, args.repeats))


rng = np.random.default_rng(1)
for n in (512, 1024, 2048):
    a = rng.uniform(-1, 1, (n, n)).astype(np.float32)
    b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
    record(f"sgemm_numpy_{n}", "sgemm", 2.0 * n ** 3, "GFLOP/s", lambda: a @ b)

n = args.elements
x = rng.uniform(-4, 4, n).astype(np.float32)
y = rng.uniform(-4, 4, n).astype(np.float32)
c = np.float32(0.7978845608028654)
k = np.float32(0.044715)
half = np.float32(0.5)
record("add", "elementwise", n * 12.0, "GB/s", lambda: x + y)
record("mul", "elementwise", n * 12.0, "GB/s", lambda: x * y)
record("exp", "elementwise", n * 8.0, "GB/s", lambda: np.exp(x))
record("gelu_tanh", "elementwise", n * 8.0, "GB/s", lambda: half * x * (1 + np.tanh(c * (x + k * x * x * x))))
rows = x.reshape(n // 1024, 1024)


def softmax():
    e = np.exp(rows - rows.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


record("softmax_rows_1024", "softmax", n * 8.0, "GB/s", softmax)
record("sum", "reduction", n * 4.0, "GB/s", lambda: x.sum())

if os.path.exists(args.checkpoint):
    def read_all():
        out = {}
        with h5py.File(args.checkpoint, "r") as f:
            def visit(name, obj):
                if isinstance(obj, h5py.Dataset) and name.startswith("params/"):
                    out[name] = obj[()]
            f.visititems(visit)
        return out
    record("checkpoint_read_all", "io", float(os.path.getsize(args.checkpoint)), "GB/s", read_all)

try:
    from threadpoolctl import threadpool_info
    blas = threadpool_info()
except ImportError:
    blas = [{"config": str(np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {}))}]
doc = {"tool": "numpy+h5py", "results": results,
       "environment": {"numpy": np.__version__, "h5py": h5py.__version__, "hdf5": h5py.version.hdf5_version,
                       "python": platform.python_version(), "blas": blas,
                       "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"), "elements": n,
                       "repeats": args.repeats}}
text = json.dumps(doc, sort_keys=True, default=str)
if args.output:
    with open(args.output, "w") as f:
        f.write(text + "\n")
else:
    print(text)
