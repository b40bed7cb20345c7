#!/usr/bin/env python3
"""Generates Tests/Fixtures/nn_blocks.json: PyTorch (CPU, float64) results of MLCore's NN building
blocks and graph ops.

Each case: {"name", "op", "args", "inputs": {name: {"shape", "data"}}, "indices": {name: {"shape",
"data"}} (integer arrays), "params": {torch state-dict key: {"shape", "data"}}, "upstream",
"expected": {"output", "grad_<input>", "grad_<param key>", extra state}}; gradients are of
sum(output * upstream). Ops mirrored: torch.nn.MultiheadAttention (batch_first, self and cross
attention, packed and separate projections, key padding and causal masks), torch.nn.GroupNorm,
torch.nn.BatchNorm1d (training with the running update, evaluation), torch.nn.functional.conv_transpose2d,
torch.nn.functional.interpolate (nearest; bilinear through torch.nn.Upsample), diffusers'
get_timestep_embedding (re-stated below from diffusers/models/embeddings.py), torch.gather,
torch.Tensor.scatter_add, torch.index_select, torch.Tensor.index_add, and segment softmax as PyG's
torch_geometric.utils.softmax computes it (scatter_reduce amax, exp, index_add, division).

Run with the torch venv (Tools/reference/requirements-torch.txt; `make torch-venv`):
  .venv-torch/bin/python Tools/reference/make_nn_block_fixtures.py   (torch 2.13.0+cpu)
"""
import json
import math
from pathlib import Path

import torch
import torch.nn.functional as F

torch.manual_seed(20261207)
torch.set_default_dtype(torch.float64)
OUT = Path(__file__).resolve().parents[2] / "Tests" / "Fixtures" / "nn_blocks.json"
cases = []


def enc(t):
    t = t.detach().to(torch.float64).contiguous()
    return {"shape": list(t.shape), "data": [float(f"{v:.12g}") for v in t.reshape(-1).tolist()]}


def enc_int(t):
    return {"shape": list(t.shape), "data": [int(v) for v in t.reshape(-1).tolist()]}


def rand(*shape):
    # Values on a 1/64 grid are exact in float32, so both sides start from the same inputs.
    return torch.randint(-128, 129, shape).to(torch.float64) / 64


def add(name, op, args, inputs, fn, indices=None, module=None, extra=None):
    leaves = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    params = {}
    if module is not None:
        for k, p in module.named_parameters():
            params[k] = p.detach().clone()
        module.zero_grad()
    out = fn(**leaves)
    upstream = rand(*out.shape)
    (out * upstream).sum().backward()
    expected = {"output": enc(out)}
    for k, v in leaves.items():
        expected["grad_" + k] = enc(v.grad)
    if module is not None:
        for k, p in module.named_parameters():
            expected["grad_" + k] = enc(p.grad)
    if extra:
        expected.update({k: enc(v) for k, v in extra().items()})
    cases.append({"name": name, "op": op, "args": args, "inputs": {k: enc(v) for k, v in inputs.items()},
                  "indices": {k: enc_int(v) for k, v in (indices or {}).items()},
                  "params": {k: enc(v) for k, v in params.items()}, "upstream": enc(upstream), "expected": expected})


def randomize(module):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(rand(*p.shape) / 2)
    return module


# Multi-head attention (batch_first=True, need_weights=False).
def causal_mask(t, s):
    return torch.full((t, s), float("-inf")).triu(1 + s - t)


mha = randomize(torch.nn.MultiheadAttention(8, 2, batch_first=True))
add("mha_self", "mha", {"embed": 8, "heads": 2, "self": True, "causal": False}, {"query": rand(2, 5, 8)},
    lambda query: mha(query, query, query, need_weights=False)[0], module=mha)
padding = torch.tensor([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]])
add("mha_self_padding_causal", "mha", {"embed": 8, "heads": 2, "self": True, "causal": True}, {"query": rand(2, 5, 8)},
    lambda query: mha(query, query, query, key_padding_mask=padding.bool(), attn_mask=causal_mask(5, 5),
                      need_weights=False)[0], indices={"key_padding_mask": padding}, module=mha)
