"""Shared HDF5 writing helpers for the converters in Tools/data (layout: Docs/CHECKPOINT_FORMAT.md).

Every output file carries the same root attributes (`format`, `format_version`, `name`, `source`,
`license`, `converter`, `converter_version`; models add `architecture` and `config`), so the Swift
side can check provenance and reject stale files without knowing which converter wrote them.

Type conventions, chosen so that the Swift reader (system HDF5 1.10, C API) needs no special cases:
- strings are variable-length UTF-8, attributes and datasets alike;
- integer attributes are int64 scalars; booleans are int64 0/1 (h5py would store numpy bools as an
  HDF5 enum, which the C API does not convert to an integer type);
- JSON values (config, source, label names) are stored as UTF-8 JSON text with sorted keys.
"""

import json
from pathlib import Path

import h5py
import numpy as np

FORMAT_VERSION = 1
FORMATS = {"model": "mlcore-checkpoint", "dataset": "mlcore-dataset"}

# One variable-length UTF-8 string type for attributes and string datasets.
STRING = h5py.string_dtype(encoding="utf-8")


class ConversionError(Exception):
    """The source does not look as the converter expects (bad magic, shape, count...)."""


def create(path: Path) -> h5py.File:
    """Open `path` for writing (truncating it).

    Object formats are capped at HDF5 1.10's: h5py's wheel bundles HDF5 2.x, while the Swift side
    links the system library (Debian 12: 1.10.8), which cannot read formats introduced after it.
    """
    return h5py.File(path, "w", libver=("earliest", "v110"))


def set_str(obj, name: str, value: str) -> None:
    obj.attrs.create(name, value, dtype=STRING)


def set_int(obj, name: str, value: int) -> None:
    obj.attrs.create(name, np.int64(value))


def set_bool(obj, name: str, value: bool) -> None:
    obj.attrs.create(name, np.int64(1 if value else 0))


def set_json(obj, name: str, value) -> None:
    set_str(obj, name, json.dumps(value, sort_keys=True, ensure_ascii=False))


def write_root(f: h5py.File, entry: dict, members, *, architecture: str | None = None,
               config: dict | None = None) -> None:
    """Write the root attributes common to every output.

    `entry` is the datasets.toml table plus its `name`; `members` is the path (or list of paths)
    inside the wheel that the output was built from.
    """
    kind = entry["kind"]
    set_str(f, "format", FORMATS[kind])
    set_int(f, "format_version", FORMAT_VERSION)
    set_str(f, "name", entry["name"])
    set_json(f, "source", {
        "registry": entry["registry"],
        "package": entry["package"],
        "version": entry["version"],
        "file": entry["file"],
        "sha256": entry["sha256"],
        "member": members,
    })
    set_str(f, "license", entry["license"])
    set_str(f, "converter", entry["converter"])
    set_int(f, "converter_version", entry["converter_version"])
    if kind == "model":
        if architecture is None or config is None:
            raise ValueError("a model needs `architecture` and `config`")
        set_str(f, "architecture", architecture)
        set_json(f, "config", config)


def write_params(f: h5py.File, params, tensor_attrs: dict | None = None) -> str:
    """Write a state dict under /params, one nested group per dotted-name component.

    `embeddings.word_embeddings.weight` becomes /params/embeddings/word_embeddings/weight. Floating
    tensors are stored as float32, integer buffers keep their integer type; C order, source shape
    (0-d tensors stay scalar datasets). `params` is a dict or an iterable of (name, array) pairs (a
    generator keeps one tensor in memory at a time); `tensor_attrs` maps a name to extra string
    attributes for its dataset. Returns a summary ("104 tensors, 22.71M parameters").
    """
    root = f.create_group("params")
    count = total = 0
    for name, array in (params.items() if isinstance(params, dict) else params):
        array = np.asarray(array)
        if array.dtype.kind == "f":
            array = array.astype(np.float32, copy=False)
        elif array.dtype.kind not in "iu":
            raise ConversionError(f"tensor {name}: unsupported dtype {array.dtype}")
        *groups, leaf = name.split(".")
        group = root
        for part in groups:
            group = group.require_group(part)
        dataset = group.create_dataset(leaf, data=np.asarray(array, order="C"))
        for key, value in (tensor_attrs or {}).get(name, {}).items():
            set_str(dataset, key, value)
        count += 1
        total += array.size
    return f"{count} tensors, {total / 1e6:.2f}M parameters"


def string_dataset(group, name: str, values) -> h5py.Dataset:
    """A 1-D dataset of variable-length UTF-8 strings (index = position in `values`)."""
    return group.create_dataset(name, data=list(values), dtype=STRING)


def string_scalar(group, name: str, value: str) -> h5py.Dataset:
    """A scalar variable-length UTF-8 string dataset (for long texts such as tokenizer.json)."""
    return group.create_dataset(name, data=value, dtype=STRING)
