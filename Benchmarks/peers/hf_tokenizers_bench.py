#!/usr/bin/env python3
"""The Hugging Face `tokenizers` side of the tokenizer benchmark: the same tweet corpus, the same
tokenizers (Tools/reference/hf_tokenizers.py), timed as Benchmarks/mlcore-bench times MLCore (one
warm-up, median of repeats): an encode loop and encode_batch (Rayon, all cores). JSON like
mlcore-bench's."""
import argparse
import json
import sys
from pathlib import Path

import h5py
import tokenizers

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Tools" / "reference"))
from hf_tokenizers import minilm, smollm2  # noqa: E402
from timing import measure  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--output")
p.add_argument("--repeats", type=int, default=5)
args = p.parse_args()
with h5py.File("data/datasets/tweets.h5", "r") as f:
    texts = [t.decode("utf-8") if isinstance(t, bytes) else t for t in f["text"][()]]
nbytes = sum(len(t.encode("utf-8")) for t in texts)
results = []
for name, tok in (("minilm-l6", minilm()), ("smollm2", smollm2())):
    for case, fn in ((f"tokenize_{name}_loop", lambda: [tok.encode(t) for t in texts]),
                     (f"tokenize_{name}_batch", lambda: tok.encode_batch(texts))):
        results.append(measure(case, "tokenize", nbytes, "GB/s", fn, args.repeats))
doc = {"tool": "hf-tokenizers", "results": results,
       "environment": {"tokenizers": tokenizers.__version__, "bytes": nbytes, "texts": len(texts)}}
text = json.dumps(doc, sort_keys=True)
if args.output:
    Path(args.output).write_text(text + "\n")
else:
    print(text)
