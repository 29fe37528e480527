#!/bin/sh
# Compiles every code example of the documentation, so that an example can no longer call a
# function that does not exist.
#   usage: compile_examples.sh WORKDIR CXX "FLAGS" FILE...
# An example is a fenced block: in Markdown, the lines between "```cpp" and "```"; in a header,
# the comment lines between "// ```cpp" and "// ```" (the "// " of each line is dropped). Each block
# becomes its own translation unit, compiled with -fsyntax-only: its #include lines go first (a
# block without any gets every public umbrella header), then a block with a main() stays as it is;
# in any other block, a leading struct/class definition (up to the last "};" in column 0) stays at
# namespace scope and the statements after it become the body of a function. Errors point at the documentation's own lines
# (#line), and the test fails naming each block that did not compile.
set -u
work=$1 cxx=$2 flags=$3
shift 3
rm -rf "$work" && mkdir -p "$work"

for doc in "$@"; do
  awk -v out="$work" -v doc="$doc" '
    function flush(   f, i, has_include, has_main) {
      f = sprintf("%s/example_%04d.cpp", out, ++count)
      has_include = 0; has_main = 0
      for (i = 1; i <= n; i++) {
        if (lines[i] ~ /^[ \t]*#include/) has_include = 1
        if (lines[i] ~ /int main\(/) has_main = 1
      }
      printf "// %s:%d\n", doc, first > f
      if (!has_include) {
        print "#include <iostream>\n#include <nlohmann/json.hpp>\n#include \"loom/autograd.hpp\"" > f
        print "#include \"loom/data.hpp\"\n#include \"loom/io/checkpoint.hpp\"\n#include \"loom/metrics.hpp\"" > f
        print "#include \"loom/nn.hpp\"\n#include \"loom/optim.hpp\"\n#include \"loom/random.hpp\"\n#include \"loom/runtime.hpp\"\n#include \"loom/train/trainer.hpp\"" > f
        print "using namespace nlohmann::literals;" > f
      }
      # Top-level definitions (up to the last "};" in column 0, the end of a struct) stay at
      # namespace scope; the statements after them become the function body.
      last_decl = 0
      starts_with_definition = 0
      for (i = 1; i <= n; i++) {
        if (lines[i] ~ /^[ \t]*(#include.*)?$/) continue
        starts_with_definition = lines[i] ~ /^(struct|class|template|namespace)[ <]/
        break
      }
      if (!has_main && starts_with_definition) for (i = 1; i <= n; i++) if (lines[i] ~ /^};[ \t]*$/) last_decl = i
      for (i = 1; i <= n; i++)
        if (lines[i] ~ /^[ \t]*#include/) { printf "#line %d \"%s\"\n%s\n", first + i - 1, doc, lines[i] > f }
      for (i = 1; i <= n; i++) {
        if (!has_main && i == last_decl + 1) print "[[maybe_unused]] static void documented_example() {" > f
        if (lines[i] !~ /^[ \t]*#include/) { printf "#line %d \"%s\"\n%s\n", first + i - 1, doc, lines[i] > f }
      }
      if (!has_main && last_decl == n) print "[[maybe_unused]] static void documented_example() {" > f
      if (!has_main) print "}" > f
      close(f)
    }
    BEGIN { inside = 0; count = 0 }
    {
      line = $0
      is_header = doc ~ /\.(hpp|h|def)$/
      if (is_header) {
        if (line !~ /^\/\//) { if (inside) { print doc ":" FNR ": an example block is not closed" > "/dev/stderr"; exit 2 } next }
        sub(/^\/\/ ?/, "", line)
      }
      if (!inside && line ~ /^```cpp[ \t]*$/) { inside = 1; n = 0; first = FNR + 1; next }
      if (inside && line ~ /^```[ \t]*$/) { inside = 0; flush(); next }
      if (inside) lines[++n] = line
    }
  ' "$doc" || exit 2
  # The block files are numbered per document; give them the document's name so they do not clash.
  base=$(echo "$doc" | sed 's|.*/||; s|[^A-Za-z0-9]|_|g')
  for f in "$work"/example_*.cpp; do
    [ -e "$f" ] || continue
    mv "$f" "$work/${base}_$(basename "$f")"
  done
done

total=0 failed=0
for f in "$work"/*.cpp; do
  [ -e "$f" ] || continue
  total=$((total + 1))
  # shellcheck disable=SC2086
  if ! $cxx -std=c++20 -fsyntax-only $flags "$f" > "$f.log" 2>&1; then
    failed=$((failed + 1))
    echo "FAILED: the example at $(head -n 1 "$f" | cut -c4-) does not compile:"
    head -n 30 "$f.log"
  fi
done
echo "$total documentation examples, $failed do not compile"
[ "$total" -gt 0 ] && [ "$failed" -eq 0 ]
