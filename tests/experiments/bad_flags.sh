#!/bin/sh
# Runs the experiment programs on every row of bad_flags.table: each must exit with an error whose
# message holds the row's phrase, before anything trains (no metrics.csv under the scratch folder).
#   bad_flags.sh <folder of the programs> <table> <scratch directory>
set -eu
bin=$1
table=$2
out=$3
rm -rf "$out"
mkdir -p "$out"
rows=0
failed=0
while IFS= read -r line; do
  case "$line" in '#'* | '') continue ;; esac
  rows=$((rows + 1))
  program=$(printf '%s' "$line" | awk -F' [|] ' '{ print $1 }')
  phrase=$(printf '%s' "$line" | awk -F' [|] ' '{ print $2 }')
  args=$(printf '%s' "$line" | awk -F' [|] ' '{ print $3 }')
  rc=0
  # shellcheck disable=SC2086  # the row's arguments are words
  "$bin/$program" $args --out "$out/row$rows" --quiet > "$out/log" 2>&1 || rc=$?
  if [ "$rc" -eq 0 ] || ! grep -qF -- "$phrase" "$out/log"; then
    echo "FAIL row $rows ($program $args): expected exit != 0 and '$phrase', found rc $rc:"
    cat "$out/log"
    failed=$((failed + 1))
  elif [ -n "$(find "$out/row$rows" -name metrics.csv 2>/dev/null)" ]; then
    echo "FAIL row $rows ($program $args): the error came after training started"
    failed=$((failed + 1))
  fi
done < "$table"
[ "$rows" -gt 0 ] || { echo "FAIL: no rows in $table"; exit 1; }
[ "$failed" -eq 0 ] || { echo "FAIL: $failed of $rows rows"; exit 1; }
echo "PASS: $rows bad command lines refused before training"
