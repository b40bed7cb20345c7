#!/usr/bin/env python3
"""Generates Tests/Fixtures/tensor_ops.json: reference results of MLCore tensor ops computed by numpy.

Each case: {"name", "op", "inputs": [{"shape", "data"}], "args": {...}, "expected": {"shape", "data"}
or {"ints": [...]} for integer results, "rtol", "atol"}. Float values are float32 values written
with Python's shortest round-trip repr; NaN/inf as the strings "nan", "inf", "-inf".
Reference math runs in float64 on the float32 inputs, then rounds to float32 (so the reference is
the correctly rounded result, and the tolerance is the kernel's error budget).

Run with the project venv: .venv/bin/python Tools/reference/make_tensor_fixtures.py
"""
import json
import math
from pathlib import Path

import numpy as np

rng = np.random.default_rng(20261130)
OUT = Path(__file__).resolve().parents[2] / "Tests" / "Fixtures" / "tensor_ops.json"
cases = []


def enc(x):
    x = np.asarray(x, dtype=np.float32)
    out = []
    for v in x.ravel().tolist():
        if math.isnan(v):
            out.append("nan")
        elif math.isinf(v):
            out.append("inf" if v > 0 else "-inf")
        else:
            out.append(v)
    return {"shape": list(x.shape), "data": out}


def rand(*shape, lo=-3.0, hi=3.0):
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


def add(name, op, inputs, expected, args=None, rtol=1e-6, atol=1e-6):
    case = {"name": name, "op": op, "inputs": [enc(x) for x in inputs], "args": args or {},
            "rtol": rtol, "atol": atol}
    if isinstance(expected, dict):
        case["expected"] = expected
    else:
        case["expected"] = enc(expected)
    cases.append(case)


f64 = lambda x: np.asarray(x, dtype=np.float64)

# Broadcasting binary ops: shape pairs cover same shape, trailing vector, leading 1s, scalar, both-sided.
pairs = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 3), (4, 1)), ((5,), ()), ((), (2, 3)),
         ((2, 3, 1), (1, 1, 5)), ((4, 1), (1, 20)), ((1,), (7,)), ((2, 0, 3), (3,)), ((37,), (37,))]
binary = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
          "maximum": np.maximum, "minimum": np.minimum}
for op, fn in binary.items():
    for sa, sb in pairs:
        a, b = rand(*sa), rand(*sb)
        if op == "div":
            b = np.where(np.abs(b) < 0.1, 0.5, b).astype(np.float32)
        add(f"{op}{sa}{sb}", op, [a, b], fn(f64(a), f64(b)))
a = rand(3, 4, lo=0.1, hi=3)
b = rand(4, lo=-2, hi=2)
add("pow(3,4)(4,)", "pow", [a, b], np.power(f64(a), f64(b)), rtol=2e-6)
for op, fn in {"equal": np.equal, "less": np.less, "greater": np.greater, "lessEqual": np.less_equal,
               "greaterEqual": np.greater_equal, "notEqual": np.not_equal}.items():
    a = rng.integers(-2, 3, size=(3, 5)).astype(np.float32)
    b = rng.integers(-2, 3, size=(5,)).astype(np.float32)
    add(f"{op}", op, [a, b], fn(a, b).astype(np.float32))
# NaN semantics of maximum/minimum and comparisons.
a = np.array([1, np.nan, 3, -np.inf, 0], dtype=np.float32)
b = np.array([np.nan, 2, 1, 5, -0.0], dtype=np.float32)
add("maximum-nan", "maximum", [a, b], np.maximum(a, b))
add("minimum-nan", "minimum", [a, b], np.minimum(a, b))
add("less-nan", "less", [a, b], np.less(a, b).astype(np.float32))
add("notEqual-nan", "notEqual", [a, b], np.not_equal(a, b).astype(np.float32))
# Views: a transposed left operand and a sliced one.
a = rand(4, 3)
b = rand(4, 3)
add("add-transposed-view", "add", [a, b.T.copy()], f64(a) + f64(b), args={"transposeSecond": True})

# Unary math on a wide range, plus special values.
special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, -1e-30, 1e-6, -1e-6], dtype=np.float32)
wide = np.concatenate([rand(300, lo=-20, hi=20), rand(100, lo=-1, hi=1), rand(50, lo=-0.01, hi=0.01),
                       np.array([88.0, 88.7, 89.0, -87.0, -87.5, -100.0, 50.0, -50.0], np.float32), special])
