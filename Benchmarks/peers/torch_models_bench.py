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
import torch
import transformers
from transformers import BertConfig, BertForSequenceClassification, BertModel

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


def bert_cases(args, results):
    config_json, state = bert_state(ROOT / "data/models/minilm-l6.h5")
    keys = ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
            "max_position_embeddings", "type_vocab_size", "layer_norm_eps", "hidden_act"]
    config = BertConfig(**{k: config_json[k] for k in keys})
    rng = np.random.default_rng(11)
    model = BertModel(config).eval()
    model.load_state_dict(state, strict=True)
    ids = torch.from_numpy(rng.integers(1000, 29000, size=(32, 128)))
    mask = torch.ones(32, 128, dtype=torch.long)

    def forward():
        with torch.inference_mode():
            model(input_ids=ids, attention_mask=mask)

    if not args.filter or args.filter in "bert_minilm_forward_b32_t128":
        results.append(measure("bert_minilm_forward_b32_t128", "bert", 32 * 128 * 1e6, "Ktok/s", forward, args.repeats))

    config.num_labels = 3
    config.hidden_dropout_prob = 0.0
    config.attention_probs_dropout_prob = 0.0
    clf = BertForSequenceClassification(config)
    clf.bert.load_state_dict(state, strict=True)
    clf.train()
    train_ids = torch.from_numpy(rng.integers(1000, 29000, size=(8, 128)))
    train_mask = torch.ones(8, 128, dtype=torch.long)
    labels = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])

    def step():
        clf.zero_grad(set_to_none=True)
        clf(input_ids=train_ids, attention_mask=train_mask, labels=labels).loss.backward()

    if not args.filter or args.filter in "bert_minilm_train_step_b8_t128":
        results.append(measure("bert_minilm_train_step_b8_t128", "bert", 8 * 128 * 1e6, "Ktok/s", step, args.repeats))


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
                           "torch_parallel": torch.__config__.parallel_info().splitlines()[0:3]}}
    text = json.dumps(doc, indent=1)
    if args.output:
        Path(args.output).write_text(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
