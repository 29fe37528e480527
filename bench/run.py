#!/usr/bin/env python3
"""Side-by-side benchmark runner for `make bench`.

Runs Loom's benchmark programs and their peers (LibTorch C++, PyTorch through Debian's system
Python) with the same shapes and thread count, interleaved over several rounds so that machine
noise hits every program alike, and reports medians and ratios. Writes a JSON summary. Exits
non-zero, after every table, when Loom's loss after 10 training steps differs from PyTorch's
from the same initial state (then the two do not time the same computation).

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


def run_fields(cmd, env, keys):
    """Runs a program that prints key=value pairs; returns the values of `keys` as floats."""
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"run.py: {' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    fields = dict(re.findall(r"(\S+)=([-+0-9.eE]+|nan|inf)", proc.stdout))
    missing = [k for k in keys if k not in fields]
    if missing:
        raise SystemExit(f"run.py: no {', '.join(missing)} in the output of {' '.join(cmd)}:\n{proc.stdout}")
    return [float(fields[k]) for k in keys]


# Issue 7's bars: PyTorch's step time / Loom's, 2 threads. The conv row has no bar of its own.
TRAIN_STEP_TARGETS = {"mlp": 1.5, "lenet": 2.0, "resnet8": 1.5, "conv_resnet8_shapes": None}
TRAIN_STEP_COUNTS = {"mlp": (30, 5), "lenet": (20, 5), "resnet8": (10, 3), "conv_resnet8_shapes": (10, 3)}
LOSS_TOLERANCE = 1e-3  # relative: float32 and different summation orders over 10 steps
# Issue 16's bars for the recurrent training steps (Adam), and their step counts.
SEQUENCE_STEP_TARGETS = {"row_lstm": 1.5, "lstm_lm": 1.2, "tiny_vit": 2.0}
SEQUENCE_STEP_COUNTS = {"row_lstm": (20, 5), "lstm_lm": (5, 2), "tiny_vit": (20, 5)}
RSS_TARGET_PCT = 5.0


def check_losses(title, loom_bin, peer, models, init_dir, args, env, results):
    """The loss after 10 steps of Loom and of the peer from the peer's initial state and batch (written
    to BUILD/<init_dir>/<model>), so that the timings compare the same computation. Returns
    ({model: its initial-state folder}, the failed checks)."""
    failures = []
    print(f"\n== loss after 10 {title} from the same initial state and batch ({args.threads} threads)")
    print(f"{'model':<10} {'loom':>12} {'pytorch':>12} {'rel diff':>10}")
    init = {}
    for model in models:
        init[model] = os.path.join(os.path.abspath(args.build), init_dir, model)
        run_fields(peer + ["--model", model, "--write-init", init[model], "--steps", "0"], env, [])
        check = ["--model", model, "--init", init[model], "--check-steps", "10", "--steps", "0"]
        loom_loss, = run_fields([loom_bin] + check, env, ["loss_after_10"])
        torch_loss, = run_fields(peer + check, env, ["loss_after_10"])
        rel = abs(loom_loss - torch_loss) / max(abs(torch_loss), 1e-12)
        ok = rel <= LOSS_TOLERANCE
        print(f"{model:<10} {loom_loss:>12.7f} {torch_loss:>12.7f} {rel:>10.2e}  {'ok' if ok else 'FAIL'}")
        if not ok:
            failures.append(f"{model}: loss after 10 steps {loom_loss:.7g} (loom) vs {torch_loss:.7g} (pytorch), "
                            f"relative difference {rel:.2e} > {LOSS_TOLERANCE:g}")
        results.append({"name": f"loss_after_10_{model}", "loom_loss": loom_loss, "torch_loss": torch_loss,
                        "relative_difference": rel, "ok": ok})
    return init, failures


def time_steps(title, loom_bin, peer, counts, targets, init, result_name, args, env, results):
    """Step times of Loom and the peer, interleaved over args.rounds rounds, against the targets
    (peer / Loom; None: no bar). counts: {model: (steps, warmup)}; result_name(model, target)
    names the JSON row."""
    times = {(m, p): [] for m in targets for p in ("loom", "pytorch")}
    for _ in range(args.rounds):
        for model, (steps, warmup) in counts.items():
            flags = ["--model", model, "--steps", str(steps), "--warmup", str(warmup)]
            if model in init:
                flags += ["--init", init[model]]
            times[(model, "loom")].append(run_fields([loom_bin] + flags, env, ["step_ms"])[0])
            times[(model, "pytorch")].append(run_fields(peer + flags, env, ["step_ms"])[0])
    print(f"\n== {title}, {args.threads} threads, median of {args.rounds} interleaved rounds")
    print(f"{'model':<20} {'loom ms':>9} {'torch ms':>9} {'torch/loom':>11} {'target':>7}")
    for model, target in targets.items():
        loom_ms = statistics.median(times[(model, "loom")])
        torch_ms = statistics.median(times[(model, "pytorch")])
        ratio = torch_ms / loom_ms
        verdict = "" if target is None else ("  met" if ratio >= target else "  not met")
        target_text = "-" if target is None else f"{target:.1f}x"
        print(f"{model:<20} {loom_ms:>9.2f} {torch_ms:>9.2f} {ratio:>11.2f} {target_text:>7}{verdict}")
        results.append({"name": result_name(model, target), "loom_ms": loom_ms, "torch_ms": torch_ms,
                        "peer": "pytorch", "peer_ms": torch_ms, "ratio": ratio, "target_ratio": target,
                        "higher_is_better": True})


def torch_peer_missing(loom_bin, what):
    """True (and says so) when Loom's program or PyTorch in the system Python is missing."""
    if os.path.exists(loom_bin) and subprocess.run([SYSTEM_PYTHON, "-c", "import torch"],
                                                   capture_output=True).returncode == 0:
        return False
    print(f"\n({what} skipped: {loom_bin} or PyTorch in {SYSTEM_PYTHON} missing)")
    return True


