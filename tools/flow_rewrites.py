#!/usr/bin/env python3
"""Rewrites of a generated day of flows, to ask what a change to the model would buy before
building it (README, "What a heavy conversation needs"). Each reads a flow CSV (stan generate's
columns), the hosts whose flows it rewrites, and writes a new CSV; `stan eval` then scores it as
it scores any synthetic side (tools/eval_seeds.sh reuses a CSV that is already there).

  ports          a (host, remote) pair's ephemeral remote ports (remote port >= 1024) run on:
                 each after the pair's first keeps the pair's last port with probability --same,
                 or moves up by 1..--step with probability --up, else keeps its own
  shapes         a flow takes the duration, flags, ToS, packets and bytes of its pair's last flow
                 of the same service and direction, with probability --copy
  conversations  a host with --busy flows or more gets, with probability --share, one heavy
                 conversation in place of as many of its own flows (at most 70% of them): the
                 service and length of one of the training hosts' pairs of --min-flows flows or
                 more (--train, --train-hosts), its flows at the replaced flows' times with one
                 new remote; --templates K draws them from K flows of that service picked once
                 from the generated day (0: a new pick per flow), --vary ports|shapes redraws
                 that part per flow; --copy-real copies the training pair's own flows instead
                 (times too) to a remote in its first octet, or with --templates K, K of them
                 drawn once, at the replaced flows' times

The random draws depend on --seed only, so a rewrite is reproducible. No model is read.
"""
import argparse
import csv
import os
import random
import sys
from collections import Counter, defaultdict

TE, TD, SA, DA, SP, DP, PR, FLG, FWD, STOS, PKT, BYT = range(12)


def port_class(p):
    return p if p < 1024 else 1024 + (p - 1024) // 100


def read_hosts(path):
    return {line.strip() for line in open(path) if line.strip()}


def read_rows(path):
    with open(path, newline='') as f:
        r = csv.reader(f)
        return next(r), list(r)


def write_rows(path, header, rows):
    tmp = path + '.tmp'
    with open(tmp, 'w', newline='') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(header)
        w.writerows(rows)
    os.replace(tmp, path)


def side(row, hosts):
    """(host, remote, host sent it) of a row one of `hosts` owns, else None."""
    if row[SA] in hosts:
        return row[SA], row[DA], True
    if row[DA] in hosts:
        return row[DA], row[SA], False
    return None


def ports(args, hosts, header, rows):
    rng = random.Random(args.seed * 7919 + 13)
    last = {}
    for row in rows:
        s = side(row, hosts)
        if s is None:
            continue
        idx = DP if s[2] else SP
        rp = int(row[idx])
        if rp < 1024:
            continue
        prev = last.get(s[:2])
        if prev is not None:
            u = rng.random()
            if u < args.same:
                rp = prev
            elif u < args.same + args.up:
                rp = prev + rng.randint(1, args.step)
                if rp > 65535:
                    rp = 1024 + (rp - 65536)
        row[idx] = str(rp)
        last[s[:2]] = rp
    return rows


def shapes(args, hosts, header, rows):
    rng = random.Random(args.seed * 104729 + 7)
    last = {}
    for row in rows:
        s = side(row, hosts)
        if s is None:
            continue
        service = min(port_class(int(row[SP])), port_class(int(row[DP])))
        key = (s[0], s[1], row[PR], service, 1 if s[2] else 0)
        prev = last.get(key)
        if prev is not None and rng.random() < args.copy:
            row[TD], row[FLG], row[STOS], row[PKT], row[BYT] = prev
        else:
            last[key] = (row[TD], row[FLG], row[STOS], row[PKT], row[BYT])
    return rows


def service_key(pr, local, remote):
    low = min(local, remote)
    return (pr, low if low < 1024 else 'hi', local <= remote)


def training_pairs(args):
    train_hosts = read_hosts(args.train_hosts)
    pairs = defaultdict(list)
    with open(args.train, newline='') as f:
        r = csv.reader(f)
        next(r)
        for t in r:
            if t[SA] in train_hosts:
                pairs[(t[SA], t[DA])].append(t)
            elif t[DA] in train_hosts:
                pairs[(t[DA], t[SA])].append(t)
    return [(k, v) for k, v in pairs.items() if len(v) >= args.min_flows]


