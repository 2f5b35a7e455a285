#!/usr/bin/env bash
# Sets up (packages + the `stan` program only) and generates synthetic flows with the bundled
# model: 20 hosts, 1 hour, into ./synthetic.csv (UGR'16 CSV).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${STAN_BUILD_DIR:-$root/build}
bash "$root/tools/setup.sh" stan
out=${1:-$PWD/synthetic.csv}
"$build/bin/stan" generate --hosts 20 --duration 1h --start 2016-04-11T00:00:00Z --seed 7 \
  --batch-size 64 --out "$out"
echo
echo "synthetic flows: $out ($(($(wc -l <"$out") - 1)) flows); first lines:"
head -n 6 "$out"
echo
echo "next: $build/bin/stan --help   (train, generate, info, eval, baseline, export)"
