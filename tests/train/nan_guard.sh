#!/bin/sh
# The NaN/Inf guard seen from outside (issue 14): a run whose loss turns NaN at epoch 2, step 9
# exits non-zero, says on stderr which epoch and step, and its last good checkpoint (taken after
# step 5 of epoch 2) still loads, with finite parameters.
#   nan_guard.sh <train_nan_guard program> <scratch directory>
set -eu
program=$1
out=$2
rm -rf "$out"
mkdir -p "$out"

fail() { echo "FAIL: $*"; exit 1; }

if "$program" train "$out/run" 2 9 > "$out/stdout.log" 2> "$out/stderr.log"; then
  fail "the run with a NaN loss exited with 0: $(cat "$out/stdout.log")"
fi
cat "$out/stderr.log"
grep -q "the loss is nan at epoch 2 step 9 of 12" "$out/stderr.log" || fail "stderr does not name epoch 2, step 9"
grep -q "last good checkpoint is .*last.h5 (epoch 2 after step 5)" "$out/stderr.log" ||
  fail "stderr does not name the last good checkpoint"
grep -q "^epoch  1/3" "$out/stdout.log" || fail "the first epoch did not finish: $(cat "$out/stdout.log")"
grep -q "^epoch  2/3" "$out/stdout.log" && fail "epoch 2 finished despite the NaN"
"$program" check "$out/run" || fail "the last good checkpoint does not load"
echo "PASS: exit code non-zero, epoch and step named, last.h5 loads"
