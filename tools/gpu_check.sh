#!/usr/bin/env bash
# gpu_check: the GPU check of this project, for a machine with an NVIDIA GPU that reaches no
# package registry. From a bare copy of the repository it
#   1. unpacks the build dependencies carried in .deb/ (made by tools/gpu_fetch_debs.sh) into a
#      private prefix with dpkg-deb -x (nothing is installed system-wide),
#   2. configures with -DSTAN_CUDA=ON against that prefix (CMAKE_PREFIX_PATH, PKG_CONFIG_PATH)
#      and cuDNN found under /usr/local/cuda (or pip's nvidia-cudnn), for this GPU's
#      architecture only, and builds test_cuda and bench_gpu,
#   3. runs the CUDA tests through CTest, then the test binary again with STAN_CUDA_SYNC=1,
#   4. runs the GPU benchmark,
#   5. with --stan, builds `stan` too and times training (the bundled sample, 200 batches, at two
#      batch sizes) and generation (the bundled model) on the CPU cores and on the GPU,
# and prints a summary. Meant to finish in under 8 minutes on a 16-core machine (10 with --stan).
#
#   bash tools/gpu_check.sh [--no-bench] [--configure-only] [--all-tests] [--stan]
# Environment:
#   STAN_GPU_BUILD_DIR  build folder (default <repo>/build-gpu)
#   STAN_DEB_DIR        the .deb files (default <repo>/.deb); none there: system packages
#   STAN_DEPS_PREFIX    where they are unpacked (default <build>/deps)
#   STAN_GPU_LOG_DIR    logs and summary.txt (default <build>/gpu-check), e.g. $OUT
#   STAN_CUDA_ARCHS     CMAKE_CUDA_ARCHITECTURES (default: the GPU's, from nvidia-smi)
#   STAN_JOBS           parallel build jobs (default: nproc)
#   STAN_GPU_TIME_LIMIT seconds for the whole check (default 470, with per-step limits)
# Exit status: 0 when everything that ran passed; 1 otherwise.
# Through the device tool (the tree travels without ignored folders): carry [".deb"] and run
#   STAN_GPU_LOG_DIR=$OUT bash tools/gpu_check.sh
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${STAN_GPU_BUILD_DIR:-$root/build-gpu}
debs=${STAN_DEB_DIR:-$root/.deb}
prefix=${STAN_DEPS_PREFIX:-$build/deps}
logs=${STAN_GPU_LOG_DIR:-$build/gpu-check}
jobs=${STAN_JOBS:-$(nproc 2>/dev/null || echo 4)}
run_bench=1
configure_only=0
all_tests=0
run_stan=0
for arg in "$@"; do
  case $arg in
    --no-bench) run_bench=0 ;;
    --configure-only) configure_only=1 ;;
    --all-tests) all_tests=1 ;;
    --stan) run_stan=1 ;;
    -h | --help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "gpu_check: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done

start=$(date +%s)
deadline=$((start + ${STAN_GPU_TIME_LIMIT:-470}))  # default: a margin inside 8 minutes
mkdir -p "$build" "$logs"
summary=()
status=0
note() { summary+=("$*"); echo "gpu_check: $*"; }
fail() { note "FAIL: $*"; status=1; }
elapsed() { echo "$(($(date +%s) - start))s"; }
# Seconds a step may take: its own limit (unless STAN_GPU_TIME_LIMIT is set), or what is left
# before the deadline (at least 30).
budget() {
  local left=$((deadline - $(date +%s)))
  ((left < 30)) && left=30
  if [[ -z ${STAN_GPU_TIME_LIMIT:-} ]] && (($1 < left)); then echo "$1"; else echo "$left"; fi
}

# ---- 0. the machine ----------------------------------------------------------------------
export PATH="/usr/local/cuda/bin:$PATH"
gpu_present=0
if command -v nvidia-smi >/dev/null 2>&1 &&
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap \
    --format=csv,noheader >"$logs/gpu.txt" 2>/dev/null && [[ -s $logs/gpu.txt ]]; then
  gpu_present=1
