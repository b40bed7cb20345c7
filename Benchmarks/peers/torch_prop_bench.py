#!/usr/bin/env python3
"""PyTorch (CPU) peer of `prop bench --rerank-step`: one re-ranker fine-tuning step on MiniLM-L6 with
the same shapes — 2 groups of 1 positive + 3 negatives = 8 rows of 128 tokens (random ids in
1000..<29000, no padding), BertForSequenceClassification with one output on the pooled [CLS],
dropout 0.1 on, softmax cross-entropy over each group (target: the positive), backward, AdamW
(lr 2e-5, weight decay 0.01) — timed as Benchmarks/peers/timing.py times every peer. Prints the
comparison with --ours (a `prop bench --rerank-step` report). Needs torch and transformers
(Tools/reference/requirements-torch.txt, the project's .venv-torch):

    OMP_WAIT_POLICY=PASSIVE .venv-torch/bin/python Benchmarks/peers/torch_prop_bench.py --threads 2 --ours bench.json
"""
import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch
from transformers import BertForSequenceClassification

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import measure  # noqa: E402
from torch_models_bench import minilm_config  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--output")
    parser.add_argument("--ours")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config, state = minilm_config(num_labels=1)
    model = BertForSequenceClassification(config)
    model.bert.load_state_dict(state, strict=True)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5, weight_decay=0.01)
    rng = np.random.default_rng(5)
    ids = torch.from_numpy(rng.integers(1000, 29000, size=(8, 128)))
    types = torch.cat([torch.zeros(8, 64, dtype=torch.long), torch.ones(8, 64, dtype=torch.long)], dim=1)
    mask = torch.ones(8, 128, dtype=torch.long)
    target = torch.zeros(2, dtype=torch.long)

    def step():
        optimizer.zero_grad(set_to_none=True)
        logits = model(input_ids=ids, token_type_ids=types, attention_mask=mask).logits.view(2, 4)
        torch.nn.functional.cross_entropy(logits, target).backward()
        optimizer.step()

    results = [measure("prop_rerank_step_g2_n3_t128", "prop", 8, "G rows/s", step, args.repeats)]
    doc = {"tool": "torch_prop_bench", "results": results, "environment": {"torch": torch.__version__, "threads": args.threads}}
    if args.output:
        Path(args.output).write_text(json.dumps(doc, indent=1) + "\n")
    if args.ours:
        ours = {r["name"]: r for r in json.load(open(args.ours))["metrics"]["results"]}
        for r in results:
            o = ours.get(r["name"])
            if o:
                print(f"| {r['name']} | prop {o['median_s'] * 1e3:.0f} ms | torch {r['median_s'] * 1e3:.0f} ms | ratio {r['median_s'] / o['median_s']:.2f} |")


if __name__ == "__main__":
    main()
