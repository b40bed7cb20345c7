#!/usr/bin/env python3
"""PyTorch (CPU) peer of `graft bench` (Tools/graft/Bench.swift): one fine-tuning step and one
mask-training epoch of grafting on MiniLM-L6, same shapes, same thread count, timed the same way
(Benchmarks/peers/timing.py: one warm-up, median of repeats). The mask epoch follows the
reference's graft_trainer.py (interpolate, accumulate grad·Δ over batches, sigmoid-scaled step,
rounded graft, train + dev accuracy), written with per-tensor lists instead of its name searches.

Usage: torch_graft_bench.py [--repeats N] [--threads N] [--output FILE] [--ours GRAFT_BENCH.json]
With --ours, prints a markdown table of both sides' medians and peak RSS.
"""
import argparse
import json
import os
import resource
import sys
from pathlib import Path

import torch
import transformers
from transformers import BertConfig, BertModel

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import emit, measure  # noqa: E402
from torch_models_bench import ROOT, bert_state  # noqa: E402

T = 40


class Classifier(torch.nn.Module):
    """MiniLM + linear head on the attention-masked mean (SentenceClassifier)."""

    def __init__(self, config, state):
        super().__init__()
        self.bert = BertModel(config, add_pooling_layer="pooler.dense.weight" in state)
        self.bert.load_state_dict(state, strict=True)
        self.head = torch.nn.Linear(config.hidden_size, 2)

    def forward(self, ids):
        hidden = self.bert(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state
        return self.head(hidden.mean(dim=1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--output")
    parser.add_argument("--ours")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config_json, state = bert_state(ROOT / "data/models/minilm-l6.h5")
    keys = ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
            "max_position_embeddings", "type_vocab_size", "layer_norm_eps", "hidden_act"]
    config = BertConfig(**{k: config_json[k] for k in keys})
    model = Classifier(config, state)
    layers = [(n, p) for n, p in model.named_parameters() if n.startswith("bert.encoder.layer.")]
    for n, p in model.named_parameters():
        p.requires_grad_(n.startswith("bert.encoder.layer."))
    no_decay = [p for n, p in layers if n.endswith("bias") or "LayerNorm" in n]
    decay = [p for n, p in layers if not (n.endswith("bias") or "LayerNorm" in n)]
    sgd = torch.optim.SGD([{"params": decay, "weight_decay": 1e-4}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-3)
    ids = lambda b: torch.randint(1000, 29000, (b, T))
    results = []

    model.train()
    step_ids, step_labels = ids(2), torch.tensor([0, 1])

    def step():
        sgd.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(step_ids), step_labels).backward()
        sgd.step()

    results.append(measure("bert_graft_sgd_step_b2_t40", "graft", 1.0, "1/s", step, args.repeats))

    # Mask epoch, k = 16 (reference: model in eval mode, no dropout).
    model.eval()
    params = [p for _, p in layers]
    pre = [p.detach().clone() for p in params]
    delta = [torch.randn_like(p) * 1e-3 for p in params]
    flat = torch.cat([d.abs().flatten() for d in delta])
    s = int(1e-4 * flat.numel())
    tau = torch.topk(flat, s).values.min()
    base = [(d.abs() > tau).float() for d in delta]
    scores = [torch.rand_like(p) for p in params]
    train_ids, dev_ids = ids(32), ids(128)
    labels = torch.arange(32) % 2

    def interpolate(rounded):
        with torch.no_grad():
            for p, q, d, b, sc in zip(params, pre, delta, base, scores):
                frac = b + (1 - 2 * b) * torch.sigmoid(sc - 10)
                if rounded:
                    frac = torch.round(frac)
                p.copy_(q + frac * d)

    def accuracy(x):
        with torch.no_grad():
            correct = 0
            for start in range(0, len(x), 32):
                pred = model(x[start:start + 32]).argmax(-1)
                correct += int((pred == (torch.arange(start, min(start + 32, len(x))) % 2)).sum())
            return correct / len(x)

    def epoch():
        interpolate(False)
        order = torch.randperm(32)
        total = None
        batches = 0
        for start in range(0, 32, 8):
            batch = order[start:start + 8]
            model.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(train_ids[batch]), labels[batch]).backward()
            grad = [1e7 * p.grad * d for p, d in zip(params, delta)]
            total = grad if total is None else [a + g for a, g in zip(total, grad)]
            batches += 1
        with torch.no_grad():
            for sc, g, b in zip(scores, total, base):
                sig = torch.sigmoid(sc - 10)
                sc -= (1 - 2 * b) * (g / batches) * sig * (1 - sig)
        interpolate(True)
        accuracy(train_ids) + accuracy(dev_ids)

    results.append(measure("bert_graft_mask_epoch_k16_t40", "graft", 1.0, "1/s", epoch, args.repeats))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    doc = {"tool": "torch_graft_bench", "results": results, "peak_rss_mb": peak,
           "environment": {"torch": torch.__version__, "transformers": transformers.__version__,
                           "threads": args.threads, "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE")}}
    emit(doc, args.output)
    if args.ours:
        ours = json.load(open(args.ours))["metrics"]
        mine = {r["name"]: r for r in ours["results"]}
        print("| case | MLCore | PyTorch | PyTorch / MLCore time |")
        print("|---|---|---|---|")
        for r in results:
            o = mine.get(r["name"])
            if o:
                print(f"| {r['name']} | {o['median_s'] * 1e3:.1f} ms | {r['median_s'] * 1e3:.1f} ms | {r['median_s'] / o['median_s']:.2f} |")
        print(f"| peak RSS | {ours['peak_rss_mb']:.0f} MB | {peak:.0f} MB | |")


if __name__ == "__main__":
    main()
