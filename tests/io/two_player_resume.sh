#!/bin/sh
# Two players with two optimizers and two schedulers, killed with SIGKILL in the middle of a run
# that checkpoints every step and resumed with --resume, end bit-identical to an uninterrupted run.
#   two_player_resume.sh <two_player_resume program> <scratch directory>
set -eu
program=$1
out=$2
rm -rf "$out"
mkdir -p "$out/straight" "$out/killed"

fail() { echo "FAIL: $*"; exit 1; }

"$program" "$out/straight" > "$out/straight.log" 2>&1 || fail "the uninterrupted run failed: $(cat "$out/straight.log")"

# 30 steps, 50 ms apart: killed once step 12 is on disk, in the middle of epoch 3 (or of the save
# that follows it).
"$program" "$out/killed" --pause-ms 50 > "$out/killed.log" 2>&1 &
pid=$!
until grep -q "^checkpoint: step 12$" "$out/killed.log"; do
  kill -0 "$pid" 2>/dev/null || fail "the run ended before step 12: $(cat "$out/killed.log")"
  sleep 0.01
done
kill -KILL "$pid"
wait "$pid" && fail "the run was not killed (it had finished)"
echo "killed after: $(grep '^checkpoint:' "$out/killed.log" | tail -n 1)"

"$program" "$out/killed" --resume > "$out/resumed.log" 2>&1 || fail "the resumed run failed: $(cat "$out/resumed.log")"
resumed_at=$(grep "^resuming" "$out/resumed.log") || fail "no 'resuming' line in $out/resumed.log"
echo "$resumed_at"
echo "$resumed_at" | grep -Eq "^resuming at step (1[2-9]|2[0-9]) " || fail "expected to resume between steps 12 and 29, found: $resumed_at"

straight=$(grep "^final state" "$out/straight.log") || fail "no fingerprint in straight.log"
resumed=$(grep "^final state" "$out/resumed.log") || fail "no fingerprint in resumed.log"
echo "uninterrupted: $straight"
echo "resumed:       $resumed"
[ "$straight" = "$resumed" ] || fail "the states differ"
echo "PASS: bit-identical state after SIGKILL and --resume"
