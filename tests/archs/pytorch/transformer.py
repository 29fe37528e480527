#!/usr/bin/python3
"""Fixture rows for the "transformer" architecture plugin (plugins/archs/transformer):
transformer_seq2seq, transformer_lm and vit, from independent PyTorch definitions built on
torch.nn.Transformer*, so parameter counts and names (compared in order) follow PyTorch's.

    /usr/bin/python3 tests/archs/pytorch/transformer.py   # writes tests/archs/fixtures/transformer.json
"""
import math

import torch
from torch import nn

from fixture_rows import write_fixture


class LearnedPositions(nn.Module):
    def __init__(self, max_len, d_model):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(max_len, d_model))

    def forward(self, x):
        return x + self.weight[: x.shape[1]]


class SinusoidalPositions(nn.Module):
    def __init__(self, max_len, d_model):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        angle = position / torch.pow(10000.0, torch.arange(0, d_model, 2) / d_model)
        self.table = torch.zeros(max_len, d_model)
        self.table[:, 0::2] = torch.sin(angle)
        self.table[:, 1::2] = torch.cos(angle[:, : d_model // 2])

    def forward(self, x):
        return x + self.table[: x.shape[1]]


class TokenEmbedding(nn.Module):
    def __init__(self, vocab, d_model, max_len, positional, dropout):
        super().__init__()
        self.tokens = nn.Embedding(vocab, d_model)
        Positions = LearnedPositions if positional == "learned" else SinusoidalPositions
        self.positions = Positions(max_len, d_model)
        self.dropout = nn.Dropout(dropout)
        self.scale = math.sqrt(d_model)

    def forward(self, tokens):
        return self.dropout(self.positions(self.tokens(tokens) * self.scale))


class Seq2Seq(nn.Module):
    def __init__(self, vocab_size=None, src_vocab_size=None, tgt_vocab_size=None, d_model=128, nhead=4,
                 num_encoder_layers=3, num_decoder_layers=3, dim_feedforward=512, dropout=0.1, max_len=256,
                 positional="sinusoidal", norm_first=False, activation="relu", pad_id=0):
        super().__init__()
        src_vocab_size = src_vocab_size or vocab_size
        tgt_vocab_size = tgt_vocab_size or vocab_size
        self.pad_id = pad_id
        self.src_embed = TokenEmbedding(src_vocab_size, d_model, max_len, positional, dropout)
        self.tgt_embed = TokenEmbedding(tgt_vocab_size, d_model, max_len, positional, dropout)
        self.transformer = nn.Transformer(d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward,
                                          dropout, activation, batch_first=True, norm_first=norm_first)
        self.generator = nn.Linear(d_model, tgt_vocab_size)

    def forward(self, src, tgt):
        causal = nn.Transformer.generate_square_subsequent_mask(tgt.shape[1])
        pad = (lambda t: t == self.pad_id) if self.pad_id >= 0 else (lambda t: None)
        h = self.transformer(self.src_embed(src), self.tgt_embed(tgt), tgt_mask=causal,
                             src_key_padding_mask=pad(src), tgt_key_padding_mask=pad(tgt),
                             memory_key_padding_mask=pad(src))
        return self.generator(h)


class LM(nn.Module):
    def __init__(self, vocab_size, d_model=128, nhead=4, num_layers=4, dim_feedforward=512, dropout=0.1,
                 max_len=256, positional="sinusoidal", norm_first=True, activation="relu", tie_weights=False):
        super().__init__()
        self.embed = TokenEmbedding(vocab_size, d_model, max_len, positional, dropout)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation, batch_first=True,
                                           norm_first=norm_first)
        self.encoder = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model) if norm_first else None,
                                             enable_nested_tensor=False)
        self.head = nn.Linear(d_model, vocab_size)
        if tie_weights:
            self.head.weight = self.embed.tokens.weight

    def forward(self, tokens):
        causal = nn.Transformer.generate_square_subsequent_mask(tokens.shape[1])
        return self.head(self.encoder(self.embed(tokens), mask=causal))


