#!/usr/bin/env python3
"""Generates Tests/Fixtures/losses_optim.json: PyTorch reference values for MLCore's losses
(Sources/MLCore/NN/Losses), optimizers, gradient clipping and learning-rate schedules
(Sources/MLCore/Optim).

- "losses": each case has float32 inputs, integer targets where needed, options, the loss value and
  the gradients of Σ upstream ⊙ loss (upstream 1 for scalar reductions) with respect to the inputs,
  all from torch.nn.functional on CPU in float32.
  Per-sample weights are not a torch option: their reference is torch's reduction='none' loss times
  the weights, summed, divided (mean) by Σ s·weight[y] over non-ignored targets.
- "optimizers": 5 steps of torch.optim.{SGD, Adam, AdamW} on the quadratic
  L = ½ Σ a ⊙ (θ − c)², the gradient a ⊙ (θ − c) set explicitly in float32 each step (MLCore's test
  computes it with the same two float32 ops), the parameters after every step.
- "clipping": torch.nn.utils.clip_grad_norm_ on fixed gradients (total norm and clipped gradients).
- "schedules": learning rates per step. The Hugging Face schedules are computed with torch's LambdaLR
  and the lambdas of transformers/optimization.py (get_linear_schedule_with_warmup,
  get_cosine_schedule_with_warmup), written out here because transformers is not installed; the
  warm-restart schedule is torch.optim.lr_scheduler.CosineAnnealingWarmRestarts stepped once per step.

Run with a torch venv (Tools/reference/requirements-torch.txt; `make torch-venv`):
    .venv-torch/bin/python Tools/reference/make_loss_optim_fixtures.py
"""
import json
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(0)
rng = np.random.default_rng(20261201)
OUT = Path(__file__).resolve().parents[2] / "Tests" / "Fixtures" / "losses_optim.json"


def enc(x):
    x = np.asarray(x.detach().numpy() if torch.is_tensor(x) else x, dtype=np.float32)
    data = []
    for v in x.ravel().tolist():
        data.append("nan" if math.isnan(v) else ("inf" if v == math.inf else ("-inf" if v == -math.inf else v)))
    return {"shape": list(x.shape), "data": data}


def rand(*shape, lo=-3.0, hi=3.0):
    return torch.tensor(rng.uniform(lo, hi, size=shape).astype(np.float32))


def ints(x):
    return {"shape": list(x.shape), "data": [int(v) for v in x.ravel().tolist()]}


# ---------------------------------------------------------------- losses
losses = []


def loss_case(name, loss, tensors, fn, options, int_targets=None, differentiable=None):
    """fn(tensors dict with requires_grad leaves) -> loss tensor. Records value and gradients."""
    leaves = {k: v.clone().requires_grad_(k in (differentiable or [])) for k, v in tensors.items()}
    out = fn(leaves)
    upstream = rand(*out.shape, lo=-1, hi=1) if out.dim() > 0 else torch.tensor(1.0)
    if any(v.requires_grad for v in leaves.values()):
        (out * upstream).sum().backward()
    case = {"name": name, "loss": loss, "options": options,
            "inputs": {k: enc(v) for k, v in tensors.items()},
            "expected": enc(out), "upstream": enc(upstream),
            "grads": {k: enc(v.grad) for k, v in leaves.items() if v.requires_grad}}
    if int_targets is not None:
        case["targets"] = ints(int_targets)
    losses.append(case)


def ce_reference(logits, targets, class_weights, sample_weights, ignore_index, smoothing, reduction, class_axis):
    x = logits if class_axis == 1 else torch.movedim(logits, -1, 1)
    if sample_weights is None:
        return F.cross_entropy(x, targets, weight=class_weights, ignore_index=ignore_index,
                               label_smoothing=smoothing, reduction=reduction)
    per = F.cross_entropy(x, targets, weight=class_weights, ignore_index=ignore_index,
                          label_smoothing=smoothing, reduction="none") * sample_weights
    if reduction == "none":
        return per
    if reduction == "sum":
        return per.sum()
    valid = targets != ignore_index
    w = class_weights[targets.clamp(min=0)] if class_weights is not None else torch.ones_like(sample_weights)
    return per.sum() / (sample_weights * w)[valid].sum()