mha_cross = randomize(torch.nn.MultiheadAttention(8, 4, batch_first=True))
cross_padding = torch.tensor([[0, 0, 0, 0], [0, 0, 1, 1]])
add("mha_cross_packed", "mha", {"embed": 8, "heads": 4, "self": False, "causal": False},
    {"query": rand(2, 3, 8), "key": rand(2, 4, 8), "value": rand(2, 4, 8)},
    lambda query, key, value: mha_cross(query, key, value, key_padding_mask=cross_padding.bool(), need_weights=False)[0],
    indices={"key_padding_mask": cross_padding}, module=mha_cross)
mha_kv = randomize(torch.nn.MultiheadAttention(8, 2, kdim=6, vdim=4, batch_first=True))
add("mha_cross_kdim_vdim", "mha", {"embed": 8, "heads": 2, "kdim": 6, "vdim": 4, "self": False, "causal": False},
    {"query": rand(2, 3, 8), "key": rand(2, 5, 6), "value": rand(2, 5, 4)},
    lambda query, key, value: mha_kv(query, key, value, need_weights=False)[0], module=mha_kv)
add("mha_cross_causal", "mha", {"embed": 8, "heads": 2, "kdim": 6, "vdim": 4, "self": False, "causal": True},
    {"query": rand(1, 3, 8), "key": rand(1, 5, 6), "value": rand(1, 5, 4)},
    lambda query, key, value: mha_kv(query, key, value, attn_mask=causal_mask(3, 5), need_weights=False)[0], module=mha_kv)

# GroupNorm.
for name, shape, groups, affine in [("groupnorm_2d", (2, 6, 3, 4), 3, True), ("groupnorm_1d", (2, 4, 5), 2, True),
                                    ("groupnorm_one_group", (3, 4, 2, 2), 1, True), ("groupnorm_no_affine", (2, 6, 3), 6, False)]:
    gn = randomize(torch.nn.GroupNorm(groups, shape[1], eps=1e-5, affine=affine))
    add(name, "groupNorm", {"groups": groups, "affine": affine, "epsilon": 1e-5}, {"input": rand(*shape) + 0.5},
        lambda input, gn=gn: gn(input), module=gn)

# BatchNorm1d: training (batch statistics, running update) and evaluation.
for name, shape, training in [("batchnorm1d_2d_train", (5, 3), True), ("batchnorm1d_3d_train", (3, 2, 4), True),
                              ("batchnorm1d_3d_eval", (3, 2, 4), False)]:
    bn = randomize(torch.nn.BatchNorm1d(shape[1], eps=1e-5, momentum=0.1))
    with torch.no_grad():
        bn.running_mean.copy_(rand(shape[1]) / 4)
        bn.running_var.copy_(rand(shape[1]).abs() + 0.5)
    running = {"running_mean": bn.running_mean.clone(), "running_var": bn.running_var.clone()}
    bn.train(training)
    add(name, "batchNorm1d", {"training": training, "running_mean": enc(running["running_mean"]),
                              "running_var": enc(running["running_var"])}, {"input": rand(*shape)},
        lambda input, bn=bn: bn(input), module=bn,
        extra=lambda bn=bn: {"running_mean": bn.running_mean, "running_var": bn.running_var})

