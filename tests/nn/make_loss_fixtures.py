#!/usr/bin/python3
"""Writes loss_fixtures.json: inputs, outputs and input gradients of every Loom loss, computed
by PyTorch (Debian's python3-torch, 1.13) in float64, under non-default options.

Run from anywhere with Debian's interpreter (the fixture file is committed; the tests never
need PyTorch):
    /usr/bin/python3 tests/nn/make_loss_fixtures.py

Each case names a Loom registry type and its JSON config; the same config builds the PyTorch
module below, so the C++ test builds the loss with loom::nn::build(config) and compares
forward(input, target) and d(sum of the output)/d(input).
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(1234)
D = torch.float64


def randn(*shape):
    return torch.randn(*shape, dtype=D)


def probs(*shape, dim=1):
    return torch.softmax(randn(*shape), dim=dim)


def classes(high, *shape):
    return torch.randint(0, high, shape, dtype=torch.int64)


def weight_tensor(config, key):
    return torch.tensor(config[key], dtype=D) if key in config else None


def torch_loss(loss_type, config):
    """The PyTorch module that a Loom JSON config describes."""
    c = dict(config)
    reduction = c.pop("reduction", "mean")
    w = weight_tensor(c, "weight")
    c.pop("weight", None)
    if loss_type == "mse":
        return torch.nn.MSELoss(reduction=reduction)
    if loss_type == "l1":
        return torch.nn.L1Loss(reduction=reduction)
    if loss_type == "smooth_l1":
        return torch.nn.SmoothL1Loss(reduction=reduction, beta=c.get("beta", 1.0))
    if loss_type == "huber":
        return torch.nn.HuberLoss(reduction=reduction, delta=c.get("delta", 1.0))
    if loss_type == "bce":
        return torch.nn.BCELoss(weight=w, reduction=reduction)
    if loss_type == "bce_with_logits":
        return torch.nn.BCEWithLogitsLoss(weight=w, pos_weight=weight_tensor(c, "pos_weight"), reduction=reduction)
    if loss_type == "cross_entropy":
        return torch.nn.CrossEntropyLoss(weight=w, ignore_index=c.get("ignore_index", -100), reduction=reduction,
                                         label_smoothing=c.get("label_smoothing", 0.0))
    if loss_type == "nll":
        return torch.nn.NLLLoss(weight=w, ignore_index=c.get("ignore_index", -100), reduction=reduction)
    if loss_type == "multi_margin":
        return torch.nn.MultiMarginLoss(p=c.get("p", 1), margin=c.get("margin", 1.0), weight=w, reduction=reduction)
    if loss_type == "kl_div":
        return torch.nn.KLDivLoss(reduction=reduction, log_target=c.get("log_target", False))
    raise ValueError(loss_type)


def encode(t):
    return {"shape": list(t.shape), "dtype": "int64" if t.dtype == torch.int64 else "float64",
            "data": t.reshape(-1).tolist()}


cases = []


def case(name, loss_type, config, x, target):
    x = x.clone().requires_grad_(True)
    out = torch_loss(loss_type, config)(x, target)
    out.sum().backward()
    cases.append({"name": name, "type": loss_type, "config": config, "input": encode(x.detach()),
                  "target": encode(target), "output": encode(out.detach()), "grad_input": encode(x.grad)})


# Regression losses
case("mse mean", "mse", {}, randn(4, 3), randn(4, 3))
case("mse sum (N,C,d)", "mse", {"reduction": "sum"}, randn(2, 3, 4), randn(2, 3, 4))
case("mse none", "mse", {"reduction": "none"}, randn(3, 2), randn(3, 2))
case("l1 mean", "l1", {}, randn(4, 3), randn(4, 3))
case("l1 none (N,C,d)", "l1", {"reduction": "none"}, randn(2, 3, 2), randn(2, 3, 2))
case("smooth_l1 beta 0.5 none", "smooth_l1", {"reduction": "none", "beta": 0.5}, randn(4, 3), randn(4, 3))
case("smooth_l1 beta 2 mean", "smooth_l1", {"beta": 2.0}, 2 * randn(5, 3), randn(5, 3))
case("smooth_l1 beta 0 sum", "smooth_l1", {"reduction": "sum", "beta": 0.0}, randn(3, 3), randn(3, 3))
case("huber delta 0.5 none", "huber", {"reduction": "none", "delta": 0.5}, randn(4, 3), randn(4, 3))
case("huber delta 1.5 sum", "huber", {"reduction": "sum", "delta": 1.5}, 2 * randn(5, 2), randn(5, 2))
case("huber mean", "huber", {}, 2 * randn(6), randn(6))

# Binary losses
case("bce mean", "bce", {}, torch.sigmoid(randn(4, 3)), torch.rand(4, 3, dtype=D))
case("bce weight none", "bce", {"reduction": "none", "weight": [0.5, 2.0, 1.25]}, torch.sigmoid(randn(4, 3)),
     (torch.rand(4, 3, dtype=D) > 0.5).to(D))
case("bce weight sum (N,C,d)", "bce", {"reduction": "sum", "weight": [0.75, 1.5]}, torch.sigmoid(randn(2, 3, 2)),
     torch.rand(2, 3, 2, dtype=D))
logits = randn(4, 3) * 3
logits[0, 0], logits[1, 1], logits[2, 2], logits[3, 0] = 0.0, 60.0, -60.0, 35.0
case("bce_with_logits mean, exact 0 and large logits", "bce_with_logits", {}, logits,
     (torch.rand(4, 3, dtype=D) > 0.5).to(D))
case("bce_with_logits pos_weight weight none", "bce_with_logits",
     {"reduction": "none", "pos_weight": [2.0, 0.5, 3.0], "weight": [1.5, 0.25, 1.0]}, randn(4, 3) * 2,
     torch.rand(4, 3, dtype=D))
case("bce_with_logits pos_weight sum", "bce_with_logits", {"reduction": "sum", "pos_weight": [0.75, 4.0]},
     randn(3, 2) * 2, (torch.rand(3, 2, dtype=D) > 0.5).to(D))

# Classification losses
ce_weight = [0.5, 2.0, 1.25, 0.75]
case("cross_entropy mean", "cross_entropy", {}, randn(5, 4), classes(4, 5))
t = classes(4, 6)
t[1], t[4] = 3, 3
case("cross_entropy weight ignore_index mean", "cross_entropy", {"weight": ce_weight, "ignore_index": 3},
     randn(6, 4), t)
t = classes(4, 6)
t[2] = -100
case("cross_entropy label_smoothing weight ignore mean", "cross_entropy",
     {"weight": ce_weight, "label_smoothing": 0.2}, randn(6, 4), t)
t = classes(4, 6)
t[0] = -100
case("cross_entropy label_smoothing ignore mean", "cross_entropy", {"label_smoothing": 0.1}, randn(6, 4), t)
case("cross_entropy label_smoothing sum", "cross_entropy", {"reduction": "sum", "label_smoothing": 0.3},
     randn(5, 4), classes(4, 5))
t = classes(3, 2, 4)
t[0, 1], t[1, 3] = 1, 1
case("cross_entropy (N,C,d) none ignore_index", "cross_entropy", {"reduction": "none", "ignore_index": 1},
     randn(2, 3, 4), t)
t = classes(3, 2, 2, 3)
t[1, 0, 2] = -100
case("cross_entropy (N,C,d1,d2) weight smoothing mean", "cross_entropy",
     {"weight": [1.5, 0.5, 2.0], "label_smoothing": 0.15}, randn(2, 3, 2, 3), t)
case("cross_entropy probabilities weight smoothing mean", "cross_entropy",
     {"weight": ce_weight, "label_smoothing": 0.1}, randn(5, 4), probs(5, 4))
case("cross_entropy probabilities (N,C,d) sum", "cross_entropy", {"reduction": "sum"}, randn(2, 3, 4),
     probs(2, 3, 4))
case("cross_entropy probabilities none weight", "cross_entropy", {"reduction": "none", "weight": ce_weight},
     randn(3, 4), probs(3, 4))
case("cross_entropy unbatched (C)", "cross_entropy", {"weight": ce_weight}, randn(4), torch.tensor(2))
t = classes(4, 6)
t[3] = 0
case("nll weight ignore_index mean", "nll", {"weight": ce_weight, "ignore_index": 0},
     F.log_softmax(randn(6, 4), 1), t)
t = classes(3, 2, 4)
t[1, 2] = -100
case("nll (N,C,d) none", "nll", {"reduction": "none"}, F.log_softmax(randn(2, 3, 4), 1), t)
case("nll weight sum", "nll", {"reduction": "sum", "weight": ce_weight}, F.log_softmax(randn(5, 4), 1),
     classes(4, 5))
case("multi_margin mean", "multi_margin", {}, randn(5, 4), classes(4, 5))
case("multi_margin p=2 margin weight none", "multi_margin",
     {"reduction": "none", "p": 2, "margin": 1.5, "weight": ce_weight}, randn(5, 4), classes(4, 5))
case("multi_margin sum margin 0.5", "multi_margin", {"reduction": "sum", "margin": 0.5}, randn(6, 3), classes(3, 6))

# Divergence
target = probs(4, 5)
target[0, 1] = 0.0
case("kl_div batchmean, a zero target", "kl_div", {"reduction": "batchmean"}, F.log_softmax(randn(4, 5), 1), target)
case("kl_div log_target mean", "kl_div", {"log_target": True}, F.log_softmax(randn(3, 4), 1),
     F.log_softmax(randn(3, 4), 1))
case("kl_div none", "kl_div", {"reduction": "none"}, F.log_softmax(randn(2, 3), 1), probs(2, 3))
case("kl_div log_target sum (N,C,d)", "kl_div", {"reduction": "sum", "log_target": True},
     F.log_softmax(randn(2, 3, 2), 1), F.log_softmax(randn(2, 3, 2), 1))

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "loss_fixtures.json")
with open(path, "w") as f:  # one case per line: small, and diffs show which case changed
    f.write(f'{{"generator": "tests/nn/make_loss_fixtures.py", "torch": "{torch.__version__}", "cases": [\n')
    f.write(",\n".join(json.dumps(c) for c in cases))
    f.write("\n]}\n")
print(f"wrote {len(cases)} cases to {path}")