def ce_case(name, logits_shape, class_axis=1, weights=False, samples=False, ignore=None, smoothing=0.0,
            reduction="mean", ignore_index=-100):
    logits = rand(*logits_shape)
    c = logits_shape[class_axis]
    tshape = list(logits_shape)
    del tshape[class_axis]
    targets = torch.tensor(rng.integers(0, c, size=tshape), dtype=torch.int64)
    if ignore is not None:
        flat = targets.view(-1)
        for i in ignore:
            flat[i] = ignore_index
    tensors = {"logits": logits}
    if weights:
        tensors["class_weights"] = rand(c, lo=0.2, hi=2.0)
    if samples:
        tensors["sample_weights"] = rand(*tshape, lo=0.0, hi=2.0)
    options = {"ignore_index": ignore_index, "label_smoothing": smoothing, "reduction": reduction,
               "class_axis": class_axis}
    loss_case(name, "cross_entropy", tensors,
              lambda t: ce_reference(t["logits"], targets, t.get("class_weights"), t.get("sample_weights"),
                                     ignore_index, smoothing, reduction, class_axis),
              options, int_targets=targets, differentiable=["logits"])


for red in ("mean", "sum", "none"):
    ce_case(f"ce_basic_{red}", [6, 5], reduction=red)
    ce_case(f"ce_all_options_{red}", [7, 4], weights=True, samples=True, ignore=[1, 4], smoothing=0.2, reduction=red)
ce_case("ce_ignore", [6, 5], ignore=[0, 3])
ce_case("ce_ignore_custom_index", [6, 5], ignore=[2], ignore_index=3 + 100)
ce_case("ce_smoothing", [6, 5], smoothing=0.1)
ce_case("ce_smoothing_ignore", [6, 5], smoothing=0.3, ignore=[5])
ce_case("ce_weights", [8, 3], weights=True)
ce_case("ce_weights_ignore", [8, 3], weights=True, ignore=[0, 7])
ce_case("ce_weights_smoothing_ignore", [8, 3], weights=True, smoothing=0.25, ignore=[2])
ce_case("ce_sample_weights", [6, 5], samples=True)
ce_case("ce_sample_weights_sum", [6, 5], samples=True, reduction="sum")
ce_case("ce_spatial", [2, 4, 3], weights=True, smoothing=0.1, ignore=[4])
ce_case("ce_spatial_none", [2, 4, 3, 2], reduction="none", ignore=[1])
ce_case("ce_classes_last", [2, 3, 11], class_axis=-1, smoothing=0.1, ignore=[2])
ce_case("ce_classes_last_wide", [3, 37], class_axis=-1, weights=True)
# Logits up to ±120: exp overflows without the max shift.
big = rand(4, 9) * 40
big_t = torch.tensor(rng.integers(0, 9, size=[4]), dtype=torch.int64)
loss_case("ce_large_logits", "cross_entropy", {"logits": big},
          lambda t: F.cross_entropy(t["logits"], big_t, label_smoothing=0.05),
          {"ignore_index": -100, "label_smoothing": 0.05, "reduction": "mean", "class_axis": 1},
          int_targets=big_t, differentiable=["logits"])

# Binary cross-entropy with logits.
for red in ("mean", "sum", "none"):
    x, y = rand(4, 3, lo=-6, hi=6), torch.tensor(rng.uniform(0, 1, size=(4, 3)).astype(np.float32))
    loss_case(f"bce_{red}", "bce_with_logits", {"input": x, "target": y},
              lambda t, red=red: F.binary_cross_entropy_with_logits(t["input"], t["target"], reduction=red),
              {"reduction": red}, differentiable=["input", "target"])
x, y = rand(5, 3, lo=-30, hi=30), torch.tensor(rng.integers(0, 2, size=(5, 3)).astype(np.float32))
w, pw = rand(3, lo=0.1, hi=2), rand(3, lo=0.5, hi=4)
loss_case("bce_weight_pos_weight", "bce_with_logits", {"input": x, "target": y, "weight": w, "pos_weight": pw},
          lambda t: F.binary_cross_entropy_with_logits(t["input"], t["target"], weight=t["weight"],
                                                       pos_weight=t["pos_weight"]),
          {"reduction": "mean"}, differentiable=["input", "target"])
