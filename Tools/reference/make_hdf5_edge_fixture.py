#!/usr/bin/env python3
"""Generates Tests/Fixtures/hdf5_edge_cases.h5 (8 KB): an HDF5 file with what `mlcore inspect` must
list without failing (issue 28): compound and opaque attributes and a compound dataset, a null
dataspace (attribute and dataset) beside a scalar, NaN with a sign and a payload, ±infinity, a 2-D
attribute, uint64 values 2⁶³ + 5 and 2⁶⁴ − 1, names with control characters, and a dataset
compressed with h5py's own lzf filter (32000), which plain HDF5 builds lack.

Run with the project venv (h5py, numpy): .venv/bin/python Tools/reference/make_hdf5_edge_fixture.py
"""
from pathlib import Path

import h5py
import numpy as np

OUT = Path(__file__).resolve().parents[2] / "Tests" / "Fixtures" / "hdf5_edge_cases.h5"

with h5py.File(OUT, "w", track_order=False) as f:
    f.attrs["compound"] = np.array([(1, 2.5)], dtype=[("a", "<i4"), ("b", "<f8")])
    f.attrs["opaque"] = np.void(b"\x01\x02\x03")
    f.attrs["nan"] = np.float64("nan")
    # A negative NaN with a payload (C printf spells it "-nan", Swift "nan(0x123)").
    f.attrs["nan_payload"] = np.array([0xFFF8000000000123], dtype="<u8").view("<f8")[0]
    f.attrs["infinities"] = np.array([np.inf, -np.inf, 1.5])
    f.attrs["matrix"] = np.arange(6, dtype="<i8").reshape(2, 3)
    f.attrs["u64_max"] = np.uint64(2**64 - 1)
    f.attrs["u64_big"] = np.array([2**63 + 5, 1], dtype="<u8")
    f.attrs.create("null", data=h5py.Empty("<f4"))
    f.create_dataset("lzf", data=np.zeros(1000, dtype="<f4"), chunks=(1000,), compression="lzf")  # compresses: really filtered
    f.create_dataset("null_dataset", data=h5py.Empty("<f4"))
    f.create_dataset("scalar", data=np.float32(3))
    f.create_dataset("table", data=np.array([(1, 0.5), (2, 1.5)], dtype=[("x", "<i2"), ("y", "<f4")]))
    f.create_dataset("u64", data=np.array([2**63 + 5, 2**64 - 1], dtype="<u8"))
    f.create_dataset("bad\nname\x1b[31m", data=np.zeros(2, dtype="<f4"))
    f.create_group("tab\there")
print(OUT, OUT.stat().st_size, "bytes")
