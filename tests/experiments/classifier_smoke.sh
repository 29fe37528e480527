#!/bin/sh
# A quick training run of a Fashion-MNIST classifier experiment on real data learns: 2 epochs on
# the first 3000 examples of the training split reach the given test accuracy, and the run's
# outputs are all there. The experiment's own flags (its small model) follow the fixed ones.
#   classifier_smoke.sh <program> <min test accuracy> <scratch directory> [experiment flags...]
# Rows (tests/experiments/CMakeLists.txt):
#   sequence_fashion: a one-layer LSTM of 64 units (lr 5e-3) reading the rows: ≥ 55 % (measured
#     63.3 % with 1 thread; chance is 10 %).
#   vit_fashion: a 1-layer ViT (patch 7, d_model 32, feed-forward 64): ≥ 35 % (measured 49.4 %).
#     Small, because the validation and test passes (16,000 images) cost more than the training.
set -eu
. "$(dirname "$0")/smoke_lib.sh"
program=$1
minimum=$2
out=$3
shift 3
name=$(basename "$program")
rm -rf "$out"
"$program" --out "$out" --run smoke --limit-train 3000 --epochs 2 --quiet "$@" > "$out.log" 2>&1 ||
  { cat "$out.log"; echo "FAIL: $name exited with an error"; exit 1; }
run="$out/$name/smoke"
require_files "$run" config.json metrics.csv summary.csv best.h5 confusion_test.png
[ "$(wc -l < "$run/metrics.csv")" -eq 3 ] || { echo "FAIL: expected a header and 2 epochs in metrics.csv"; exit 1; }
expect "test accuracy" "$(summary_value "$run/summary.csv" test_accuracy)" "at least" "$minimum"
echo "PASS"
