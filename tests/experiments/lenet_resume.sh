#!/bin/sh
# A LeNet run killed with SIGKILL in the middle of its second epoch and resumed from its last
# checkpoint ends with parameters bit-identical to an uninterrupted run (issue 6; DESIGN §4).
#   lenet_resume.sh <lenet_fashion program> <scratch directory>
# Needs LOOM_FASHION_MNIST (the data file) and a fixed LOOM_NUM_THREADS (bit-identity holds for
# the same thread count).
set -eu
program=$1
out=$2
rm -rf "$out"
mkdir -p "$out"
# 6000 examples in batches of 16: 375 steps per epoch, a checkpoint every 20 steps. The
# sanitizer build (make sanitize) sets LOOM_TEST_TRAIN_EXAMPLES=1200 (75 steps per epoch, still
# three mid-epoch checkpoints): the same code paths at a fifth of the cost.
examples=${LOOM_TEST_TRAIN_EXAMPLES:-6000}
flags="--out $out --limit-train $examples --epochs 2 --batch-size 16 --checkpoint-every 20 --workers 1 --quiet"

fail() { echo "FAIL: $*"; exit 1; }

"$program" $flags --run straight > "$out/straight.log" 2>&1 || fail "the uninterrupted run failed: $(cat "$out/straight.log")"

"$program" $flags --run killed > "$out/killed.log" 2>&1 &
pid=$!
# Kill it as soon as a mid-epoch checkpoint of epoch 2 is on disk.
until grep -q "^checkpoint: epoch 2 batch" "$out/killed.log"; do
  kill -0 "$pid" 2>/dev/null || fail "the run ended before writing a mid-epoch checkpoint in epoch 2: $(cat "$out/killed.log")"
  sleep 0.02
done
kill -KILL "$pid"
wait "$pid" && fail "the run was not killed (it had finished)"
echo "killed after: $(grep '^checkpoint: epoch 2' "$out/killed.log" | tail -n 1)"

# Only the run's name: the other settings come from the run's config.json.
"$program" --out "$out" --run killed --resume --quiet > "$out/resumed.log" 2>&1 || fail "the resumed run failed: $(cat "$out/resumed.log")"
resumed_at=$(grep "^resuming" "$out/resumed.log") || fail "no 'resuming' line in $out/resumed.log"
echo "$resumed_at"
echo "$resumed_at" | grep -q "epoch 2/2 at batch [1-9]" || fail "expected to resume inside epoch 2, found: $resumed_at"

straight=$(grep "^final parameters" "$out/straight.log") || fail "no fingerprint in straight.log"
resumed=$(grep "^final parameters" "$out/resumed.log") || fail "no fingerprint in resumed.log"
echo "uninterrupted: $straight"
echo "resumed:       $resumed"
[ "$straight" = "$resumed" ] || fail "the parameters differ"
# The per-epoch numbers (epoch, losses, accuracies, lr) agree too; only the timings may differ.
cut -d, -f1-6 "$out/lenet_fashion/straight/metrics.csv" > "$out/straight.csv"
cut -d, -f1-6 "$out/lenet_fashion/killed/metrics.csv" > "$out/resumed.csv"
cmp -s "$out/straight.csv" "$out/resumed.csv" || fail "metrics.csv differ: $(diff "$out/straight.csv" "$out/resumed.csv")"
echo "PASS: bit-identical parameters and metrics after SIGKILL and --resume"
