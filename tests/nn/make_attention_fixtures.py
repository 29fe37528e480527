#!/usr/bin/python3
"""Writes attention_fixtures.json: PyTorch's (Debian's python3-torch, 1.13) values for Loom's
attention and Transformer layers and for F::scaled_dot_product_attention, in float64.

Run from anywhere with Debian's interpreter (the fixture file is committed; the tests never
need PyTorch):
    /usr/bin/python3 tests/nn/make_attention_fixtures.py

"cases" are layer cases in make_layer_fixtures.py's format (test_layer_fixtures.cpp reads them
with layer_fixtures.json's): a Loom registry type and its JSON config, the same config building
the PyTorch module, the parameters by PyTorch's state_dict names, inputs in the multi-tensor
convention of the Loom class (documented at each class), outputs and gradients.
MultiheadAttention's multi-tensor convention {query, key, value[, key_padding_mask[, attn_mask]]}
→ (output, weights) is PyTorch's forward with those keyword arguments; its one-tensor cases are
self-attention, output only. The Transformer classes take their masks positionally in PyTorch's
own order.

"sdpa" are cases of scaled_dot_product_attention, which torch 1.13 lacks: the reference composes
PyTorch 2's definition, softmax(q·kᵀ·scale + mask)·v, with a bool mask meaning "may attend" and
is_causal the top-left aligned ones(L, S).tril(). No case has a fully masked query row (PyTorch's
math path gives NaN there, Loom 0: the C++ suite checks that row by itself).
"""
import json
import math
import os

import torch

torch.manual_seed(1616)
D = torch.float64


def randn(*shape):
    return torch.randn(*shape, dtype=D)


class MultiheadAttention(torch.nn.MultiheadAttention):
    """Loom's calling convention over PyTorch's module (same parameters, same names)."""

    def forward(self, query, key=None, value=None, key_padding_mask=None, attn_mask=None):
        if key is None:  # the one-tensor forward: self-attention, output only
            return super().forward(query, query, query, need_weights=False)[0]
        return super().forward(query, key, value, key_padding_mask=key_padding_mask, attn_mask=attn_mask)


class SinusoidalPositionalEncoding(torch.nn.Module):
    """x + PE, the table as the PyTorch tutorial builds it (an odd d_model drops the last cos)."""

    def __init__(self, d_model, max_len=5000, batch_first=False):
        super().__init__()
        self.d, self.batch_first = d_model, batch_first

    def forward(self, x):
        length = x.shape[1] if x.dim() == 3 and self.batch_first else x.shape[0]
        position = torch.arange(length, dtype=D).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, self.d, 2, dtype=D) * (-math.log(10000.0) / self.d))
        pe = torch.zeros(length, self.d, dtype=D)
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)[:, : self.d // 2]
        return x + (pe.unsqueeze(1) if x.dim() == 3 and not self.batch_first else pe)


class LearnedPositionalEmbedding(torch.nn.Module):
    def __init__(self, d_model, max_len, batch_first=False):
        super().__init__()
        self.batch_first = batch_first
        self.weight = torch.nn.Parameter(torch.zeros(max_len, d_model, dtype=D))

    def forward(self, x):
        length = x.shape[1] if x.dim() == 3 and self.batch_first else x.shape[0]
        table = self.weight[:length]
        return x + (table.unsqueeze(1) if x.dim() == 3 and not self.batch_first else table)


LAYER_KEYS = ("d_model", "nhead", "dim_feedforward", "dropout", "activation", "layer_norm_eps", "batch_first",
              "norm_first")


def torch_layer(config):
    t = config["type"]
    c = {k: v for k, v in config.items() if k != "type"}
    if t == "multihead_attention":
        return MultiheadAttention(c["embed_dim"], c["num_heads"], dropout=c.get("dropout", 0.0), bias=c.get("bias", True),
                                  add_bias_kv=c.get("add_bias_kv", False), add_zero_attn=c.get("add_zero_attn", False),
                                  kdim=c.get("kdim"), vdim=c.get("vdim"), batch_first=c.get("batch_first", False))
    layer = {k: v for k, v in c.items() if k in LAYER_KEYS}
    if t == "transformer_encoder_layer":
        return torch.nn.TransformerEncoderLayer(**layer)
    if t == "transformer_decoder_layer":
        return torch.nn.TransformerDecoderLayer(**layer)
    norm = torch.nn.LayerNorm(c["d_model"], eps=c.get("layer_norm_eps", 1e-5)) if c.get("norm") else None
    if t == "transformer_encoder":
        return torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(**layer), c["num_layers"], norm=norm,
                                           enable_nested_tensor=False)
    if t == "transformer_decoder":
        return torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(**layer), c["num_layers"], norm=norm)
    if t == "transformer":
        return torch.nn.Transformer(**c)
    if t == "sinusoidal_positional_encoding":
        return SinusoidalPositionalEncoding(**c)
    if t == "learned_positional_embedding":
        return LearnedPositionalEmbedding(**c)
    raise ValueError(t)


DTYPES = {torch.float64: "float64", torch.int64: "int64", torch.bool: "bool"}


