#!/usr/bin/env python3
"""Generates Tests/Fixtures/vision_ops.json: PyTorch (CPU, float32) results of MLCore's vision ops.

Each case: {"name", "op", "args", "inputs": {name: {"shape", "data"}}, "upstream": {"shape", "data"},
"expected": {name: {"shape", "data"}}} where "expected" holds the forward output ("output") and the
gradients of sum(output * upstream) with respect to each input ("grad_<input>"), plus any extra state
(BatchNorm's updated running statistics). Ops mirrored: torch.nn.functional.conv2d (asymmetric padding
through F.pad first, as TensorFlow "SAME" needs), unfold, max_pool2d, avg_pool2d, adaptive_avg_pool2d,
interpolate(mode="bilinear"), batch_norm (training and evaluation).

Run with the torch venv (Tools/reference/requirements-torch.txt; `make torch-venv`):
  .venv-torch/bin/python Tools/reference/make_vision_fixtures.py   (torch 2.13.0+cpu)
"""
import json
from pathlib import Path

import torch
import torch.nn.functional as F

torch.manual_seed(20261201)
OUT = Path(__file__).resolve().parents[2] / "Tests" / "Fixtures" / "vision_ops.json"
cases = []


def enc(t):
    t = t.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "data": [float(f"{v:.8g}") for v in t.reshape(-1).tolist()]}


def rand(*shape):
    # Values on a 1/64 grid keep the inputs exactly representable in the JSON.
    return (torch.randint(-128, 129, shape).to(torch.float32) / 64)


def add(name, op, args, inputs, fn, extra=None):
    leaves = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    out = fn(**leaves)
    upstream = rand(*out.shape)
    (out * upstream).sum().backward()
    expected = {"output": enc(out)}
    for k, v in leaves.items():
        expected["grad_" + k] = enc(v.grad)
    if extra:
        expected.update({k: enc(v) for k, v in extra.items()})
    cases.append({"name": name, "op": op, "args": args, "inputs": {k: enc(v) for k, v in inputs.items()},
                  "upstream": enc(upstream), "expected": expected})