erf = np.vectorize(math.erf)
sig = lambda x: 1.0 / (1.0 + np.exp(-x))
unary = {
    "exp": (np.exp, wide, 2e-7 * 8, 1e-40),  # atol: subnormal results may differ in their last bit
    "tanh": (np.tanh, wide, 2e-7 * 8, 1e-7),
    "sigmoid": (sig, wide, 2e-7 * 8, 1e-7),
    "erf": (erf, wide, 1e-6, 2e-7),
    "gelu": (lambda x: 0.5 * x * (1 + erf(x / math.sqrt(2))), wide, 2e-6, 4e-7),
    "geluTanh": (lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))), wide, 2e-6, 4e-7),
    "silu": (lambda x: x * sig(x), wide, 2e-6, 1e-7),
    "relu": (lambda x: np.maximum(x, 0), wide, 0, 0),
    "relu6": (lambda x: np.minimum(np.maximum(x, 0), 6), wide, 0, 0),
    "abs": (np.abs, wide, 0, 0),
    "neg": (np.negative, wide, 0, 0),
    "square": (np.square, wide, 1e-7, 0),
    "sqrt": (np.sqrt, np.abs(wide), 1e-7, 0),
    "log": (np.log, np.concatenate([np.abs(rand(400, lo=1e-6, hi=1e6)), rand(50, lo=0.5, hi=2), special,
                                    np.array([1.0, 2.0, 1e-40, 3e38], np.float32)]), 2e-7 * 8, 1e-7),
}
with np.errstate(all="ignore"):
    for op, (fn, x, rtol, atol) in unary.items():
        add(op, op, [x], fn(f64(x)), rtol=rtol, atol=atol)

# Reductions with axes, keepdims, and an odd-sized long row.
x3 = rand(3, 5, 7)
for axes in [None, [0], [1], [2], [-1], [0, 2], [1, 2]]:
    ax = None if axes is None else tuple(axes)
    for keep in [False, True]:
        args = {"axes": axes, "keep": keep}
        add(f"sum{axes}{keep}", "sum", [x3], np.sum(f64(x3), axis=ax, keepdims=keep), args, rtol=1e-6, atol=1e-5)
        add(f"mean{axes}{keep}", "mean", [x3], np.mean(f64(x3), axis=ax, keepdims=keep), args, atol=1e-6)
        add(f"max{axes}{keep}", "max", [x3], np.max(x3, axis=ax, keepdims=keep), args, rtol=0, atol=0)
        add(f"min{axes}{keep}", "min", [x3], np.min(x3, axis=ax, keepdims=keep), args, rtol=0, atol=0)
        add(f"var{axes}{keep}", "variance", [x3], np.var(f64(x3), axis=ax, keepdims=keep), args, atol=1e-5)
        m = np.max(f64(x3), axis=ax, keepdims=True)
        lse = np.log(np.sum(np.exp(f64(x3) - m), axis=ax, keepdims=True)) + m
        if not keep:
            lse = np.squeeze(lse, axis=ax) if ax is not None else lse.reshape(())
        add(f"logSumExp{axes}{keep}", "logSumExp", [x3], lse, args, atol=2e-6)
add("var-unbiased", "variance", [x3], np.var(f64(x3), axis=1, ddof=1), {"axes": [1], "keep": False, "correction": 1}, atol=1e-5)
# A long row given by a pattern instead of data (keeps the fixture small): x[i] = (i·7919 mod 4093)/1024 − 1,
# exact in float32, so the Swift side rebuilds the same input.
long_row = ((np.arange(2 * 100003) * 7919 % 4093) / 1024.0 - 1.0).astype(np.float32).reshape(2, 100003)
add("sum-long", "sum", [long_row], np.sum(f64(long_row), axis=1), {"axes": [1], "keep": False}, rtol=1e-6, atol=1e-3)
cases[-1]["inputs"] = [{"shape": [2, 100003], "pattern": {"multiplier": 7919, "modulus": 4093, "scale": 1 / 1024, "shift": -1.0}}]
lse_in = np.array([[-np.inf, -np.inf, -np.inf], [0, -np.inf, 1000], [1, 2, 3]], np.float32)
with np.errstate(all="ignore"):
    m = np.max(f64(lse_in), axis=1, keepdims=True)
    ms = np.where(np.isinf(m), 0, m)
    ref = (np.log(np.sum(np.exp(f64(lse_in) - ms), axis=1, keepdims=True)) + ms)[:, 0]
