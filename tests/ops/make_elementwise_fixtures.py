#!/usr/bin/python3
"""Writes elementwise_fixtures.json: PyTorch's values and gradients of every floating elementwise
primitive of core/include/loom/ops.def (its LOOM_UNARY_FLOAT and LOOM_BINARY_FLOAT rows, read
from the file, so a new row is picked up by running this again), in float64.

Run with Debian's interpreter (python3-torch 1.13; the JSON is committed and the tests never need
PyTorch):
    /usr/bin/python3 tests/ops/make_elementwise_fixtures.py

For each op: the inputs, the output and the gradient of sum(output) with respect to each input.
Non-finite numbers are written as the strings "nan", "inf" and "-inf" (JSON has none).
"""
import json
import math
import os
import re

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OPS_DEF = os.path.join(HERE, "..", "..", "core", "include", "loom", "ops.def")

# Both signs, zero and values past 1: domain edges (log of a negative, rsqrt of 0, lgamma's poles)
# are part of what must match PyTorch.
UNARY_INPUTS = [-2.5, -1.3, -0.4, 0.0, 0.2, 0.7, 1.6, 2.9]
BINARY_A = [-1.5, 0.0, 0.8, 2.0]
BINARY_B = [-1.0, 0.5, 1.7]


def number(v):
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def listed(t):
    return [number(v) for v in t.detach().reshape(-1).tolist()]


def rows(kind):
    text = open(OPS_DEF).read()
    return re.findall(r"^LOOM_%s_FLOAT\((\w+)," % kind, text, flags=re.M)


def case(fn, inputs):
    leaves = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in inputs]
    out = fn(*leaves)
    grads = torch.autograd.grad(out.sum(), leaves)
    return {"inputs": [listed(x) for x in leaves], "output": listed(out), "grads": [listed(g) for g in grads]}


def main():
    cases = {}
    for name in rows("UNARY"):
        cases[name] = case(getattr(torch, name), [UNARY_INPUTS])
    for name in rows("BINARY"):
        a = [x for x in BINARY_A for _ in BINARY_B]
        b = [y for _ in BINARY_A for y in BINARY_B]
        cases[name] = case(getattr(torch, name), [a, b])
    path = os.path.join(HERE, "elementwise_fixtures.json")
    lines = ['  "%s": %s' % (name, json.dumps(cases[name], sort_keys=True)) for name in sorted(cases)]
    with open(path, "w") as f:  # one line per op, so that a new row is a one-line diff
        f.write('{"torch_version": "%s",\n "cases": {\n%s\n }\n}\n' % (torch.__version__, ",\n".join(lines)))
    print("wrote", path, "with", len(cases), "ops")


if __name__ == "__main__":
    main()
