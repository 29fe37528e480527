#!/usr/bin/env python3
"""The peer of bench/tiny_mlp.cpp in PyTorch (Debian python3-torch): the same 8-8-1 tanh MLP,
forward + backward on one sample, gradients accumulating. Prints us_per_iter (median of 5 runs)."""
import os, sys, time, statistics, torch, torch.nn as nn

iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
torch.set_num_threads(int(os.environ.get("LOOM_NUM_THREADS", "2")))
torch.manual_seed(0)
m = nn.Sequential(nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 1))
x = torch.randn(1, 8)
for _ in range(200):
    m(x).sum().backward()
runs = []
for _ in range(5):
    t = time.perf_counter()
    for _ in range(iterations // 5):
        m(x).sum().backward()
    runs.append((time.perf_counter() - t) / (iterations // 5) * 1e6)
print(f"tiny_mlp_fwd_bwd: us_per_iter={statistics.median(runs):.2f}")
