#!/usr/bin/env python3
"""The peer of bench/train_step.cpp in PyTorch (Debian python3-torch, run with /usr/bin/python3).

One training step — zero_grad, forward, cross-entropy, backward, SGD(lr 0.01, momentum 0.9) —
of the models of ../shared/peers/torch_bench.py on 1x28x28 inputs, measured as there: the
median of --steps timed steps after --warmup. Parameter names are the ones Loom gives the same
modules (Sequential children "0", "1", ...; a block's c1, b1, c2, b2, sc), so a state dict maps
one to one.

--write-init DIR writes the initial state for bench_train_step --init DIR, as .npy files (numpy
ships with python3-torch; h5py is not a dependency):
  DIR/state/<name>.npy   every state_dict entry (parameters float32, BN running stats float32,
                         num_batches_tracked int64), named as in the state dict
  DIR/x.npy, DIR/y.npy   the input batch (float32, N x 1 x 28 x 28) and labels (int64, N)
--init DIR reads the same files back instead of the seeded random state.

--check-steps K runs K steps from the initial state and then prints loss_after_K: the
cross-entropy of one more forward pass (train mode, no gradient), i.e. the loss after K updates.
bench_train_step defines it the same way.

--model conv_resnet8_shapes times conv2d forward + backward (weight gradient, and the input
gradient except for the first conv whose input is the images) for each conv of ResNet-8 at batch 64.

prints: model=<m> batch=<b> step_ms=<median> img_per_s=<...>   (and loss_after_K=<...>)
"""
import argparse, os, statistics, time

import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def lenet():
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


class Block(nn.Module):
    def __init__(s, cin, cout, stride):
        super().__init__()
        s.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False); s.b1 = nn.BatchNorm2d(cout)
        s.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False); s.b2 = nn.BatchNorm2d(cout)
        s.sc = None if (stride == 1 and cin == cout) else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(s, x):
        y = F.relu(s.b1(s.c1(x))); y = s.b2(s.c2(y))
        return F.relu(y + (x if s.sc is None else s.sc(x)))


def resnet8():  # CIFAR-style ResNet with 3 stages (16, 32, 64), one block each
    return nn.Sequential(nn.Conv2d(1, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                         Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


MODELS = {"mlp": (mlp, 128), "lenet": (lenet, 128), "resnet8": (resnet8, 64)}

# ResNet-8's convolutions: (name, C_in, C_out, kernel, stride, input H = W).
RESNET8_CONVS = [("stem 1-16 k3 s1 28", 1, 16, 3, 1, 28),
                 ("b1.c1 16-16 k3 s1 28", 16, 16, 3, 1, 28), ("b1.c2 16-16 k3 s1 28", 16, 16, 3, 1, 28),
                 ("b2.c1 16-32 k3 s2 28", 16, 32, 3, 2, 28), ("b2.c2 32-32 k3 s1 14", 32, 32, 3, 1, 14),
                 ("b2.sc 16-32 k1 s2 28", 16, 32, 1, 2, 28),
                 ("b3.c1 32-64 k3 s2 14", 32, 64, 3, 2, 14), ("b3.c2 64-64 k3 s1 7", 64, 64, 3, 1, 7),
                 ("b3.sc 32-64 k1 s2 14", 32, 64, 1, 2, 14)]


def write_init(model, x, y, folder):
    os.makedirs(os.path.join(folder, "state"), exist_ok=True)
    for name, t in model.state_dict().items():
        a = t.detach().numpy()
        np.save(os.path.join(folder, "state", name + ".npy"), a.astype(np.int64 if a.dtype.kind in "iu" else np.float32))
    np.save(os.path.join(folder, "x.npy"), x.numpy().astype(np.int64 if x.dtype == torch.int64 else np.float32))
    np.save(os.path.join(folder, "y.npy"), y.numpy().astype(np.int64))


def read_init(model, folder):
    state = {name: torch.from_numpy(np.load(os.path.join(folder, "state", name + ".npy")))
             for name in model.state_dict()}
    model.load_state_dict(state)
    return torch.from_numpy(np.load(os.path.join(folder, "x.npy"))), torch.from_numpy(np.load(os.path.join(folder, "y.npy")))


def time_steps(step, warmup, steps):
    ts = []
    for i in range(warmup + steps):
        t = time.perf_counter()
        step()
        if i >= warmup:
            ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def train_step(args):
    make, batch = MODELS[args.model]
    model = make()
    x = torch.randn(batch, 1, 28, 28); y = torch.randint(0, 10, (batch,))
    if args.write_init:
        write_init(model, x, y, args.write_init)
    if args.init:
        x, y = read_init(model, args.init)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad(); loss = F.cross_entropy(model(x), y); loss.backward(); opt.step()

    if args.check_steps > 0:
        for _ in range(args.check_steps):
            step()
        with torch.no_grad():
            loss = F.cross_entropy(model(x), y).item()
        print(f"loss_after_{args.check_steps}={loss:.8g}")
    if args.steps > 0:
        med = time_steps(step, args.warmup, args.steps)
        print(f"model={args.model} batch={batch} step_ms={med * 1e3:.3f} img_per_s={batch / med:.0f}")


def conv_shapes(args):
    batch, total = 64, 0.0
    for name, cin, cout, k, stride, hw in RESNET8_CONVS:
        x = torch.randn(batch, cin, hw, hw, requires_grad=cin != 1)
        w = (torch.randn(cout, cin, k, k) * 0.1).requires_grad_()
        g = torch.randn(F.conv2d(x.detach(), w.detach(), stride=stride, padding=k // 2).shape)

        def step():
            w.grad = None; x.grad = None
            F.conv2d(x, w, stride=stride, padding=k // 2).backward(g)

        med = time_steps(step, args.warmup, args.steps)
        total += med
        print(f"conv name={name.replace(' ', '_')} ms={med * 1e3:.3f}")
    print(f"model=conv_resnet8_shapes batch={batch} step_ms={total * 1e3:.3f} img_per_s={batch / total:.0f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, choices=list(MODELS) + ["conv_resnet8_shapes"])
    ap.add_argument("--threads", type=int, default=int(os.environ.get("LOOM_NUM_THREADS", "2")))
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--write-init", metavar="DIR")
    ap.add_argument("--init", metavar="DIR")
    ap.add_argument("--check-steps", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.model == "conv_resnet8_shapes":
        conv_shapes(args)
    else:
        train_step(args)


if __name__ == "__main__":
    main()
