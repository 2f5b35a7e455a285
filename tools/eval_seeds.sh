#!/usr/bin/env bash
# Realism of one model at several seeds: generates the given hosts (24 h from the day start by default) at
# each seed, evaluates each run against the real flows of those hosts, and prints the mean and
# spread over seeds of every metric (tools/eval_summary.py). One seed proves nothing: hosts'
# activity levels and peers swing with the seed.
#   bash tools/eval_seeds.sh MODEL REAL.csv HOSTS.txt OUT_DIR NAME [SEEDS] [-- extra eval flags]
# MODEL: a model file, or "real:FILE.csv" to score real flows (e.g. the floor: other real hosts)
# in place of generated ones. SEEDS: comma-separated (default 1,2,3). Writes OUT_DIR/NAME.s<seed>
# .{csv,json,eval.txt} and appends the summary to OUT_DIR/summary.jsonl. Environment: STAN_BIN
# (default build/bin/stan), STAN_START (default 2016-04-11 00:00:00), STAN_DURATION (default 24h;
# a shorter window needs REAL.csv cut to the same window), OWNERS (the owner-host list
# for `stan eval`, default HOSTS.txt; the floor needs every owner host, training ones included),
# GENERATE_FLAGS (more `stan generate` flags, e.g. "--temperature 1.2").
set -euo pipefail
if [[ $# -lt 5 ]]; then
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
model=$1 real=$2 hosts=$3 out=$4 name=$5
seeds=${6:-1,2,3}
shift $(($# < 6 ? $# : 6))
[[ ${1:-} == -- ]] && shift
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
stan=${STAN_BIN:-$root/build/bin/stan}
start=${STAN_START:-2016-04-11 00:00:00}
duration=${STAN_DURATION:-24h}
owners=${OWNERS:-$hosts}
[[ $model == real:* || -f $model ]] || { echo "eval_seeds: no model file '$model'" >&2; exit 2; }
for f in "$real" "$hosts" "$owners" "${model#real:}"; do
  [[ $f == "$model" || -f $f ]] || { echo "eval_seeds: no file '$f'" >&2; exit 2; }
done
[[ $seeds =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "eval_seeds: SEEDS must be like 1,2,3" >&2; exit 2; }
mkdir -p "$out"
jsons=()
for s in ${seeds//,/ }; do
  base=$out/$name.s$s
  if [[ $model == real:* ]]; then
    syn=${model#real:}
  else
    syn=$base.csv
    [[ -f $syn ]] || "$stan" generate --model "$model" --host-ips "@$hosts" --duration "$duration" \
      --start "$start" --seed "$s" --quiet --out "$syn" ${GENERATE_FLAGS:-} > "$base.gen.log" 2>&1
  fi
  [[ -f $base.json ]] || "$stan" eval --real "$real" --synthetic "$syn" --owner-hosts "$owners" \
    --seed "$s" --json "$base.json" "$@" > "$base.eval.txt" 2> "$base.eval.log"
  jsons+=("$base.json")
  [[ $model == real:* ]] && break  # real flows do not depend on the seed
done
python3 "$root/tools/eval_summary.py" "$name" "${jsons[@]}" --jsonl "$out/summary.jsonl"