def conversations(args, hosts, header, rows):
    if not args.train or not args.train_hosts:
        sys.exit('flow_rewrites: conversations needs --train and --train-hosts')
    pairs = training_pairs(args)
    if not pairs:
        sys.exit(f'flow_rewrites: no training pair has {args.min_flows} flows or more')
    rng = random.Random(args.seed * 1000 + 7)
    by_host, pool = defaultdict(list), defaultdict(list)
    for i, row in enumerate(rows):
        s = side(row, hosts)
        if s is None:
            continue
        local, remote = (int(row[SP]), int(row[DP])) if s[2] else (int(row[DP]), int(row[SP]))
        by_host[s[0]].append(i)
        pool[service_key(row[PR], local, remote)].append(i)
    templates = []
    for (host, _), flows in pairs:
        counts = Counter(
            service_key(t[PR], int(t[SP]), int(t[DP])) if t[SA] == host else
            service_key(t[PR], int(t[DP]), int(t[SP])) for t in flows)
        templates.append((counts.most_common(1)[0][0], len(flows)))
    drop, add = set(), []
    for host in sorted(by_host):
        idx = by_host[host]
        if len(idx) < args.busy or rng.random() >= args.share:
            continue
        if args.copy_real:
            (train_host, remote), flows = rng.choice(pairs)
            n = min(len(flows), int(0.7 * len(idx)))
            octet = remote.split('.')[0]
        else:
            key, n = rng.choice(templates)
            if not pool.get(key):
                continue
            n = min(n, int(0.7 * len(idx)))
            first = rows[rng.choice(pool[key])]
            octet = (first[DA] if first[SA] in hosts else first[SA]).split('.')[0]
        new = '%s.%d.%d.%d' % (octet, rng.randrange(256), rng.randrange(256), rng.randrange(1, 255))
        if args.copy_real and args.templates:
            picks = [rng.choice(flows) for _ in range(args.templates)]
            for i in rng.sample(idx, n):
                drop.add(i)
                t = rng.choice(picks)
                u = list(t)
                u[TE] = rows[i][TE]
                u[SA] = host if t[SA] == train_host else new
                u[DA] = host if t[DA] == train_host else new
                add.append(u)
            continue
        if args.copy_real:
            for i in rng.sample(idx, n):
                drop.add(i)
            for t in flows[:n]:
                u = list(t)
                u[SA] = host if t[SA] == train_host else new
                u[DA] = host if t[DA] == train_host else new
                add.append(u)
            continue
        picks = [rng.choice(pool[key]) for _ in range(args.templates)] or pool[key]
        for i in rng.sample(idx, n):
            drop.add(i)
            t = rows[rng.choice(picks)]
            u = list(t)
            u[TE] = rows[i][TE]
            if args.vary:
                q = rows[rng.choice(pool[key])]
                if args.vary == 'ports':
                    same_way = (q[SA] in hosts) == (t[SA] in hosts)
                    u[SP], u[DP] = (q[SP], q[DP]) if same_way else (q[DP], q[SP])
                else:
                    u[TD], u[FLG], u[STOS], u[PKT], u[BYT] = q[TD], q[FLG], q[STOS], q[PKT], q[BYT]
            if t[SA] in hosts:
                u[SA], u[DA] = host, new
            else:
                u[DA], u[SA] = host, new
            add.append(u)
    out = [row for i, row in enumerate(rows) if i not in drop] + add
    out.sort(key=lambda row: row[TE])
    print(f'flow_rewrites: {len(add)} flows of conversations in place of as many', file=sys.stderr)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('mode', choices=['ports', 'shapes', 'conversations'])
    p.add_argument('input', help='generated flows (CSV)')
    p.add_argument('hosts', help="the hosts whose flows are rewritten, one address a line")
    p.add_argument('output')
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--same', type=float, default=0.45)
    p.add_argument('--up', type=float, default=0.25)
    p.add_argument('--step', type=int, default=20)
    p.add_argument('--copy', type=float, default=0.6)
    p.add_argument('--train', help='training flows (CSV)')
    p.add_argument('--train-hosts')
    p.add_argument('--min-flows', type=int, default=500)
    p.add_argument('--busy', type=int, default=1000)
    p.add_argument('--share', type=float, default=0.6)
    p.add_argument('--templates', type=int, default=0)
    p.add_argument('--vary', choices=['ports', 'shapes'])
    p.add_argument('--copy-real', action='store_true')
    args = p.parse_args()
    for name in ('same', 'up', 'copy', 'share'):
        if not 0 <= getattr(args, name) <= 1:
            p.error(f'--{name} must lie in 0..1')
    if args.same + args.up > 1:
        p.error('--same plus --up must be at most 1')
    if args.step < 1 or args.min_flows < 1 or args.busy < 1 or args.templates < 0:
        p.error('--step, --min-flows and --busy must be 1 or more, --templates 0 or more')
    hosts = read_hosts(args.hosts)
    header, rows = read_rows(args.input)
    if header[:12] != ['te', 'td', 'sa', 'da', 'sp', 'dp', 'pr', 'flg', 'fwd', 'stos', 'pkt', 'byt']:
        sys.exit(f'flow_rewrites: {args.input}: line 1: expected the columns te,td,sa,da,sp,dp,'
                 'pr,flg,fwd,stos,pkt,byt first')
    rewrite = {'ports': ports, 'shapes': shapes, 'conversations': conversations}[args.mode]
    write_rows(args.output, header, rewrite(args, hosts, header, rows))


if __name__ == '__main__':
    main()