loss_case("bce_pos_weight_none", "bce_with_logits", {"input": x, "target": y, "pos_weight": pw},
          lambda t: F.binary_cross_entropy_with_logits(t["input"], t["target"], pos_weight=t["pos_weight"],
                                                       reduction="none"),
          {"reduction": "none"}, differentiable=["input"])

# Regression losses.
for red in ("mean", "sum", "none"):
    x, y = rand(3, 4), rand(3, 4)
    loss_case(f"mse_{red}", "mse", {"input": x, "target": y},
              lambda t, red=red: F.mse_loss(t["input"], t["target"], reduction=red), {"reduction": red},
              differentiable=["input", "target"])
    loss_case(f"l1_{red}", "l1", {"input": x, "target": y},
              lambda t, red=red: F.l1_loss(t["input"], t["target"], reduction=red), {"reduction": red},
              differentiable=["input", "target"])
    for beta in (1.0, 0.5, 0.0):
        loss_case(f"smooth_l1_beta{beta}_{red}", "smooth_l1", {"input": x, "target": y},
                  lambda t, red=red, beta=beta: F.smooth_l1_loss(t["input"], t["target"], reduction=red, beta=beta),
                  {"reduction": red, "beta": beta}, differentiable=["input", "target"])

# Margin ranking and hinge embedding.
for red in ("mean", "sum", "none"):
    for margin in (0.0, 0.5):
        x1, x2 = rand(10, lo=-2, hi=2), rand(10, lo=-2, hi=2)
        y = torch.tensor(rng.choice([-1.0, 1.0], size=10).astype(np.float32))
        loss_case(f"margin_ranking_m{margin}_{red}", "margin_ranking", {"input1": x1, "input2": x2, "target": y},
                  lambda t, red=red, margin=margin: F.margin_ranking_loss(t["input1"], t["input2"], t["target"],
                                                                          margin=margin, reduction=red),
                  {"reduction": red, "margin": margin}, differentiable=["input1", "input2"])
        x = rand(3, 4, lo=-1, hi=3)
        y = torch.tensor(rng.choice([-1.0, 1.0], size=(3, 4)).astype(np.float32))
        hm = margin + 1.0
        loss_case(f"hinge_embedding_m{hm}_{red}", "hinge_embedding", {"input": x, "target": y},
                  lambda t, red=red, hm=hm: F.hinge_embedding_loss(t["input"], t["target"], margin=hm, reduction=red),
                  {"reduction": red, "margin": hm}, differentiable=["input"])

# ---------------------------------------------------------------- optimizers
optimizers = []
SHAPES = [(3, 4), (5,), (19,)]


def optim_case(name, kind, options, groups=None, steps=5):
    """groups: list of (param indices, group options) or None for one group of every parameter."""
    init = [rand(*s, lo=-2, hi=2) for s in SHAPES]
    a = [rand(*s, lo=0.5, hi=3) for s in SHAPES]
    c = [rand(*s, lo=-1, hi=1) for s in SHAPES]
    params = [p.clone().requires_grad_(True) for p in init]
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[kind]
    if groups is None:
        opt = cls(params, **options)
    else:
        opt = cls([dict(params=[params[i] for i in idx], **g) for idx, g in groups], **options)
    trajectory = []
    for _ in range(steps):
        with torch.no_grad():
            for p, ai, ci in zip(params, a, c):
                p.grad = ai * (p - ci)
        opt.step()
        trajectory.append([enc(p) for p in params])
    optimizers.append({"name": name, "optimizer": kind, "options": options,
                       "groups": [{"params": idx, **g} for idx, g in groups] if groups else None,
                       "init": [enc(p) for p in init], "a": [enc(x) for x in a], "c": [enc(x) for x in c],
                       "trajectory": trajectory})


