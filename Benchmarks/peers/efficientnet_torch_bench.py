#!/usr/bin/env python3
"""The PyTorch side of the EfficientNet-Lite0 benchmark: the same network and weights
(Tools/reference/efficientnet_torch.py on data/models/efficientnet-lite0.h5), eager mode, evaluation,
torch.inference_mode, a batch of 16 images of 224x224 in NCHW and in channels_last, timed as Benchmarks/mlcore-bench times MLCore
(one warm-up, median of repeats); and one training step of REB's DefectMaker self-supervision
(`efficientnet_lite0_train_step_b28`: 28 images in training mode up to the last stage, average pool,
MLP head 320-512-256-7 with BatchNorm and ReLU, sigmoid BCE, backward, SGD with momentum 0.9 and
weight decay 3e-5), as Benchmarks/mlcore-bench/ModelBench.swift. Threads as MLCore's (--threads, default all cores); run it under the
same OPENBLAS_CORETYPE (the Makefile exports it). Needs torch (`make torch-venv`; `make bench-models`
runs it). JSON like mlcore-bench's, with the environment recorded."""
import argparse
import json
import os
import platform
import sys
from pathlib import Path

# libgomp's default (active) wait makes PyTorch's 2 threads spin against the other processes of this
# shared machine: 2.4 s instead of 0.36 s per batch under load. PASSIVE is the peer's best setting
# here and the default of this script (pass OMP_WAIT_POLICY=ACTIVE to measure the other); it must be
# set before torch loads libgomp.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Tools" / "reference"))
from efficientnet_torch import EfficientNetLite, load_checkpoint  # noqa: E402
from timing import measure  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--output")
p.add_argument("--repeats", type=int, default=7)
p.add_argument("--threads", type=int, default=os.cpu_count())
p.add_argument("--checkpoint", default="data/models/efficientnet-lite0.h5")
p.add_argument("--filter", help="only cases whose name contains this")
args = p.parse_args()

torch.set_num_threads(args.threads)
config, params = load_checkpoint(args.checkpoint)
model = EfficientNetLite(config, params).eval()
x = torch.empty(16, 3, 224, 224).uniform_(-1, 1, generator=torch.Generator().manual_seed(2))


x_last = x.contiguous(memory_format=torch.channels_last)


def run(inputs):
    with torch.inference_mode():
        model(inputs)


# Default NCHW and channels_last (NHWC, oneDNN's preferred layout, faster here): both are reported.
# Each case in its own process (--filter) for its peak RSS.
cases = [("efficientnet_lite0_b16", x), ("efficientnet_lite0_b16_channels_last", x_last)]
results = [measure(name, "cnn", 16e9, "images/s", lambda inputs=inputs: run(inputs), args.repeats)
           for name, inputs in cases if not args.filter or args.filter in name]

TRAIN = "efficientnet_lite0_train_step_b28"
if not args.filter or args.filter in TRAIN:
    trained = EfficientNetLite(config, {k: v.clone() for k, v in params.items()}).train()
    backbone = [v.requires_grad_() for k, v in trained.p.items() if "running_" not in k]
    head = torch.nn.Sequential(torch.nn.Linear(config["blocks"][-1]["out_channels"], 512), torch.nn.BatchNorm1d(512),
                               torch.nn.ReLU(), torch.nn.Linear(512, 256), torch.nn.BatchNorm1d(256), torch.nn.ReLU(),
                               torch.nn.Linear(256, 7))
    optimizer = torch.optim.SGD(backbone + list(head.parameters()), lr=0.03, momentum=0.9, weight_decay=3e-5)
    images = torch.empty(28, 3, 224, 224).uniform_(-1, 1, generator=torch.Generator().manual_seed(2))
    targets = torch.nn.functional.one_hot(torch.arange(28) % 7, 7).float()
    last = len(config["blocks"]) - 1

    def train_step():
        optimizer.zero_grad()
        taps = trained(images, taps=(last,), blocks_only=True)
        logits = head(taps[last].mean(dim=(2, 3)))
        torch.nn.functional.binary_cross_entropy_with_logits(logits, targets).backward()
        optimizer.step()
    results.append(measure(TRAIN, "cnn", 28e9, "images/s", train_step, args.repeats))
doc = {"tool": "efficientnet_torch_bench", "results": results, "environment": {
    "torch": torch.__version__, "threads": torch.get_num_threads(), "cpu": platform.processor() or platform.machine(),
    "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"), "OMP_WAIT_POLICY": os.environ["OMP_WAIT_POLICY"],
    "mkldnn": torch.backends.mkldnn.is_available(),
    "config": torch.__config__.show().splitlines()[:12], "repeats": args.repeats}}
text = json.dumps(doc, indent=1, sort_keys=True) + "\n"
if args.output:
    Path(args.output).write_text(text)
else:
    print(text, end="")
