#!/bin/sh
# A layer type is added to an already-built experiment without recompiling anything of Loom:
#   1. compare_architectures with a spec using "squeeze_excitation" fails: unknown layer type;
#   2. `cmake --install` puts Loom (libloom, headers, the CMake package) under a fresh prefix;
#   3. plugins/layers/example is configured and built out of tree against that prefix
#      (find_package(Loom) + loom_add_plugin) and its .so is dropped into a folder;
#   4. with that folder on LOOM_PLUGIN_PATH, the same binary trains the same spec;
#   5. the experiment binary, libloom.so and `loom` were not rebuilt (their mtimes are unchanged).
#   out_of_tree.sh <compare_architectures> <libloom.so> <loom cli> <build dir> <plugin source dir>
#                  <models.json> <scratch dir> <cmake> <generator> <c++ compiler>
set -eu
program=$1 libloom=$2 cli=$3 build=$4 source=$5 models=$6 work=$7 cmake=$8 generator=$9
shift 9
compiler=$1
: "${LOOM_FASHION_MNIST:?set LOOM_FASHION_MNIST to the Fashion-MNIST HDF5 file}"

fail() { echo "FAIL: $*"; exit 1; }
stamp() { stat -L -c '%y' "$1"; }  # modification time with nanoseconds, through symlinks

rm -rf "$work"
drop="$work/drop" prefix="$work/prefix" plugin_build="$work/plugin-build"
mkdir -p "$drop"
program_before=$(stamp "$program")
libloom_before=$(stamp "$libloom")
cli_before=$(stamp "$cli")

run_experiment() {  # run_experiment <run name>: the same binary, spec and budget both times
  LOOM_PLUGIN_PATH="$drop" "$program" --data "$LOOM_FASHION_MNIST" --models "$models" --epochs 1 \
    --limit-train 512 --limit-test 256 --out "$work/results" --run "$1" --quiet
}

echo "== 1. the layer type is unknown"
if run_experiment before > "$work/before.log" 2>&1; then
  cat "$work/before.log"; fail "compare_architectures succeeded before the plugin was there"
fi
grep -q "unknown layer type 'squeeze_excitation'" "$work/before.log" ||
  { cat "$work/before.log"; fail "expected \"unknown layer type 'squeeze_excitation'\""; }
echo "ok: $(grep -m1 "unknown layer type" "$work/before.log")"

echo "== 2. cmake --install $build --prefix $prefix"
"$cmake" --install "$build" --prefix "$prefix" > "$work/install.log" 2>&1 ||
  { cat "$work/install.log"; fail "cmake --install failed (is the whole build complete?)"; }
for file in include/loom/plugin.hpp include/loom/api_version.hpp; do
  [ -f "$prefix/$file" ] || fail "the installed prefix lacks $file"
done
[ -n "$(find "$prefix" -name LoomConfig.cmake)" ] || fail "the installed prefix lacks LoomConfig.cmake"
# Every Loom header an installed header includes is installed too (api_version.hpp is generated).
for header in $(grep -rhoE '#include "loom/[^"]+"' "$prefix/include/loom" | sed 's/#include "\(.*\)"/\1/' | sort -u); do
  [ -f "$prefix/include/$header" ] || fail "an installed header includes $header, which is not installed"
done

echo "== 3. build $source out of tree against the installed Loom"
"$cmake" -S "$source" -B "$plugin_build" -G "$generator" -DCMAKE_CXX_COMPILER="$compiler" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" > "$work/configure.log" 2>&1 ||
  { cat "$work/configure.log"; fail "configuring the plugin against $prefix failed"; }
"$cmake" --build "$plugin_build" > "$work/build.log" 2>&1 ||
  { cat "$work/build.log"; fail "building the plugin out of tree failed"; }
plugin=$(find "$plugin_build" -name 'libloom-layer-squeeze_excitation.so' | head -n 1)
[ -n "$plugin" ] || fail "no libloom-layer-squeeze_excitation.so under $plugin_build"
# find_package(Loom) found the installed package, not the build tree's.
grep -q "^Loom_DIR:PATH=$prefix/" "$plugin_build/CMakeCache.txt" ||
  fail "find_package(Loom) did not use $prefix: $(grep '^Loom_DIR' "$plugin_build/CMakeCache.txt")"
cp "$plugin" "$drop/"
LOOM_PLUGIN_PATH="$drop" "$cli" plugins > "$work/plugins.log" 2>&1 || true
grep -q "$drop/libloom-layer-squeeze_excitation.so" "$work/plugins.log" ||
  { cat "$work/plugins.log"; fail "loom plugins does not list $drop/libloom-layer-squeeze_excitation.so"; }

echo "== 4. the same binary trains the same spec"
run_experiment after > "$work/after.log" 2>&1 || { cat "$work/after.log"; fail "compare_architectures failed with the plugin"; }
cat "$work/after.log"
comparison="$work/results/compare_architectures/after/comparison.csv"
[ -s "$comparison" ] || fail "$comparison is missing or empty"
# The se_cnn row: its parameters and its test accuracy, by column name.
column() {
  awk -F, -v name="$1" 'NR == 1 { for (i = 1; i <= NF; ++i) if ($i == name) c = i } $1 == "se_cnn" && c { print $c }' "$comparison"
}
parameters=$(column parameters) accuracy=$(column test_accuracy)
# conv 1→8 (80) + SE 8→2→8 (18 + 24) + conv 8→16 (1,168) + SE 16→4→16 (68 + 80) + linear 784→10 (7,850)
[ "$parameters" = 9288 ] || fail "expected se_cnn with 9288 parameters (the two SE blocks count 190), found '$parameters'"
# 16 Adam steps on 512 images (measured 50 %); a model that learnt nothing stays near 10 %.
awk -v a="$accuracy" 'BEGIN { exit !(a >= 0.3) }' || fail "expected a test accuracy of at least 0.3 (chance 0.1), found '$accuracy'"
echo "ok: se_cnn trained, $parameters parameters, test accuracy $accuracy"

echo "== 5. nothing was rebuilt"
[ "$(stamp "$program")" = "$program_before" ] || fail "$program changed during the test"
[ "$(stamp "$libloom")" = "$libloom_before" ] || fail "$libloom changed during the test"
[ "$(stamp "$cli")" = "$cli_before" ] || fail "$cli changed during the test"
echo "PASS"