# conv_transpose2d: (N, C_in, H, W, C_out, kernel, stride, padding, output_padding, dilation, groups, bias)
for name, n, c, h, w, o, k, s, p, op, d, g, bias in [
        ("convt_plain", 2, 3, 4, 5, 2, (3, 3), (1, 1), (0, 0), (0, 0), (1, 1), 1, True),
        ("convt_stride2_pad1_outpad1", 1, 2, 3, 4, 3, (3, 3), (2, 2), (1, 1), (1, 1), (1, 1), 1, True),
        ("convt_k2_s2", 2, 4, 3, 3, 2, (2, 2), (2, 2), (0, 0), (0, 0), (1, 1), 1, False),
        ("convt_rect_groups_dilation", 1, 4, 3, 4, 6, (2, 3), (2, 1), (1, 1), (0, 0), (2, 1), 2, True)]:
    inputs = {"input": rand(n, c, h, w), "weight": rand(c, o // g, *k)}
    if bias:
        inputs["bias"] = rand(o)

    def convt(input, weight, bias=None, s=s, p=p, op=op, d=d, g=g):
        return F.conv_transpose2d(input, weight, bias, stride=s, padding=p, output_padding=op, groups=g, dilation=d)
    add(name, "convTranspose2d", {"stride": list(s), "padding": list(p), "output_padding": list(op), "dilation": list(d),
                                  "groups": g}, inputs, convt)

# Upsampling: nearest by size (integer and non-integer ratios), torch.nn.Upsample nearest and bilinear.
for name, shape, size in [("nearest_x2", (1, 2, 3, 4), (6, 8)), ("nearest_ratio", (2, 1, 5, 3), (7, 5)),
                          ("nearest_down", (1, 2, 6, 5), (4, 3))]:
    add(name, "resizeNearest", {"size": list(size)}, {"input": rand(*shape)},
        lambda input, size=size: F.interpolate(input, size=size, mode="nearest"))
for name, scale, mode, align in [("upsample_nearest_2x3", (2, 3), "nearest", None),
                                 ("upsample_bilinear_2", (2, 2), "bilinear", False),
                                 ("upsample_bilinear_2_align", (2, 2), "bilinear", True)]:
    up = torch.nn.Upsample(scale_factor=scale, mode=mode, align_corners=align)
    add(name, "upsample", {"scale": list(scale), "mode": mode, "align_corners": bool(align)}, {"input": rand(1, 2, 3, 4)},
        lambda input, up=up: up(input))


# diffusers.models.embeddings.get_timestep_embedding, re-stated (same operations, float64 here).
def get_timestep_embedding(timesteps, embedding_dim, flip_sin_to_cos=False, downscale_freq_shift=1, scale=1,
                           max_period=10000):
    half_dim = embedding_dim // 2
    exponent = -math.log(max_period) * torch.arange(start=0, end=half_dim, dtype=torch.float64)
    exponent = exponent / (half_dim - downscale_freq_shift)
    emb = torch.exp(exponent)
    emb = timesteps[:, None].to(torch.float64) * emb[None, :]
    emb = scale * emb
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
    if flip_sin_to_cos:
        emb = torch.cat([emb[:, half_dim:], emb[:, :half_dim]], dim=-1)
    if embedding_dim % 2 == 1:
        emb = F.pad(emb, (0, 1, 0, 0))
    return emb


steps = torch.tensor([0.0, 1.0, 10.5, 999.0])
for name, dim, flip, shift, scale in [("timestep_default", 8, False, 1, 1), ("timestep_unet", 16, True, 0, 1),
                                      ("timestep_odd_scaled", 7, False, 1, 2.5)]:
    cases.append({"name": name, "op": "timestep", "args": {"dimension": dim, "flip_sin_to_cos": flip,
                                                           "downscale_freq_shift": shift, "scale": scale},
                  "inputs": {"timesteps": enc(steps)}, "indices": {}, "params": {}, "upstream": enc(torch.zeros(0)),
                  "expected": {"output": enc(get_timestep_embedding(steps, dim, flip, shift, scale))}})

# Graph ops. Node features x [N, F], edges (src, dst) with repeated destinations and an isolated node.
N, E, Fdim = 6, 11, 3
src = torch.tensor([0, 1, 2, 3, 4, 5, 0, 2, 4, 1, 3])
dst = torch.tensor([1, 0, 1, 2, 2, 2, 4, 4, 0, 1, 0])  # node 3 and node 5 receive nothing
gidx = torch.randint(0, N, (E, Fdim))
add("index_select_rows", "indexSelect", {"axis": 0}, {"input": rand(N, Fdim)},
    lambda input: input.index_select(0, src), indices={"index": src})
add("index_select_axis1", "indexSelect", {"axis": 1}, {"input": rand(2, N, 2)},
    lambda input: input.index_select(1, src), indices={"index": src})
add("index_add_rows", "indexAdd", {"axis": 0}, {"input": rand(N, Fdim), "source": rand(E, Fdim)},
    lambda input, source: input.index_add(0, dst, source), indices={"index": dst})
add("index_add_axis1", "indexAdd", {"axis": 1}, {"input": rand(2, N, 2), "source": rand(2, E, 2)},
    lambda input, source: input.index_add(1, dst, source), indices={"index": dst})
add("gather_axis0", "gather", {"axis": 0}, {"input": rand(N, Fdim)},
    lambda input: input.gather(0, gidx), indices={"index": gidx})
add("gather_axis0_expanded", "gather", {"axis": 0}, {"input": rand(N, Fdim)},
    lambda input: input.gather(0, src.view(-1, 1).expand(E, Fdim)), indices={"index": src.view(-1, 1).expand(E, Fdim)})
gidx1 = torch.randint(0, 4, (3, 5, 2))
add("gather_axis1", "gather", {"axis": 1}, {"input": rand(3, 4, 2)},
    lambda input: input.gather(1, gidx1), indices={"index": gidx1})
add("scatter_add_axis0", "scatterAdd", {"axis": 0}, {"input": rand(N, Fdim), "source": rand(E, Fdim)},
    lambda input, source: input.scatter_add(0, gidx, source), indices={"index": gidx})
add("scatter_add_axis0_expanded", "scatterAdd", {"axis": 0}, {"input": rand(N, Fdim), "source": rand(E, Fdim)},
    lambda input, source: input.scatter_add(0, dst.view(-1, 1).expand(E, Fdim), source),
    indices={"index": dst.view(-1, 1).expand(E, Fdim)})
sidx1 = torch.randint(0, 4, (3, 6, 2))
add("scatter_add_axis1", "scatterAdd", {"axis": 1}, {"input": rand(3, 4, 2), "source": rand(3, 6, 2)},
    lambda input, source: input.scatter_add(1, sidx1, source), indices={"index": sidx1})
add("segment_sum", "segmentSum", {"axis": 0, "count": N}, {"input": rand(E, Fdim)},
    lambda input: torch.zeros(N, Fdim).index_add(0, dst, input), indices={"segments": dst})


def segment_softmax(values, index, count):
    """PyG's softmax (torch_geometric/utils/_softmax.py) along dim 0 for any trailing shape."""
    expanded = index.view(-1, *([1] * (values.dim() - 1))).expand_as(values)
    maxima = torch.zeros(count, *values.shape[1:]).scatter_reduce(0, expanded, values.detach(), reduce="amax",
                                                                  include_self=False)
    out = (values - maxima.index_select(0, index)).exp()
    sums = torch.zeros(count, *values.shape[1:]).index_add(0, index, out)
    return out / sums.index_select(0, index)


add("segment_softmax_2d", "segmentSoftmax", {"axis": 0, "count": N}, {"input": rand(E, Fdim) * 4},
    lambda input: segment_softmax(input, dst, N), indices={"segments": dst})
add("segment_softmax_1d_large", "segmentSoftmax", {"axis": 0, "count": N}, {"input": rand(E) * 40 + 100},
    lambda input: segment_softmax(input, dst, N), indices={"segments": dst})
add("segment_softmax_heads", "segmentSoftmax", {"axis": 0, "count": N}, {"input": rand(E, 2, 3)},
    lambda input: segment_softmax(input, dst, N), indices={"segments": dst})

OUT.write_text(json.dumps({"generator": "Tools/reference/make_nn_block_fixtures.py", "torch": torch.__version__,
                           "cases": cases}, sort_keys=True) + "\n")
print(f"{len(cases)} cases -> {OUT} ({OUT.stat().st_size} bytes)")
