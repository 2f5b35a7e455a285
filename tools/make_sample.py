#!/usr/bin/env python3
"""Cuts the bundled data sample (stan/assets/sample/) out of the UGR'16 one-day extract.

Picks owner hosts stratified by category and size, then keeps every flow touching them
(sa or da is a picked host), byte for byte and in file order (the source is sorted by te).

Selection, per category: sort the category's hosts by n_flows descending (ties by address),
cut the list into k strata of equal length and take the host in the middle of each stratum.
So every size band is represented, including a few of the busiest hosts.

  python3 tools/make_sample.py \\
      --src ugr16-apr11-dev/flows.csv.xz \\
      --hosts ugr16-apr11-dev/hosts.csv \\
      --out stan/assets/sample --take both=22,in-only=16,out-only=3

Writes OUT/flows.csv.xz (xz preset 9), OUT/hosts.csv (the picked rows of hosts.csv) and prints
row count, host count and sha256. Python 3 standard library only; deterministic.
"""
import argparse
import csv
import hashlib
import lzma
import os
import sys


def pick(hosts, take):
    by_cat = {}
    for h in hosts:
        by_cat.setdefault(h["category"], []).append(h)
    chosen = []
    for cat, k in take.items():
        group = by_cat.get(cat, [])
        if k > len(group):
            sys.exit(f"make_sample: category {cat!r} has {len(group)} hosts, asked for {k}")
        group.sort(key=lambda h: (-int(h["n_flows"]), tuple(int(x) for x in h["host_ip"].split("."))))
        n = len(group)
        for i in range(k):
            chosen.append(group[(2 * i + 1) * n // (2 * k)])
    return chosen


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", required=True, help="flows.csv.xz of the full extract")
    ap.add_argument("--hosts", required=True, help="hosts.csv of the full extract")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--take", default="both=22,in-only=16,out-only=3",
                    help="hosts per category, e.g. both=22,in-only=16,out-only=3")
    args = ap.parse_args()
    take = {}
    for item in args.take.split(","):
        cat, _, k = item.partition("=")
        take[cat] = int(k)

    with open(args.hosts, newline="") as f:
        hosts = list(csv.DictReader(f))
    chosen = pick(hosts, take)
    selected = {h["host_ip"] for h in chosen}

    os.makedirs(args.out, exist_ok=True)
    out_flows = os.path.join(args.out, "flows.csv.xz")
    out_hosts = os.path.join(args.out, "hosts.csv")
    rows = 0
    tmp = out_flows + ".tmp"
    with lzma.open(args.src, "rb") as src, lzma.open(tmp, "wb", preset=9) as dst:
        header = src.readline()
        if not header.startswith(b"te,td,sa,da,"):
            sys.exit(f"make_sample: unexpected header {header!r}")
        dst.write(header)
        for line in src:
            parts = line.split(b",", 4)
            if parts[2].decode() in selected or parts[3].decode() in selected:
                dst.write(line)
                rows += 1
    os.replace(tmp, out_flows)

    # The picked hosts' rows of hosts.csv, in the source's order. n_flows there counts the
    # host's own extraction; the sample can hold a few more rows touching a host (for 3 of the
    # out-only hosts, 1 incoming flow each that came from another host's extraction).
    with open(out_hosts, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(hosts[0].keys()), lineterminator="\n")
        w.writeheader()
        for h in hosts:
            if h["host_ip"] in selected:
                w.writerow(h)

    with open(out_flows, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    per_cat = {}
    for h in chosen:
        per_cat[h["category"]] = per_cat.get(h["category"], 0) + 1
    print(f"hosts {len(selected)} {per_cat}")
    print(f"rows {rows}")
    print(f"bytes {os.path.getsize(out_flows)}")
    print(f"sha256 {digest}")


if __name__ == "__main__":
    main()
