#!/usr/bin/env python3
"""The PyTorch side of the SmolLM2 inference benchmark: the same model (Tools/reference/torch_llama.py,
float32, preallocated KV cache, output projection on the last position only), the same prompt ids and
the same protocol as `mlcore-bench --filter llama`: prefill of a PROMPT-token prompt into a fresh
cache, and DECODE greedy single-token steps after it. One warm-up, then the median of `repeats`;
throughput in tokens/s. Run with the torch venv (`make torch-venv`) and the same thread count and
OPENBLAS_CORETYPE as MLCore (on a shared machine also OMP_WAIT_POLICY=PASSIVE: torch's OpenMP threads
otherwise busy-wait; Docs/PERFORMANCE.md):
  OPENBLAS_CORETYPE=Haswell .venv-torch/bin/python Benchmarks/peers/torch_llama_bench.py --threads 2
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Tools" / "reference"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from torch_llama import TorchLlama  # noqa: E402
from timing import emit, peak_rss_mib  # noqa: E402


def prompt_ids(n):
    """The benchmark prompt: the same deterministic ids as Benchmarks/mlcore-bench."""
    return [100 + (i * 7919) % 48000 for i in range(n)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--checkpoint", default="data/models/smollm2.h5")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--prompt-tokens", type=int, default=128)
    p.add_argument("--decode-tokens", type=int, default=64)
    p.add_argument("--filter", help="only cases whose name contains this")
    p.add_argument("--output")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    model = TorchLlama(args.checkpoint, dtype=torch.float32)
    ids = torch.tensor([prompt_ids(args.prompt_tokens)])
    capacity = args.prompt_tokens + args.decode_tokens + 1

    def prefill():
        cache = model.new_cache(1, capacity)
        return cache, model.forward(ids, cache, last_only=True)

    def decode():
        cache, logits = prefill()
        t0 = time.perf_counter()
        for _ in range(args.decode_tokens):
            token = logits[0, -1].argmax().view(1, 1)
            logits = model.forward(token, cache, last_only=True)
        return time.perf_counter() - t0

    results = []
    with torch.inference_mode():
        for name, tokens, fn in (("llama_prefill_%d" % args.prompt_tokens, args.prompt_tokens, None),
                                 ("llama_decode_%d" % args.decode_tokens, args.decode_tokens, decode)):
            if args.filter and args.filter not in name:
                continue
            times = []
            for r in range(args.repeats + 1):
                if fn is None:
                    t0 = time.perf_counter()
                    prefill()
                    t = time.perf_counter() - t0
                else:
                    t = fn()
                if r > 0:  # the first run is the warm-up
                    times.append(t)
            median = statistics.median(times)
            print(f"{name:28s} {median * 1e3:10.2f} ms  {tokens / median:8.2f} tok/s", file=sys.stderr)
            results.append({"name": name, "group": "llama", "median_s": median, "throughput": tokens / median,
                            "unit": "tok/s", "repeats_s": times, "peak_rss_mib": peak_rss_mib()})
    doc = {"tool": "torch-llama", "results": results,
           "environment": {"torch": torch.__version__, "threads": torch.get_num_threads(),
                           "blas": "MKL" if torch.backends.mkl.is_available() else "?",
                           "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
                           "prompt_tokens": args.prompt_tokens, "decode_tokens": args.decode_tokens,
                           "repeats": args.repeats}}
    emit(doc, args.output)


if __name__ == "__main__":
    main()
