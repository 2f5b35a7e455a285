#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan, -DSTAN_FUZZ=ON) and runs each one.
#   bash tools/fuzz.sh                               # 60 s per target, one after the other
#   FUZZ_SECONDS=3600 FUZZ_PARALLEL=1 nice -n 10 bash tools/fuzz.sh   # long runs, side by side
#   FUZZ_TARGETS=fuzz_checkpoint bash tools/fuzz.sh  # one target
# Working corpora grow in <build>/fuzz-corpus/<target> (seeded from tests/fuzz/corpus/<target>,
# the dictionary is tests/fuzz/<target>.dict); a crashing input is saved as
# <build>/fuzz-artifacts/<target>-crash-*. Reproduce one with: <build>/fuzz/<target> FILE.
# Prints executions and coverage per target; exits non-zero if any target found a crash.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${STAN_FUZZ_BUILD_DIR:-$root/build-san}
seconds=${FUZZ_SECONDS:-60}
targets=(${FUZZ_TARGETS:-fuzz_flow_reader fuzz_checkpoint fuzz_model_meta})
jobs=$(nproc 2>/dev/null || echo 2)

if [[ ! -x "$build/fuzz/${targets[0]}" ]]; then
  STAN_WITH_CLANG=1 STAN_SETUP_BUILD=0 bash "$root/tools/setup.sh"
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_CXX_FLAGS="-O1 -g1" -DSTAN_CUDA=OFF -DSTAN_SANITIZE=ON -DSTAN_FUZZ=ON \
    -DSTAN_BUILD_TESTS=OFF "${launcher[@]}" >/dev/null
fi
cmake --build "$build" -j "$jobs" --target "${targets[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OPENBLAS_NUM_THREADS=1
mkdir -p "$build/fuzz-artifacts" "$build/fuzz-logs"

run_target() {
  local t=$1 corpus="$build/fuzz-corpus/$1"
  mkdir -p "$corpus"
  # Each input gets 10 s and 2 GB; the checkpoint seeds are ~100 KB, so inputs may be that large.
  "$build/fuzz/$t" "$corpus" "$root/tests/fuzz/corpus/$t" -dict="$root/tests/fuzz/$t.dict" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=131072 \
    -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$t-" \
    >"$build/fuzz-logs/$t.log" 2>&1
}

declare -A status
if [[ "${FUZZ_PARALLEL:-0}" == 1 ]]; then
  declare -A pids
  for t in "${targets[@]}"; do run_target "$t" & pids[$t]=$!; done
  for t in "${targets[@]}"; do if wait "${pids[$t]}"; then status[$t]=0; else status[$t]=$?; fi; done
else
  for t in "${targets[@]}"; do if run_target "$t"; then status[$t]=0; else status[$t]=$?; fi; done
fi

failed=0
printf '%-18s %12s %10s %8s %8s  %s\n' target execs "execs/s" cov ft result
for t in "${targets[@]}"; do
  log="$build/fuzz-logs/$t.log"
  # libFuzzer pads its final stats with spaces; a missing line (a crash before them) prints "?".
  last_stat() { { grep -Eo "$1 *[0-9]+" "$log" || true; } | tail -1 | awk '{print $NF}'; }
  execs=$(last_stat 'stat::number_of_executed_units:')
  rate=$(last_stat 'stat::average_exec_per_sec:')
  cov=$(last_stat 'cov:')
  ft=$(last_stat 'ft:')
  result=ok
  if [[ ${status[$t]} != 0 ]]; then
    result="FAILED (exit ${status[$t]}; see $log and $build/fuzz-artifacts/)"
    failed=1
  fi
  printf '%-18s %12s %10s %8s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$result"
done
exit $failed
