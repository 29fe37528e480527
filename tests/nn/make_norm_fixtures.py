#!/usr/bin/python3
"""Writes norm_fixtures.json: inputs, parameters, buffers, outputs and gradients of Loom's
normalisation and resampling layers, computed by PyTorch (Debian's python3-torch, 1.13) in
float64, under non-default options.

Run from anywhere with Debian's interpreter (the fixture file is committed; the tests never
need PyTorch):
    /usr/bin/python3 tests/nn/make_norm_fixtures.py

Each case names a Loom registry type and its JSON config; the same config builds the PyTorch
module below. The C++ suite (test_norm.cpp) builds the layer with loom::nn::build, converts it
to float64, loads the case's parameters and buffers by dotted name, runs forward(input) in the
case's mode, and compares the output, the gradients of sum(output * grad_output) with respect
to the input and every parameter, and the buffers afterwards (running statistics).
"""
import json
import os

import torch

torch.manual_seed(2024)
D = torch.float64


def randn(*shape):
    return torch.randn(*shape, dtype=D)


def torch_layer(t, c):
    """The PyTorch module that a Loom JSON layer config describes."""
    if t in ("batch_norm1d", "batch_norm2d"):
        cls = torch.nn.BatchNorm1d if t == "batch_norm1d" else torch.nn.BatchNorm2d
        return cls(c["num_features"], eps=c.get("eps", 1e-5), momentum=c.get("momentum", 0.1),
                   affine=c.get("affine", True), track_running_stats=c.get("track_running_stats", True))
    if t == "layer_norm":
        return torch.nn.LayerNorm(c["normalized_shape"], eps=c.get("eps", 1e-5),
                                  elementwise_affine=c.get("elementwise_affine", True))
    if t == "group_norm":
        return torch.nn.GroupNorm(c["num_groups"], c["num_channels"], eps=c.get("eps", 1e-5),
                                  affine=c.get("affine", True))
    if t == "instance_norm2d":
        return torch.nn.InstanceNorm2d(c["num_features"], eps=c.get("eps", 1e-5), momentum=c.get("momentum", 0.1),
                                       affine=c.get("affine", False),
                                       track_running_stats=c.get("track_running_stats", False))
    if t == "upsample":
        size = c.get("size")
        scale = c.get("scale_factor")
        mode = c.get("mode", "nearest")
        return torch.nn.Upsample(size=tuple(size) if isinstance(size, list) else size,
                                 scale_factor=tuple(float(s) for s in scale) if isinstance(scale, list) else scale,
                                 mode=mode, align_corners=c.get("align_corners", False) if mode == "bilinear" else None)
    if t == "adaptive_avg_pool2d":
        size = c["output_size"]
        return torch.nn.AdaptiveAvgPool2d(tuple(size) if isinstance(size, list) else size)
    raise ValueError(f"no PyTorch module for {t}")


def encode(t):
    t = t.detach()
    dtype = "int64" if t.dtype == torch.int64 else "float64"
    data = t.reshape(-1).tolist()
    return {"shape": list(t.shape), "dtype": dtype, "data": data}


def case(name, t, config, input_shape, train, randomise_parameters=True, running=None):
    """running: (mean, var) to preset the running statistics with."""
    m = torch_layer(t, config).to(D)
    with torch.no_grad():
        for n, p in m.named_parameters():
            p.copy_(randn(*p.shape) * 0.5 + (1.0 if n == "weight" else 0.0))
        if running is not None:
            m.running_mean.copy_(running[0])
            m.running_var.copy_(running[1])
    m.train(train)
    parameters = {n: encode(p) for n, p in m.named_parameters()}
    buffers = {n: encode(b) for n, b in m.named_buffers()}
    x = (randn(*input_shape) * 1.5 + 0.3).requires_grad_(True)
    y = m(x)
    g = randn(*y.shape)
    named = [("input", x)] + list(m.named_parameters())
    grads = torch.autograd.grad((y * g).sum(), [p for _, p in named])
    return {
        "name": name,
        "type": t,
        "config": config,
        "train": train,
        "parameters": parameters,
        "buffers": buffers,
        "input": encode(x),
        "grad_output": encode(g),
        "output": encode(y),
        "grads": {n: encode(d) for (n, _), d in zip(named, grads)},
        "buffers_after": {n: encode(b) for n, b in m.named_buffers()},
    }


