#!/usr/bin/env python3
"""Generates Tests/Fixtures/bert_minilm.json: reference outputs of Hugging Face transformers'
BertModel / BertForSequenceClassification (PyTorch, CPU, float32) with the weights of the prepared
checkpoint data/models/minilm-l6.h5 (themselves checked against the package's safetensors by the
converter).

Contents:
- "sentences": 8 real tweets (fixed indices of data/datasets/tweets.h5), their HF-tokenizer ids
  (the checkpoint's tokenizer.json, truncation 128) and their sentence embeddings as
  sentence-transformers computes them (mean over attention-mask-1 tokens, then L2 normalisation).
- "classification": a 3-class head (weights drawn here from a fixed numpy seed and stored), the
  logits and cross-entropy loss of BertForSequenceClassification (eval mode: no dropout) on 4 of
  the sentences with fixed labels, and for EVERY parameter of the model: the gradient's L2 norm,
  its sum, its dot product with a fixed pattern vector p_i = ((i·7919) mod 1000)/1000 − 0.5, and
  4 sampled entries.

Run (needs torch and transformers; see Tools/reference/requirements-torch.txt):
  /path/to/torch-venv/bin/python Tools/reference/make_bert_fixtures.py
"""
import json
from pathlib import Path

import h5py
import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import BertConfig, BertForSequenceClassification, BertModel

ROOT = Path(__file__).resolve().parents[2]
CHECKPOINT = ROOT / "data" / "models" / "minilm-l6.h5"
TWEETS = ROOT / "data" / "datasets" / "tweets.h5"
OUT = ROOT / "Tests" / "Fixtures" / "bert_minilm.json"
SENTENCE_INDICES = [0, 1, 17, 256, 1000, 4242, 20000, 38157]
CLASSIFY = [0, 2, 5, 7]  # positions in SENTENCE_INDICES
LABELS = [2, 0, 1, 2]

torch.manual_seed(0)
torch.set_num_threads(1)


def load_state(path):
    state = {}
    with h5py.File(path, "r") as f:
        config = json.loads(f.attrs["config"])
        tokenizer_json = f["tokenizer/tokenizer_json"][()]
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                state[name.replace("/", ".")] = torch.from_numpy(np.asarray(obj[()]))
        f["params"].visititems(visit)
    if isinstance(tokenizer_json, bytes):
        tokenizer_json = tokenizer_json.decode("utf-8")
    return config, state, tokenizer_json


def floats(x):
    return [float(v) for v in np.asarray(x, dtype=np.float32).ravel().tolist()]


def main():
    config_json, state, tokenizer_json = load_state(CHECKPOINT)
    config = BertConfig(vocab_size=config_json["vocab_size"], hidden_size=config_json["hidden_size"],
                        num_hidden_layers=config_json["num_hidden_layers"],
                        num_attention_heads=config_json["num_attention_heads"],
                        intermediate_size=config_json["intermediate_size"],
                        max_position_embeddings=config_json["max_position_embeddings"],
                        type_vocab_size=config_json["type_vocab_size"],
                        layer_norm_eps=config_json["layer_norm_eps"], hidden_act=config_json["hidden_act"])
    with h5py.File(TWEETS, "r") as f:
        texts = [t.decode("utf-8") if isinstance(t, bytes) else t for t in f["text"][SENTENCE_INDICES]]

    tokenizer = Tokenizer.from_str(tokenizer_json)
    tokenizer.enable_truncation(128)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    encodings = tokenizer.encode_batch(texts)
    ids = torch.tensor([e.ids for e in encodings])
    mask = torch.tensor([e.attention_mask for e in encodings])

    model = BertModel(config, add_pooling_layer=True).eval()
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not missing, missing
    assert set(unexpected) <= {"embeddings.position_ids"}, unexpected
    with torch.no_grad():
        hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).float()
        mean = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
        embeddings = torch.nn.functional.normalize(mean, p=2, dim=1)

    sentences = [{"text": t, "ids": e.ids[: sum(e.attention_mask)], "embedding": floats(embeddings[i])}
                 for i, (t, e) in enumerate(zip(texts, encodings))]

    # Classification loss gradients.
    head_rng = np.random.default_rng(20261201)
    head_w = (head_rng.standard_normal((3, config.hidden_size)) * 0.02).astype(np.float32)
    head_b = (head_rng.standard_normal(3) * 0.02).astype(np.float32)
    config.num_labels = 3
    clf = BertForSequenceClassification(config).eval()
    clf_state = {f"bert.{k}": v for k, v in state.items() if k != "embeddings.position_ids"}
    clf_state["classifier.weight"] = torch.from_numpy(head_w)
    clf_state["classifier.bias"] = torch.from_numpy(head_b)
    missing, unexpected = clf.load_state_dict(clf_state, strict=False)
    assert not [k for k in missing if "position_ids" not in k], missing
    sub = [encodings[i] for i in CLASSIFY]
    longest = max(sum(e.attention_mask) for e in sub)
    sub_ids = torch.tensor([e.ids[:longest] for e in sub])
    sub_mask = torch.tensor([e.attention_mask[:longest] for e in sub])
    out = clf(input_ids=sub_ids, attention_mask=sub_mask, labels=torch.tensor(LABELS))
    out.loss.backward()
    gradients = {}
    for name, p in clf.named_parameters():
        key = name[len("bert."):] if name.startswith("bert.") else name
        g = p.grad.detach().double().numpy().ravel() if p.grad is not None else np.zeros(p.numel())
        n = g.size
        pattern = ((np.arange(n, dtype=np.int64) * 7919) % 1000) / 1000.0 - 0.5
        samples = sorted({0, n // 3, (2 * n) // 3, n - 1})
        gradients[key] = {"shape": list(p.shape), "norm": float(np.linalg.norm(g)), "sum": float(g.sum()),
                          "pattern_dot": float(g @ pattern), "samples": {str(i): float(g[i]) for i in samples}}

    fixture = {
        "generator": "Tools/reference/make_bert_fixtures.py",
        "reference": f"transformers {__import__('transformers').__version__}, torch {torch.__version__}, tokenizers {__import__('tokenizers').__version__}",
        "tweet_indices": SENTENCE_INDICES,
        "sentences": sentences,
        "classification": {"sentences": CLASSIFY, "labels": LABELS, "head_weight": floats(head_w),
                           "head_bias": floats(head_b), "logits": floats(out.logits.detach()),
                           "loss": float(out.loss.detach()), "gradients": gradients},
    }
    OUT.write_text(json.dumps(fixture, indent=0, ensure_ascii=False) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(gradients)} parameter gradients)")


if __name__ == "__main__":
    main()