def encode(t):
    return {"shape": list(t.shape), "dtype": DTYPES[t.dtype], "data": t.reshape(-1).tolist()}


cases = []


def case(name, config, x, mode="train"):
    """x: one tensor (module(x)) or a list of tensors in forward order (module(*x))."""
    module = torch_layer(config).to(D)
    module.train(mode == "train")
    with torch.no_grad():  # non-default values: zero biases and unit norms would hide layout bugs
        for p in module.parameters():
            p.copy_(randn(*p.shape) * 0.5)
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


def padding(rows):
    """A key padding mask, True = ignored (PyTorch's MultiheadAttention polarity)."""
    return torch.tensor(rows, dtype=torch.bool)


def causal(size):
    """The causal mask in MultiheadAttention's polarity: True above the diagonal (masked out). Bool,
    since JSON has no -inf for generate_square_subsequent_mask's float form (the C++ suite checks
    that the two give the same outputs)."""
    return torch.ones(size, size, dtype=torch.bool).triu(1)


# MultiheadAttention: (L, N, E) by default
mha = {"type": "multihead_attention", "embed_dim": 4, "num_heads": 2}
case("multihead_attention, 2 heads, (L, N, E)", mha, [randn(3, 2, 4), randn(5, 2, 4), randn(5, 2, 4)])
case("multihead_attention, key padding mask and a bool attn_mask",
     mha, [randn(3, 2, 4), randn(5, 2, 4), randn(5, 2, 4),
           padding([[False, True, False, False, True], [False, False, False, True, False]]),
           torch.tensor([[False, False, True, False, False], [True, False, False, False, False],
                         [False, False, False, False, True]])])
case("multihead_attention, batch_first, float attn_mask per head (N*H, L, S), no bias",
     {**mha, "batch_first": True, "bias": False},
     [randn(2, 3, 4), randn(2, 4, 4), randn(2, 4, 4), padding([[False, False, True, False], [False, False, False, False]]),
      randn(4, 3, 4)])
case("multihead_attention, kdim 3, vdim 5, 1 head", {"type": "multihead_attention", "embed_dim": 4, "num_heads": 1,
                                                   "kdim": 3, "vdim": 5, "batch_first": True},
     [randn(2, 3, 4), randn(2, 4, 3), randn(2, 4, 5)])
case("multihead_attention, add_bias_kv, add_zero_attn, key padding mask",
     {**mha, "add_bias_kv": True, "add_zero_attn": True},
     [randn(3, 2, 4), randn(4, 2, 4), randn(4, 2, 4), padding([[False, True, False, False], [False, False, True, True]])])
case("multihead_attention, unbatched (L, E), key padding mask (S)", mha,
     [randn(3, 4), randn(5, 4), randn(5, 4), padding([False, False, True, False, False])])
case("multihead_attention, dropout 0.3 (eval), self-attention one-tensor forward",
     {**mha, "dropout": 0.3, "batch_first": True}, randn(2, 3, 4), mode="eval")

# Encoder and decoder layers: post-norm and pre-norm, relu and gelu, masks
layer = {"d_model": 4, "nhead": 2, "dim_feedforward": 6, "dropout": 0.0}
case("transformer_encoder_layer, post-norm relu", {"type": "transformer_encoder_layer", **layer}, randn(3, 2, 4))
case("transformer_encoder_layer, norm_first gelu, batch_first, causal mask and key padding",
     {"type": "transformer_encoder_layer", **layer, "norm_first": True, "activation": "gelu", "batch_first": True,
      "layer_norm_eps": 1e-3},
     [randn(2, 4, 4), causal(4), padding([[False, False, False, True], [False, False, False, False]])])
case("transformer_encoder_layer, dropout 0.2 (eval)", {"type": "transformer_encoder_layer", **layer, "dropout": 0.2},
     randn(3, 2, 4), mode="eval")
case("transformer_decoder_layer, post-norm, causal tgt_mask",
     {"type": "transformer_decoder_layer", **layer}, [randn(3, 2, 4), randn(5, 2, 4), causal(3)])
case("transformer_decoder_layer, norm_first gelu, batch_first, all four masks",
     {"type": "transformer_decoder_layer", **layer, "norm_first": True, "activation": "gelu", "batch_first": True},
     [randn(2, 3, 4), randn(2, 4, 4), causal(3), torch.tensor([[False, True, False, False]] * 3),
      padding([[False, False, True], [False, False, False]]), padding([[False, False, False, True], [True, False, False, False]])])

# Stacks and the Transformer
case("transformer_encoder, 2 layers, final norm, key padding",
     {"type": "transformer_encoder", **layer, "num_layers": 2, "norm": True},
     [randn(4, 2, 4), randn(4, 4), padding([[False, False, True, True], [False, False, False, False]])])
case("transformer_encoder, 2 layers, norm_first, batch_first, no final norm",
     {"type": "transformer_encoder", **layer, "num_layers": 2, "norm_first": True, "batch_first": True}, randn(2, 3, 4))
