#!/usr/bin/env bash
# Installs every Debian 12 package that building, testing and demoing retort needs.
# Idempotent: when everything is present it changes nothing and needs no network.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libyaml-cpp-dev libsqlite3-dev sqlite3
  libcli11-dev libfmt-dev libpcre2-dev libutf8proc-dev zlib1g-dev libzstd-dev libsnappy-dev
  liblz4-dev libboost-dev libboost-system-dev libpq-dev postgresql
  libgtest-dev libgmock-dev libbenchmark-dev libjemalloc-dev
  python3 python3-aiohttp
)
# Extra packages a module needs are listed one per line in scripts/packages.d/*.txt.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if compgen -G "$here/packages.d/*.txt" >/dev/null; then
  while read -r p; do
    [[ -n "$p" && "$p" != \#* ]] && packages+=("$p")
  done < <(cat "$here"/packages.d/*.txt)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "setup: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
