#!/usr/bin/env python3
"""Generates Tests/Fixtures/metric_cli_trec.json and metric_cli_caption.json: inputs nobody here wrote,
scored by the real reference tools, for the end-to-end tests of `mlcore metric trec` and
`mlcore metric caption` (Tests/ToolTests/MetricToolTests.swift, Docs/METRICS.md "At the shell").

TREC: the Lee corpus (gensim's test data, prepared by `make data` into data/datasets/gensim-corpora.h5):
50 news documents, each one a query against the other 49, with qrels graded from the mean human
similarity judgments of the corpus (level 3 for similarity >= 0.7, 2 for >= 0.5, 1 for >= 0.3, 0
below; judged = all 49 documents) and two runs: TF-IDF cosine (top 30, scores rounded to 2 decimals so
that ties occur and trec_eval's docno tie-break matters) and BM25 (k1 = 1.2, b = 0.75, top 20, one
query left out of the run). Reference: pytrec_eval (pytrec-eval-terrier, trec_eval 9) per query for
every measure `mlcore metric trec` offers, and `pytrec_eval.compute_aggregated_measure` for the "all" line.

Captions: the Pang & Lee polarity sentences (same file), in groups of five: 4 reference captions per
image and a candidate cut from one of them (every fourth image: another image's sentence). Reference:
pycocoevalcap 1.2 as COCOEvalCap runs it: PTBTokenizer (Stanford CoreNLP, needs a Java runtime) then
Bleu(4), Rouge() and Cider() (CIDEr-D), on the COCO-format files the fixture stores. Two cases: raw
text, from the sentences inside the PTB rules that CaptionTokenizer reproduces (no brackets, quotes,
dashes, ellipses or plural possessives: `simple`), and all 200 sentences given as PTBTokenizer's tokens
(scored with --tokenized), so the scorers are checked on every sentence.

Run with a venv holding Tools/reference/requirements.txt and h5py:
    python Tools/reference/make_metric_cli_fixtures.py
"""
import json
import math
import re
from collections import Counter
from importlib.metadata import version
from pathlib import Path

import h5py
import numpy as np
import pytrec_eval

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Tests" / "Fixtures"
DATA = ROOT / "data" / "datasets" / "gensim-corpora.h5"
GENERATOR = "Tools/reference/make_metric_cli_fixtures.py"

# Every measure `mlcore metric trec` offers, as trec_eval's -m names (default cutoffs where there are).
MEASURES = ["map", "recip_rank", "Rprec", "ndcg", "P", "recall", "ndcg_cut", "map_cut", "success"]


def write(name, doc):
    doc = {"generator": GENERATOR, **doc}
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False)
    assert len(text) < 1_000_000, f"{name}: {len(text)} bytes"
    (FIXTURES / name).write_text(text + "\n")
    print(f"{name}: {len(text)} bytes")


def tokens(text):
    return re.findall(r"[a-z0-9]+", text.lower())


def trec_fixture():
    with h5py.File(DATA, "r") as f:
        docs = [t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in f["lee/text"][:]]
        similarity = f["lee/similarity"][:].astype(np.float64)
    n = len(docs)
    ids = [f"LEE-{i:03d}" for i in range(n)]
    bags = [Counter(tokens(d)) for d in docs]
    vocabulary = sorted(set().union(*bags))
    index = {w: j for j, w in enumerate(vocabulary)}
    tf = np.zeros((n, len(vocabulary)))
    for i, bag in enumerate(bags):
        for w, c in bag.items():
            tf[i, index[w]] = c
    df = (tf > 0).sum(0)
    idf = np.log(n / df)
    tfidf = tf * idf
    tfidf /= np.linalg.norm(tfidf, axis=1, keepdims=True)
    cosine = tfidf @ tfidf.T
    lengths = tf.sum(1)
    bm25_idf = np.log(1 + (n - df + 0.5) / (df + 0.5))

    def bm25(q, d):
        terms = tf[q] > 0
        k1, b = 1.2, 0.75
        x = tf[d, terms]
        return float((bm25_idf[terms] * x * (k1 + 1) / (x + k1 * (1 - b + b * lengths[d] / lengths.mean()))).sum())

    qrels = {}
    for q in range(n):
        judged = {}
        for d in range(n):
            if d == q:
                continue
            s = similarity[q, d]
            judged[ids[d]] = 3 if s >= 0.7 else 2 if s >= 0.5 else 1 if s >= 0.3 else 0
        qrels[ids[q]] = judged
    runs = {}
    for name, score, depth in (("tfidf", lambda q, d: round(float(cosine[q, d]), 2), 30), ("bm25", bm25, 20)):
        run = {}
        for q in range(n):
            if name == "bm25" and q == 7:  # a query judged but not retrieved: skipped, as trec_eval without -c
                continue
            scored = sorted(((score(q, d), ids[d]) for d in range(n) if d != q), key=lambda t: (-t[0], t[1]))[:depth]
            run[ids[q]] = {d: s for s, d in scored}
        runs[name] = run
    qrels_text = "".join(f"{q} 0 {d} {lv}\n" for q in sorted(qrels) for d, lv in sorted(qrels[q].items()))
    cases = []
    for name, run in runs.items():
        lines = []
        for q in sorted(run):
            ranked = sorted(run[q].items(), key=lambda kv: (-kv[1], kv[0]))
            lines += [f"{q} Q0 {d} {r + 1} {s!r} {name}" for r, (d, s) in enumerate(ranked)]
        evaluator = pytrec_eval.RelevanceEvaluator(qrels, set(MEASURES))
        per_query = evaluator.evaluate(run)
        keys = sorted(next(iter(per_query.values())).keys())
        means = {k: pytrec_eval.compute_aggregated_measure(k, [v[k] for v in per_query.values()]) for k in keys}
        cases.append({"name": name, "run": "\n".join(lines) + "\n", "per_query": per_query, "all": means,
                      "measures": MEASURES})
    write("metric_cli_trec.json", {"versions": {"pytrec-eval-terrier": version("pytrec-eval-terrier"), "numpy": np.__version__},
                                   "source": "gensim 4.4.0 test_data lee.cor + lee similarity (data/datasets/gensim-corpora.h5)",
                                   "qrels": qrels_text, "cases": cases})


