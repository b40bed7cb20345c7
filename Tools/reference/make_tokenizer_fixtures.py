#!/usr/bin/env python3
"""Reference token ids from Hugging Face `tokenizers` for the parity tests of MLCore/Tokenize.

Writes Tests/Fixtures/tokenizer_<model>.json with, per corpus, one 32-bit FNV-1a digest of each
text's id sequence (ids as little-endian int32 bytes; special tokens included as the model's
post-processor adds them), so every line of the prepared corpora (`CORPORA`: the 38k tweets and
gensim's three test corpora) is checked while the fixture stays small; and, for the committed edge cases (Tests/Fixtures/tokenizer_edge_cases.txt, one case per line,
"\\n" and "\\r" written as backslash escapes), the full ids and character offsets.

Inputs: the prepared checkpoints and datasets (`make data`). Run with the project venv plus
`tokenizers` (Tools/reference/requirements.txt):
  .venv/bin/python Tools/reference/make_tokenizer_fixtures.py
"""
import json
import struct
from pathlib import Path

import h5py
import tokenizers

from hf_tokenizers import minilm, smollm2

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Tests" / "Fixtures"


def fnv1a32(ids):
    h = 0x811C9DC5
    for b in struct.pack(f"<{len(ids)}i", *ids):
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def edge_cases():
    text = (FIXTURES / "tokenizer_edge_cases.txt").read_text(encoding="utf-8")
    return [line.replace("\\n", "\n").replace("\\r", "\r") for line in text.split("\n")[:-1]]


# (prepared file, string dataset in it): every text of each is encoded and digested.
CORPORA = [("data/datasets/tweets.h5", "text"),
           ("data/datasets/gensim-corpora.h5", "pang_lee_polarity/text"),
           ("data/datasets/gensim-corpora.h5", "lee/text"),
           ("data/datasets/gensim-corpora.h5", "lee_background/text")]


def texts(file, dataset):
    with h5py.File(ROOT / file, "r") as f:
        return [t.decode("utf-8") if isinstance(t, bytes) else t for t in f[dataset][()]]


def digest_corpus(tok, file, dataset):
    corpus = texts(file, dataset)
    digests = "".join(f"{fnv1a32(e.ids):08x}" for e in tok.encode_batch(corpus))
    return {"file": file, "dataset": dataset, "count": len(corpus), "fnv1a32": digests}


def write(name, tok):
    corpora = [digest_corpus(tok, file, dataset) for file, dataset in CORPORA]
    edges = []
    for text in edge_cases():
        e = tok.encode(text)
        edges.append({"text": text, "ids": e.ids, "offsets": [list(o) for o in e.offsets]})
    pair = tok.encode("A first sentence, longer than the second.", "The second one.")
    doc = {"generator": "Tools/reference/make_tokenizer_fixtures.py", "tokenizers": tokenizers.__version__,
           "model": name, "corpora": corpora, "edge_cases": edges,
           "pair": {"ids": pair.ids, "type_ids": pair.type_ids}}
    out = FIXTURES / f"tokenizer_{name}.json"
    out.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    counts = ", ".join(f"{c['file']}:{c['dataset']} {c['count']}" for c in corpora)
    print(f"wrote {out} ({out.stat().st_size} bytes; {counts}; {len(edges)} edge cases)")


write("minilm-l6", minilm())
write("smollm2", smollm2())
