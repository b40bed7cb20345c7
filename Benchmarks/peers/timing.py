"""Timing shared by the peer benchmark scripts: one warm-up call, then the median of `repeats`
timed calls, recorded with the same fields as Benchmarks/mlcore-bench writes (including the process's
peak RSS after the case, `peak_rss_mib`: one case per process gives that case's peak)."""
import json
import resource
import statistics
import sys
import time
from pathlib import Path


def measure(name, group, work, unit, fn, repeats):
    """Times `fn` and returns the result record; prints one line on stderr."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    print(f"{name:28s} {median * 1e3:10.4f} ms  {work / median / 1e9:8.4f} {unit}", file=sys.stderr)
    return {"name": name, "group": group, "median_s": median, "throughput": work / median / 1e9,
            "unit": unit, "repeats_s": times, "peak_rss_mib": peak_rss_mib()}


def peak_rss_mib():
    """The process's peak resident set size so far, in MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def emit(doc, output):
    """Writes a peer's JSON document to `output` (a path) or, when None, to stdout."""
    text = json.dumps(doc, sort_keys=True)
    if output:
        Path(output).write_text(text + "\n")
    else:
        print(text)
