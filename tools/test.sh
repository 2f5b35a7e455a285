#!/usr/bin/env bash
# Sets up (packages + build) and runs the whole test suite with CTest.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${STAN_BUILD_DIR:-$root/build}
bash "$root/tools/setup.sh"
cd "$build"
ctest --output-on-failure -j "$(nproc 2>/dev/null || echo 2)" "$@"
