#!/bin/sh
# Runs compare_architectures on every row of bad_plans.table: each must exit with an error of the
# row's type whose message holds the row's phrase, before anything trains (no model folder, no
# metrics.csv in the run).
#   bad_plans.sh <compare_architectures program> <table> <scratch directory>
set -eu
program=$1
table=$2
out=$3
rm -rf "$out"
mkdir -p "$out"
rows=0
failed=0
while IFS= read -r line; do
  case "$line" in '#'* | '') continue ;; esac
  rows=$((rows + 1))
  type=$(printf '%s' "$line" | awk -F' [|] ' '{ print $1 }')
  phrase=$(printf '%s' "$line" | awk -F' [|] ' '{ print $2 }')
  printf '%s\n' "$line" | awk -F' [|] ' '{ print $3 }' > "$out/plan.json"
  rc=0
  "$program" --models "$out/plan.json" --out "$out" --run "row$rows" --quiet > "$out/log" 2>&1 || rc=$?
  if [ "$rc" -eq 0 ] || ! grep -qF "compare_architectures: $type: " "$out/log" || ! grep -qF -- "$phrase" "$out/log"; then
    echo "FAIL row $rows: expected exit != 0 and '$type: ...$phrase...', found rc $rc:"
    cat "$out/log"
    failed=$((failed + 1))
  elif [ -e "$out/compare_architectures/row$rows/a" ] || [ -e "$out/compare_architectures/row$rows/metrics.csv" ]; then
    echo "FAIL row $rows: the error came after training started"
    failed=$((failed + 1))
  fi
done < "$table"
[ "$rows" -gt 0 ] || { echo "FAIL: no rows in $table"; exit 1; }
[ "$failed" -eq 0 ] || { echo "FAIL: $failed of $rows rows"; exit 1; }
echo "PASS: $rows bad plans refused before training"
