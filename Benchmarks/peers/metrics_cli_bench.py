#!/usr/bin/env python3
"""Peers of `mlcore metric auroc` and `mlcore metric trec` at scale (make bench-metrics,
Docs/PERFORMANCE.md "Metrics at the shell"): scikit-learn and pytrec_eval on the same input files.

--write-inputs DIR makes the inputs (numpy default_rng(27), deterministic) once:
  scores.jsonl   10^6 lines {"score": s, "label": y} (s ~ N(y, 1), y ~ Bernoulli(0.3))
  run.txt        10^4 queries x 1000 documents "q Q0 d rank score tag" (scores N(0, 1) rounded to 4 decimals)
  qrels.txt      per query 50 judged documents, 20 of them in the run, levels 0-3
Without it, times the peers on DIR's files: each case is read from the file and computed, as the
command does (json.loads per line + roc_auc_score + average_precision_score; pytrec_eval.parse_run /
parse_qrel + RelevanceEvaluator.evaluate + compute_aggregated_measure for the measures of
TREC_MEASURES). Python's start-up and imports are not timed (the command's start-up is).
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import emit, measure  # noqa: E402

ITEMS = 1_000_000
QUERIES, DOCUMENTS = 10_000, 1000
TREC_MEASURES = ["map", "ndcg_cut.10", "P.10", "recall.100", "recip_rank"]


def write_inputs(directory):
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(27)
    labels = (rng.random(ITEMS) < 0.3).astype(int)
    scores = rng.normal(size=ITEMS) + labels
    with open(directory / "scores.jsonl", "w") as f:
        f.writelines(f'{{"score": {s!r}, "label": {y}}}\n' for s, y in zip(scores.tolist(), labels.tolist()))
    with open(directory / "run.txt", "w") as run, open(directory / "qrels.txt", "w") as qrels:
        for q in range(QUERIES):
            docs = rng.choice(100_000, size=DOCUMENTS + 30, replace=False)
            s = np.round(rng.normal(size=DOCUMENTS), 4)
            order = np.argsort(-s, kind="stable")
            run.write("".join(f"q{q} Q0 D{docs[j]} {r + 1} {s[j]:.4f} bench\n" for r, j in enumerate(order)))
            judged = np.concatenate([docs[:20], docs[DOCUMENTS:DOCUMENTS + 30]])
            levels = rng.integers(0, 4, size=len(judged))
            qrels.write("".join(f"q{q} 0 D{d} {lv}\n" for d, lv in zip(judged, levels)))


def auroc_peer(path):
    from sklearn.metrics import average_precision_score, roc_auc_score
    scores, labels = [], []
    with open(path) as f:
        for line in f:
            item = json.loads(line)
            scores.append(float(item["score"]))
            labels.append(1 if item["label"] > 0 else 0)
    return roc_auc_score(labels, scores), average_precision_score(labels, scores)


def trec_peer(run_path, qrels_path):
    import pytrec_eval
    with open(qrels_path) as f:
        qrels = pytrec_eval.parse_qrel(f)
    with open(run_path) as f:
        run = pytrec_eval.parse_run(f)
    per_query = pytrec_eval.RelevanceEvaluator(qrels, set(TREC_MEASURES)).evaluate(run)
    keys = next(iter(per_query.values())).keys()
    return {k: pytrec_eval.compute_aggregated_measure(k, [v[k] for v in per_query.values()]) for k in keys}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", default="results/bench/metric-inputs")
    parser.add_argument("--write-inputs", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--filter")
    parser.add_argument("--output")
    args = parser.parse_args()
    directory = Path(args.inputs)
    if args.write_inputs:
        if not (directory / "qrels.txt").exists():
            write_inputs(directory)
        return
    import sklearn
    from importlib.metadata import version
    results = []
    cases = [("metric_auroc_1e6", ITEMS, "M items/s", lambda: auroc_peer(directory / "scores.jsonl")),
             ("metric_trec_1e4x1000", QUERIES * DOCUMENTS, "M run lines/s",
              lambda: trec_peer(directory / "run.txt", directory / "qrels.txt"))]
    for name, work, unit, fn in cases:
        if args.filter and args.filter not in name:
            continue
        # measure() reports work / s / 1e9; the unit here is millions per second, so scale the work.
        results.append(measure(name, "metrics", work * 1e3, unit, fn, args.repeats))
    emit({"tool": "metrics-peers", "peer": {"scikit-learn": sklearn.__version__,
                                            "pytrec-eval-terrier": version("pytrec-eval-terrier")},
          "inputs": str(directory), "results": results}, args.output)


if __name__ == "__main__":
    main()
