#!/bin/sh
# A short run of segmentation_unet end to end on real data: a small composite file made from
# the real Fashion-MNIST (600 training and 100 test canvases), one epoch of a narrow U-Net; the
# outputs are all there and the test mean IoU is a number in [0, 1]. (Learning to the target
# takes minutes: see the experiment's header.)
# `loom data inspect` reads the masks-only file too (pixel counts per class).
#   unet_smoke.sh <fashion_segmentation_to_h5> <segmentation_unet> <fashion-mnist.h5> <scratch directory> <loom>
set -eu
generator=$1
program=$2
fashion=$3
out=$4
loom=$5
rm -rf "$out"
mkdir -p "$out"
"$generator" --fashion-mnist "$fashion" --output "$out/segmentation.h5" --train 600 --test 100 > "$out.log" 2>&1 ||
  { cat "$out.log"; echo "FAIL: fashion_segmentation_to_h5 exited with an error"; exit 1; }
"$loom" data inspect "$out/segmentation.h5" > "$out/inspect.log" 2>&1 ||
  { cat "$out/inspect.log"; echo "FAIL: loom data inspect failed on the composite file"; exit 1; }
grep -q "mask pixels per class" "$out/inspect.log" && grep -qE "^ +10 Ankle boot +[1-9]" "$out/inspect.log" ||
  { cat "$out/inspect.log"; echo "FAIL: expected pixel counts per class from loom data inspect"; exit 1; }
"$program" --data "$out/segmentation.h5" --out "$out" --run smoke --epochs 1 --base-channels 8 --quiet >> "$out.log" 2>&1 ||
  { cat "$out.log"; echo "FAIL: segmentation_unet exited with an error"; exit 1; }
run="$out/segmentation_unet/smoke"
files="config.json metrics.csv summary.csv best.h5 segmentation_test.png"
# (no learning_curves.png: a curve needs two epochs)
for file in $files; do
  [ -s "$run/$file" ] || { echo "FAIL: $run/$file is missing or empty"; exit 1; }
done
[ "$(wc -l < "$run/metrics.csv")" -eq 2 ] || { echo "FAIL: expected a header and 1 epoch in metrics.csv"; exit 1; }
# summary.csv: the header, then one row; test_miou is the column of that name.
miou=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; ++i) if ($i == "test_miou") c = i } NR == 2 { print $c }' "$run/summary.csv")
echo "test mean IoU after one short epoch: $miou"
awk -v m="$miou" 'BEGIN { exit !(m ~ /^[0-9.e+-]+$/ && m >= 0 && m <= 1) }' ||
  { echo "FAIL: expected test_miou to be a number in [0, 1], found '$miou'"; exit 1; }
grep -q "mean IoU" "$out.log" || { echo "FAIL: the log has no test mean IoU line"; exit 1; }
echo "PASS"
