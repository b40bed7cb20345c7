"""Peer of mlcore-bench's kNN cases: faiss IndexFlatL2 exact search on the same sizes (random normal
vectors; the time does not depend on the values), k = 1 and 11, with `--threads` OpenMP threads.
Writes the same JSON fields as mlcore-bench (Benchmarks/compare.py joins them). Needs the
.venv-faiss environment (make bench-knn; Benchmarks/peers/requirements-faiss.txt)."""
import argparse
import os
import platform

import faiss
import numpy as np

from timing import emit, measure

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--repeats", type=int, default=7)
parser.add_argument("--threads", type=int, default=os.cpu_count())
parser.add_argument("--bank", type=int, default=15_680)
parser.add_argument("--queries", type=int, default=12_544)
parser.add_argument("--dimension", type=int, default=512)
parser.add_argument("--output")
args = parser.parse_args()

faiss.omp_set_num_threads(args.threads)
rng = np.random.default_rng(1)
bank = rng.standard_normal((args.bank, args.dimension), dtype=np.float32)
queries = rng.standard_normal((args.queries, args.dimension), dtype=np.float32)
index = faiss.IndexFlatL2(args.dimension)
index.add(bank)
flops = 2.0 * args.queries * args.bank * args.dimension
results = [measure(f"knn_flatl2_k{k}", "knn", flops, "GFLOP/s", lambda k=k: index.search(queries, k), args.repeats)
           for k in (1, 11)]
doc = {"tool": "faiss", "results": results,
       "environment": {"faiss": faiss.__version__, "numpy": np.__version__, "python": platform.python_version(),
                       "threads": args.threads, "omp_max_threads": faiss.omp_get_max_threads(),
                       "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
                       "knn": {"bank": args.bank, "queries": args.queries, "dimension": args.dimension},
                       "repeats": args.repeats}}
emit(doc, args.output)
