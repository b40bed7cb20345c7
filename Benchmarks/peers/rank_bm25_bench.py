#!/usr/bin/env python3
"""rank-bm25 (BM25Okapi) peer of `prop bench`: the same collection, the same tokens (lower-case
[a-zA-Z]+ runs without NLTK's English stop words; Docs/prop.md), the same two cases:
bm25_index_<collection> (tokenise every document and build BM25Okapi) and bm25_query_<collection>
(every query: get_scores over all documents, then the top 100 by numpy argsort). Prints the
comparison with --ours (a `prop bench` report). Needs rank-bm25, numpy, h5py
(Tools/reference/requirements-prop.txt) in a throwaway venv:

    /tmp/ref/bin/python Benchmarks/peers/rank_bm25_bench.py --collection openclipart --ours prop-bench.json
"""
import argparse
import json
import re
import sys
from pathlib import Path

import h5py
import numpy as np
import rank_bm25

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import measure  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tools" / "reference"))
from make_prop_bm25_fixture import NLTK_ENGLISH  # noqa: E402


def tokens(text):
    return [w for w in re.findall(r"[a-zA-Z]+", text.lower()) if w not in NLTK_ENGLISH]


def openclipart():
    """Documents and queries as OpenclipartCollection builds them (Sources/PROP/RetrievalCollection.swift)."""
    with h5py.File(ROOT / "data/datasets/openclipart.h5", "r") as f:
        cols = {k: [v.decode() if isinstance(v, bytes) else v for v in f[f"items/{k}"][:]] for k in ("title", "description", "keywords")}
    docs, queries, eligible = [], [], 0
    for t, d, k in zip(cols["title"], cols["description"], cols["keywords"]):
        text = ". ".join(x for x in (k, d) if x)
        if not text:
            continue
        docs.append(text)
        if t:
            if eligible % 8 == 0:
                queries.append(t)
            eligible += 1
    return docs, queries


def lee():
    with h5py.File(ROOT / "data/datasets/gensim-corpora.h5", "r") as f:
        texts = [v.decode() if isinstance(v, bytes) else v for v in f["lee/text"][:]]
    return texts, texts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--collection", default="openclipart", choices=["openclipart", "lee"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output")
    parser.add_argument("--ours", help="a `prop bench` report to compare with")
    args = parser.parse_args()
    docs, queries = openclipart() if args.collection == "openclipart" else lee()
    state = {}

    def index():
        state["bm25"] = rank_bm25.BM25Okapi([tokens(d) for d in docs])

    index()
    q_tokens = [tokens(q) for q in queries]

    def query():
        for q in q_tokens:
            s = state["bm25"].get_scores(q)
            np.argsort(-s, kind="stable")[:100]

    results = [measure(f"bm25_index_{args.collection}", "prop", len(docs), "G items/s", index, args.repeats),
               measure(f"bm25_query_{args.collection}", "prop", len(queries), "G items/s", query, args.repeats)]
    doc = {"tool": "rank-bm25", "version": rank_bm25.__name__, "documents": len(docs), "queries": len(queries), "results": results}
    if args.output:
        Path(args.output).write_text(json.dumps(doc, indent=1) + "\n")
    if args.ours:
        ours = {r["name"]: r for r in json.load(open(args.ours))["metrics"]["results"]}
        print("| case | prop (median s) | rank-bm25 (median s) | ratio (rank-bm25 time / prop time) |\n|---|---|---|---|")
        for r in results:
            o = ours.get(r["name"])
            if o:
                print(f"| {r['name']} | {o['median_s']:.4f} | {r['median_s']:.4f} | {r['median_s'] / o['median_s']:.1f} |")


if __name__ == "__main__":
    main()
