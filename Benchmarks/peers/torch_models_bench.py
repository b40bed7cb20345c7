#!/usr/bin/env python3
"""PyTorch (CPU) peer of Benchmarks/mlcore-bench/ModelBench.swift: the same models, weights, shapes
and thread count, timed the same way (Benchmarks/peers/timing.py). Token ids are drawn from the
same range (1000..<29000, no padding); their values do not affect the timing.

Needs torch and transformers (Tools/reference/requirements-torch.txt), so `make bench` runs it only
when TORCH_PY names such an interpreter. Usage:
  torch_models_bench.py [--repeats N] [--threads N] [--filter S] [--output FILE]
"""
import argparse
import json
import os
import platform
import sys
from pathlib import Path

import h5py
import numpy as np

# As in the other torch peers: libgomp's active wait spins against the other processes of this shared
# machine; PASSIVE is torch's faster setting here (pass OMP_WAIT_POLICY=ACTIVE to measure the other).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import BertConfig, BertForSequenceClassification, BertModel  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import measure  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def bert_state(path):
    state = {}
    with h5py.File(path, "r") as f:
        config = json.loads(f.attrs["config"])
        f["params"].visititems(lambda n, o: state.__setitem__(n.replace("/", "."), torch.from_numpy(np.asarray(o[()])))
                               if isinstance(o, h5py.Dataset) else None)
    state.pop("embeddings.position_ids", None)
    return config, state


def minilm_config(**extra):
    """MiniLM-L6's transformers BertConfig (from the prepared checkpoint's config) and its state dict."""
    config_json, state = bert_state(ROOT / "data/models/minilm-l6.h5")
    keys = ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
            "max_position_embeddings", "type_vocab_size", "layer_norm_eps", "hidden_act"]
    return BertConfig(**{k: config_json[k] for k in keys}, **extra), state


def wanted(args, name):
    return not args.filter or args.filter in name


def bert_cases(args, results):
    names = ["bert_minilm_forward_b32_t128", "bert_minilm_forward_b1_t16", "bert_minilm_train_step_b16_t64"]
    if not any(wanted(args, n) for n in names):
        return
    config_json, state = bert_state(ROOT / "data/models/minilm-l6.h5")
    keys = ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
            "max_position_embeddings", "type_vocab_size", "layer_norm_eps", "hidden_act"]
    config = BertConfig(**{k: config_json[k] for k in keys})
    rng = np.random.default_rng(11)
    if any(wanted(args, n) for n in names[:2]):
        model = BertModel(config).eval()
        model.load_state_dict(state, strict=True)
        for name, batch, tokens in ((names[0], 32, 128), (names[1], 1, 16)):
            ids = torch.from_numpy(rng.integers(1000, 29000, size=(batch, tokens)))
            mask = torch.ones(batch, tokens, dtype=torch.long)

            def forward(ids=ids, mask=mask):
                with torch.inference_mode():
                    model(input_ids=ids, attention_mask=mask)

            if wanted(args, name):
                results.append(measure(name, "bert", batch * 1e9, "sentences/s", forward, args.repeats))
    if not wanted(args, names[2]):
        return
    config.num_labels = 3
    config.hidden_dropout_prob = 0.0
    config.attention_probs_dropout_prob = 0.0
    clf = BertForSequenceClassification(config)
    clf.bert.load_state_dict(state, strict=True)
    clf.train()
    optimizer = torch.optim.AdamW(clf.parameters(), lr=2e-5, weight_decay=0.01)
    train_ids = torch.from_numpy(rng.integers(1000, 29000, size=(16, 64)))
    train_mask = torch.ones(16, 64, dtype=torch.long)
    labels = torch.arange(16) % 3

    def step():
        optimizer.zero_grad(set_to_none=True)
        clf(input_ids=train_ids, attention_mask=train_mask, labels=labels).loss.backward()
        optimizer.step()

    results.append(measure(names[2], "bert", 16e9, "sentences/s", step, args.repeats))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--filter")
    parser.add_argument("--output")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = []
    bert_cases(args, results)
    doc = {"tool": "torch_models_bench", "results": results,
           "environment": {"torch": torch.__version__, "transformers": transformers.__version__,
                           "threads": args.threads, "cpu": platform.processor() or platform.machine(),
                           "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
                           "OMP_WAIT_POLICY": os.environ["OMP_WAIT_POLICY"], "torch_parallel": torch.__config__.parallel_info().splitlines()[0:3]}}
    text = json.dumps(doc, indent=1)
    if args.output:
        Path(args.output).write_text(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
