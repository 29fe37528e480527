#!/usr/bin/env python3
"""Side-by-side benchmark runner for `make bench`.

Runs Loom's benchmark programs and their peers (LibTorch C++, PyTorch through Debian's system
Python) with the same shapes and thread count, interleaved over several rounds so that machine
noise hits every program alike, and reports medians and ratios. Writes a JSON summary.

usage: run.py --build BUILD_DIR --json OUT.json [--rounds N] [--threads N]
"""
import argparse, json, os, re, shutil, statistics, subprocess, sys

SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's python3-torch lives in the system Python


def run(cmd, env):
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    m = re.search(r"us_per_iter=([0-9.]+)", out)
    if not m:
        raise SystemExit(f"run.py: no us_per_iter in the output of {' '.join(cmd)}:\n{out}")
    return float(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=int(os.environ.get("LOOM_NUM_THREADS", "2")))
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    bindir = os.path.join(args.build, "bin")
    env = dict(os.environ, LOOM_NUM_THREADS=str(args.threads), OMP_NUM_THREADS=str(args.threads))
    results = []

    # 1. matmul: Loom's public API against OpenBLAS and oneDNN called directly (one program).
    print(f"== sgemm through loom::matmul vs OpenBLAS / oneDNN called directly ({args.threads} threads)", flush=True)
    matmul_json = os.path.join(args.build, "bench_matmul.json")
    subprocess.run([os.path.join(bindir, "bench_matmul"), "--json", matmul_json], env=env, check=True)
    with open(matmul_json) as f:
        for row in json.load(f):
            results.append({"name": row["name"], "loom_ms": row["loom_ms"],
                            "peer": "faster of OpenBLAS/oneDNN", "peer_ms": min(row["openblas_ms"], row["onednn_ms"]),
                            "ratio": row["ratio"], "higher_is_better": True})

    # 2. tiny MLP forward + backward: dispatch and autograd overhead.
    programs = {"loom": [os.path.join(bindir, "bench_tiny_mlp")]}
    libtorch = os.path.join(bindir, "bench_tiny_mlp_libtorch")
    if os.path.exists(libtorch):
        programs["libtorch"] = [libtorch]
    if shutil.which(SYSTEM_PYTHON) and subprocess.run([SYSTEM_PYTHON, "-c", "import torch"],
                                                      capture_output=True).returncode == 0:
        programs["pytorch"] = [SYSTEM_PYTHON, os.path.join(here, "peers", "tiny_mlp.py")]
    times = {name: [] for name in programs}
    for _ in range(args.rounds):
        for name, cmd in programs.items():
            times[name].append(run(cmd, env))
    med = {name: statistics.median(v) for name, v in times.items()}
    print(f"\n== tiny 8-8-1 tanh MLP, forward + backward, batch 1 ({args.threads} threads, "
          f"median of {args.rounds} interleaved rounds)")
    print(f"{'program':<10} {'us/iter':>9} {'peer / loom':>12}")
    for name, t in med.items():
        print(f"{name:<10} {t:>9.2f} {t / med['loom']:>12.2f}")
        if name != "loom":
            results.append({"name": "tiny_mlp_fwd_bwd", "loom_ms": med["loom"] / 1000, "peer": name,
                            "peer_ms": t / 1000, "ratio": t / med["loom"], "higher_is_better": True})
    # 3. data loading (issue 6): images/s the DataLoader delivers with 2 workers, against fixed targets.
    data_file = os.path.join(here, "..", "datasets", "fashion-mnist.h5")
    loader_bin = os.path.join(bindir, "bench_data_loader")
    if os.path.exists(data_file) and os.path.exists(loader_bin):
        targets = {"memory_crop_flip": 100000, "stream_gzip_chunks": 50000}
        runs = {name: [] for name in targets}
        for _ in range(3):
            out = subprocess.run([loader_bin, "--data", data_file, "--workers", "2"], env=env, check=True,
                                 capture_output=True, text=True).stdout
            for m in re.finditer(r"name=(\S+) images_per_s=([0-9.]+)", out):
                runs[m.group(1)].append(float(m.group(2)))
        print(f"\n== DataLoader, Fashion-MNIST train, batch 128, 2 workers (median of 3 runs)")
        print(f"{'case':<20} {'images/s':>10} {'target':>10}")
        for name, target in targets.items():
            rate = statistics.median(runs[name])
            print(f"{name:<20} {rate:>10.0f} {target:>10}")
            results.append({"name": f"data_{name}", "images_per_s": rate, "target_images_per_s": target,
                            "ratio": rate / target, "higher_is_better": True})
    else:
        print(f"\n(data loading skipped: {data_file} or {loader_bin} missing; `make datasets/fashion-mnist.h5`)")
    peer_info = "absent"
    if "pytorch" in programs:
        peer_info = subprocess.run([SYSTEM_PYTHON, "-c", "import torch; print(torch.__version__, "
                                    "torch.backends.mkldnn.is_available() and 'oneDNN' or '', torch.get_num_threads())"],
                                   env=env, capture_output=True, text=True).stdout.strip()
    print(f"\npeers: PyTorch [version, backend, threads] = {peer_info} ({SYSTEM_PYTHON}); LibTorch C++ "
          f"{'built from Debian libtorch-dev' if 'libtorch' in programs else 'absent'}; threads {args.threads}")
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump({"threads": args.threads, "rounds": args.rounds, "results": results}, f, indent=2)
    print(f"wrote {args.json}  (ratio = how many times faster Loom is; for sgemm, Loom's share of the faster direct call)")


if __name__ == "__main__":
    sys.exit(main())
