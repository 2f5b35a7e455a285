#!/usr/bin/env bash
# Realism of one model at several seeds: generates the given hosts (24 h from the day start by
# default) at each seed, evaluates each run against the real flows of those hosts, and prints the
# mean and spread over seeds of every metric (tools/eval_summary.py). One seed proves nothing:
# hosts' activity levels and peers swing with the seed.
#   bash tools/eval_seeds.sh MODEL REAL.csv HOSTS.txt OUT_DIR NAME [SEEDS] [-- extra eval flags]
# MODEL: a model file; or "real:FILE.csv:FILE_HOSTS.txt" to score the real flows of other hosts
# (the floor: e.g. the training hosts' flows and their list) in place of generated ones; or
# "subsets:FILE.csv:POOL.txt" to score, at each seed, the real flows of as many hosts drawn from
# POOL.txt (one address per line) as HOSTS.txt lists (the floor at an equal host count: a
# per-flow marginal of 81 hosts is lumpier than one of 306). Real flows are scored as `stan eval`'s
# floor side, with their own hosts as owners, so that a flow between one of them and one of
# HOSTS.txt does not add a host to either side. SEEDS: comma-separated (default 1-10:
# three seeds can be off by 0.1x on mutual information; README: Ten seeds). Writes
# OUT_DIR/NAME.s<seed>.{csv,json,eval.txt} and appends the summary to OUT_DIR/summary.jsonl.
# Environment: STAN_BIN (default build/bin/stan), STAN_START (default 2016-04-11 00:00:00),
# STAN_DURATION (default 24h; a shorter window needs REAL.csv cut to the same window), OWNERS (the
# owner-host list for `stan eval`, default HOSTS.txt), GENERATE_FLAGS (more `stan generate`
# flags, e.g. "--temperature 1.2").
set -euo pipefail
if [[ $# -lt 5 ]]; then
  awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0" >&2  # the header
  exit 2
fi
model=$1 real=$2 hosts=$3 out=$4 name=$5
seeds=${6:-1,2,3,4,5,6,7,8,9,10}
shift $(($# < 6 ? $# : 6))
[[ ${1:-} == -- ]] && shift
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
stan=${STAN_BIN:-$root/build/bin/stan}
start=${STAN_START:-2016-04-11 00:00:00}
duration=${STAN_DURATION:-24h}
owners=${OWNERS:-$hosts}
pool=
if [[ $model == subsets:* || $model == real:* ]]; then
  kind=${model%%:*} spec=${model#*:}
  [[ $spec == *:* ]] || { echo "eval_seeds: expected $kind:FILE.csv:HOSTS.txt" >&2; exit 2; }
  pool=${spec#*:} model=$kind:${spec%%:*}
  [[ -f $pool ]] || { echo "eval_seeds: no host list '$pool'" >&2; exit 2; }
fi
[[ $model == real:* || $model == subsets:* || -f $model ]] ||
  { echo "eval_seeds: no model file '$model'" >&2; exit 2; }
for f in "$real" "$hosts" "$owners" "${model#*:}"; do
  [[ $f == "$model" || -f $f ]] || { echo "eval_seeds: no file '$f'" >&2; exit 2; }
done
[[ $seeds =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "eval_seeds: SEEDS must be like 1,2,3" >&2; exit 2; }
mkdir -p "$out"
jsons=()
side=synthetic
[[ -n $pool ]] && side=floor
for s in ${seeds//,/ }; do
  base=$out/$name.s$s
  floor_hosts=$pool
  if [[ $model == real:* ]]; then
    syn=${model#real:}
  elif [[ $model == subsets:* ]]; then
    # The flows of len(HOSTS) pool hosts drawn at this seed, and those hosts.
    syn=$base.csv floor_hosts=$base.hosts.txt
    [[ -f $syn && -f $floor_hosts ]] || python3 - "${model#subsets:}" "$pool" "$hosts" "$s" "$syn" "$floor_hosts" <<'PY'
import os, random, sys
src, pool, held, seed, dst, picked = sys.argv[1:7]
def hosts(path):
    return [l.split(',')[0].strip() for l in open(path) if l.strip() and l[0].isdigit()]
held = hosts(held)
pick = set(random.Random(int(seed)).sample(hosts(pool), len(held)))
with open(src) as f, open(dst + '.tmp', 'w') as o:
    o.write(f.readline())
    for line in f:
        p = line.split(',', 4)
        if p[2] in pick or p[3] in pick:
            o.write(line)
open(picked, 'w').write('\n'.join(sorted(pick)) + '\n')
os.replace(dst + '.tmp', dst)
PY
  else
    syn=$base.csv
    [[ -f $syn ]] || "$stan" generate --model "$model" --host-ips "@$hosts" --duration "$duration" \
      --start "$start" --seed "$s" --quiet --out "$syn" ${GENERATE_FLAGS:-} > "$base.gen.log" 2>&1
  fi
  if [[ $side == floor ]]; then
    # Real flows are eval's floor side, owned by their own hosts; eval's synthetic side is then
    # the real flows themselves (distance 0), unused.
    sides=(--synthetic "$real" --floor "$syn" --floor-owner-hosts "$floor_hosts")
  else
    sides=(--synthetic "$syn")
  fi
  [[ -f $base.json ]] || "$stan" eval --real "$real" "${sides[@]}" --owner-hosts "$owners" \
    --seed "$s" --json "$base.json" "$@" > "$base.eval.txt" 2> "$base.eval.log"
  jsons+=("$base.json")
  [[ $model == real:* ]] && break  # real flows do not depend on the seed
done
python3 "$root/tools/eval_summary.py" "$name" "${jsons[@]}" --side "$side" --jsonl "$out/summary.jsonl"
