#!/usr/bin/python3
"""Writes nonfinite_fixtures.json: PyTorch's outputs and gradients of every activation, loss and
reduction of Loom when one input element is NaN, +Inf or -Inf (issue 15: "numbers you can trust"
means a NaN in is a NaN out, as in PyTorch, never a quiet 0).

Run with Debian's interpreter (python3-torch 1.13; the JSON is committed and the tests never need
PyTorch):
    /usr/bin/python3 tests/nn/make_nonfinite_fixtures.py

Each case is an op (the names test_nonfinite.cpp maps to Loom calls) applied to float64 inputs:
the first input is a (2, 4) tensor whose element [0, 1] is the special value (row 1 stays finite,
so a reduction along dim 1 shows the value does not leak across rows). The case keeps the output
(and the indices of ops that return them) and the gradient of sum(output) with respect to every
floating input, or "error" where PyTorch refuses the input. Non-finite numbers are written as the
strings "nan", "inf" and "-inf".
"""
import json
import math
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
SPECIALS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
BASE = [[-1.5, 0.25, 0.5, 2.0], [0.3, -0.7, 1.1, -2.2]]
PROBS = [[0.2, 0.4, 0.6, 0.9], [0.3, 0.7, 0.1, 0.5]]  # bce's input and the targets of soft losses
CLASSES = [2, 0]  # class targets of the (2, 4) logits


def number(v):
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def listed(t):
    return [number(float(v)) for v in t.detach().reshape(-1).tolist()]


def with_special(values, special):
    t = torch.tensor(values, dtype=torch.float64)
    t[0, 1] = special
    return t


# name -> (function of the inputs, builder of the inputs from the special value)
def special_input(fn):
    return fn, lambda s: [with_special(BASE, s)]


def special_logits(fn):
    return fn, lambda s: [with_special(BASE, s), torch.tensor(CLASSES)]


def special_first(fn, second):
    return fn, lambda s: [with_special(BASE, s), torch.tensor(second, dtype=torch.float64)]


def special_second(fn, first):
    return fn, lambda s: [torch.tensor(first, dtype=torch.float64), with_special(BASE, s)]


OPS = {
    # activations
    "relu": special_input(F.relu),
    "leaky_relu": special_input(lambda x: F.leaky_relu(x, 0.01)),
    "elu": special_input(lambda x: F.elu(x, 1.0)),
    "gelu": special_input(lambda x: F.gelu(x)),
    "gelu_tanh": special_input(lambda x: F.gelu(x, approximate="tanh")),
    "silu": special_input(F.silu),
    "prelu": special_input(lambda x: F.prelu(x, torch.tensor([0.25], dtype=torch.float64))),
    "maxout": special_input(lambda x: x.reshape(2, 2, 2).max(dim=2).values),
    "tanh": special_input(torch.tanh),
    "sigmoid": special_input(torch.sigmoid),
    "softmax": special_input(lambda x: torch.softmax(x, 1)),
    "log_softmax": special_input(lambda x: torch.log_softmax(x, 1)),
    # reductions
    "sum": special_input(torch.sum),
    "sum_dim1": special_input(lambda x: x.sum(1)),
    "mean": special_input(torch.mean),
    "mean_dim1": special_input(lambda x: x.mean(1)),
    "prod_dim1": special_input(lambda x: x.prod(1)),
    "max": special_input(torch.max),
    "min": special_input(torch.min),
    "max_dim1": special_input(lambda x: x.max(1)),
    "min_dim1": special_input(lambda x: x.min(1)),
    "argmax_dim1": special_input(lambda x: x.argmax(1)),
    "argmin_dim1": special_input(lambda x: x.argmin(1)),
    "logsumexp_dim1": special_input(lambda x: x.logsumexp(1)),
    "var_dim1": special_input(lambda x: x.var(1)),
    "std_dim1": special_input(lambda x: x.std(1)),
    # losses, per element ("none") so that every position is compared, and the mean of the
    # classification losses (the training path)
    "mse_input": special_first(lambda x, t: F.mse_loss(x, t, reduction="none"), PROBS),
    "mse_target": special_second(lambda x, t: F.mse_loss(x, t, reduction="none"), PROBS),
    "l1_input": special_first(lambda x, t: F.l1_loss(x, t, reduction="none"), PROBS),
    "l1_target": special_second(lambda x, t: F.l1_loss(x, t, reduction="none"), PROBS),
    "smooth_l1_input": special_first(lambda x, t: F.smooth_l1_loss(x, t, reduction="none"), PROBS),
    "huber_input": special_first(lambda x, t: F.huber_loss(x, t, reduction="none"), PROBS),
    "bce_input": special_first(lambda x, t: F.binary_cross_entropy(x, t, reduction="none"), PROBS),
    "bce_with_logits_input": special_first(
        lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none"), PROBS),
    "kl_div_input": special_first(lambda x, t: F.kl_div(x, t, reduction="none"), PROBS),
    "cross_entropy_none": special_logits(lambda x, y: F.cross_entropy(x, y, reduction="none")),
    "cross_entropy_mean": special_logits(lambda x, y: F.cross_entropy(x, y)),
    "nll_none": special_logits(lambda x, y: F.nll_loss(x, y, reduction="none")),
    "multi_margin_none": special_logits(lambda x, y: F.multi_margin_loss(x, y, reduction="none")),
}


def case(fn, inputs):
    leaves = [x.clone().requires_grad_(x.is_floating_point()) for x in inputs]
    result = {"inputs": [listed(x) for x in leaves]}
    try:
        out = fn(*leaves)
    except RuntimeError as e:
        result["error"] = str(e).splitlines()[0]
        return result
    if isinstance(out, tuple):  # (values, indices)
        out, indices = out
        result["indices"] = indices.reshape(-1).tolist()
    if not out.is_floating_point():  # argmax, argmin
        result["indices"] = out.reshape(-1).tolist()
        return result
    result["output"] = listed(out)
    floating = [x for x in leaves if x.requires_grad]
    grads = torch.autograd.grad(out.sum(), floating, allow_unused=True)
    result["grads"] = [listed(g) if g is not None else None for g in grads]
    return result


def main():
    cases = {}
    for name, (fn, make) in OPS.items():
        cases[name] = {s: case(fn, make(v)) for s, v in SPECIALS.items()}
    path = os.path.join(HERE, "nonfinite_fixtures.json")
    lines = ['  "%s": %s' % (name, json.dumps(cases[name], sort_keys=True)) for name in sorted(cases)]
    with open(path, "w") as f:  # one line per op
        f.write('{"torch_version": "%s",\n "cases": {\n%s\n }\n}\n' % (torch.__version__, ",\n".join(lines)))
    print("wrote", path, "with", len(cases), "ops x", len(SPECIALS), "special values")


if __name__ == "__main__":
    main()