optim_case("sgd_plain", "sgd", {"lr": 0.1})
optim_case("sgd_weight_decay", "sgd", {"lr": 0.1, "weight_decay": 0.05})
optim_case("sgd_momentum", "sgd", {"lr": 0.05, "momentum": 0.9})
optim_case("sgd_momentum_dampening", "sgd", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01})
optim_case("sgd_nesterov", "sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01})
optim_case("adam_default", "adam", {"lr": 0.01})
optim_case("adam_weight_decay", "adam", {"lr": 0.02, "weight_decay": 0.1})
optim_case("adam_amsgrad", "adam", {"lr": 0.05, "amsgrad": True, "betas": (0.8, 0.99), "eps": 1e-6})
optim_case("adamw_default", "adamw", {"lr": 0.01})
optim_case("adamw_weight_decay", "adamw", {"lr": 0.03, "weight_decay": 0.2})
optim_case("adamw_amsgrad", "adamw", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True, "betas": (0.8, 0.99),
                                      "eps": 1e-6})
optim_case("adamw_groups", "adamw", {"lr": 0.01},
           groups=[([0], {"lr": 0.02, "weight_decay": 0.1}), ([1, 2], {"lr": 0.05, "weight_decay": 0.0})])
optim_case("sgd_groups", "sgd", {"lr": 0.1, "momentum": 0.5},
           groups=[([0, 2], {"lr": 0.05, "weight_decay": 0.1}), ([1], {"lr": 0.2})])

# ---------------------------------------------------------------- clipping
clipping = []
for max_norm in (1.0, 100.0):
    grads = [rand(*s) for s in SHAPES]
    params = [torch.zeros(*s, requires_grad=True) for s in SHAPES]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    clipping.append({"max_norm": max_norm, "grads": [enc(g) for g in grads], "total_norm": float(total),
                     "clipped": [enc(p.grad) for p in params]})

# ---------------------------------------------------------------- schedules


def hf_linear(warmup, total):  # transformers/optimization.py _get_linear_schedule_with_warmup_lr_lambda
    def f(step):
        if step < warmup:
            return float(step) / float(max(1, warmup))
        return max(0.0, float(total - step) / float(max(1, total - warmup)))
    return f


def hf_cosine(warmup, total, cycles):  # _get_cosine_schedule_with_warmup_lr_lambda
    def f(step):
        if step < warmup:
            return float(step) / float(max(1, warmup))
        progress = float(step - warmup) / float(max(1, total - warmup))
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * float(cycles) * 2.0 * progress)))
    return f


def run_scheduler(make, base, steps):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=base)
    sched = make(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


LambdaLR = torch.optim.lr_scheduler.LambdaLR
schedules = [
    {"kind": "constant", "base": 0.1, "lrs": run_scheduler(lambda o: LambdaLR(o, lambda s: 1.0), 0.1, 6)},
    {"kind": "linear", "warmup": 3, "total": 10, "base": 0.5,
     "lrs": run_scheduler(lambda o: LambdaLR(o, hf_linear(3, 10)), 0.5, 13)},
    {"kind": "linear", "warmup": 0, "total": 7, "base": 0.01,
     "lrs": run_scheduler(lambda o: LambdaLR(o, hf_linear(0, 7)), 0.01, 9)},
    {"kind": "cosine", "warmup": 2, "total": 10, "cycles": 0.5, "base": 0.3,
     "lrs": run_scheduler(lambda o: LambdaLR(o, hf_cosine(2, 10, 0.5)), 0.3, 13)},
    {"kind": "cosine", "warmup": 4, "total": 20, "cycles": 1.5, "base": 1e-3,
     "lrs": run_scheduler(lambda o: LambdaLR(o, hf_cosine(4, 20, 1.5)), 1e-3, 22)},
    {"kind": "warm_restarts", "T_0": 3, "T_mult": 2, "eta_min": 0.001, "base": 0.1,
     "lrs": run_scheduler(lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, 3, 2, 0.001), 0.1, 25)},
    {"kind": "warm_restarts", "T_0": 4, "T_mult": 1, "eta_min": 0.0, "base": 0.2,
     "lrs": run_scheduler(lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, 4, 1), 0.2, 13)},
]

doc = {"generator": "Tools/reference/make_loss_optim_fixtures.py", "torch": torch.__version__,
       "losses": losses, "optimizers": optimizers, "clipping": clipping, "schedules": schedules}
OUT.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
print(f"wrote {OUT} ({OUT.stat().st_size} bytes): {len(losses)} loss cases, {len(optimizers)} optimizer cases")
