#!/bin/sh
# compare_architectures killed with SIGKILL while training the second model of its plan, then
# resumed with --resume: the first model is not trained again, the second continues from its
# last epoch, and both end with the same parameters and metrics as an uninterrupted run (issue 8).
#   compare_resume.sh <compare_architectures program> <plan.json> <scratch directory>
# Needs LOOM_FASHION_MNIST and a fixed LOOM_NUM_THREADS.
set -eu
program=$1
plan=$2
out=$3
rm -rf "$out"
mkdir -p "$out"
flags="--models $plan --out $out --limit-train 4000 --limit-test 1000 --workers 1 --quiet"

fail() { echo "FAIL: $*"; exit 1; }

"$program" $flags --run straight > "$out/straight.log" 2>&1 || fail "the uninterrupted run failed: $(cat "$out/straight.log")"

"$program" $flags --run killed > "$out/killed.log" 2>&1 &
pid=$!
# Kill it once the second model has finished its first epoch.
until grep -q "^lenet_b epoch  1/3" "$out/killed.log" 2>/dev/null; do
  kill -0 "$pid" 2>/dev/null || fail "the run ended before lenet_b's first epoch: $(cat "$out/killed.log")"
  sleep 0.02
done
kill -KILL "$pid"
wait "$pid" && fail "the run was not killed (it had finished)"
grep -q "^lenet_b final parameters" "$out/killed.log" && fail "killed too late: lenet_b had finished"

"$program" $flags --run killed --resume > "$out/resumed.log" 2>&1 || fail "the resumed run failed: $(cat "$out/resumed.log")"
grep -q "^lenet_a: finished in an earlier sitting" "$out/resumed.log" || fail "lenet_a was trained again: $(cat "$out/resumed.log")"
grep -q "^lenet_b resuming .*: epoch [23]/3 at batch 0/" "$out/resumed.log" || fail "lenet_b did not resume: $(cat "$out/resumed.log")"
grep "^lenet_b resuming" "$out/resumed.log"

for model in lenet_a lenet_b; do
  cut -d, -f1-6 "$out/compare_architectures/straight/$model/metrics.csv" > "$out/straight_$model.csv"
  cut -d, -f1-6 "$out/compare_architectures/killed/$model/metrics.csv" > "$out/resumed_$model.csv"
  cmp -s "$out/straight_$model.csv" "$out/resumed_$model.csv" ||
    fail "$model: metrics.csv differ: $(diff "$out/straight_$model.csv" "$out/resumed_$model.csv")"
done
straight=$(grep "^lenet_b final parameters" "$out/straight.log") || fail "no fingerprint in straight.log"
resumed=$(grep "^lenet_b final parameters" "$out/resumed.log") || fail "no fingerprint in resumed.log"
echo "uninterrupted: $straight"
echo "resumed:       $resumed"
[ "$straight" = "$resumed" ] || fail "lenet_b's parameters differ"
# The comparison tables agree except for the timings (train seconds, images/s).
cut -d, -f1-4,7-8 "$out/compare_architectures/straight/comparison.csv" > "$out/straight_table.csv"
cut -d, -f1-4,7-8 "$out/compare_architectures/killed/comparison.csv" > "$out/resumed_table.csv"
cmp -s "$out/straight_table.csv" "$out/resumed_table.csv" ||
  fail "comparison.csv differ: $(diff "$out/straight_table.csv" "$out/resumed_table.csv")"
cat "$out/resumed_table.csv"
echo "PASS: the finished model kept, the interrupted one resumed bit-identically"
