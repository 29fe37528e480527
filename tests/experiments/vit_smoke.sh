#!/bin/sh
# A quick training run of vit_fashion on real data learns: a 1-layer ViT (patch 7, d_model 32,
# feed-forward 64) on the first 3000 examples of the training split, 2 epochs, reaches ≥ 35 % test
# accuracy (measured 49.4 %; chance is 10 %), and the run's outputs are all there. Small, because
# the validation and test passes (16,000 images) cost more than the training here.
#   vit_smoke.sh <vit_fashion program> <scratch directory>
set -eu
program=$1
out=$2
rm -rf "$out"
"$program" --out "$out" --run smoke --limit-train 3000 --epochs 2 --depth 1 --d-model 32 --mlp-dim 64 --quiet > "$out.log" 2>&1 ||
  { cat "$out.log"; echo "FAIL: vit_fashion exited with an error"; exit 1; }
run="$out/vit_fashion/smoke"
for file in config.json metrics.csv summary.csv best.h5 confusion_test.png; do
  [ -s "$run/$file" ] || { echo "FAIL: $run/$file is missing or empty"; exit 1; }
done
[ "$(wc -l < "$run/metrics.csv")" -eq 3 ] || { echo "FAIL: expected a header and 2 epochs in metrics.csv"; exit 1; }
accuracy=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; ++i) if ($i == "test_accuracy") c = i } NR == 2 { print $c }' "$run/summary.csv")
echo "test accuracy: $accuracy"
awk -v a="$accuracy" 'BEGIN { exit !(a >= 0.35) }' || { echo "FAIL: expected a test accuracy of at least 0.35, found $accuracy"; exit 1; }
echo "PASS"
