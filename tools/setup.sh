#!/usr/bin/env bash
# Installs the system packages this project needs (Debian 12, apt-get), then configures and
# builds it into ./build. Idempotent and non-interactive: run it as often as you like.
#   bash tools/setup.sh                 # everything: packages for building and testing, all targets
#   bash tools/setup.sh stan            # only what the `stan` program needs, only that target
#   STAN_CUDA=OFF bash tools/setup.sh   # build without the CUDA backend
#   STAN_WITH_CLANG=1 STAN_SETUP_BUILD=0 bash tools/setup.sh
#                                  # also clang + its sanitizer/libFuzzer runtimes, no build
#                                  # (what tools/sanitize.sh and tools/fuzz.sh need)
# The tests also need nfdump (Debian's nfcapd and nfdump, for the NetFlow round trips). Debian's
# package starts a collector service on UDP port 2055; when this script installs the package, it
# stops and disables that service again (`systemctl enable --now nfdump` brings it back).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${STAN_BUILD_DIR:-$root/build}
targets=("$@")

packages=(build-essential cmake pkg-config libopenblas-dev liblzma-dev zlib1g-dev
  libcli11-dev nlohmann-json3-dev xz-utils)
if ((${#targets[@]} == 0)); then packages+=(catch2 nfdump); fi
if [[ "${STAN_WITH_CLANG:-0}" == 1 ]]; then packages+=(clang libclang-rt-dev); fi
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
  if [[ " ${missing[*]} " == *" nfdump "* ]] && [[ -d /run/systemd/system ]]; then
    $sudo systemctl disable --now nfdump >/dev/null 2>&1 || true
    echo "setup: stopped and disabled the nfdump collector service Debian started (port 2055)"
  fi
fi

[[ "${STAN_SETUP_BUILD:-1}" == 0 ]] && exit 0

jobs=$(nproc 2>/dev/null || echo 2)
tests=ON
if ((${#targets[@]})); then
  # A partial build keeps an existing configuration, and configures a new one without tests.
  tests=$(sed -n 's/^STAN_BUILD_TESTS:BOOL=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
  tests=${tests:-OFF}
fi
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSTAN_CUDA="${STAN_CUDA:-AUTO}" \
  -DSTAN_BUILD_TESTS="$tests" >/dev/null
if ((${#targets[@]})); then
  cmake --build "$build" -j "$jobs" --target "${targets[@]}"
else
  cmake --build "$build" -j "$jobs"
fi
echo "setup: built ${targets[*]:-everything} into $build"
