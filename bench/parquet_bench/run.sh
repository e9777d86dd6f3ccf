#!/usr/bin/env bash
# Parquet read benchmark: `retort data dump` vs DuckDB reading the same ~50 MB, 17-row-group
# file with nested columns and writing it as JSON Lines, alternating runs in one session.
#   bench/parquet_bench/run.sh [RUNS]        (needs node + npm once for DuckDB; see README)
# Prints per-run wall and CPU seconds and the medians, and checks both outputs are identical.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
retort="${RETORT:-${BUILD_DIR:-$root/build}/retort}"
runs="${1:-5}"
cd "$here"
[[ -d node_modules/@duckdb/node-api ]] || npm install --no-audit --no-fund >/dev/null
[[ -f data/bench.parquet ]] || node make_data.mjs 500000
[[ -x "$retort" ]] || { echo "build retort first (ninja -C build retort)"; exit 1; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
file="$here/data/bench.parquet"
measure() {  # prints "wall cpu"
  /usr/bin/time -f "%e %U %S" -o "$out/t" "$@" >/dev/null
  awk '{printf "%.3f %.3f\n", $1, $2 + $3}' "$out/t"
}
ours=() duck=()
for ((i = 0; i < runs; i++)); do
  ours+=("$(measure sh -c "\"$retort\" data dump \"$file\" > \"$out/ours.jsonl\"")")
  duck+=("$(DUCKDB_THREADS=1 measure node duckdb_read.mjs "$file" "$out/duck.jsonl")")
done
cmp -s "$out/ours.jsonl" "$out/duck.jsonl" && echo "outputs identical ($(wc -l <"$out/ours.jsonl") rows)" \
  || echo "WARNING: outputs differ"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf 'run  retort(wall cpu)  duckdb(wall cpu)\n'
for ((i = 0; i < runs; i++)); do printf '%d    %s         %s\n' "$i" "${ours[$i]}" "${duck[$i]}"; done
ow=$(printf '%s\n' "${ours[@]}" | cut -d' ' -f1 | median); oc=$(printf '%s\n' "${ours[@]}" | cut -d' ' -f2 | median)
dw=$(printf '%s\n' "${duck[@]}" | cut -d' ' -f1 | median); dc=$(printf '%s\n' "${duck[@]}" | cut -d' ' -f2 | median)
echo "median wall: retort ${ow}s duckdb ${dw}s ratio $(awk "BEGIN{printf \"%.2f\", $ow/$dw}")"
echo "median cpu:  retort ${oc}s duckdb ${dc}s ratio $(awk "BEGIN{printf \"%.2f\", $oc/$dc}")"
