#!/usr/bin/env bash
# Engine benchmark: retort's request path vs an asyncio+aiohttp baseline against retort sim.
# Usage: bench/engine_bench.sh [build-dir] [extra engine_bench.py args]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${1:-$here/../build}"
shift || true
exec /usr/bin/python3 "$here/engine_bench.py" --retort "$build/retort" "$@"
