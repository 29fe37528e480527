#!/bin/sh
# A quick training run of sequence_fashion on real data learns: a one-layer LSTM of 64 units (lr 5e-3)
# reading the rows of the first 3000 examples of the training split, 2 epochs, reaches ≥ 55 %
# test accuracy (measured 63.3 % with 1 thread; chance is 10 %), and the run's outputs are all there.
#   sequence_smoke.sh <sequence_fashion program> <scratch directory>
set -eu
program=$1
out=$2
rm -rf "$out"
"$program" --out "$out" --run smoke --layers 1 --hidden 64 --lr 0.005 --limit-train 3000 --epochs 2 --quiet > "$out.log" 2>&1 ||
  { cat "$out.log"; echo "FAIL: sequence_fashion exited with an error"; exit 1; }
run="$out/sequence_fashion/smoke"
for file in config.json metrics.csv summary.csv best.h5 confusion_test.png; do
  [ -s "$run/$file" ] || { echo "FAIL: $run/$file is missing or empty"; exit 1; }
done
[ "$(wc -l < "$run/metrics.csv")" -eq 3 ] || { echo "FAIL: expected a header and 2 epochs in metrics.csv"; exit 1; }
accuracy=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; ++i) if ($i == "test_accuracy") c = i } NR == 2 { print $c }' "$run/summary.csv")
echo "test accuracy: $accuracy"
awk -v a="$accuracy" 'BEGIN { exit !(a >= 0.55) }' || { echo "FAIL: expected a test accuracy of at least 0.55, found $accuracy"; exit 1; }
echo "PASS"
