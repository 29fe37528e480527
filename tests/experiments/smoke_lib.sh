# Shared by the experiments' smoke scripts (sourced: . "$(dirname "$0")/smoke_lib.sh").

# require_files <run directory> <file>...: each file exists and is not empty.
require_files() {
  dir=$1
  shift
  for file in "$@"; do
    [ -s "$dir/$file" ] || { echo "FAIL: $dir/$file is missing or empty"; exit 1; }
  done
}

# summary_value <summary.csv> <column>: the column's value in the first data row.
summary_value() {
  awk -F, -v name="$2" 'NR == 1 { for (i = 1; i <= NF; ++i) if ($i == name) c = i }
                        NR == 2 { if (c) print $c }' "$1"
}

# expect <what> <value> <at least|at most> <bound>: passes or fails with both numbers.
expect() {
  what=$1 value=$2 relation=$3 bound=$4
  echo "$what: $value"
  case "$relation" in
    "at least") awk -v v="$value" -v b="$bound" 'BEGIN { exit !(v != "" && v >= b) }' ;;
    "at most") awk -v v="$value" -v b="$bound" 'BEGIN { exit !(v != "" && v <= b) }' ;;
  esac || { echo "FAIL: expected a $what of $relation $bound, found '$value'"; exit 1; }
}
