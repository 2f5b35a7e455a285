#!/usr/bin/env bash
# Tests under AddressSanitizer + UndefinedBehaviorSanitizer (clang), then a short run of every
# fuzz target from the same build (tools/fuzz.sh). Installs clang if missing.
#   bash tools/sanitize.sh                    # what CI runs (below), then 45 s per fuzz target
#   STAN_SAN_SCOPE=all bash tools/sanitize.sh # the whole suite (about twice as long)
#   FUZZ_SECONDS=0 bash tools/sanitize.sh     # the tests only
# The default scope is what handles untrusted input: the flow readers and command-line values
# (stan/io), model metadata and loading (stan/model), checkpoints (nn), and the bad-input table
# run through an instrumented `stan` (tools). The whole suite under ASan on two cores takes
# about as long as the rest of CI together, mostly compiling the other test programs and
# training in the end-to-end tests; STAN_SAN_SCOPE=all runs it.
# Build folder: build-san (STAN_SAN_BUILD_DIR). Any sanitizer report fails the test that caused
# it (-fno-sanitize-recover=all), so a green CTest means no report.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${STAN_SAN_BUILD_DIR:-$root/build-san}
jobs=$(nproc 2>/dev/null || echo 2)
scope=${STAN_SAN_SCOPE:-inputs}

STAN_WITH_CLANG=1 STAN_SETUP_BUILD=0 bash "$root/tools/setup.sh"

# -O1 -g1: fast enough to run the suite, quick to compile, line numbers in reports. CUDA off: the
# sanitizers do not see into device code, and the CPU backend is what the tests exercise.
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_CXX_FLAGS="-O1 -g1" -DSTAN_CUDA=OFF -DSTAN_SANITIZE=ON -DSTAN_FUZZ=ON \
  "${launcher[@]}" >/dev/null
tests=()
case "$scope" in
  all)
    cmake --build "$build" -j "$jobs"
    ;;
  inputs)
    cmake --build "$build" -j "$jobs" --target stan test_stan_io test_stan_model test_nn \
      test_tools fuzz_flow_reader fuzz_checkpoint fuzz_model_meta
    tests=(-R '^(stan/io|stan/model|nn):|^tools:bad input')
    ;;
  *)
    echo "sanitize: unknown STAN_SAN_SCOPE '$scope' (expected inputs or all)" >&2
    exit 2
    ;;
esac

# Leaks count as failures; one BLAS thread (its pool is not what is tested, and it halves the
# time under ASan on two cores).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OPENBLAS_NUM_THREADS=1
(cd "$build" && ctest --output-on-failure -j "$jobs" --timeout 1500 "${tests[@]}")
echo "sanitize: the tests ($scope) passed under ASan+UBSan"

if [[ "${FUZZ_SECONDS:-45}" != 0 ]]; then
  FUZZ_SECONDS=${FUZZ_SECONDS:-45} STAN_FUZZ_BUILD_DIR="$build" bash "$root/tools/fuzz.sh"
fi
