#!/usr/bin/env python3
"""Generates Tests/Fixtures/prop_bm25_lee.json: BM25 scores and effectiveness on the Lee collection
from rank-bm25 (BM25Okapi) and pytrec_eval (trec_eval's measures), the reference of PROP's BM25 and
run evaluation (Docs/prop.md, "BM25").

The collection is derived here independently of the Swift code, by the rule Docs/prop.md states:
each of gensim's 50 Lee documents is a query against the other 49; s = the similarity file's value
(mean judge rating / 5); level 2 if s >= 0.75, 1 if 0.5 <= s < 0.75, else 0; queries without a level
>= 1 document are left out. Tokens: lower-case, [a-zA-Z]+ runs, NLTK's English stop words removed.

The fixture holds the 50 texts and the similarity matrix (so the test needs no prepared data), the
tokens of every document, per setting (k1, b) the scores of all 50 documents for all 50 queries and
the runs' MAP, nDCG@20 and P@20 (means and per query) over the kept queries.

Run with a throwaway venv (Tools/reference/requirements-prop.txt) from the repository root, after
`make data`:  /tmp/ref/bin/python Tools/reference/make_prop_bm25_fixture.py
"""
import json
import re
from pathlib import Path

import h5py
import numpy as np
import pytrec_eval
import rank_bm25

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "datasets" / "gensim-corpora.h5"
OUT = ROOT / "Tests" / "Fixtures" / "prop_bm25_lee.json"
SETTINGS = [(1.5, 0.75), (1.2, 0.4), (0.9, 1.0)]

# nltk.corpus.stopwords.words("english") (NLTK data, 179 words).
NLTK_ENGLISH = set("""
i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself yourselves he him
his himself she she's her hers herself it it's its itself they them their theirs themselves what which who
whom this that that'll these those am is are was were be been being have has had having do does did doing
a an the and but if or because as until while of at by for with about against between into through during
before after above below to from up down in out on off over under again further then once here there when
where why how all any both each few more most other some such no nor not only own same so than too very s
t can will just don don't should should've now d ll m o re ve y ain aren aren't couldn couldn't didn
didn't doesn doesn't hadn hadn't hasn hasn't haven haven't isn isn't ma mightn mightn't mustn mustn't
needn needn't shan shan't shouldn shouldn't wasn wasn't weren weren't won won't wouldn wouldn't
""".split())
assert len(NLTK_ENGLISH) == 179


def tokens(text):
    return [w for w in re.findall(r"[a-zA-Z]+", text.lower()) if w not in NLTK_ENGLISH]


def main():
    with h5py.File(DATA, "r") as f:
        texts = [t.decode() if isinstance(t, bytes) else t for t in f["lee/text"][:]]
        sim = f["lee/similarity"][:].astype(np.float64)
    n = len(texts)
    ids = [f"lee-{i:02d}" for i in range(n)]
    qrels = {}
    for i in range(n):
        judged = {}
        for j in range(n):
            if j == i:
                continue
            s = sim[min(i, j), max(i, j)]
            judged[ids[j]] = 2 if s >= 0.75 else (1 if s >= 0.5 else 0)
        if any(v >= 1 for v in judged.values()):
            qrels[ids[i]] = judged
    corpus = [tokens(t) for t in texts]
    evaluator = pytrec_eval.RelevanceEvaluator(qrels, {"map", "ndcg_cut.20", "P.20"})
    cases = []
    for k1, b in SETTINGS:
        bm25 = rank_bm25.BM25Okapi(corpus, k1=k1, b=b)
        scores = [list(map(float, bm25.get_scores(q))) for q in corpus]
        run = {ids[i]: {ids[j]: scores[i][j] for j in range(n) if j != i} for i in range(n) if ids[i] in qrels}
        per_query = evaluator.evaluate(run)
        means = {m: float(np.mean([per_query[q][m] for q in per_query])) for m in ("map", "ndcg_cut_20", "P_20")}
        cases.append({"k1": k1, "b": b, "scores": scores, "mean": means,
                      "per_query": {q: {m: per_query[q][m] for m in ("map", "ndcg_cut_20", "P_20")} for q in sorted(per_query)}})
    fixture = {
        "generator": "Tools/reference/make_prop_bm25_fixture.py",
        "versions": {"rank_bm25": "0.2.2", "pytrec_eval_terrier": "0.5.11"},
        "texts": texts,
        "similarity": sim.reshape(-1).tolist(),
        "tokens": corpus,
        "queries_kept": sorted(qrels),
        "cases": cases,
    }
    OUT.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
    print(f"{OUT.relative_to(ROOT)}: {len(cases)} settings, {len(qrels)} queries, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