def train_steps(args, here, bindir, env, results):
    """Section 4 (issue 7): training steps against PyTorch from the same initial state. Returns
    the list of failed checks (losses that differ), printed again at the end."""
    loom_bin = os.path.join(bindir, "bench_train_step")
    peer = [SYSTEM_PYTHON, os.path.join(here, "peers", "train_step.py"), "--threads", str(args.threads)]
    if torch_peer_missing(loom_bin, "training steps"):
        return []
    init, failures = check_losses("SGD steps", loom_bin, peer, ("mlp", "lenet", "resnet8"), "train_step_init",
                                  args, env, results)
    time_steps("training step (zero_grad, forward, cross-entropy, backward, SGD momentum)", loom_bin, peer,
               TRAIN_STEP_COUNTS, TRAIN_STEP_TARGETS, init,
               lambda model, target: f"train_step_{model}" if target else model, args, env, results)

    rss_100, rss_end, growth = run_fields([loom_bin, "--rss-steps", "1000"], env,
                                          ["rss_mb_after_100", "rss_mb_after_1000", "rss_growth_pct"])
    print(f"\n== resident memory over 1000 LeNet steps: {rss_100:.1f} MB after step 100, {rss_end:.1f} MB after "
          f"step 1000, growth {growth:+.2f}% (target within {RSS_TARGET_PCT:g}%: "
          f"{'met' if abs(growth) <= RSS_TARGET_PCT else 'not met'})")
    results.append({"name": "rss_growth_lenet_1000_steps", "rss_mb_after_100": rss_100, "rss_mb_after_1000": rss_end,
                    "growth_pct": growth, "target_pct": RSS_TARGET_PCT})
    return failures


def sequence_steps(args, here, bindir, env, results):
    """Section 5 (issue 16): recurrent training steps (Adam) against PyTorch from the same initial
    state, the loss after 10 steps checked first. Returns the list of failed checks."""
    loom_bin = os.path.join(bindir, "bench_sequence_step")
    peer = [SYSTEM_PYTHON, os.path.join(here, "peers", "sequence_step.py"), "--threads", str(args.threads)]
    if torch_peer_missing(loom_bin, "sequence steps"):
        return []
    init, failures = check_losses("Adam steps of the recurrent models", loom_bin, peer, SEQUENCE_STEP_TARGETS,
                                  "sequence_step_init", args, env, results)
    time_steps("recurrent training step (zero_grad, forward, cross-entropy, backward, Adam)", loom_bin, peer,
               SEQUENCE_STEP_COUNTS, SEQUENCE_STEP_TARGETS, init, lambda model, target: f"sequence_step_{model}",
               args, env, results)
    return failures


SELECT_LENGTHS = (64, 256, 1024)


def select_loop(args, here, bindir, env, results):
    """Section 6 (issue 16): backward time per step of a loop over L steps that reads one row per
    step. Linear cost shows as a per-step time that does not grow with L."""
    loom_bin = os.path.join(bindir, "bench_select_loop")
    if not os.path.exists(loom_bin):
        print(f"\n(select loop skipped: {loom_bin} missing)")
        return
    lengths = ",".join(str(n) for n in SELECT_LENGTHS)
    programs = {"loom": [loom_bin, "--lengths", lengths]}
    if subprocess.run([SYSTEM_PYTHON, "-c", "import torch"], capture_output=True).returncode == 0:
        programs["pytorch"] = [SYSTEM_PYTHON, os.path.join(here, "peers", "select_loop.py"), "--lengths", lengths,
                               "--threads", str(args.threads)]
    keys = [f"L={n}" for n in SELECT_LENGTHS]
    per_step = {name: {n: [] for n in SELECT_LENGTHS} for name in programs}
    for _ in range(3):
        for name, cmd in programs.items():
            proc = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
            found = dict(re.findall(r"(L=\d+) backward_us_per_step=([0-9.]+)", proc))
            missing = [k for k in keys if k not in found]
            if missing:
                raise SystemExit(f"run.py: no {', '.join(missing)} in the output of {' '.join(cmd)}:\n{proc}")
            for n in SELECT_LENGTHS:
                per_step[name][n].append(float(found[f"L={n}"]))
    print(f"\n== backward of a {'/'.join(map(str, SELECT_LENGTHS))}-step loop of select + tanh, 64 features "
          f"(us per step, median of 3 interleaved rounds)")
    print(f"{'program':<10} " + " ".join(f"{'L=' + str(n):>10}" for n in SELECT_LENGTHS) + f" {'growth':>8}")
    med = {name: {n: statistics.median(v) for n, v in by_n.items()} for name, by_n in per_step.items()}
    for name, by_n in med.items():
        growth = by_n[SELECT_LENGTHS[-1]] / by_n[SELECT_LENGTHS[0]]
        print(f"{name:<10} " + " ".join(f"{by_n[n]:>10.2f}" for n in SELECT_LENGTHS) + f" {growth:>8.2f}")
        results.append({"name": f"select_loop_{name}", "us_per_step": by_n,
                        "growth_per_step_L1024_vs_L64": growth})
    print("(growth: per-step time at the longest loop over the shortest; 1 is linear total cost)")
    if "pytorch" in med:
        ratio = med["pytorch"][SELECT_LENGTHS[-1]] / med["loom"][SELECT_LENGTHS[-1]]
        results.append({"name": "select_loop_L1024", "loom_ms": med["loom"][SELECT_LENGTHS[-1]] / 1000,
                        "peer": "pytorch", "peer_ms": med["pytorch"][SELECT_LENGTHS[-1]] / 1000,
                        "ratio": ratio, "higher_is_better": True})