class ViT(nn.Module):
    def __init__(self, in_channels=1, num_classes=10, input_size=28, patch_size=4, d_model=64, depth=6, nhead=4,
                 dim_feedforward=128, dropout=0.1, pool="cls", activation="gelu"):
        super().__init__()
        h, w = (input_size, input_size) if isinstance(input_size, int) else input_size
        tokens = (h // patch_size) * (w // patch_size)
        self.pool = pool
        if pool == "cls":
            self.cls_token = nn.Parameter(torch.zeros(1, 1, d_model))
        self.patch_embed = nn.Conv2d(in_channels, d_model, patch_size, stride=patch_size)
        self.pos_embed = LearnedPositions(tokens + (pool == "cls"), d_model)
        self.dropout = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation, batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, depth, norm=nn.LayerNorm(d_model), enable_nested_tensor=False)
        self.head = nn.Linear(d_model, num_classes)

    def forward(self, x):
        tokens = self.patch_embed(x).flatten(2).transpose(1, 2)
        if self.pool == "cls":
            tokens = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), tokens], dim=1)
        h = self.encoder(self.dropout(self.pos_embed(tokens)))
        return self.head(h[:, 0] if self.pool == "cls" else h.mean(1))


# Shared and separate vocabularies, both positional encodings, post- and pre-norm, both
# activations, padding masks on and off.
SEQ2SEQ = [
    ({"vocab_size": 14}, [9, 7]),
    ({"src_vocab_size": 13, "tgt_vocab_size": 15, "d_model": 32, "nhead": 2, "num_encoder_layers": 2,
      "num_decoder_layers": 1, "dim_feedforward": 64, "dropout": 0.0, "max_len": 16, "positional": "learned",
      "norm_first": True, "activation": "gelu", "pad_id": 1}, [11, 6]),
    ({"vocab_size": 20, "d_model": 48, "nhead": 6, "num_encoder_layers": 1, "num_decoder_layers": 2,
      "dim_feedforward": 96, "pad_id": -1}, [5, 8]),
]
LMS = [
    ({"vocab_size": 30}, [12]),
    ({"vocab_size": 50, "d_model": 32, "nhead": 4, "num_layers": 2, "dim_feedforward": 64, "max_len": 20,
      "positional": "learned", "tie_weights": True}, [20]),
    ({"vocab_size": 17, "d_model": 24, "nhead": 3, "num_layers": 1, "dim_feedforward": 40, "dropout": 0.0,
      "norm_first": False, "activation": "gelu", "tie_weights": True}, [9]),
]
VITS = [
    {},
    {"patch_size": 7, "d_model": 96, "depth": 2, "nhead": 6, "dim_feedforward": 192, "pool": "mean"},
    {"in_channels": 3, "num_classes": 5, "input_size": [32, 16], "patch_size": 8, "d_model": 32, "depth": 1,
     "nhead": 2, "dim_feedforward": 48, "dropout": 0.0, "activation": "relu"},
]


def vit_input(config):
    size = config.get("input_size", 28)
    h, w = (size, size) if isinstance(size, int) else size
    return [config.get("in_channels", 1), h, w]


if __name__ == "__main__":
    torch.manual_seed(0)
    rows = [("transformer_seq2seq", c, [[s] for s in lengths], Seq2Seq(**c),
             min(c.get("src_vocab_size", c.get("vocab_size")), c.get("tgt_vocab_size", c.get("vocab_size"))))
            for c, lengths in SEQ2SEQ]
    rows += [("transformer_lm", c, [lengths], LM(**c), c["vocab_size"]) for c, lengths in LMS]
    rows += [("vit", c, vit_input(c), ViT(**c)) for c in VITS]
    write_fixture("transformer", rows, named=range(len(rows)))
