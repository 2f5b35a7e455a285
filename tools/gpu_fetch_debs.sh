#!/usr/bin/env bash
# Downloads (apt-get download, no install) the Debian packages that tools/gpu_check.sh unpacks on
# a GPU machine that reaches no package registry: the project's build dependencies (headers,
# CMake configs, pkg-config files) and the runtime libraries they point at. Run it here, on a
# Debian 12 machine with apt; the .deb files land in .deb/ (ignored by git) and travel with the
# working tree to the GPU machine.
#
#   bash tools/gpu_fetch_debs.sh            # into <repo>/.deb
#   STAN_DEB_DIR=/tmp/debs bash tools/gpu_fetch_debs.sh
#   STAN_FETCH_CMAKE=1 ...                  # also CMake and ninja (the GPU image ships both)
#
# Not fetched: the compiler (the GPU image has g++ for nvcc), the CUDA toolkit and cuDNN
# (expected under /usr/local/cuda there), Python.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${STAN_DEB_DIR:-$root/.deb}

packages=(
  # OpenBLAS (CPU GEMM): dev files, the pthread flavour the .pc file names, its Fortran runtime
  libopenblas-dev libopenblas-pthread-dev libopenblas0 libopenblas0-pthread libgfortran5
  libquadmath0
  # compressed flow files: headers and the libraries the -dev symlinks point at
  liblzma-dev liblzma5 zlib1g-dev zlib1g
  # header-only libraries and the test framework
  libcli11-dev nlohmann-json3-dev catch2
  # pkg-config (CMake's FindPkgConfig finds OpenBLAS through it)
  pkgconf pkgconf-bin pkg-config libpkgconf3
)
if [[ ${STAN_FETCH_CMAKE:-0} == 1 ]]; then
  packages+=(cmake cmake-data libjsoncpp25 librhash0 libuv1 ninja-build)
fi

mkdir -p "$dest"
cd "$dest"
if ! apt-get download --print-uris "${packages[0]}" >/dev/null 2>&1; then
  echo "gpu_fetch_debs: refreshing the package lists (apt-get update)"
  apt-get update -qq
fi
echo "gpu_fetch_debs: downloading ${#packages[@]} packages into $dest"
apt-get download -q -o APT::Sandbox::User=root "${packages[@]}"
# Keep one version per package: the newest download wins.
declare -A newest=()
for f in *.deb; do
  name=${f%%_*}
  if [[ -n ${newest[$name]:-} ]]; then
    if dpkg --compare-versions "$(dpkg-deb -f "$f" Version)" gt \
      "$(dpkg-deb -f "${newest[$name]}" Version)"; then
      rm -f "${newest[$name]}"
      newest[$name]=$f
    else
      rm -f "$f"
    fi
  else
    newest[$name]=$f
  fi
done
echo "gpu_fetch_debs: $(find . -maxdepth 1 -name '*.deb' | wc -l) packages, $(du -sh . | cut -f1) in $dest"
