#!/usr/bin/env bash
# Installs the system packages this project needs (Debian 12, apt-get), then configures and
# builds it into ./build. Idempotent and non-interactive: run it as often as you like.
#   bash tools/setup.sh            # install what is missing, build
#   STAN_CUDA=OFF bash tools/setup.sh   # build without the CUDA backend
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${STAN_BUILD_DIR:-$root/build}

packages=(build-essential cmake pkg-config libopenblas-dev liblzma-dev zlib1g-dev
  libcli11-dev nlohmann-json3-dev catch2 xz-utils)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSTAN_CUDA="${STAN_CUDA:-AUTO}" >/dev/null
cmake --build "$build" -j "$jobs"
echo "setup: built into $build"