fi
{
  echo "host: $(uname -srm), $(nproc) cores"
  if ((gpu_present)); then
    echo "gpu: $(head -1 "$logs/gpu.txt")"
  else
    echo "gpu: none found (nvidia-smi missing or failed)"
  fi
  echo "nvcc: $(nvcc --version 2>/dev/null | grep -o 'release [0-9.]*' || echo missing)"
  echo "cmake: $(cmake --version 2>/dev/null | head -1 || echo missing)"
  echo "c++: $(c++ --version 2>/dev/null | head -1 || echo missing)"
} | tee "$logs/machine.txt"
for line in "$(sed -n 2p "$logs/machine.txt")" "$(sed -n 3p "$logs/machine.txt")"; do
  note "$line"
done
command -v cmake >/dev/null 2>&1 || { fail "cmake not found"; exit 1; }
command -v nvcc >/dev/null 2>&1 || { fail "nvcc not found (looked in PATH and /usr/local/cuda/bin)"; exit 1; }

# ---- 1. dependencies from .deb files -----------------------------------------------------
runtime="$prefix/runtime"  # sonames the system lacks, for LD_LIBRARY_PATH
cmake_deps=()
shopt -s nullglob
deb_files=("$debs"/*.deb)
shopt -u nullglob
if ((${#deb_files[@]})); then
  rm -rf "$prefix"
  mkdir -p "$prefix" "$runtime" "$prefix/pkgconfig" "$prefix/bin"
  for f in "${deb_files[@]}"; do
    if command -v dpkg-deb >/dev/null 2>&1; then
      dpkg-deb -x "$f" "$prefix" || fail "cannot unpack $f"
    else  # a .deb is an ar archive holding data.tar.*
      tmp=$(mktemp -d)
      (cd "$tmp" && ar x "$f" && tar -xf data.tar.* -C "$prefix") || fail "cannot unpack $f"
      rm -rf "$tmp"
    fi
  done
  # -dev symlinks such as liblzma.so -> /lib/x86_64-linux-gnu/liblzma.so.5.4.1 point outside
  # the prefix: point them at the unpacked file.
  while IFS= read -r -d '' link; do
    target=$(readlink "$link")
    if [[ $target == /* && -e "$prefix$target" ]]; then ln -sfn "$prefix$target" "$link"; fi
  done < <(find "$prefix" -type l -print0)
  # Runtime libraries the system does not have (e.g. libgfortran.so.5 for OpenBLAS).
  for so in libgfortran.so.5 libquadmath.so.0 liblzma.so.5 libz.so.1 libpkgconf.so.3; do
    if ! ldconfig -p 2>/dev/null | grep -q "^[[:space:]]*$so "; then
      found=$(find "$prefix" -name "$so" \( -type f -o -type l \) | head -1)
      [[ -n $found ]] && ln -sfn "$found" "$runtime/$so"
    fi
  done
  # OpenBLAS's .pc file (Debian installs it through update-alternatives): paths into the prefix.
  pc=$(find "$prefix" -path '*openblas-pthread/pkgconfig/openblas.pc' | head -1)
  if [[ -n $pc ]]; then
    sed -e "s#^libdir=/#libdir=$prefix/#" -e "s#^includedir=/#includedir=$prefix/#" "$pc" \
      >"$prefix/pkgconfig/openblas.pc"
  fi
  export PKG_CONFIG_PATH="$prefix/pkgconfig:$prefix/usr/lib/x86_64-linux-gnu/pkgconfig:$prefix/usr/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  if ! command -v pkg-config >/dev/null 2>&1 && [[ -x $prefix/usr/bin/pkgconf ]]; then
    cat >"$prefix/bin/pkg-config" <<EOF
#!/bin/sh
LD_LIBRARY_PATH="$prefix/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "$prefix/usr/bin/pkgconf" "\$@"
EOF
    chmod +x "$prefix/bin/pkg-config"
    cmake_deps+=("-DPKG_CONFIG_EXECUTABLE=$prefix/bin/pkg-config")
  fi
  cmake_deps+=("-DCMAKE_PREFIX_PATH=$prefix/usr"
    "-DCMAKE_INCLUDE_PATH=$prefix/usr/include"
    "-DCMAKE_LIBRARY_PATH=$prefix/usr/lib/x86_64-linux-gnu")
  export LD_LIBRARY_PATH="$runtime${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  note "unpacked ${#deb_files[@]} .deb files into $prefix ($(elapsed))"
else
  note "no .deb files in $debs: using the system's packages"
fi

# cuDNN: the toolkit's folders first, then pip's nvidia-cudnn (PyTorch images carry it).
cudnn_inc=""
cudnn_lib=""
for d in /usr/local/cuda/include /usr/local/include /usr/include /usr/include/x86_64-linux-gnu; do
  if [[ -f $d/cudnn.h ]]; then cudnn_inc=$d; break; fi
done
for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib \
  /usr/lib/x86_64-linux-gnu /usr/local/lib; do
  for n in libcudnn.so libcudnn.so.9; do
    if [[ -e $d/$n ]]; then cudnn_lib=$d/$n; break 2; fi
  done
done
if [[ -z $cudnn_inc || -z $cudnn_lib ]] && command -v python3 >/dev/null 2>&1; then
  pip_cudnn=$(python3 -c 'import nvidia.cudnn as m; print(list(m.__path__)[0])' 2>/dev/null || true)
  if [[ -n $pip_cudnn ]]; then
    [[ -z $cudnn_inc && -f $pip_cudnn/include/cudnn.h ]] && cudnn_inc=$pip_cudnn/include
    if [[ -z $cudnn_lib ]]; then
      cudnn_lib=$(find "$pip_cudnn/lib" -name 'libcudnn.so*' 2>/dev/null | sort | head -1)
      [[ -n $cudnn_lib ]] && export LD_LIBRARY_PATH="$pip_cudnn/lib:$LD_LIBRARY_PATH"
    fi
  fi
fi
if [[ -n $cudnn_inc && -n $cudnn_lib ]]; then
  note "cuDNN: $cudnn_lib (headers $cudnn_inc)"
  # cuDNN 9 dlopens its sub-libraries (libcudnn_cnn.so.9, ...) from the loader's search path.
  cudnn_dir=$(dirname "$cudnn_lib")
  export LD_LIBRARY_PATH="$cudnn_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  cmake_deps+=("-DCUDNN_INCLUDE_DIR=$cudnn_inc" "-DCUDNN_LIBRARY=$cudnn_lib")
else
  note "cuDNN not found in the usual places: leaving it to CMake"
fi

# ---- 2. configure and build --------------------------------------------------------------
archs=${STAN_CUDA_ARCHS:-}
if [[ -z $archs && $gpu_present == 1 ]]; then
  archs=$(cut -d, -f4 "$logs/gpu.txt" | head -1 | tr -d ' .')
fi
[[ -n $archs ]] && cmake_deps+=("-DCMAKE_CUDA_ARCHITECTURES=$archs")
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
if [[ -f $build/CMakeCache.txt ]] && ! grep -q "CMAKE_GENERATOR:INTERNAL=${generator[1]:-Unix Makefiles}" "$build/CMakeCache.txt"; then
  rm -rf "$build/CMakeCache.txt" "$build/CMakeFiles"  # another generator configured it before
fi
if timeout "$(budget 150)" cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DSTAN_CUDA=ON "${cmake_deps[@]}" >"$logs/configure.log" 2>&1; then
  note "configure: ok, $(grep -o 'CUDA backend: ON.*' "$logs/configure.log" | head -1) ($(elapsed))"
else
  tail -30 "$logs/configure.log"
  fail "configure (see $logs/configure.log)"
fi
# Where each dependency came from (the prefix, or the system).
grep -E '^(pkgcfg_lib_OPENBLAS_openblas|Catch2_DIR|nlohmann_json_DIR|CLI11_DIR|LIBLZMA_LIBRARY_RELEASE|ZLIB_LIBRARY_RELEASE|CUDNN_LIBRARY|CUDNN_INCLUDE_DIR|CMAKE_CUDA_ARCHITECTURES)[:=]' \
  "$build/CMakeCache.txt" 2>/dev/null | tee "$logs/dependencies.txt"

targets=(test_cuda bench_gpu)
((run_stan)) && targets+=(stan)
((all_tests)) && targets=(all)
if ((status == 0 && !configure_only)); then
  if timeout "$(budget 330)" cmake --build "$build" -j "$jobs" --target "${targets[@]}" \
    >"$logs/build.log" 2>&1; then
    note "build (${targets[*]}): ok ($(elapsed))"
    warnings=$(grep -c 'warning:' "$logs/build.log" || true)
    ((warnings)) && note "build: $warnings compiler warnings (see $logs/build.log)"
  else
    grep -E 'error|Error' "$logs/build.log" | head -20
    fail "build (see $logs/build.log)"
  fi
fi

# ---- 3. CUDA tests -----------------------------------------------------------------------
if ((status == 0 && !configure_only)); then
  filter=(-R '^cuda')
  ((all_tests)) && filter=()
  (cd "$build" && timeout "$(budget 240)" ctest "${filter[@]}" --output-on-failure --timeout 200) \
    >"$logs/ctest.log" 2>&1
  ctest_rc=$?
  line=$(grep -E 'tests passed|tests failed' "$logs/ctest.log" | tail -1)
  skipped=$(grep -c '(Skipped)' "$logs/ctest.log" || true)
  note "ctest: ${line:-no summary} ($skipped skipped, $(elapsed))"
  if ((ctest_rc != 0)); then
    grep -E 'Failed|\*\*\*' "$logs/ctest.log" | head -20
    fail "CUDA tests (see $logs/ctest.log)"
  elif ((gpu_present && skipped > 0)); then
    fail "CUDA tests were skipped although nvidia-smi sees a GPU"
  fi
  if ((gpu_present)) && [[ -x $build/tests/test_cuda ]]; then
    if STAN_CUDA_SYNC=1 timeout "$(budget 200)" "$build/tests/test_cuda" >"$logs/test_sync.log" 2>&1; then
      note "test_cuda with STAN_CUDA_SYNC=1: $(grep -E '^(All tests passed|test cases)' "$logs/test_sync.log" | tail -1)"
    else
      tail -30 "$logs/test_sync.log"
      fail "test_cuda with STAN_CUDA_SYNC=1 (see $logs/test_sync.log)"
    fi
  fi
fi

# ---- 4. benchmark ------------------------------------------------------------------------
if ((run_bench && !configure_only)) && [[ -x $build/bench/bench_gpu ]]; then
  if ((gpu_present)); then
    if timeout "$(budget 180)" "$build/bench/bench_gpu" --iters 20 >"$logs/bench.log" 2>&1; then
      cat "$logs/bench.log"
      note "bench_gpu: ok ($(elapsed))"
    else
      tail -20 "$logs/bench.log"
      fail "bench_gpu (see $logs/bench.log)"
    fi
  else
    note "bench_gpu: not run (no GPU)"
  fi
fi

# ---- 5. stan on the device: training and generation, the CPU cores vs the GPU --------------
# Each pair runs back to back on one machine; the rates come from stan's own reports.
if ((run_stan && !configure_only)) && [[ -x $build/bin/stan ]]; then
  if ((gpu_present)); then
    stan=$build/bin/stan
    sample=$root/stan/assets/sample
    for batch in 512 4096; do
      for dev in cpu cuda; do
        log=$logs/train_${dev}_$batch.log
        timeout "$(budget 150)" "$stan" train --data "$sample/flows.csv.xz" \
          --owner-hosts "@$sample/hosts.csv" --epochs 1 --max-batches 200 --batch-size "$batch" \
          --device "$dev" --seed 1 --out "$build/train_$dev.safetensors" >"$log" 2>&1 ||
          fail "stan train --device $dev --batch-size $batch (see $log)"
        note "train on $dev, batch $batch, 200 batches: $(grep -o '[0-9.]* s, [0-9]* windows/s' "$log" | head -1)"
      done
    done
    for hosts in 1000 10000; do
      for dev in cpu cuda; do
        log=$logs/generate_${dev}_$hosts.log
        timeout "$(budget 150)" "$stan" generate --hosts "$hosts" --duration 1h --seed 1 \
          --device "$dev" --out "$build/generated_$dev.csv" >"$log" 2>&1 ||
          fail "stan generate --device $dev --hosts $hosts (see $log)"
        note "generate on $dev, $hosts hosts, 1 h: $(grep -o '[0-9]* synthetic flows.*flows/s)' "$log" | head -1)"
      done
    done
  else
    note "stan on the device: not run (no GPU)"
  fi
fi

# ---- summary -----------------------------------------------------------------------------
{
  echo "== gpu_check summary ($(elapsed), $(date -u +%Y-%m-%dT%H:%M:%SZ))"
  for s in "${summary[@]}"; do echo "  $s"; done
  ((status == 0)) && echo "  RESULT: ok" || echo "  RESULT: FAILED"
} | tee "$logs/summary.txt"
exit "$status"
