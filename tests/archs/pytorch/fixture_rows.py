"""Shared by the per-family scripts: channel scaling and writing tests/archs/fixtures/<family>.json.

A row is (type, config, input [C, H, W], model): the script's own PyTorch model built for that
config from the published architecture. Token models give (type, config, inputs, model, tokens):
inputs a list of per-sample shapes (one per model input) filled with int64 token ids below
`tokens`; the fixture keeps "inputs" and "tokens". The fixture keeps the parameter count and the
output shape (checked here by a forward pass on a batch of 2); the C++ test builds the same config through
loom::nn::build and compares.
"""
import json
import math
import os

import torch

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")


def scaled(channels, width):
    """A published channel count times the width multiplier: max(1, round half up)."""
    return max(1, int(math.floor(channels * width + 0.5)))


def variant_of(variant, h, w):
    """alexnet's and vgg's `variant`: as given, else "torchvision" from 224x224 (ImageNet's crop) up
    and "cifar" below."""
    return variant or ("torchvision" if min(h, w) >= 224 else "cifar")


def config_value(config, key, default):
    return config[key] if key in config else default


def write_fixture(family, rows, slow=(), named=()):
    """rows: (type, config, input, model); slow: indices of rows the C++ test only counts; named:
    indices of rows whose parameter names (in order) the C++ test compares too (those whose model
    here follows a published layout name for name, e.g. torchvision's)."""
    out = []
    for i, (type_, config, input_shape, model, *tokens) in enumerate(rows):
        model.eval()
        with torch.no_grad():
            if tokens:
                y = model(*(torch.randint(0, tokens[0], (2, *shape)) for shape in input_shape))
            else:
                y = model(torch.randn(2, *input_shape))
        parameters = sum(p.numel() for p in model.parameters())
        row = {"type": type_, "config": config}
        if tokens:
            row.update(inputs=[list(s) for s in input_shape], tokens=tokens[0])
        else:
            row["input"] = list(input_shape)
        row.update(parameters=parameters, output=list(y.shape[1:]))
        if i in slow:
            row["forward"] = False
        if i in named:
            row["names"] = [n for n, _ in model.named_parameters()]
        out.append(row)
        print(f"{type_:10s} {json.dumps(config):70s} {parameters:>11,d} -> {list(y.shape)}")
    path = os.path.join(FIXTURES, f"{family}.json")
    with open(path, "w") as f:
        f.write("[\n" + ",\n".join("  " + json.dumps(r) for r in out) + "\n]\n")
    print("wrote", os.path.normpath(path))
