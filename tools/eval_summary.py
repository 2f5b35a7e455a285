#!/usr/bin/env python3
"""Mean and spread over seeds of the realism metrics in `stan eval --json` files.

    python3 tools/eval_summary.py NAME A.json B.json C.json [--side synthetic|baseline]
    python3 tools/eval_summary.py --table SUMMARY.jsonl [--names a,b,c] [--metrics m1,m2]

Prints one line per metric (mean, sample standard deviation, min, max over the files) and, with
--jsonl FILE, appends one JSON object {"name", "n", "metrics": {metric: {mean, sd, min, max}}}.
--table prints a Markdown table of summary lines (metric rows, one column per name, mean ± sd;
the last line of a name wins). The metrics are the distances to the real side (lower is better) that the realism issue tracks,
plus the remote-IP power-law slope and its distance to the real slope.
"""
import argparse
import json
import math
import sys

FIELDS = {  # metric -> field of `stan eval` (by name) or a key of distance_to_real
    "js_local_port": ("field", "local_port_class"),
    "js_remote_port": ("field", "remote_port_class"),
    "js_remote_octet1": ("field", "remote_ip_octet1"),
    "js_hour": ("field", "hour"),
    "js_mean": ("key", "js_mean"),
    "w1_bytes": ("field", "bytes"),
    "w1_packets": ("field", "packets"),
    "w1_duration": ("field", "duration"),
    "w1_interarrival": ("field", "interarrival"),
    "w1_bytes_per_packet": ("field", "bytes_per_packet"),
    "w1_mean": ("key", "w1_mean"),
    "nmi_mad": ("key", "nmi_mad"),
    "flows_per_host_w1": ("key", "flows_per_host_w1"),
    "remotes_per_host_w1": ("key", "remotes_per_host_w1"),
    "host_role_js": ("key", "host_role_js"),
    "host_service_js": ("key", "host_service_js"),
}


def metrics_of(path, side):
    j = json.load(open(path))
    sides = j["sides"]
    if side not in sides:
        sys.exit(f"{path}: no side '{side}' (sides: {', '.join(sides)})")
    s, real = sides[side], sides["real"]
    d = s["distance_to_real"]
    names = [f["name"] for f in j["fields"]]
    out = {}
    for name, (kind, key) in FIELDS.items():
        if kind == "key" and key not in d:  # written by an older stan eval
            continue
        v = d[key] if kind == "key" else d["fields"][names.index(key)]
        out[name] = float("nan") if v is None else float(v)
    out["power_law_slope"] = s["power_law_slope"]
    out["real_power_law_slope"] = real["power_law_slope"]
    out["power_law_slope_abs_diff"] = abs(s["power_law_slope"] - real["power_law_slope"])
    out["distinct_remotes_per_flow"] = s["distinct_remotes_per_flow"]
    if s.get("return_same_service") is not None and real.get("return_same_service") is not None:
        for k in ("return_same_service", "return_same_ports", "return_same_size"):
            if s.get(k) is None or real.get(k) is None:
                continue
            out[k] = s[k]
            out["real_" + k] = real[k]
    for k in ("repeat_remote_share", "top_remote_share", "top_remote_share_median",
              "top10_remote_share", "top_pairs_share", "service_top_host_share",
              "service_top_pair_share"):
        if s.get(k) is not None and real.get(k) is not None:
            out[k] = s[k]
            out["real_" + k] = real[k]
    out["real_distinct_remotes_per_flow"] = real["distinct_remotes_per_flow"]
    out["rule_violation_rate"] = s["any_rule_rate"]
    out["host_flows"] = s["host_flows"]
    for t in j.get("tstr") or []:
        ratio = t["synthetic_to_real"] if side == "synthetic" else t["baseline_to_real"]
        if ratio is not None:
            out["tstr_" + t["task"].replace(" ", "_")] = ratio
    return out


def stats(vals):
    v = [x for x in vals if x is not None and not math.isnan(x)]
    if not v:
        return {"mean": None, "sd": None, "min": None, "max": None}
    m = sum(v) / len(v)
    sd = math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else 0.0
    return {"mean": m, "sd": sd, "min": min(v), "max": max(v)}


def table(argv):
    ap = argparse.ArgumentParser(prog="eval_summary.py --table")
    ap.add_argument("jsonl")
    ap.add_argument("--names", help="columns, comma-separated (default: every name, file order)")
    ap.add_argument("--metrics", help="rows, comma-separated (default: every metric)")
    a = ap.parse_args(argv)
    rows = {}
    for line in open(a.jsonl):
        if line.strip():
            r = json.loads(line)
            rows[r["name"]] = r
    names = a.names.split(",") if a.names else list(rows)
    for n in names:
        if n not in rows:
            sys.exit(f"{a.jsonl}: no summary named '{n}' (have: {', '.join(rows)})")
    metrics = a.metrics.split(",") if a.metrics else list(rows[names[0]]["metrics"])

    def cell(r, m):
        s = r["metrics"].get(m)
        if not s or s["mean"] is None:
            return "n/a"
        return f"{s['mean']:.3f}" if r["n"] == 1 else f"{s['mean']:.3f} ± {s['sd']:.3f}"

    print("| metric | " + " | ".join(f"{n} (n={rows[n]['n']})" for n in names) + " |")
    print("|---|" + "---|" * len(names))
    for m in metrics:
        print(f"| {m} | " + " | ".join(cell(rows[n], m) for n in names) + " |")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--table":
        return table(sys.argv[2:])
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("files", nargs="+")
    ap.add_argument("--side", default="synthetic")
    ap.add_argument("--jsonl")
    a = ap.parse_args()
    per = [metrics_of(f, a.side) for f in a.files]
    keys = list(per[0].keys())
    summary = {k: stats([p.get(k) for p in per]) for k in keys}
    print(f"{a.name}: {len(per)} run(s)")
    print(f"  {'metric':28s} {'mean':>10s} {'sd':>9s} {'min':>10s} {'max':>10s}")
    for k in keys:
        s = summary[k]
        if s["mean"] is None:
            print(f"  {k:28s} {'n/a':>10s}")
            continue
        print(f"  {k:28s} {s['mean']:10.4f} {s['sd']:9.4f} {s['min']:10.4f} {s['max']:10.4f}")
    if a.jsonl:
        with open(a.jsonl, "a") as f:
            f.write(json.dumps({"name": a.name, "n": len(per), "metrics": summary}) + "\n")


if __name__ == "__main__":
    sys.exit(main())
