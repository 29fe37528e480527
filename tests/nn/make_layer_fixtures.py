#!/usr/bin/python3
"""Writes layer_fixtures.json: input, parameters, output and gradients of every Loom layer,
computed by PyTorch (Debian's python3-torch, 1.13) in float64, mostly under non-default options.

Run from anywhere with Debian's interpreter (the fixture file is committed; the tests never
need PyTorch):
    /usr/bin/python3 tests/nn/make_layer_fixtures.py

Each case names a Loom registry type and its JSON config; the same config builds the PyTorch
module below. The C++ test builds the layer with loom::nn::build, converts it to float64, loads
the case's parameters by their dotted names (strict), and compares forward(inputs), and the
gradients of the sum over floating outputs of sum(output * grad_output) with respect to every
floating input and every parameter. grad_output is random, so that gradients that vanish for a
plain sum (softmax) are checked too.

A case holds lists: "inputs", "outputs", "grad_outputs" (null for a non-floating output) and
"grad_inputs" (null for a non-floating input: int64 indices, bool masks). A case given one tensor
calls module(x); a case given a list calls module(*xs) and the C++ test the multi-tensor forward
(one input and one output call the one-tensor forward). Types named "test_*" are harness modules
(tests/nn/harness_modules.hpp): defined in both places, never registered, they exercise several
inputs and outputs before a registered layer has them.
Dropout layers are compared in eval mode (the identity); train mode is checked statistically
by the C++ suite.

The normalisation and resampling layers (batch_norm*, layer_norm, group_norm, instance_norm2d,
upsample, adaptive_avg_pool2d) have their cases in norm_fixtures.json (make_norm_fixtures.py),
which the layer fixture walk (test_layer_fixtures.cpp) reads as well.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.manual_seed(4321)
D = torch.float64


def randn(*shape):
    return torch.randn(*shape, dtype=D)


class Maxout(torch.nn.Module):
    """Loom's Maxout: Linear(in, out * pieces), then the max over groups of `pieces`
    consecutive features."""

    def __init__(self, in_features, out_features, pieces):
        super().__init__()
        self.pieces = pieces
        self.linear = torch.nn.Linear(in_features, out_features * pieces)

    def forward(self, x):
        y = self.linear(x)
        return y.view(y.shape[0], y.shape[1] // self.pieces, self.pieces, *y.shape[2:]).max(2).values


class TestAttention(torch.nn.Module):
    """The harness module "test_attention": one-head scaled dot-product attention with a query
    projection; inputs query (N, L, E), key and value (N, S, E), key_padding_mask (N, S) bool
    (True: ignored); outputs attended (N, L, E), weights (N, L, S), the most attended key (N, L)."""

    def __init__(self, embed_dim):
        super().__init__()
        self.q_proj = torch.nn.Linear(embed_dim, embed_dim, bias=False)

    def forward(self, query, key, value, key_padding_mask):
        scores = self.q_proj(query) @ key.transpose(1, 2) / math.sqrt(key.shape[2])
        weights = scores.masked_fill(key_padding_mask.unsqueeze(1), float("-inf")).softmax(-1)
        return weights @ value, weights, weights.argmax(-1)


def torch_layer(config):
    """The PyTorch module that a Loom JSON layer config describes."""
    t = config["type"]
    c = {k: v for k, v in config.items() if k != "type"}
    if t == "linear":
        return torch.nn.Linear(c["in_features"], c["out_features"], bias=c.get("bias", True))
    if t == "identity":
        return torch.nn.Identity()
    if t == "flatten":
        return torch.nn.Flatten(c.get("start_dim", 1), c.get("end_dim", -1))
    if t == "relu":
        return torch.nn.ReLU()
    if t == "sigmoid":
        return torch.nn.Sigmoid()
    if t == "tanh":
        return torch.nn.Tanh()
    if t == "silu":
        return torch.nn.SiLU()
    if t == "leaky_relu":
        return torch.nn.LeakyReLU(c.get("negative_slope", 0.01))
    if t == "elu":
        return torch.nn.ELU(c.get("alpha", 1.0))
    if t == "gelu":
        return torch.nn.GELU(approximate=c.get("approximate", "none"))
    if t == "prelu":
        return torch.nn.PReLU(c.get("num_parameters", 1), c.get("init", 0.25))
    if t == "softmax":
        return torch.nn.Softmax(c.get("dim", -1))
    if t == "log_softmax":
        return torch.nn.LogSoftmax(c.get("dim", -1))
    if t == "maxout":
        return Maxout(c["in_features"], c["out_features"], c["pieces"])
    if t == "dropout":
        return torch.nn.Dropout(c.get("p", 0.5))
    if t == "dropout2d":
        return torch.nn.Dropout2d(c.get("p", 0.5))
    if t == "embedding":
        return torch.nn.Embedding(c["num_embeddings"], c["embedding_dim"], padding_idx=c.get("padding_idx"))
    if t in ("conv1d", "conv2d"):
        cls = torch.nn.Conv1d if t == "conv1d" else torch.nn.Conv2d
        return cls(c["in_channels"], c["out_channels"], c["kernel_size"], stride=c.get("stride", 1),
                   padding=c.get("padding", 0), dilation=c.get("dilation", 1), groups=c.get("groups", 1),
                   bias=c.get("bias", True))
    if t == "conv_transpose2d":
        return torch.nn.ConvTranspose2d(c["in_channels"], c["out_channels"], c["kernel_size"], stride=c.get("stride", 1),
                                        padding=c.get("padding", 0), output_padding=c.get("output_padding", 0),
                                        groups=c.get("groups", 1), bias=c.get("bias", True),
                                        dilation=c.get("dilation", 1))
    if t == "max_pool2d":
        return torch.nn.MaxPool2d(c["kernel_size"], stride=c.get("stride"), padding=c.get("padding", 0),
                                  dilation=c.get("dilation", 1), ceil_mode=c.get("ceil_mode", False))
    if t == "avg_pool2d":
        return torch.nn.AvgPool2d(c["kernel_size"], stride=c.get("stride"), padding=c.get("padding", 0),
                                  count_include_pad=c.get("count_include_pad", True),
                                  ceil_mode=c.get("ceil_mode", False))
    if t == "sequential":
        return torch.nn.Sequential(*[torch_layer(layer) for layer in c["layers"]])
    if t == "test_attention":
        return TestAttention(c["embed_dim"])
    raise ValueError(t)


DTYPES = {torch.float64: "float64", torch.int64: "int64", torch.bool: "bool"}


def encode(t):
    return {"shape": list(t.shape), "dtype": DTYPES[t.dtype], "data": t.reshape(-1).tolist()}


cases = []


def case(name, config, x, mode="train", randomize_params=True):
    """x: one tensor (module(x)) or a list of tensors in forward order (module(*x))."""
    module = torch_layer(config).to(D)
    module.train(mode == "train")
    if randomize_params:
        with torch.no_grad():  # non-default values (PReLU's 0.25 everywhere would hide a layout bug)
            for n, p in module.named_parameters():
                if not (config["type"] == "embedding" and n == "weight"):
                    p.copy_(randn(*p.shape) * 0.7)
    xs = [t.clone().requires_grad_(True) if t.dtype == D else t for t in (x if isinstance(x, list) else [x])]
    out = module(*xs)
    outs = list(out) if isinstance(out, tuple) else [out]
    grad_outputs = [randn(*o.shape) if o.dtype == D else None for o in outs]
    sum((o * g).sum() for o, g in zip(outs, grad_outputs) if g is not None).backward()
    cases.append({
        "name": name, "type": config["type"], "config": {k: v for k, v in config.items() if k != "type"},
        "mode": mode, "inputs": [encode(t.detach()) for t in xs],
        "parameters": {n: encode(p.detach()) for n, p in module.named_parameters()},
        "outputs": [encode(o.detach()) for o in outs],
        "grad_outputs": [encode(g) if g is not None else None for g in grad_outputs],
        "grad_inputs": [encode(t.grad) if t.dtype == D else None for t in xs],
        "grad_parameters": {n: encode(p.grad) for n, p in module.named_parameters()},
    })


def with_zeros(t, count=2):
    """t with exact zeros in its first `count` elements: the kink conventions (ReLU'(0) = 0,
    LeakyReLU'(0) = slope, ELU'(0) = alpha, PReLU at 0) are part of the comparison."""
    t = t.clone()
    t.view(-1)[:count] = 0.0
    return t


# Linear maps and reshaping
case("linear", {"type": "linear", "in_features": 4, "out_features": 3}, randn(5, 4))
case("linear without bias, (N, T, in) input", {"type": "linear", "in_features": 3, "out_features": 2, "bias": False},
     randn(2, 4, 3))
case("identity", {"type": "identity"}, randn(3, 4))
case("flatten default", {"type": "flatten"}, randn(2, 3, 2, 2))
case("flatten start 1 end 2", {"type": "flatten", "start_dim": 1, "end_dim": 2}, randn(2, 3, 4, 2))
case("flatten start 0 end -2", {"type": "flatten", "start_dim": 0, "end_dim": -2}, randn(2, 3, 4))

# Activations
case("relu, exact zeros", {"type": "relu"}, with_zeros(randn(4, 5)))
case("sigmoid", {"type": "sigmoid"}, 3 * randn(4, 5))
case("tanh", {"type": "tanh"}, 2 * randn(4, 5))
case("silu", {"type": "silu"}, 3 * randn(4, 5))
case("leaky_relu slope 0.2, exact zeros", {"type": "leaky_relu", "negative_slope": 0.2}, with_zeros(randn(4, 5)))
case("leaky_relu default slope", {"type": "leaky_relu"}, randn(3, 4))
case("elu alpha 1.7, exact zeros", {"type": "elu", "alpha": 1.7}, with_zeros(2 * randn(4, 5)))
case("gelu exact", {"type": "gelu"}, 2 * randn(4, 5))
case("gelu tanh", {"type": "gelu", "approximate": "tanh"}, 2 * randn(4, 5))
case("prelu shared slope", {"type": "prelu"}, with_zeros(randn(4, 5)))
case("prelu 3 channels (N, C, H, W)", {"type": "prelu", "num_parameters": 3, "init": 0.1},
     with_zeros(randn(2, 3, 2, 2)))
case("prelu 4 channels (N, C)", {"type": "prelu", "num_parameters": 4}, randn(5, 4))
case("softmax dim -1", {"type": "softmax"}, 2 * randn(3, 5))
case("softmax dim 0 (3-D)", {"type": "softmax", "dim": 0}, 2 * randn(3, 2, 4))
case("softmax dim 1 (3-D)", {"type": "softmax", "dim": 1}, 2 * randn(2, 3, 4))
case("log_softmax dim 1", {"type": "log_softmax", "dim": 1}, 2 * randn(4, 5))
case("log_softmax dim 0 (3-D)", {"type": "log_softmax", "dim": 0}, 2 * randn(3, 2, 4))
case("maxout 4 -> 3 x 2 pieces", {"type": "maxout", "in_features": 4, "out_features": 3, "pieces": 2}, randn(5, 4))
case("maxout 3 -> 2 x 3 pieces", {"type": "maxout", "in_features": 3, "out_features": 2, "pieces": 3}, randn(4, 3))

# Dropout: eval mode is the identity
case("dropout p 0.3 eval", {"type": "dropout", "p": 0.3}, randn(4, 5), mode="eval")
case("dropout2d p 0.6 eval", {"type": "dropout2d", "p": 0.6}, randn(2, 3, 2, 2), mode="eval")

# Embedding: the padding row starts at zero and gets no gradient; repeated indices accumulate
case("embedding", {"type": "embedding", "num_embeddings": 6, "embedding_dim": 3},
     torch.tensor([[0, 2, 5], [2, 2, 1]], dtype=torch.int64))
case("embedding padding_idx 1", {"type": "embedding", "num_embeddings": 5, "embedding_dim": 4, "padding_idx": 1},
     torch.tensor([[1, 3, 1, 0], [4, 3, 3, 1]], dtype=torch.int64))

# Convolutions: non-default stride, padding, dilation, groups; "same" padding; output_padding
case("conv1d stride 2, padding 1, dilation 2, groups 2",
     {"type": "conv1d", "in_channels": 4, "out_channels": 6, "kernel_size": 3, "stride": 2, "padding": 1,
      "dilation": 2, "groups": 2}, randn(2, 4, 9))
case("conv1d padding same, no bias", {"type": "conv1d", "in_channels": 3, "out_channels": 2, "kernel_size": 3,
                                      "padding": "same", "bias": False}, randn(2, 3, 5))
case("conv2d kernel 3x2, stride (2, 1), padding (1, 2), dilation (2, 1), groups 2",
     {"type": "conv2d", "in_channels": 4, "out_channels": 6, "kernel_size": [3, 2], "stride": [2, 1],
      "padding": [1, 2], "dilation": [2, 1], "groups": 2}, randn(2, 4, 7, 6))
case("conv2d padding same, no bias", {"type": "conv2d", "in_channels": 2, "out_channels": 3, "kernel_size": 3,
                                      "padding": "same", "bias": False}, randn(1, 2, 4, 5))
case("conv_transpose2d stride (2, 3), padding (1, 0), output_padding (1, 2), groups 2",
     {"type": "conv_transpose2d", "in_channels": 4, "out_channels": 6, "kernel_size": 3, "stride": [2, 3],
      "padding": [1, 0], "output_padding": [1, 2], "groups": 2}, randn(2, 4, 3, 4))
case("conv_transpose2d kernel 2x3, stride 2, dilation (2, 1), output_padding 1, no bias",
     {"type": "conv_transpose2d", "in_channels": 3, "out_channels": 2, "kernel_size": [2, 3], "stride": 2,
      "dilation": [2, 1], "output_padding": 1, "bias": False}, randn(1, 3, 3, 3))

# Pooling (continuous random inputs: no ties in a max-pool window)
case("max_pool2d kernel 3, stride 2, padding 1", {"type": "max_pool2d", "kernel_size": 3, "stride": 2, "padding": 1},
     randn(2, 3, 7, 6))
case("max_pool2d kernel (2, 3), stride (1, 2), padding (1, 1), dilation (1, 2)",
     {"type": "max_pool2d", "kernel_size": [2, 3], "stride": [1, 2], "padding": [1, 1], "dilation": [1, 2]},
     randn(1, 2, 4, 7))
case("max_pool2d default stride", {"type": "max_pool2d", "kernel_size": 2}, randn(2, 2, 5, 4))
case("avg_pool2d kernel 3, stride 2, padding 1", {"type": "avg_pool2d", "kernel_size": 3, "stride": 2, "padding": 1},
     randn(2, 3, 7, 6))
case("avg_pool2d kernel (2, 3), stride (2, 1), padding (1, 1), count_include_pad false",
     {"type": "avg_pool2d", "kernel_size": [2, 3], "stride": [2, 1], "padding": [1, 1], "count_include_pad": False},
     randn(1, 2, 5, 4))

# Containers
case("sequential linear, leaky_relu, linear, log_softmax",
     {"type": "sequential", "layers": [{"type": "linear", "in_features": 4, "out_features": 6},
                                       {"type": "leaky_relu", "negative_slope": 0.1},
                                       {"type": "linear", "in_features": 6, "out_features": 3},
                                       {"type": "log_softmax", "dim": 1}]}, randn(5, 4))
case("sequential flatten, linear, prelu, dropout (eval), linear, tanh",
     {"type": "sequential", "layers": [{"type": "flatten"},
                                       {"type": "linear", "in_features": 6, "out_features": 4},
                                       {"type": "prelu", "num_parameters": 4},
                                       {"type": "dropout", "p": 0.5},
                                       {"type": "linear", "in_features": 4, "out_features": 2, "bias": False},
                                       {"type": "tanh"}]}, randn(3, 2, 3), mode="eval")

# Pooling with ceil_mode: the extra partial window, PyTorch dropping a window that would start in
# the right padding, and avg's divisors for partial windows. (Last, so that the cases above keep
# their random draws.)
case("max_pool2d kernel 3, stride 2, ceil_mode", {"type": "max_pool2d", "kernel_size": 3, "stride": 2, "ceil_mode": True},
     randn(2, 3, 6, 7))
case("max_pool2d kernel 3, stride 3, padding 1, ceil_mode (H drops the window in the padding)",
     {"type": "max_pool2d", "kernel_size": 3, "stride": 3, "padding": 1, "ceil_mode": True}, randn(1, 2, 5, 6))
case("max_pool2d kernel (2, 3), stride (2, 1), padding (1, 1), dilation (2, 2), ceil_mode",
     {"type": "max_pool2d", "kernel_size": [2, 3], "stride": [2, 1], "padding": [1, 1], "dilation": [2, 2],
      "ceil_mode": True}, randn(1, 2, 6, 7))
case("avg_pool2d kernel 3, stride 2, padding 1, ceil_mode",
     {"type": "avg_pool2d", "kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}, randn(2, 2, 6, 4))
case("avg_pool2d kernel 2, ceil_mode (divisor clipped to the input)",
     {"type": "avg_pool2d", "kernel_size": 2, "ceil_mode": True}, randn(2, 3, 5, 7))
case("avg_pool2d kernel (2, 3), stride 2, padding (1, 1), ceil_mode, count_include_pad false",
     {"type": "avg_pool2d", "kernel_size": [2, 3], "stride": 2, "padding": [1, 1], "ceil_mode": True,
      "count_include_pad": False}, randn(1, 2, 5, 6))

# Several inputs and outputs (a harness module): floating and bool inputs, floating and int64
# outputs. (Last, so that the cases above keep their random draws.)
case("test_attention, key padding mask", {"type": "test_attention", "embed_dim": 4},
     [randn(2, 3, 4), randn(2, 5, 4), randn(2, 5, 4),
      torch.tensor([[False, True, False, False, True], [False, False, False, True, False]])])

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "layer_fixtures.json")
with open(path, "w") as f:  # one case per line: small, and diffs show which case changed
    f.write(f'{{"generator": "tests/nn/make_layer_fixtures.py", "torch": "{torch.__version__}", "cases": [\n')
    f.write(",\n".join(json.dumps(c) for c in cases))
    f.write("\n]}\n")
print(f"wrote {len(cases)} cases to {path}")
