#!/usr/bin/env python3
"""The peer of bench/sequence_step.cpp in PyTorch (Debian python3-torch, run with /usr/bin/python3).

One training step — zero_grad, forward, cross-entropy, backward, Adam(lr 1e-3) — of the issue-16
recurrent models, measured as train_step.py measures (the median of --steps timed steps after
--warmup). Module and parameter names are the ones bench_sequence_step gives the same models
(lstm.weight_ih_l0, fc.weight, embed.weight, ...), so a state dict maps one to one:
  row_lstm  LSTM(28 -> 128, batch_first) over 28 rows, Linear(128, 10) on h_n; x (128, 28, 28)
  lstm_lm   Embedding(128, 512), LSTM(512 -> 512, 2 layers, batch_first), Linear(512, 128) on every
            step; tokens and targets (32, 256)

--write-init DIR writes DIR/state/<name>.npy, DIR/x.npy, DIR/y.npy for bench_sequence_step --init DIR
(float32 parameters; x float32 rows or int64 tokens; y int64); --init DIR reads them back.
--check-steps K runs K steps and prints loss_after_K: the cross-entropy of one more forward pass
(no gradient) after the K updates, as bench_sequence_step defines it.

prints: model=<m> batch=<b> step_ms=<median> seq_per_s=<...>   (and loss_after_K=<...>)
"""
import argparse, os, statistics, time

import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F


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


def make(model):
    if model == "row_lstm":
        return RowLSTM(), torch.randn(128, 28, 28), torch.randint(0, 10, (128,))
    V = LanguageModel.VOCAB
    return LanguageModel(), torch.randint(0, V, (32, 256)), torch.randint(0, V, (32, 256))


def write_init(model, x, y, folder):
    os.makedirs(os.path.join(folder, "state"), exist_ok=True)
    for name, t in model.state_dict().items():
        np.save(os.path.join(folder, "state", name + ".npy"), t.detach().numpy().astype(np.float32))
    np.save(os.path.join(folder, "x.npy"), x.numpy().astype(np.int64 if x.dtype == torch.int64 else np.float32))
    np.save(os.path.join(folder, "y.npy"), y.numpy().astype(np.int64))


def read_init(model, folder):
    state = {name: torch.from_numpy(np.load(os.path.join(folder, "state", name + ".npy")))
             for name in model.state_dict()}
    model.load_state_dict(state)
    return torch.from_numpy(np.load(os.path.join(folder, "x.npy"))), torch.from_numpy(np.load(os.path.join(folder, "y.npy")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, choices=["row_lstm", "lstm_lm"])
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
        ts = []
        for i in range(args.warmup + args.steps):
            t = time.perf_counter()
            step()
            if i >= args.warmup:
                ts.append(time.perf_counter() - t)
        med = statistics.median(ts)
        print(f"model={args.model} batch={x.shape[0]} step_ms={med * 1e3:.3f} seq_per_s={x.shape[0] / med:.0f}")


if __name__ == "__main__":
    main()
