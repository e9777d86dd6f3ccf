#!/usr/bin/env bash
# Set-up + build + a real evaluation end to end. With no model server given it starts
# `retort sim` on a loopback port and evaluates the example tasks against it.
#   scripts/demo.sh                                   # against retort sim
#   scripts/demo.sh --model hosted_vllm/M --base-url http://host:8000/v1   # a real server
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
# Only the binary: the test suite is scripts/test.sh's business (it takes most of the build).
# A first build is a Release one (-O2, no debug info: a quarter less compile time than the
# default RelWithDebInfo, same speed); an existing build directory keeps its type, so that
# scripts/test.sh afterwards reuses what was built here.
build_args=()
if [[ ! -f "${BUILD_DIR:-$root/build}/CMakeCache.txt" ]]; then
  build_args+=(-DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-Release}")
fi
BUILD_TARGETS=retort bash "$root/scripts/build.sh" "${build_args[@]}"
retort="${BUILD_DIR:-$root/build}/retort"
out="${DEMO_OUT:-$root/out/demo}"
mkdir -p "$out"

if [[ $# -gt 0 ]]; then
  exec "$retort" run --tasks "$root/examples" --output_path "$out" "$@"
fi

portfile="$(mktemp)"
"$retort" sim --port 0 --port-file "$portfile" --model demo-model --mode script \
  --script "$root/examples/sim_script.jsonl" >"$out/sim.log" 2>&1 &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null || true; rm -f "$portfile"' EXIT
for _ in $(seq 100); do [[ -s "$portfile" ]] && break; sleep 0.1; done
port="$(cat "$portfile")"
echo "demo: retort sim listening on 127.0.0.1:$port"
"$retort" run --model hosted_vllm/demo-model --base-url "http://127.0.0.1:$port/v1" \
  --tasks "$root/examples" --output_path "$out" --log_samples --no-cache
echo "demo: expected from examples/sim_script.jsonl (see examples/README.md):"
echo "      demo_arith exact_match,strict-match 0.6 | demo_capitals acc 0.75, acc_norm 0.5"
echo "      demo_colors acc 0.5, acc_norm 0.5 | demo_mc (group) acc 0.6667"
