#!/usr/bin/env python3
"""Generates Tests/Fixtures/prop_porter.json: NLTK's Porter stems (PorterStemmer(), NLTK_EXTENSIONS
mode, the PROP reference's stemmer) of every distinct lower-case [a-zA-Z]+ word of gensim's Lee and
Lee background corpora, plus words that exercise the irregular pool and NLTK's extra rules; the
reference of Sources/PROP/PorterStemmer.swift (PorterStemmerTests).

Run with a throwaway venv (Tools/reference/requirements-prop.txt) from the repository root, after
`make data`:  /tmp/ref/bin/python Tools/reference/make_prop_porter_fixture.py
"""
import json
import re
from pathlib import Path

import h5py
import nltk
from nltk.stem import PorterStemmer

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests" / "Fixtures" / "prop_porter.json"
EXTRA = ["skies", "dying", "news", "innings", "proceed", "ties", "died", "cried", "generically", "analogically",
         "hopefully", "yyyy", "syzygy", "toy", "by", "at", "controlling", "rolling", "filing", "failing", "sized",
         "conflated", "troubled", "hopping", "fizzed", "agreed", "feed", "happy", "enjoy", "spy", "relational",
         "conditional", "valenci", "digitizer", "conformabli", "radicalli", "differentli", "vileli", "analogousli",
         "vietnamization", "predication", "operator", "feudalism", "decisiveness", "hopefulness", "callousness",
         "formaliti", "sensitiviti", "sensibiliti", "triplicate", "formative", "formalize", "electriciti", "electrical",
         "goodness", "revival", "allowance", "inference", "airliner", "gyroscopic", "adjustable", "defensible",
         "irritant", "replacement", "adjustment", "dependent", "adoption", "homologou", "communism", "activate",
         "angulariti", "homologous", "effective", "bowdlerize", "probate", "rate", "cease", "controll", "roll"]


def main():
    words = set(EXTRA)
    with h5py.File(ROOT / "data" / "datasets" / "gensim-corpora.h5", "r") as f:
        for group in ("lee", "lee_background"):
            for t in f[f"{group}/text"][:]:
                words.update(re.findall(r"[a-zA-Z]+", (t.decode() if isinstance(t, bytes) else t).lower()))
    words = sorted(words)
    stemmer = PorterStemmer()
    fixture = {"generator": "Tools/reference/make_prop_porter_fixture.py", "versions": {"nltk": nltk.__version__},
               "mode": stemmer.mode, "words": words, "stems": [stemmer.stem(w) for w in words]}
    OUT.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
    print(f"{OUT.relative_to(ROOT)}: {len(words)} words, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