# conv2d: (N, C, H, W, O, kernel, stride, padding (top, bottom, left, right), dilation, groups, bias)
conv_cases = [
    ("plain3x3", 2, 3, 7, 6, 4, (3, 3), (1, 1), (0, 0, 0, 0), (1, 1), 1, True),
    ("pad1", 1, 2, 5, 5, 3, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1, True),
    ("stride2_odd", 2, 3, 9, 7, 5, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 1, False),
    ("rect_kernel_stride", 1, 2, 8, 9, 3, (2, 3), (2, 1), (0, 0, 1, 1), (1, 1), 1, True),
    ("dilation2", 1, 2, 9, 8, 2, (3, 3), (1, 1), (2, 2, 2, 2), (2, 2), 1, True),
    ("groups2", 2, 4, 6, 5, 6, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 2, True),
    ("pointwise", 2, 5, 4, 3, 7, (1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 1, True),
    ("pointwise_stride2", 1, 3, 5, 5, 2, (1, 1), (2, 2), (0, 0, 0, 0), (1, 1), 1, False),
    ("tf_same_asym_stride2", 1, 3, 8, 8, 4, (3, 3), (2, 2), (0, 1, 0, 1), (1, 1), 1, True),
    ("depthwise3", 2, 4, 7, 6, 4, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 4, True),
    ("depthwise5_tf_same_stride2", 1, 3, 9, 10, 3, (5, 5), (2, 2), (1, 2, 1, 2), (1, 1), 3, False),
    ("depthwise3_tf_same_stride2_even", 2, 2, 8, 8, 2, (3, 3), (2, 2), (0, 1, 0, 1), (1, 1), 2, True),
    ("depthwise_dilated", 1, 3, 9, 9, 3, (3, 3), (1, 1), (2, 2, 2, 2), (2, 2), 3, True),
    ("depthwise_wide_rows", 1, 2, 5, 21, 2, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 2, True),
    ("depthwise_multiplier2", 1, 2, 5, 5, 4, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 2, True),
]
for name, n, c, h, w, o, k, s, p, d, g, bias in conv_cases:
    inputs = {"input": rand(n, c, h, w), "weight": rand(o, c // g, *k)}
    if bias:
        inputs["bias"] = rand(o)
    top, bottom, left, right = p

    def conv(input, weight, bias=None, s=s, d=d, g=g, p=p):
        return F.conv2d(F.pad(input, (p[2], p[3], p[0], p[1])), weight, bias, stride=s, dilation=d, groups=g)
    add(name, "conv2d", {"stride": list(s), "padding": list(p), "dilation": list(d), "groups": g}, inputs, conv)

# unfold: (N, C, H, W, kernel, stride, padding, dilation)
for name, n, c, h, w, k, s, p, d in [("unfold3", 2, 2, 5, 6, (3, 3), (1, 1), (1, 1), (1, 1)),
                                     ("unfold_stride_dilation", 1, 3, 8, 7, (2, 3), (2, 1), (1, 0), (2, 1)),
                                     ("unfold_nonoverlap", 1, 2, 6, 4, (2, 2), (2, 2), (0, 0), (1, 1))]:
    add(name, "unfold", {"kernel": list(k), "stride": list(s), "padding": list(p), "dilation": list(d)},
        {"input": rand(n, c, h, w)},
        lambda input, k=k, s=s, p=p, d=d: F.unfold(input, k, dilation=d, padding=p, stride=s))

# max_pool2d: distinct values so the arg-max (and its gradient) is unique.
for name, shape, k, s, p, d in [("max2", (2, 2, 6, 7), (2, 2), (2, 2), (0, 0), (1, 1)),
                                ("max3_pad_stride2_odd", (1, 3, 7, 9), (3, 3), (2, 2), (1, 1), (1, 1)),
                                ("max_rect_dilated", (1, 2, 9, 8), (3, 2), (1, 2), (1, 0), (2, 1))]:
    count = torch.tensor(shape).prod().item()
    x = (torch.randperm(count).to(torch.float32) / 16 - count / 32).reshape(shape)
    add(name, "maxPool2d", {"kernel": list(k), "stride": list(s), "padding": list(p), "dilation": list(d)},
        {"input": x}, lambda input, k=k, s=s, p=p, d=d: F.max_pool2d(input, k, s, p, d))

for name, shape, k, s, p, cip in [("avg2", (2, 2, 6, 7), (2, 2), (2, 2), (0, 0), True),
                                  ("avg3_pad_include", (1, 3, 7, 9), (3, 3), (2, 2), (1, 1), True),
                                  ("avg3_pad_exclude", (1, 3, 7, 9), (3, 3), (2, 2), (1, 1), False),
                                  ("avg_rect_stride1", (1, 2, 5, 6), (3, 2), (1, 1), (1, 1), False)]:
    add(name, "avgPool2d", {"kernel": list(k), "stride": list(s), "padding": list(p), "count_include_pad": cip},
        {"input": rand(*shape)},
        lambda input, k=k, s=s, p=p, cip=cip: F.avg_pool2d(input, k, s, p, count_include_pad=cip))

for name, shape, size in [("adaptive_7x5_to_3x2", (2, 2, 7, 5), (3, 2)),
                          ("adaptive_5x5_to_1x1", (1, 3, 5, 5), (1, 1)),
                          ("adaptive_4x6_to_6x4", (1, 2, 4, 6), (6, 4))]:
    add(name, "adaptiveAvgPool2d", {"size": list(size)}, {"input": rand(*shape)},
        lambda input, size=size: F.adaptive_avg_pool2d(input, size))

for name, shape, size in [("up_5x4_to_9x7", (1, 2, 5, 4), (9, 7)), ("down_9x8_to_4x3", (2, 2, 9, 8), (4, 3)),
                          ("to_1x1", (1, 1, 4, 5), (1, 1)), ("mixed_3x7_to_8x5", (1, 2, 3, 7), (8, 5))]:
    for ac in (True, False):
        add(f"bilinear_{name}_{'ac' if ac else 'noac'}", "resizeBilinear",
            {"size": list(size), "align_corners": ac}, {"input": rand(*shape)},
            lambda input, size=size, ac=ac: F.interpolate(input, size=size, mode="bilinear", align_corners=ac))

# batch_norm, training: batch statistics and the running-statistics update (momentum 0.1).
for name, shape in [("bn_train", (3, 4, 5, 3)), ("bn_train_1x1", (5, 3, 1, 1))]:
    c = shape[1]
    rm, rv = rand(c) / 4, rand(c).abs() + 0.5
    rm2, rv2 = rm.clone(), rv.clone()
    x = rand(*shape) * 2 + 0.5
    add(name, "batchNorm2d", {"training": True, "momentum": 0.1, "epsilon": 1e-3,
                              "running_mean": enc(rm), "running_var": enc(rv)},
        {"input": x, "weight": rand(c), "bias": rand(c)},
        lambda input, weight, bias: F.batch_norm(input, rm2, rv2, weight, bias, True, 0.1, 1e-3),
        extra={"running_mean": rm2, "running_var": rv2})
c = 4
rm, rv = rand(c) / 4, rand(c).abs() + 0.5
add("bn_eval", "batchNorm2d", {"training": False, "momentum": 0.1, "epsilon": 1e-3,
                               "running_mean": enc(rm), "running_var": enc(rv)},
    {"input": rand(2, c, 3, 5), "weight": rand(c), "bias": rand(c)},
    lambda input, weight, bias: F.batch_norm(input, rm, rv, weight, bias, False, 0.1, 1e-3))

OUT.write_text(json.dumps({"generator": "Tools/reference/make_vision_fixtures.py",
                           "torch": torch.__version__, "cases": cases}, separators=(",", ":")) + "\n")
print(f"{OUT}: {len(cases)} cases, {OUT.stat().st_size} bytes")