SIMPLE = re.compile(r"^(?:[a-z0-9,;:!?]|(?<=[a-z])-(?=[a-z0-9])|(?<=[a-z])'(?:s|t|re|ve|ll|d|m)\b| |(?<=[a-z0-9] )\.(?= |$))+$")


def simple(sentence):
    """Sentences inside the PTB rules CaptionTokenizer reproduces (Docs/METRICS.md §5): words, inner
    hyphens, clitics, separated punctuation; no brackets, quotes, dashes, ellipses or plural possessives."""
    return SIMPLE.match(sentence.strip()) is not None


def caption_corpus(sentences, rng, images):
    """COCO annotations (4 references per image) and results (one candidate per image): the candidate
    is a reference with its first 0-3 words dropped and cut to 4-12 words, except every fourth image,
    which gets a sentence of another image (a poor caption)."""
    annotations, results = [], []
    for i in range(images):
        image_id = 1000 + i
        refs = sentences[5 * i + 1:5 * i + 5]
        for ref in refs:
            annotations.append({"image_id": image_id, "id": len(annotations), "caption": ref})
        if i % 4 == 3:
            words = sentences[5 * ((i + 7) % images)].split()
        else:
            words = refs[int(rng.integers(0, 4))].split()[int(rng.integers(0, 4)):]
        results.append({"image_id": image_id, "caption": " ".join(words[:int(rng.integers(4, 13))])})
    return annotations, results


def score(annotations, results, tokenizer):
    """pycocoevalcap's scores as COCOEvalCap computes them; `tokenizer` None: captions are already tokens."""
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge
    gts = {r["image_id"]: [] for r in results}
    for a in annotations:
        gts[a["image_id"]].append({"caption": a["caption"]})
    res = {r["image_id"]: [{"caption": r["caption"]}] for r in results}
    if tokenizer:
        gts, res = tokenizer.tokenize(gts), tokenizer.tokenize(res)
    else:
        gts = {k: [c["caption"] for c in v] for k, v in gts.items()}
        res = {k: [c["caption"] for c in v] for k, v in res.items()}
    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    rouge, rouge_each = Rouge().compute_score(gts, res)
    cider, cider_each = Cider().compute_score(gts, res)
    return ({"bleu_1": bleu[0], "bleu_2": bleu[1], "bleu_3": bleu[2], "bleu_4": bleu[3], "rouge_l": float(rouge),
             "cider_d": float(cider)},
            {str(k): {"rouge_l": float(rouge_each[j]), "cider_d": float(cider_each[j])} for j, k in enumerate(gts)},
            gts, res)


def caption_fixture():
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer
    with h5py.File(DATA, "r") as f:
        sentences = [t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in f["pang_lee_polarity/text"][:]]
    rng = np.random.default_rng(20261208)
    ptb = PTBTokenizer()
    cases = []
    # 1. Raw captions as users write them, from the sentences within the reproduced tokenizer rules.
    chosen = [s for s in sentences if simple(s)]
    images = len(chosen) // 5
    annotations, results = caption_corpus(chosen, rng, images)
    expected, per_image, _, _ = score(annotations, results, ptb)
    cases.append({"name": "raw_simple_sentences", "tokenized": False, "references": {"annotations": annotations},
                  "candidates": results, "expected": expected, "per_image": per_image})
    # 2. All 200 sentences, given as PTBTokenizer's tokens (the scorers alone, on every sentence).
    annotations, results = caption_corpus(sentences, rng, 40)
    _, _, gts, res = score(annotations, results, ptb)
    annotations = [{"image_id": k, "caption": c} for k, v in gts.items() for c in v]
    results = [{"image_id": k, "caption": v[0]} for k, v in res.items()]
    expected, per_image, _, _ = score(annotations, results, None)
    cases.append({"name": "ptb_tokenized_all_sentences", "tokenized": True, "references": annotations,
                  "candidates": results, "expected": expected, "per_image": per_image})
    write("metric_cli_caption.json", {
        "versions": {"pycocoevalcap": version("pycocoevalcap")},
        "source": "gensim 4.4.0 test_data pang_lee_polarity.cor (data/datasets/gensim-corpora.h5)", "cases": cases})


if __name__ == "__main__":
    trec_fixture()
    caption_fixture()
