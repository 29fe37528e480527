#!/usr/bin/python3
"""The PyTorch peer of bench/select_loop.cpp: backward of a loop that reads one row of x per
step (x[t] * 2, tanh, sum), timed per step for each sequence length.

usage: select_loop.py [--lengths 64,256,1024] [--features 64] [--repeats 7] [--threads N]
prints per length: L=<steps> backward_us_per_step=<median backward time / L>
"""
import argparse
import statistics
import time

import torch


def backward_us(steps, features):
    x = torch.randn(steps, features, requires_grad=True)
    loss = torch.zeros(())
    for t in range(steps):
        loss = loss + (x.select(0, t) * 2.0).tanh().sum()
    start = time.perf_counter()
    loss.backward()
    return (time.perf_counter() - start) * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lengths", default="64,256,1024")
    ap.add_argument("--features", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    for steps in (int(v) for v in args.lengths.split(",")):
        backward_us(steps, args.features)
        times = [backward_us(steps, args.features) for _ in range(args.repeats)]
        print(f"L={steps} backward_us_per_step={statistics.median(times) / steps:.3f}")


if __name__ == "__main__":
    main()
