#!/usr/bin/env bash
# Set-up + build + the whole test suite. This is what CI runs (.ci/run).
#   RETORT_LONG_TESTS=1  also runs the long fuzz/soak tests (label: long).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh"
build="${BUILD_DIR:-$root/build}"
label_args=(-LE long)
if [[ "${RETORT_LONG_TESTS:-0}" == "1" ]]; then label_args=(); fi
cd "$build"
ctest --output-on-failure -j "${JOBS:-$(nproc)}" --timeout 600 "${label_args[@]}"