def attention(args, bindir, env, results):
    """Section 7 (issue 16): scaled dot-product attention forward + backward, fused kernel vs the
    math path, head dim 64, 4 heads, batch 1: median time and the allocator's peak."""
    prog = os.path.join(bindir, "bench_attention")
    if not os.path.exists(prog):
        print(f"\n(attention skipped: {prog} missing)")
        return
    keys = ["ms", "peak_mib"]
    print(f"\n== attention forward + backward, 4 heads x 64, batch 1 (median of 5, 3 interleaved rounds)")
    print(f"{'seq':>6} {'path':<6} {'ms':>10} {'peak MiB':>10} {'math / fused':>13}")
    for seq in (512, 2048):
        runs = {"fused": [], "math": []}
        for _ in range(3):
            for path in runs:
                runs[path].append(run_fields([prog, "--path", path, "--seq", str(seq)], env, keys))
        med = {path: [statistics.median(r[i] for r in rows) for i in range(2)] for path, rows in runs.items()}
        for path, (ms, peak) in med.items():
            ratio = med["math"][0] / med["fused"][0]
            print(f"{seq:>6} {path:<6} {ms:>10.2f} {peak:>10.1f} {ratio if path == 'fused' else 1.0:>13.2f}")
        results.append({"name": f"attention_fused_vs_math_seq{seq}", "loom_ms": med["fused"][0], "peer": "loom math path",
                        "peer_ms": med["math"][0], "ratio": med["math"][0] / med["fused"][0], "higher_is_better": True,
                        "fused_peak_mib": med["fused"][1], "math_peak_mib": med["math"][1]})


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
        waits = []
        for _ in range(3):
            out = subprocess.run([loader_bin, "--data", data_file, "--workers", "2"], env=env, check=True,
                                 capture_output=True, text=True).stdout
            for m in re.finditer(r"name=(\S+) images_per_s=([0-9.]+)", out):
                if m.group(1) in runs:
                    runs[m.group(1)].append(float(m.group(2)))
            waits.extend(float(w) for w in re.findall(r"name=lenet_epoch .*wait_fraction=([0-9.]+)", out))
        print(f"\n== DataLoader, Fashion-MNIST train, batch 128, 2 workers (median of 3 runs)")
        print(f"{'case':<20} {'images/s':>10} {'target':>10}")
        for name, target in targets.items():
            rate = statistics.median(runs[name])
            print(f"{name:<20} {rate:>10.0f} {target:>10}")
            results.append({"name": f"data_{name}", "images_per_s": rate, "target_images_per_s": target,
                            "ratio": rate / target, "higher_is_better": True})
        lenet = statistics.median(waits) if waits else None
        if lenet is not None:
            print(f"{'lenet_epoch wait':<20} {100 * lenet:>9.2f}% {'≤ 2%':>10}  (share of a LeNet training epoch spent waiting for batches)")
            results.append({"name": "data_lenet_epoch_wait_fraction", "wait_fraction": lenet, "target": 0.02})
    else:
        print(f"\n(data loading skipped: {data_file} or {loader_bin} missing; `make datasets/fashion-mnist.h5`)")
    # 4. training steps (issue 7), the loss check first.
    failures = train_steps(args, here, bindir, env, results)
    # 5. recurrent training steps (issue 16), the loss check first.
    failures += sequence_steps(args, here, bindir, env, results)
    # 6. linear-time part gradients (issue 16): a loop of select + small op over L steps.
    select_loop(args, here, bindir, env, results)
    # 7. fused attention against the math path (issue 16): time and memory.
    attention(args, bindir, env, results)

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
    if failures:
        print("\nFAIL: Loom and PyTorch do not compute the same training step:", file=sys.stderr)
        for f in failures:
            print(f"  {f}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
