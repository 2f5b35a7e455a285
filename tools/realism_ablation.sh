#!/usr/bin/env bash
# Realism ablation (developer tool; needs the full UGR'16 extract, not shipped): trains one model
# per step of the encoding, from the faithful STAN encoding to the full one, on the same training
# hosts; generates the held-back hosts (same addresses, 24 h); evaluates each against the
# held-back hosts' real flows; also evaluates real held-back vs real training hosts (the floor)
# and the independent baseline. Prints one JSON summary line per row into $out/summary.jsonl.
#   bash tools/realism_ablation.sh DATA.csv.xz HOSTS.csv OUT_DIR [MAX_BATCHES] [EPOCHS]
set -euo pipefail
data=$1 hosts=$2 out=$3 batches=${4:-1200} epochs=${5:-1}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
stan=${STAN_BIN:-$root/build/bin/stan}
mkdir -p "$out"
common=(--data "$data" --host-list "@$hosts" --val-fraction 0.2 --seed 1 --epochs "$epochs" --quiet)
[[ $batches -gt 0 ]] && common+=(--max-batches "$batches")
declare -A steps=(
  [1-faithful]="--encoding faithful"
  [2-zero]="--no-censor --no-profiles --peer-cache 0 --no-bytes-per-packet --no-flags-tos"
  [3-censor]="--no-profiles --peer-cache 0 --no-bytes-per-packet --no-flags-tos"
  [4-profiles]="--peer-cache 0 --no-bytes-per-packet --no-flags-tos"
  [5-peers]="--no-bytes-per-packet --no-flags-tos"
  [6-rules]="--no-flags-tos"
  [7-flags-tos]=""
)
split() {  # split() FLOWS HOSTLIST OUT: the flows touching the listed hosts
  python3 - "$@" <<'PY'
import sys, lzma, csv
src, hl, dst = sys.argv[1:4]
hs = {l.split(',')[0].strip() for l in open(hl) if l.strip() and l[0].isdigit()}
op = lzma.open if src.endswith('.xz') else open
with op(src, 'rt') as f, open(dst, 'w') as o:
    head = f.readline(); o.write(head)
    for line in f:
        p = line.split(',', 4)
        if p[2] in hs or p[3] in hs: o.write(line)
PY
}
for name in $(printf '%s\n' "${!steps[@]}" | sort); do
  model=$out/$name.safetensors
  if [[ ! -f $model ]]; then
    echo "== $name: train"
    # shellcheck disable=SC2086
    "$stan" train "${common[@]}" ${steps[$name]} --out "$model" > "$out/$name.train.log" 2>&1
  fi
  if [[ ! -f $out/val_hosts.txt ]]; then
    python3 -c "import json,sys; print('\n'.join(json.load(sys.stdin)['info']['val_host_ips']))" \
      < <("$stan" info --model "$model" --json) > "$out/val_hosts.txt"
    grep -v -x -F -f "$out/val_hosts.txt" <(tail -n +2 "$hosts" | cut -d, -f1) > "$out/train_hosts.txt"
    split "$data" "$out/val_hosts.txt" "$out/real_val.csv"
    split "$data" "$out/train_hosts.txt" "$out/real_train.csv"
  fi
  echo "== $name: generate + eval"
  "$stan" generate --model "$model" --host-ips "@$out/val_hosts.txt" --duration 24h \
    --start "2016-04-11 00:00:00" --seed 1 --quiet --out "$out/$name.csv" > "$out/$name.gen.log"
  "$stan" eval --real "$out/real_val.csv" --synthetic "$out/$name.csv" --train "$out/real_train.csv" \
    --owner-hosts "$out/val_hosts.txt" --json "$out/$name.json" > "$out/$name.eval.txt"
done
echo "== floor (real held-back vs real training hosts) and baseline"
"$stan" eval --real "$out/real_val.csv" --synthetic "$out/real_train.csv" --owner-hosts "$hosts" \
  --json "$out/floor.json" > "$out/floor.eval.txt"
"$stan" baseline --real "$out/real_train.csv" --owner-hosts "$out/train_hosts.txt" \
  --hosts "$(wc -l < "$out/val_hosts.txt")" --duration 24h --seed 1 --out "$out/baseline.csv" > /dev/null
"$stan" eval --real "$out/real_val.csv" --synthetic "$out/baseline.csv" --owner-hosts "$hosts" \
  --train "$out/real_train.csv" --json "$out/baseline.json" > "$out/baseline.eval.txt"
echo "done: $out/*.eval.txt, $out/*.json"
