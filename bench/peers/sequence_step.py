#!/usr/bin/env python3
"""The peer of bench/sequence_step.cpp in PyTorch (Debian python3-torch, run with /usr/bin/python3).

One training step — zero_grad, forward, cross-entropy, backward, Adam(lr 1e-3) — of the issue-16
recurrent models, measured as train_step.py measures (the median of --steps timed steps after
--warmup). Module and parameter names are the ones bench_sequence_step gives the same models
(lstm.weight_ih_l0, fc.weight, embed.weight, ...), so a state dict maps one to one:
  row_lstm  LSTM(28 -> 128, batch_first) over 28 rows, Linear(128, 10) on h_n; x (128, 28, 28)
  lstm_lm   Embedding(128, 512), LSTM(512 -> 512, 2 layers, batch_first), Linear(512, 128) on every
            step; tokens and targets (32, 256)
  tiny_vit  Conv2d(1, 64, 4, stride 4) patches (49 tokens) + learned positions, TransformerEncoder(2
            pre-norm layers, 4 heads, feed-forward 128, GELU, dropout 0, batch_first, final LayerNorm),
            mean over tokens, Linear(64, 10); x (128, 1, 28, 28)

--write-init DIR writes DIR/state/<name>.npy, DIR/x.npy, DIR/y.npy for bench_sequence_step --init DIR
(float32 parameters; x float32 rows or int64 tokens; y int64); --init DIR reads them back.
--check-steps K runs K steps and prints loss_after_K: the cross-entropy of one more forward pass
(no gradient) after the K updates, as bench_sequence_step defines it.

prints: model=<m> batch=<b> step_ms=<median> seq_per_s=<...>   (and loss_after_K=<...>)
"""
import argparse, os

import torch, torch.nn as nn, torch.nn.functional as F

from train_step import read_init, time_steps, write_init  # the initial-state files and timer of the SGD bench


class RowLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(28, 128, batch_first=True)
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.fc(h[0])


class LanguageModel(nn.Module):
    VOCAB, WIDTH = 128, 512

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(self.VOCAB, self.WIDTH)
        self.lstm = nn.LSTM(self.WIDTH, self.WIDTH, num_layers=2, batch_first=True)
        self.fc = nn.Linear(self.WIDTH, self.VOCAB)

    def forward(self, tokens):
        h, _ = self.lstm(self.embed(tokens))
        return self.fc(h.reshape(-1, self.WIDTH))


class TinyViT(nn.Module):
    WIDTH, TOKENS = 64, 49

    def __init__(self):
        super().__init__()
        self.patch = nn.Conv2d(1, self.WIDTH, 4, stride=4)
        self.pos = nn.Parameter(torch.randn(1, self.TOKENS, self.WIDTH) * 0.02)
        layer = nn.TransformerEncoderLayer(self.WIDTH, 4, 128, dropout=0.0, activation="gelu", batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(self.WIDTH), enable_nested_tensor=False)
        self.fc = nn.Linear(self.WIDTH, 10)

    def forward(self, x):
        tokens = self.patch(x).flatten(2).transpose(1, 2) + self.pos
        return self.fc(self.encoder(tokens).mean(1))


def make(model):
    if model == "tiny_vit":
        return TinyViT(), torch.randn(128, 1, 28, 28), torch.randint(0, 10, (128,))
    if model == "row_lstm":
        return RowLSTM(), torch.randn(128, 28, 28), torch.randint(0, 10, (128,))
    V = LanguageModel.VOCAB
    return LanguageModel(), torch.randint(0, V, (32, 256)), torch.randint(0, V, (32, 256))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, choices=["row_lstm", "lstm_lm", "tiny_vit"])
    ap.add_argument("--threads", type=int, default=int(os.environ.get("LOOM_NUM_THREADS", "2")))
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--write-init", metavar="DIR")
    ap.add_argument("--init", metavar="DIR")
    ap.add_argument("--check-steps", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model, x, y = make(args.model)
    if args.write_init:
        write_init(model, x, y, args.write_init)
    if args.init:
        x, y = read_init(model, args.init)
    targets = y.reshape(-1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(); loss = F.cross_entropy(model(x), targets); loss.backward(); opt.step()

    if args.check_steps > 0:
        for _ in range(args.check_steps):
            step()
        with torch.no_grad():
            loss = F.cross_entropy(model(x), targets).item()
        print(f"loss_after_{args.check_steps}={loss:.8g}")
    if args.steps > 0:
        med = time_steps(step, args.warmup, args.steps)
        print(f"model={args.model} batch={x.shape[0]} step_ms={med * 1e3:.3f} seq_per_s={x.shape[0] / med:.0f}")


if __name__ == "__main__":
    main()
