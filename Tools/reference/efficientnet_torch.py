"""EfficientNet-Lite in plain PyTorch, built from an MLCore checkpoint (data/models/efficientnet-lite0.h5):
the reference for MLCore's EfficientNetLite (parity fixture, Tools/reference/make_efficientnet_fixture.py)
and the peer of its benchmark (Benchmarks/peers/efficientnet_torch_bench.py).

Mirrors the forward pass of efficientnet_pytorch's EfficientNet / MBConvBlock (lukemelas, as adapted for
the Lite variant by ml-illustrated/EfficientNet-Lite-PyTorch): stem conv + BN + ReLU6, MBConv blocks
(expand 1x1 + BN + ReLU6 when expand_ratio != 1, depthwise + BN + ReLU6, project 1x1 + BN, identity skip
when stride 1 and channels equal), head 1x1 conv + BN + ReLU6, global average pool, Linear. Every
convolution pads like TensorFlow "SAME" (Conv2dStaticSamePadding: F.pad with
[pw // 2, pw - pw // 2, ph // 2, ph - ph // 2]). Evaluation mode by default; in `.train()` mode the
BatchNorms use batch statistics and update the running ones with momentum 0.01 (no dropout or drop
connect: the benchmark's training step turns them off on both sides).
"""
import json
import math

import h5py
import numpy as np
import torch
import torch.nn.functional as F


def load_checkpoint(path):
    """(config dict, {dotted name: torch tensor}) from an MLCore checkpoint."""
    params = {}
    with h5py.File(path, "r") as f:
        config = json.loads(f.attrs["config"])

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                params[name.replace("/", ".")] = torch.from_numpy(np.array(obj))
        f["params"].visititems(visit)
    return config, params


class EfficientNetLite(torch.nn.Module):
    def __init__(self, config, params):
        super().__init__()
        self.config = config
        self.eps = config["batch_norm_epsilon"]
        self.p = {k: v for k, v in params.items() if v.dtype != torch.int64}

    def conv(self, x, name, stride=1, groups=1):
        w = self.p[name + ".weight"]
        ih, iw = x.shape[-2:]
        kh, kw = w.shape[-2:]
        oh, ow = math.ceil(ih / stride), math.ceil(iw / stride)
        ph = max((oh - 1) * stride + kh - ih, 0)
        pw = max((ow - 1) * stride + kw - iw, 0)
        if ph or pw:
            x = F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])
        return F.conv2d(x, w, None, stride, 0, 1, groups)

    def bn(self, x, name):
        p = self.p
        return F.batch_norm(x, p[name + ".running_mean"], p[name + ".running_var"], p[name + ".weight"],
                            p[name + ".bias"], self.training, 0.01, self.eps)

    def forward(self, x, taps=(), blocks_only=False):
        """x [N, 3, H, W] normalised -> logits [N, classes] (and the outputs of the blocks in `taps`);
        with `blocks_only`, only the tapped outputs, computed up to the last tapped block (as MLCore's
        `EfficientNetLite.stageOutputs`)."""
        x = F.relu6(self.bn(self.conv(x, "_conv_stem", 2), "_bn0"))
        tapped = {}
        for i, b in enumerate(self.config["blocks"]):
            pre = f"_blocks.{i}."
            h = x
            if b["expand_ratio"] != 1:
                h = F.relu6(self.bn(self.conv(h, pre + "_expand_conv"), pre + "_bn0"))
            h = F.relu6(self.bn(self.conv(h, pre + "_depthwise_conv", b["stride"], groups=h.shape[1]), pre + "_bn1"))
            h = self.bn(self.conv(h, pre + "_project_conv"), pre + "_bn2")
            if b["stride"] == 1 and b["in_channels"] == b["out_channels"]:
                h = h + x
            x = h
            if i in taps:
                tapped[i] = x
            if blocks_only and i == max(taps):
                return tapped
        x = F.relu6(self.bn(self.conv(x, "_conv_head"), "_bn1"))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        logits = F.linear(x, self.p["_fc.weight"], self.p["_fc.bias"])
        return (logits, tapped) if taps else logits


def normalise(images_uint8, config):
    """uint8 [N, H, W, 3] RGB -> float32 [N, 3, H, W] with the checkpoint's mean/std."""
    pre = config["preprocessing"]
    x = torch.from_numpy(np.ascontiguousarray(images_uint8)).permute(0, 3, 1, 2).to(torch.float32)
    mean = torch.tensor(pre["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(pre["std"]).view(1, 3, 1, 1)
    return ((x - mean) / std).contiguous()