def preset(c):
    return randn(c) * 0.3, torch.rand(c, dtype=D) + 0.5


cases = [
    case("batch_norm2d eval with preset running stats", "batch_norm2d",
         {"num_features": 3, "eps": 1e-3, "momentum": 0.2}, (2, 3, 4, 4), False, running=preset(3)),
    case("batch_norm2d training updates running stats", "batch_norm2d",
         {"num_features": 3, "momentum": 0.3}, (2, 3, 3, 4), True, running=preset(3)),
    case("batch_norm1d training (N, C, L), cumulative average", "batch_norm1d",
         {"num_features": 4, "eps": 1e-4, "momentum": None}, (5, 4, 3), True, running=preset(4)),
    case("batch_norm1d training (N, C) without affine", "batch_norm1d",
         {"num_features": 4, "affine": False}, (6, 4), True),
    case("batch_norm2d eval without running stats uses the batch", "batch_norm2d",
         {"num_features": 2, "track_running_stats": False}, (3, 2, 2, 3), False),
    case("layer_norm over the last 2 dims", "layer_norm",
         {"normalized_shape": [4, 5], "eps": 1e-4}, (2, 3, 4, 5), True),
    case("layer_norm over the last dim, no affine", "layer_norm",
         {"normalized_shape": 6, "elementwise_affine": False}, (3, 6), True),
    case("group_norm with 2 groups", "group_norm",
         {"num_groups": 2, "num_channels": 4, "eps": 1e-3}, (2, 4, 3, 3), True),
    case("instance_norm2d affine", "instance_norm2d",
         {"num_features": 3, "affine": True}, (2, 3, 4, 4), True),
    case("instance_norm2d training with running stats", "instance_norm2d",
         {"num_features": 3, "track_running_stats": True, "momentum": 0.25}, (2, 3, 3, 5), True, running=preset(3)),
    case("instance_norm2d eval with running stats", "instance_norm2d",
         {"num_features": 3, "track_running_stats": True, "affine": True}, (2, 3, 3, 3), False, running=preset(3)),
    case("bilinear align_corners true", "upsample",
         {"size": [5, 7], "mode": "bilinear", "align_corners": True}, (2, 2, 3, 4), True),
    case("bilinear align_corners false", "upsample",
         {"size": [5, 7], "mode": "bilinear"}, (2, 2, 3, 4), True),
    case("bilinear align_corners false, scale 2", "upsample",
         {"scale_factor": 2, "mode": "bilinear"}, (1, 2, 3, 3), True),
    case("bilinear downsampling with a scale 0.6", "upsample",
         {"scale_factor": [0.6, 0.75], "mode": "bilinear"}, (1, 2, 5, 6), True),
    case("nearest scale 2", "upsample", {"scale_factor": 2}, (2, 2, 3, 3), True),
    case("nearest to size 5x7", "upsample", {"size": [5, 7]}, (1, 2, 3, 4), True),
    case("nearest scale 1.5", "upsample", {"scale_factor": 1.5}, (1, 1, 4, 3), True),
    case("adaptive pool 5 -> 3 (uneven bins)", "adaptive_avg_pool2d", {"output_size": 3}, (2, 3, 5, 5), True),
    case("adaptive pool 5x7 -> 3x4", "adaptive_avg_pool2d", {"output_size": [3, 4]}, (1, 2, 5, 7), True),
    case("adaptive pool to 1x1", "adaptive_avg_pool2d", {"output_size": [1, 1]}, (2, 3, 4, 3), True),
]

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "norm_fixtures.json")
with open(out, "w") as f:
    json.dump({"generator": "make_norm_fixtures.py", "torch": torch.__version__, "cases": cases}, f)
    f.write("\n")
print(f"wrote {len(cases)} cases to {out}")