add("logSumExp-inf", "logSumExp", [lse_in], ref, {"axes": [1], "keep": False})
xa = rand(4, 6)
xa[1, 2] = xa[1, 4] = 9.0  # a tie: the first index wins
add("argmax-1", "argmax", [xa], {"ints": np.argmax(xa, axis=1).tolist(), "shape": [4]}, {"axis": 1})
add("argmax-0", "argmax", [xa], {"ints": np.argmax(xa, axis=0).tolist(), "shape": [6]}, {"axis": 0})
add("argmin-1", "argmin", [xa], {"ints": np.argmin(xa, axis=1).tolist(), "shape": [4]}, {"axis": 1})

# Softmax / log-softmax over the last axis (fused row kernel) and another axis.
for shape, axis in [((4, 10), -1), ((2, 3, 17), -1), ((3, 4, 5), 1), ((2, 1000), -1)]:
    x = rand(*shape, lo=-10, hi=10)
    e = np.exp(f64(x) - np.max(f64(x), axis=axis, keepdims=True))
    sm = e / np.sum(e, axis=axis, keepdims=True)
    add(f"softmax{shape}{axis}", "softmax", [x], sm, {"axis": axis}, rtol=2e-6, atol=1e-7)
    add(f"logSoftmax{shape}{axis}", "logSoftmax", [x], np.log(sm), {"axis": axis}, rtol=2e-6, atol=2e-6)

# Matmul: shapes, batch broadcasting, transpose flags, vectors.
mm = [((3, 4), (4, 5), False, False), ((2, 3, 4), (4, 5), False, False), ((2, 1, 3, 4), (3, 4, 2), False, False),
      ((4, 3), (4, 5), True, False), ((3, 4), (5, 4), False, True), ((2, 4, 3), (2, 5, 4), True, True),
      ((4,), (4, 5), False, False), ((3, 4), (4,), False, False), ((1, 7), (7, 1), False, False),
      ((64, 33), (33, 65), False, False)]
for sa, sb, ta, tb in mm:
    a, b = rand(*sa), rand(*sb)
    A = np.swapaxes(f64(a), -1, -2) if ta else f64(a)
    B = np.swapaxes(f64(b), -1, -2) if tb else f64(b)
    add(f"matmul{sa}{sb}{ta}{tb}", "matmul", [a, b], np.matmul(A, B), {"transposeA": ta, "transposeB": tb},
        rtol=1e-5, atol=1e-5)
a, b = rand(5, 3), rand(4, 5)
add("matmul-transposed-views", "matmul", [a, b], np.matmul(f64(a).T, f64(b).T),
    {"viewTransposeA": True, "viewTransposeB": True}, rtol=1e-5, atol=1e-5)

# Shape ops.
x = rand(2, 3, 4)
add("permute", "permute", [x], np.transpose(x, (2, 0, 1)), {"order": [2, 0, 1]}, rtol=0, atol=0)
y1, y2 = rand(2, 1, 4), rand(2, 2, 4)
add("concat-axis1", "concatenate", [x, y1, y2], np.concatenate([x, y1, y2], axis=1), {"axis": 1}, rtol=0, atol=0)
z1 = rand(2, 3, 1)
add("concat-last", "concatenate", [x, z1], np.concatenate([x, z1], axis=2), {"axis": -1}, rtol=0, atol=0)
add("stack", "stack", [x, x * 2], np.stack([x, x * 2], axis=1), {"axis": 1}, rtol=0, atol=0)
add("indexSelect", "indexSelect", [x], np.take(x, [3, 0, 0, -1], axis=2), {"indices": [3, 0, 0, -1], "axis": 2}, rtol=0, atol=0)
idx = rng.integers(0, 3, size=(2, 3, 4))
add("gather", "gather", [x], np.take_along_axis(x, idx, axis=1), {"index": idx.ravel().tolist(), "indexShape": [2, 3, 4], "axis": 1}, rtol=0, atol=0)
cond = (rand(3, 4) > 0).astype(np.float32)
p, q = rand(3, 4), rand(4)
add("where", "where", [cond, p, q], np.where(cond != 0, p, q), rtol=0, atol=0)
add("maskedFill", "maskedFill", [p, cond[0]], np.where(cond[0] != 0, -1e9, p), {"value": -1e9}, rtol=0, atol=0)
add("slice-transpose-sum", "sliceTransposeAdd", [x], np.swapaxes(x[:, 1:3, :], 0, 2) + 1.0, rtol=0, atol=0)

OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps({"generator": "Tools/reference/make_tensor_fixtures.py", "numpy": np.__version__,
                           "cases": cases}, separators=(",", ":")))
print(f"wrote {len(cases)} cases to {OUT} ({OUT.stat().st_size} bytes)")
