#!/bin/sh
# A quick training run of mlp_fashion on real data learns: the MLP 256-128 (Adam, lr 1e-3) on
# the first 6000 examples of the training split, 2 epochs, reaches ≥ 75 % test accuracy
# (measured 79.7 %; chance is 10 %), and the run's outputs are all there.
#   mlp_smoke.sh <mlp_fashion program> <scratch directory>
set -eu
program=$1
out=$2
rm -rf "$out"
"$program" --out "$out" --run smoke --limit-train 6000 --epochs 2 --quiet > "$out.log" 2>&1 ||
  { cat "$out.log"; echo "FAIL: mlp_fashion exited with an error"; exit 1; }
run="$out/mlp_fashion/smoke"
files="config.json metrics.csv summary.csv best.h5 confusion_test.png"
command -v gnuplot > /dev/null && files="$files learning_curves.png"  # else only a warning
for file in $files; do
  [ -s "$run/$file" ] || { echo "FAIL: $run/$file is missing or empty"; exit 1; }
done
[ "$(wc -l < "$run/metrics.csv")" -eq 3 ] || { echo "FAIL: expected a header and 2 epochs in metrics.csv"; exit 1; }
# summary.csv: the header, then one row; test_accuracy is the column of that name.
accuracy=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; ++i) if ($i == "test_accuracy") c = i } NR == 2 { print $c }' "$run/summary.csv")
echo "test accuracy: $accuracy"
awk -v a="$accuracy" 'BEGIN { exit !(a >= 0.75) }' || { echo "FAIL: expected a test accuracy of at least 0.75, found $accuracy"; exit 1; }
echo "PASS"
