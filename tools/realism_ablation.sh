#!/usr/bin/env bash
# Realism ablation (developer tool; needs the full UGR'16 extract, not shipped): trains one model
# per row on the same training hosts (rows 1-7: from the faithful STAN encoding to the full one,
# without profile noise, with the former peer choice: the 8 most recent peers; rows 8-12: row 7
# plus one change each: popular peers, weight decay, profile noise 0.5, hidden 64, a 256-peer
# cache ordered by uses; row 13: the former defaults, that cache with popular peers; row 14: row
# 13 with popular remotes looked up before the cache, --peer-lookup popular; rows 15-16: dropout;
# rows 17-18: row 13 and row 14 with the peers of the flow's service first, --peer-match
# service; rows 19-20: row 17 with the peer memory, or with the previous flow's remote first;
# row 21: row 17's model generating without returns to another service, --other-service-peers
# 0; row 22: rows 19 and 20 together; rows 1-22 train without the moving average of the
# weights, --ema 0, as measured then; row 23: row 13 with the average; row 24: row 22 with the
# average, the defaults before row 25; row 25: today's defaults, row 24 with a peer matching its
# previous service too, --peer-match two-services; rows 26-27: row 25 with one-hot columns for
# the 16 most frequent service ports, and for the 16 most frequent first octets too; rows 28-29:
# row 25 with the counts of the peers of the flow's service, --peer-counts, or with repeats of a
# peer's last flow, --peer-repeats; rows 30-31: row 25 with the cached peer's last ToS,
# --peer-tos, and that with the known remotes' octets and one-hot columns for the 32 most
# frequent first octets; rows 32-34: row 25 with the 12 commonest services in the profiles,
# --profile-services 12, with a mixture of as many components as training hosts,
# --profile-components 1024, and that mixture alone; row 35: row 25 with the profile noise off
# its two activity fields, --activity-noise 0; row 36: row 25's model generating with a sharper
# peer choice, --peer-temperature 0.85; row 37: row 25 with 4096 popular remotes; row 38: row 25
# with each host's shares of the 64 commonest roles and services so far, --service-memory 64;
# rows 39-40: row 38 with the memory kept from the inter-arrival networks, --no-memory-rate, and
# that with noise on the memory in training, --memory-noise 0.2; rows 41-43: row 33 (services in
# the profiles, a mixture component per training host) without the profile noise,
# --profile-noise 0, without it on the services alone, --service-noise 0, and with row 39's
# memory; row 44: row 33 without the profile noise on the activity fields, --activity-noise 0;
# row 45: today's defaults, row 25 with the remotes that start flows to a quarter of the training
# host-days or more generated network-wide, --sweep-reach 0.25 (rows 1-44: --sweep-reach 0); row
# 46: row 45 without the profile noise on the activity fields, --activity-noise 0; row 47: row 45
# with half of it there, --activity-noise 0.25; row 48: row 45 with the distributed scans
# generated network-wide as probes, --probe-reach 0.25; row 49: the defaults before row 50,
# rows 47 and 48 together (rows 1-47: --probe-reach 0, and rows 1-46 and 48 the profile noise's
# activity noise); row 50: today's defaults, row 49 with a host's answers (its service's replies,
# ICMP echo replies and unreachables) counted as flows their remote started when finding sweeps,
# --sweep-answers (rows 1-49: --no-sweep-answers); row 51: row 50 with sweeps and probes of a
# twentieth and a tenth of the training host-days, --sweep-reach 0.05 --probe-reach 0.1; row 52:
# row 50 with the remotes that reach 3% of the training host-days with 300 flows a host-day or
# more as sweeps too, --heavy-reach 0.03; row 53: that at 5%, --heavy-reach 0.05; row 54: row 50
# with the model's clock run at the training flows' hourly rate, --diurnal-warp; row 55: row 50
# with the first cached peers' shares of the host's uses shown to the peer network, --peer-shares;
# row 56: row 50's model generating on its hour rates (rows 1-55 generate on the wall clock, as
# measured then, --no-hour-rates); row 57: row 50 with the popular remotes ranked by their
# training flows, --popular-rank flows; row 58: that with a popular remote always drawn by its
# popular class, --peer-lookup popular; row 59: row 50 with a mixture component for packets and
# bytes per packet on the cached peer's first flow with the service, --peer-anchor; row 60:
# row 59's model generating without returns to another service, --other-service-peers 0; row
# 61: row 55 with the host's uses of those peers shown to the peer network alone, --peer-uses;
# row 62: row 50's model generating without returns to another service at peer temperature 0.85;
# row 63: row 58 with the host keeping what it knows of a popular remote, --peer-lookup
# popular-known; row 64: row 63 with the popular remotes the host knows first among its
# service's popular classes, --peer-lookup popular-own; row 65: row 64 with 256 popular remotes;
# row 66: row 65's model generating at shape temperature 0.6, --shape-temperature 0.6; row 67:
# row 50's model likewise at 0.8; row 68: the defaults before row 71, row 65 recording shape
# temperature 0.7 (rows 1-67 train with the former defaults where they name none: the cache
# first, 1024 popular remotes by hosts, shape temperature 1); rows 69-70: row 68's model
# generating its port classes at port temperature 0.8 and 0.7, --port-temperature; row 71:
# today's defaults, row 68 recording port temperature 0.9 (rows 1-68: --port-temperature 1);
# row 72: row 71's model generating with host-remote pair rates, --pair-spread 2; rows 73-74:
# row 71's model generating with pair draws, --pair-draws 0.7, alone and with --pair-spread 2;
# row 75: row 71 with the pair's last flow in the peer memory, --peer-last; rows 76-77: row 71
# with the 12 commonest services in the profiles, --profile-services 12, alone and with a
# mixture component per training host, --profile-components 1024; row 78: row 71 with ten
# previous rows in a window, --window 10; rows 79-80: row 71 with profile noise 0.3 and 0.7;
# row 81: row 71 with the 6 commonest services in the profiles, --profile-services 6, today's
# defaults (rows 1-80: --profile-services 0); row 82:
# row 81 with its hour rates calibrated on 81 generated hosts' day, --calibrate-hours 81, the
# bundled model's configuration; rows 83-86: row 82 with --activity-noise 0.125, generating with
# --pair-draws 0.7 (row 82's model), with --service-noise 0.25, with --profile-components 32;
# row 87: row 82's model generating with --pair-draws 0.7 --pair-spread 2; row 88: row 82's
# model generating with a new remote at half its weight where the host has a peer of the
# flow's service, --new-peer-weight 0.5; row 89: today's defaults, row 82 recording temperature
# 1.1 and a new remote's weight 0.5 for generation, the bundled model's configuration (rows 1-88:
# --temperature 1 --new-peer-weight 1); row 90: row 89's model generating each host at its
# profile's pace, --pace 1; row 91: row 89's model generating a new remote's octets at octet
# temperature 1.3, --octet-temperature 1.3; row 92: row 89 with the heavy remotes as sweeps on
# today's defaults, --heavy-reach 0.03; row 93: row 89's model generating with pair rates and
# the octets at 1.6, --pair-spread 2 --octet-temperature 1.6; row 94: today's defaults, row 89
# with the heavy conversations busy hosts copy, --conversations 500 (rows 1-93: --conversations
# 0), the bundled model's configuration;
# generates the held-back hosts (same addresses, 24 h) at several seeds; evaluates each run
# against the held-back hosts' real flows and prints mean and spread over the seeds
# (tools/eval_seeds.sh); also evaluates real held-back vs real training hosts (the floor), the
# independent baseline and, with BUNDLED=MODEL, an existing model. One JSON summary line per row
# goes into $out/summary.jsonl.
#   bash tools/realism_ablation.sh DATA.csv.xz HOSTS.csv OUT_DIR [MAX_BATCHES] [EPOCHS]
# Environment: SEEDS (default 1,2,3), STEPS (the rows to run, default all, e.g. "7-flags-tos
# 8-popular-peers"), TRAIN_FLAGS (added to every training, e.g. "--threads 1"), BUNDLED, INITS
# (training seeds, default 1: with "1,2" each row is also trained from another initialisation,
# on the same held-back hosts, as ROW-i2; one training proves as little as one seed).
set -euo pipefail
data=$1 hosts=$2 out=$3 batches=${4:-1200} epochs=${5:-1}
seeds=${SEEDS:-1,2,3}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
stan=${STAN_BIN:-$root/build/bin/stan}
export STAN_BIN=$stan
mkdir -p "$out"
inits=${INITS:-1}
[[ $inits =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "INITS must be like 1,2" >&2; exit 2; }
common=(--data "$data" --owner-hosts "@$hosts" --val-fraction 0.2 --split-seed 1 --epochs "$epochs"
  --quiet)
[[ $batches -gt 0 ]] && common+=(--max-batches "$batches")
# shellcheck disable=SC2206
common+=(${TRAIN_FLAGS:-})
# The peer choice before today's default (rows 5-11 keep it, so that each row adds one change).
old_peers="--peer-order recency --peer-cache 8 --popular-peers 0"
declare -A steps=(
  [1-faithful]="--encoding faithful"
  [2-zero]="--no-censor --no-profiles --peer-cache 0 --popular-peers 0 --no-bytes-per-packet --no-flags-tos"
  [3-censor]="--no-profiles --peer-cache 0 --popular-peers 0 --no-bytes-per-packet --no-flags-tos"
  [4-profiles]="--peer-cache 0 --popular-peers 0 --no-bytes-per-packet --no-flags-tos --profile-noise 0"
  [5-peers]="$old_peers --no-bytes-per-packet --no-flags-tos --profile-noise 0"
  [6-rules]="$old_peers --no-flags-tos --profile-noise 0"
  [7-flags-tos]="$old_peers --profile-noise 0"
  [8-popular-peers]="--peer-order recency --peer-cache 8 --popular-peers 1024 --profile-noise 0"
  [9-weight-decay]="$old_peers --weight-decay 1e-3 --profile-noise 0"
  [10-profile-noise]="$old_peers --profile-noise 0.5"
  [11-hidden-64]="$old_peers --hidden 64 --profile-noise 0"
  [12-peer-order-uses]="--peer-order uses --peer-cache 256 --popular-peers 0 --profile-noise 0"
  [13-former-defaults]=""
  [14-peer-lookup-popular]="--peer-lookup popular"
  [15-dropout-0.2]="--dropout 0.2"
  [16-dropout-0.4]="--dropout 0.4"
  [17-peer-match-service]="--peer-match service"
  [18-peer-match-service-popular-first]="--peer-match service --peer-lookup popular"
  [19-peer-memory]="--peer-match service --peer-memory"
  [20-peer-order-last-then-uses]="--peer-match service --peer-order last-then-uses"
  [21-other-service-0]="--peer-match service"
  [22-peer-memory-last-then-uses]="--peer-match service --peer-order last-then-uses --peer-memory"
  [23-former-defaults-ema]=""
  [24-service-average]="--peer-match service"
  [25-defaults-two-services]=""
  [26-port-features]="--port-features 16"
  [27-port-octet-features]="--port-features 16 --octet-features 16"
  [28-peer-counts]="--peer-counts"
  [29-peer-repeats]="--peer-repeats"
  [30-peer-tos]="--peer-tos"
  [31-peer-tos-octets]="--peer-tos --peer-octets --octet-features 32"
  [32-profile-services]="--profile-services 12"
  [33-profile-services-hosts]="--profile-services 12 --profile-components 1024"
  [34-profile-hosts]="--profile-components 1024"
  [35-activity-noise-0]="--activity-noise 0"
  [36-peer-temperature-0.85]=""
  [37-popular-peers-4096]="--popular-peers 4096"
  [38-service-memory-64]="--service-memory 64"
  [39-service-memory-not-rate]="--service-memory 64 --no-memory-rate"
  [40-service-memory-noise-0.2]="--service-memory 64 --no-memory-rate --memory-noise 0.2"
  [41-profile-hosts-services-noise-0]="--profile-services 12 --profile-components 1024 --profile-noise 0"
  [42-profile-hosts-service-noise-0]="--profile-services 12 --profile-components 1024 --service-noise 0"
  [43-profile-hosts-services-memory]="--profile-services 12 --profile-components 1024 --service-memory 64 --no-memory-rate"
  [44-profile-hosts-services-activity-noise-0]="--profile-services 12 --profile-components 1024 --activity-noise 0"
  [45-defaults-sweeps]=""
  [46-sweeps-activity-noise-0]="--activity-noise 0"
  [47-sweeps-activity-noise-0.25]="--activity-noise 0.25"
  [48-probes]="--probe-reach 0.25"
  [49-probes-activity-noise-0.25]=""
  [50-defaults-sweep-answers]=""
  [51-sweep-reach-0.05-probe-reach-0.1]="--sweep-reach 0.05 --probe-reach 0.1"
  [52-heavy-remotes-0.03]="--heavy-reach 0.03"
  [53-heavy-remotes-0.05]="--heavy-reach 0.05"
  [54-diurnal-warp]="--diurnal-warp"
  [55-peer-shares]="--peer-shares"
  [56-hour-rates]=""
  [57-popular-by-flows]="--popular-rank flows"
  [58-popular-by-flows-lookup-popular]="--popular-rank flows --peer-lookup popular"
  [59-peer-anchor]="--peer-anchor"
  [60-peer-anchor-other-service-0]="--peer-anchor"
  [61-peer-shares-uses]="--peer-shares --peer-uses"
  [62-other-service-0-peer-temperature-0.85]=""
  [63-popular-by-flows-known]="--popular-rank flows --peer-lookup popular-known"
  [64-popular-by-flows-own]="--popular-rank flows --peer-lookup popular-own"
  [65-popular-by-flows-own-256]="--popular-rank flows --peer-lookup popular-own --popular-peers 256"
  [66-popular-own-256-shape-temperature-0.6]=""
  [67-shape-temperature-0.8]=""
  [68-defaults-popular-own-shape-temperature]=""
  [69-port-temperature-0.8]=""
  [70-port-temperature-0.7]=""
  [71-defaults-port-temperature]=""
  [72-pair-spread-2]=""
  [73-pair-draws-0.7]=""
  [74-pair-draws-0.7-pair-spread-2]=""
  [75-peer-last]="--peer-last"
  [76-profile-services-12]="--profile-services 12"
  [77-profile-services-12-hosts]="--profile-services 12 --profile-components 1024"
  [78-window-10]="--window 10"
  [79-profile-noise-0.3]="--profile-noise 0.3"
  [80-profile-noise-0.7]="--profile-noise 0.7"
  [81-profile-services-6]="--profile-services 6"
  [82-profile-services-6-calibrate-hours]="--profile-services 6 --calibrate-hours 81"
  [83-activity-noise-0.125-calibrate-hours]="--calibrate-hours 81 --activity-noise 0.125"
  [84-pair-draws-0.7-calibrated]="--profile-services 6 --calibrate-hours 81"
  [85-service-noise-0.25-calibrate-hours]="--calibrate-hours 81 --service-noise 0.25"
  [86-profile-components-32-calibrate-hours]="--calibrate-hours 81 --profile-components 32"
  [87-pair-draws-0.7-pair-spread-2-calibrated]="--profile-services 6 --calibrate-hours 81"
  [88-new-peer-weight-0.5-calibrated]="--profile-services 6 --calibrate-hours 81"
  [89-temperature-1.1-new-peer-weight-0.5-calibrated]="--calibrate-hours 81"
  [90-pace-1]="--calibrate-hours 81"
  [91-octet-temperature-1.3]="--calibrate-hours 81"
  [92-heavy-reach-0.03]="--calibrate-hours 81 --heavy-reach 0.03"
  [93-pair-spread-2-octet-temperature-1.6]="--calibrate-hours 81"
  [94-conversations-500]="--calibrate-hours 81 --conversations 500"
)
# Rows 1-23 as measured then: without the moving average of the weights, and with the peer
# choice's defaults of then where they name none (the cache by uses, any service, no memory).
for k in "${!steps[@]}"; do
  n=${k%%-*}
  if [[ $n -le 22 ]]; then steps[$k]+=" --ema 0"; fi
  [[ $n -ge 2 && $n -le 23 ]] || continue
  [[ ${steps[$k]} == *--peer-order* ]] || steps[$k]+=" --peer-order uses"
  [[ ${steps[$k]} == *--peer-match* ]] || steps[$k]+=" --peer-match any"
  [[ ${steps[$k]} == *--peer-memory* ]] || steps[$k]+=" --no-peer-memory"
done
# Rows 1-44 as measured then: without sweeps where they name none; rows 1-48 likewise for today's
# probe and activity-noise defaults, and rows 1-49 without the answers.
for k in "${!steps[@]}"; do
  n=${k%%-*}
  if [[ $n -le 44 && ${steps[$k]} != *--sweep-reach* ]]; then steps[$k]+=" --sweep-reach 0"; fi
  # Without probes, and with the profile noise's activity noise (today: half of it) as then.
  if [[ $n -le 47 && ${steps[$k]} != *--probe-reach* ]]; then steps[$k]+=" --probe-reach 0"; fi
  if [[ $n -le 49 ]]; then steps[$k]+=" --no-sweep-answers"; fi
  if [[ ($n -le 46 || $n == 48) && ${steps[$k]} != *--activity-noise* &&
    ${steps[$k]} != *"--profile-noise 0 "* && ${steps[$k]} != *"--profile-noise 0" ]]; then
    steps[$k]+=" --activity-noise 0.5"
  fi
done
# Rows 1-67 with the popular remotes and shape temperature of then where they name none.
for k in "${!steps[@]}"; do
  [[ ${k%%-*} -le 67 && ${steps[$k]} != *"--encoding faithful"* ]] || continue
  [[ ${steps[$k]} == *--popular-peers* ]] || steps[$k]+=" --popular-peers 1024"
  [[ ${steps[$k]} == *--popular-rank* ]] || steps[$k]+=" --popular-rank hosts"
  [[ ${steps[$k]} == *--peer-lookup* ]] || steps[$k]+=" --peer-lookup cache"
  steps[$k]+=" --shape-temperature 1"
done
# up_to N FLAGS...: rows 1-N but the faithful encoding's train with FLAGS too (a default of then).
up_to() {
  local last=$1 k
  shift
  for k in "${!steps[@]}"; do
    [[ ${k%%-*} -le $last && ${steps[$k]} != *"--encoding faithful"* ]] || continue
    steps[$k]+=" $*"
  done
}
# Rows 1-68 with the port temperature of then.
up_to 68 --port-temperature 1
# Rows 1-80 without the services in the profile (--profile-services 6 is the default since row
# 81) where they name none.
for k in "${!steps[@]}"; do
  [[ ${k%%-*} -le 80 && ${steps[$k]} != *"--encoding faithful"* ]] || continue
  [[ ${steps[$k]} == *--profile-services* || ${steps[$k]} == *--no-profiles* ]] ||
    steps[$k]+=" --profile-services 0"
done
# Rows 1-88 generating as they were measured: the model as trained (--temperature 1.1 and
# --new-peer-weight 0.5 are recorded by default since row 89).
up_to 88 --temperature 1 --new-peer-weight 1
# Rows that generate with another row's model and these `stan generate` flags.
declare -A same_model=([21-other-service-0]=17-peer-match-service
  [36-peer-temperature-0.85]=25-defaults-two-services [56-hour-rates]=50-defaults-sweep-answers
  [60-peer-anchor-other-service-0]=59-peer-anchor
  [62-other-service-0-peer-temperature-0.85]=50-defaults-sweep-answers
  [66-popular-own-256-shape-temperature-0.6]=65-popular-by-flows-own-256
  [67-shape-temperature-0.8]=50-defaults-sweep-answers
  [69-port-temperature-0.8]=68-defaults-popular-own-shape-temperature
  [70-port-temperature-0.7]=68-defaults-popular-own-shape-temperature
  [72-pair-spread-2]=71-defaults-port-temperature
  [73-pair-draws-0.7]=71-defaults-port-temperature
  [74-pair-draws-0.7-pair-spread-2]=71-defaults-port-temperature
  [84-pair-draws-0.7-calibrated]=82-profile-services-6-calibrate-hours
  [87-pair-draws-0.7-pair-spread-2-calibrated]=82-profile-services-6-calibrate-hours
  [88-new-peer-weight-0.5-calibrated]=82-profile-services-6-calibrate-hours
  [90-pace-1]=89-temperature-1.1-new-peer-weight-0.5-calibrated
  [91-octet-temperature-1.3]=89-temperature-1.1-new-peer-weight-0.5-calibrated
  [93-pair-spread-2-octet-temperature-1.6]=89-temperature-1.1-new-peer-weight-0.5-calibrated)
declare -A generate_flags=([21-other-service-0]="--other-service-peers 0"
  [60-peer-anchor-other-service-0]="--other-service-peers 0"
  [62-other-service-0-peer-temperature-0.85]="--other-service-peers 0 --peer-temperature 0.85"
  [36-peer-temperature-0.85]="--peer-temperature 0.85"
  [66-popular-own-256-shape-temperature-0.6]="--shape-temperature 0.6"
  [67-shape-temperature-0.8]="--shape-temperature 0.8"
  [69-port-temperature-0.8]="--port-temperature 0.8"
  [70-port-temperature-0.7]="--port-temperature 0.7"
  [72-pair-spread-2]="--pair-spread 2"
  [73-pair-draws-0.7]="--pair-draws 0.7"
  [74-pair-draws-0.7-pair-spread-2]="--pair-draws 0.7 --pair-spread 2"
  [84-pair-draws-0.7-calibrated]="--pair-draws 0.7"
  [87-pair-draws-0.7-pair-spread-2-calibrated]="--pair-draws 0.7 --pair-spread 2"
  [88-new-peer-weight-0.5-calibrated]="--new-peer-weight 0.5"
  [90-pace-1]="--pace 1"
  [91-octet-temperature-1.3]="--octet-temperature 1.3"
  [93-pair-spread-2-octet-temperature-1.6]="--pair-spread 2 --octet-temperature 1.6")
# Rows 1-93 train without heavy conversations, as measured then (before them).
for k in "${!steps[@]}"; do
  if [[ ${k%%-*} -le 93 ]]; then steps[$k]="${steps[$k]} --conversations 0"; fi
done
# Rows 1-55 generate on the wall clock, as measured then (before the hour rates).
for k in "${!steps[@]}"; do
  if [[ ${k%%-*} -le 55 ]]; then generate_flags[$k]="${generate_flags[$k]:-} --no-hour-rates"; fi
done
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
run_steps=${STEPS:-$(printf '%s\n' "${!steps[@]}" | sort -V)}
for name in $run_steps; do
  [[ -v "steps[$name]" ]] || { echo "unknown step '$name' (known: ${!steps[*]})" >&2; exit 2; }
  for init in ${inits//,/ }; do
    tag=$name
    [[ $init == 1 ]] || tag=$name-i$init
    trained=${same_model[$name]:-$name}
    [[ $init == 1 ]] || trained=$trained-i$init
    model=$out/$trained.safetensors
    if [[ ! -f $model ]]; then
      echo "== $trained: train"
      # shellcheck disable=SC2086
      "$stan" train "${common[@]}" --seed "$init" ${steps[$name]} --out "$model" \
        > "$out/$trained.train.log" 2>&1
    fi
    if [[ ! -f $out/val_hosts.txt ]]; then
      python3 -c "import json,sys; print('\n'.join(json.load(sys.stdin)['info']['val_host_ips']))" \
        < <("$stan" info --model "$model" --json) > "$out/val_hosts.txt"
      grep -v -x -F -f "$out/val_hosts.txt" <(tail -n +2 "$hosts" | cut -d, -f1) > "$out/train_hosts.txt"
      split "$data" "$out/val_hosts.txt" "$out/real_val.csv"
      split "$data" "$out/train_hosts.txt" "$out/real_train.csv"
    fi
    echo "== $tag: generate + eval at seeds $seeds"
    GENERATE_FLAGS=${generate_flags[$name]:-} bash "$root/tools/eval_seeds.sh" "$model" \
      "$out/real_val.csv" "$out/val_hosts.txt" "$out" "$tag" "$seeds" -- --train "$out/real_train.csv"
  done
done
if [[ -n ${BUNDLED:-} ]]; then
  echo "== bundled model $BUNDLED"
  bash "$root/tools/eval_seeds.sh" "$BUNDLED" "$out/real_val.csv" "$out/val_hosts.txt" "$out" \
    bundled "$seeds" -- --train "$out/real_train.csv"
fi
echo "== floor (real held-back vs real training hosts) and baseline"
bash "$root/tools/eval_seeds.sh" "real:$out/real_train.csv:$out/train_hosts.txt" \
  "$out/real_val.csv" "$out/val_hosts.txt" "$out" floor "$seeds"
"$stan" baseline --real "$out/real_train.csv" --owner-hosts "$out/train_hosts.txt" \
  --hosts "$(wc -l < "$out/val_hosts.txt")" --duration 24h --seed 1 --out "$out/baseline.csv" > /dev/null
bash "$root/tools/eval_seeds.sh" "real:$out/baseline.csv:$out/train_hosts.txt" \
  "$out/real_val.csv" "$out/val_hosts.txt" "$out" baseline 1 -- --train "$out/real_train.csv"
echo "done: $out/summary.jsonl (python3 tools/eval_summary.py --table $out/summary.jsonl)"
