#!/usr/bin/env bash
# Configures and builds retort into build/ (or $BUILD_DIR). Extra args go to cmake.
#   BUILD_TARGETS="retort"  builds only those ninja targets (default: everything, tests too)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
jobs="${JOBS:-$(nproc)}"
extra=()
if [[ "${CI:-}" == "true" ]]; then extra+=(-DRETORT_WERROR=ON); fi
cmake -S "$root" -B "$build" -G Ninja "${extra[@]}" "$@" >/dev/null
read -r -a targets <<<"${BUILD_TARGETS:-}"
ninja -C "$build" -j "$jobs" "${targets[@]}"
