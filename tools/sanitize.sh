#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer (clang), then a short
# run of every fuzz target from the same build (tools/fuzz.sh). Installs clang if missing.
#   bash tools/sanitize.sh                    # what CI runs: build, CTest, 60 s per fuzz target
#   FUZZ_SECONDS=0 bash tools/sanitize.sh     # the tests only
# Build folder: build-san (STAN_SAN_BUILD_DIR). Any sanitizer report fails the test that caused
# it (-fno-sanitize-recover=all), so a green CTest means no report.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${STAN_SAN_BUILD_DIR:-$root/build-san}
jobs=$(nproc 2>/dev/null || echo 2)

STAN_WITH_CLANG=1 STAN_SETUP_BUILD=0 bash "$root/tools/setup.sh"

# -O1 -g1: fast enough to run the suite, quick to compile, line numbers in reports. CUDA off: the
# sanitizers do not see into device code, and the CPU backend is what the tests exercise.
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_CXX_FLAGS="-O1 -g1" -DSTAN_CUDA=OFF -DSTAN_SANITIZE=ON -DSTAN_FUZZ=ON \
  "${launcher[@]}" >/dev/null
cmake --build "$build" -j "$jobs"

# Leaks count as failures; one BLAS thread (its pool is not what is tested, and it halves the
# time under ASan on two cores).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OPENBLAS_NUM_THREADS=1
(cd "$build" && ctest --output-on-failure -j "$jobs" --timeout 1500)
echo "sanitize: the test suite passed under ASan+UBSan"

if [[ "${FUZZ_SECONDS:-60}" != 0 ]]; then
  STAN_FUZZ_BUILD_DIR="$build" bash "$root/tools/fuzz.sh"
fi
