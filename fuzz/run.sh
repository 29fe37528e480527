#!/usr/bin/env bash
# Runs each fuzz target of a LOOM_FUZZ build for a fixed time on a scratch copy of its committed
# corpus (fuzz/corpus/<target>/, plus fuzz/regressions/<target>/), so that a run never grows the
# committed corpus. Fails when any target crashes, leaks, times out or runs out of memory, and
# prints where libFuzzer saved the input that did it.
#   usage: fuzz/run.sh <build folder> <seconds per target> <target>...
set -uo pipefail
build=$1 seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/loom-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
crashes="$build/fuzz/crashes"

# One OpenMP thread: the readers gain nothing from more, and LeakSanitizer stays clear of
# libgomp's worker threads. UBSan's findings abort so that libFuzzer keeps the input.
export LOOM_NUM_THREADS=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# The slow unwinder on malloc: libhdf5 has no frame pointers, and without it the stack of a leak
# inside HDF5 ends there, so lsan.supp could not tell HDF5's own leak from one of Loom's.
export ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0
export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0"

failed=()
hdf5_defects=0
for target in "$@"; do
  mkdir -p "$scratch/$target" "$crashes/$target"
  cp -r "$here/corpus/$target/." "$scratch/$target/"
  inputs=("$scratch/$target")
  [ -d "$here/regressions/$target" ] && inputs+=("$here/regressions/$target")
  dict=()
  [ -f "$here/$target.dict" ] && dict=(-dict="$here/$target.dict")
  echo "make fuzz: $target for $seconds s ($(ls "$here/corpus/$target" | wc -l) seed files)"
  log="$crashes/$target.log"
  "$build/fuzz/fuzz_$target" "${inputs[@]}" "${dict[@]}" -max_total_time="$seconds" -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$crashes/$target/" > "$log" 2>&1
  rc=$?
  grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)" "$log" | tr '\n' ' ' | sed 's/^/  /'
  echo
  # HDF5 1.10.8 itself crashes or loops on some damaged files while loading their metadata (a
  # plain C program calling H5Lexists crashes the same way; fuzz/README.md): a crash or timeout
  # whose stack reaches HDF5's metadata cache (H5C_protect) or its global heap (H5HG_read, the
  # unchecksummed home of variable-length strings) before any frame of Loom is reported, not
  # failed on.
  if [ $rc -ne 0 ] && sed -n '/ERROR: \(AddressSanitizer\|libFuzzer: timeout\)/,/ loom::/p' "$log" |
       grep -qE " in (H5C_protect|H5HG_read) "; then
    echo "make fuzz: $target: a crash inside libhdf5's metadata parsing (HDF5's defect, not Loom's); the input:"
    grep -oE "Test unit written to [^ ]+" "$log" | sed 's/^/  /'
    hdf5_defects=$((hdf5_defects + 1))
    rc=0
  fi
  if [ $rc -ne 0 ]; then
    failed+=("$target")
    tail -n 60 "$log"
    echo "make fuzz: $target FAILED (exit $rc); the full log is $log and the input that did it is:"
    grep -oE "Test unit written to [^ ]+" "$log" | sed 's/^/  /'
    echo "  Keep it as a regression once the bug is fixed: cp <that file> fuzz/regressions/$target/"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "make fuzz: ${#failed[@]} target(s) failed: ${failed[*]}"
  exit 1
fi
echo "make fuzz: no target found a defect of Loom's ($hdf5_defects run(s) stopped early on one of HDF5's, above)"
