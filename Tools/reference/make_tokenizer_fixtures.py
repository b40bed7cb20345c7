#!/usr/bin/env python3
"""Reference token ids from Hugging Face `tokenizers` for the parity tests of MLCore/Tokenize.

Writes Tests/Fixtures/tokenizer_<model>.json with, per corpus, one 32-bit FNV-1a digest of each
text's id sequence (ids as little-endian int32 bytes; special tokens included as the model's
post-processor adds them), so every line of the prepared corpora (`CORPORA`: the 38k tweets and
gensim's three test corpora) is checked while the fixture stays small; for the committed edge
cases (Tests/Fixtures/tokenizer_edge_cases.txt, one case per line, "\\n" and "\\r" written as
backslash escapes), the full ids and character offsets; and, for WordPiece, digests of the
normalizer and pre-tokenizer on every Unicode scalar (`normalizer_blocks`); and special tokens
written literally in the text (`special_token_cases`: ids and offsets without the post-processor's
tokens, as tokenizers gives them by default and with `encode_special_tokens`).

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


def fnv1a32_bytes(data):
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def fnv1a32(ids):
    return fnv1a32_bytes(struct.pack(f"<{len(ids)}i", *ids))


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


def normalizer_blocks(tok):
    """WordPiece's normalizer and pre-tokenizer on every Unicode scalar c (surrogates excepted),
    probed as "x" + c + "x" so that removal, whitespace, punctuation and CJK padding all show in the
    words: per block of 256 scalars, FNV-1a 32 over each probe's words (UTF-8, each followed by 0xFF)
    and a 0xFE after each probe, so the test finds any scalar whose treatment differs."""
    normalizer, pre_tokenizer = tok.normalizer, tok.pre_tokenizer
    digests = []
    for block in range(0x110000 // 256):
        data = bytearray()
        for c in range(block * 256, block * 256 + 256):
            if 0xD800 <= c < 0xE000:
                continue
            for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str("x" + chr(c) + "x")):
                data += word.encode("utf-8") + b"\xff"
            data += b"\xfe"
        digests.append(f"{fnv1a32_bytes(data):08x}")
    return "".join(digests)


# Special tokens written literally in the text, for both models: tokenizers matches them whole (case-
# sensitive, also inside words) unless `encode_special_tokens` (transformers' split_special_tokens).
SPECIAL_TOKEN_CASES = {
    "minilm-l6": ["[CLS] [SEP] [MASK] [UNK] [PAD] literal", "x[CLS]y", "[CLS][CLS]  [SEP]", "a [MASK]b",
                  "the [MASK] sat on the [MASK].", "[cls] [Cls] [CLS", "CLS] [CLS] ]", "[[SEP]]", "[SEP][SEP][SEP]",
                  "[MASK]s and [UNK]ed", "é[PAD]ü", "日本[SEP]語", "[ＣＬＳ]", "  [CLS]  ", "[CLS]\t[SEP]\n", "[]", "["],
    "smollm2": ["<|im_start|>user\nhi<|im_end|>", "a<|endoftext|>b", "<|endoftext|><|endoftext|>", "<|im_start",
                "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>",
                " <|im_end|> ", "<|IM_START|>", "<<|endoftext|>>", "x<|im_end|>y<|im_start|>z", "<|>", "<|repo_name|>é",
                "<|im_start|><|im_end|>", "<", "|>"],
}


def special_token_cases(name, tok):
    cases = []
    for text in SPECIAL_TOKEN_CASES[name]:
        tok.encode_special_tokens = False
        e = tok.encode(text, add_special_tokens=False)
        tok.encode_special_tokens = True
        s = tok.encode(text, add_special_tokens=False)
        tok.encode_special_tokens = False
        cases.append({"text": text, "ids": e.ids, "offsets": [list(o) for o in e.offsets],
                      "split_ids": s.ids, "split_offsets": [list(o) for o in s.offsets]})
    return cases


def write(name, tok):
    corpora = [digest_corpus(tok, file, dataset) for file, dataset in CORPORA]
    edges = []
    for text in edge_cases():
        e = tok.encode(text)
        edges.append({"text": text, "ids": e.ids, "offsets": [list(o) for o in e.offsets]})
    pair = tok.encode("A first sentence, longer than the second.", "The second one.")
    doc = {"generator": "Tools/reference/make_tokenizer_fixtures.py", "tokenizers": tokenizers.__version__,
           "model": name, "corpora": corpora, "edge_cases": edges,
           "pair": {"ids": pair.ids, "type_ids": pair.type_ids},
           "special_token_cases": special_token_cases(name, tok)}
    if tok.normalizer is not None and "Bert" in type(tok.normalizer).__name__:
        doc["normalizer_blocks"] = {"block": 256, "fnv1a32": normalizer_blocks(tok)}
    out = FIXTURES / f"tokenizer_{name}.json"
    out.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    counts = ", ".join(f"{c['file']}:{c['dataset']} {c['count']}" for c in corpora)
    print(f"wrote {out} ({out.stat().st_size} bytes; {counts}; {len(edges)} edge cases)")


write("minilm-l6", minilm())
write("smollm2", smollm2())