case("transformer_decoder, 2 layers, final norm, causal tgt_mask",
     {"type": "transformer_decoder", **layer, "num_layers": 2, "norm": True}, [randn(3, 2, 4), randn(4, 2, 4), causal(3)])
case("transformer, 1 + 1 layers, all masks", {"type": "transformer", **layer, "num_encoder_layers": 1,
                                              "num_decoder_layers": 1},
     [randn(4, 2, 4), randn(3, 2, 4), torch.zeros(4, 4, dtype=D), causal(3), torch.zeros(3, 4, dtype=D),
      padding([[False, False, False, True], [False, False, False, False]]),
      padding([[False, False, False], [False, False, True]]), padding([[False, False, False, True], [False, False, False, False]])])
case("transformer, 2 + 1 layers, gelu, norm_first, batch_first",
     {"type": "transformer", **layer, "num_encoder_layers": 2, "num_decoder_layers": 1, "activation": "gelu",
      "norm_first": True, "batch_first": True}, [randn(2, 4, 4), randn(2, 3, 4)])

# Positional encodings
case("sinusoidal_positional_encoding, (L, N, d)", {"type": "sinusoidal_positional_encoding", "d_model": 6},
     randn(5, 2, 6))
case("sinusoidal_positional_encoding, odd d_model, batch_first",
     {"type": "sinusoidal_positional_encoding", "d_model": 5, "max_len": 8, "batch_first": True}, randn(2, 7, 5))
case("learned_positional_embedding, (L, N, d)", {"type": "learned_positional_embedding", "d_model": 3, "max_len": 6},
     randn(4, 2, 3))
case("learned_positional_embedding, batch_first (N, L, d)",
     {"type": "learned_positional_embedding", "d_model": 3, "max_len": 5, "batch_first": True}, randn(2, 5, 3))


# ---- scaled_dot_product_attention ----
sdpa = []


def sdpa_reference(q, k, v, mask, is_causal, scale):
    scores = q @ k.transpose(-2, -1) * (scale if scale is not None else 1 / math.sqrt(q.shape[-1]))
    if is_causal:
        mask = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).tril()
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
    return scores.softmax(-1) @ v


def sdpa_case(name, q, k, v, mask=None, is_causal=False, scale=None):
    ins = [t.clone().requires_grad_(True) for t in (q, k, v)]
    m = mask.clone().requires_grad_(True) if mask is not None and mask.dtype == D else mask
    out = sdpa_reference(*ins, m, is_causal, scale)
    grad_output = randn(*out.shape)
    (out * grad_output).sum().backward()
    c = {"name": name, "q": encode(q), "k": encode(k), "v": encode(v), "is_causal": is_causal,
         "output": encode(out.detach()), "grad_output": encode(grad_output),
         "grad_q": encode(ins[0].grad), "grad_k": encode(ins[1].grad), "grad_v": encode(ins[2].grad)}
    if mask is not None:
        c["mask"] = encode(mask)
        if mask.dtype == D:
            c["grad_mask"] = encode(m.grad)
    if scale is not None:
        c["scale"] = scale
    sdpa.append(c)


sdpa_case("3-D, no mask", randn(2, 3, 4), randn(2, 5, 4), randn(2, 5, 4))
sdpa_case("4-D, value features 6 differ from E = 4", randn(2, 2, 3, 4), randn(2, 2, 5, 4), randn(2, 2, 5, 6))
sdpa_case("broadcast batch dims: q (2, 3, L, E), k and v (3, S, E)", randn(2, 3, 4, 5), randn(3, 6, 5), randn(3, 6, 2))
sdpa_case("bool mask (L, S) broadcast over the batch", randn(2, 3, 4), randn(2, 5, 4), randn(2, 5, 3),
          mask=torch.tensor([[True, False, True, True, False], [True, True, True, True, True],
                             [False, False, False, False, True]]))
sdpa_case("float mask (2, 1, L, S) with its gradient", randn(2, 2, 3, 4), randn(2, 2, 4, 4), randn(2, 2, 4, 4),
          mask=randn(2, 1, 3, 4))
sdpa_case("causal, L < S (top-left aligned)", randn(2, 3, 4), randn(2, 5, 4), randn(2, 5, 4), is_causal=True)
sdpa_case("causal, L > S", randn(1, 2, 5, 4), randn(1, 2, 3, 4), randn(1, 2, 3, 4), is_causal=True)
sdpa_case("scale 0.3", randn(2, 3, 4), randn(2, 4, 4), randn(2, 4, 4), scale=0.3)

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "attention_fixtures.json")
with open(path, "w") as f:  # one case per line: small, and diffs show which case changed
    f.write(f'{{"generator": "tests/nn/make_attention_fixtures.py", "torch": "{torch.__version__}", "cases": [\n')
    f.write(",\n".join(json.dumps(c) for c in cases))
    f.write('\n], "sdpa": [\n')
    f.write(",\n".join(json.dumps(c) for c in sdpa))
    f.write("\n]}\n")
print(f"wrote {len(cases)} layer cases and {len(sdpa)} sdpa cases to {path}")
