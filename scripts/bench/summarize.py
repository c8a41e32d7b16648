#!/usr/bin/env python3
"""Turns results files (one JSON object per wrk run, from lib.sh `bench_run`) into a markdown table.

Usage: summarize.py RESULTS.jsonl [MORE.jsonl ...] [--compare NAME:BASELINE:GOAL ...] [--label NAME=TEXT ...]

Several files pool their rounds (runs of the same script on the same binary). Besides the ratio
of medians, "paired" is the median over rounds of this endpoint's requests/s divided by its
baseline's in the same round: endpoints run one after another inside a round, so a slow phase of
a shared machine hits both sides of a pair, while the ratio of medians can pair a fast phase
with a slow one.

Prints the table on stdout; exits 0 (a missed goal is reported in the table, not as a failure,
so that partial results still get written).
"""

import argparse
import json
import statistics
import sys


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("results", nargs="+")
    ap.add_argument("--compare", action="append", default=[], help="NAME:BASELINE:GOAL")
    ap.add_argument("--label", action="append", default=[], help="NAME=description")
    args = ap.parse_args()

    runs = {}
    order = []
    for i, path in enumerate(args.results):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                r = json.loads(line)
                r["file"] = i
                if r["name"] not in runs:
                    order.append(r["name"])
                    runs[r["name"]] = []
                runs[r["name"]].append(r)

    labels = dict(x.split("=", 1) for x in args.label)
    goals = {}
    for c in args.compare:
        name, base, goal = c.split(":")
        goals[name] = (base, float(goal))

    def med(name, key):
        return statistics.median(r[key] for r in runs[name])

    def paired(name, base):
        """Median of per-round ratios; None when no round has both endpoints."""
        by_round = {(r["file"], r.get("round")): r["rps"] for r in runs[base]}
        ratios = [
            r["rps"] / by_round[(r["file"], r.get("round"))]
            for r in runs[name]
            if by_round.get((r["file"], r.get("round")))
        ]
        return statistics.median(ratios) if ratios else None

    out = sys.stdout
    out.write(
        "| endpoint | conns | rps per round | median rps | p50 | p99 | non-2xx | ratio | paired | CPU/req | CPU ratio | goal |\n"
    )
    out.write("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
    for name in order:
        rs = runs[name]
        per_round = ", ".join(f"{r['rps'] / 1000:.1f}k" for r in rs)
        rps = med(name, "rps")
        non2xx = sum(r["non2xx"] for r in rs)
        errs = sum(r["connect_err"] + r["read_err"] + r["write_err"] + r["timeouts"] for r in rs)
        err_txt = f"{non2xx}" + (f" (+{errs} socket errors)" if errs else "")
        ratio = ""
        paired_txt = ""
        goal = ""
        cpu = med(name, "cpu_us_per_req") if all("cpu_us_per_req" in r for r in rs) else 0
        cpu_txt = f"{cpu:.1f} µs" if cpu else ""
        cpu_ratio = ""
        if name in goals and goals[name][0] in runs:
            base, g = goals[name]
            ratio_v = rps / med(base, "rps")
            ratio = f"**{ratio_v:.3f}x** {base}"
            verdicts = [f"rps {'met' if ratio_v >= g else 'MISSED'}"]
            p = paired(name, base)
            if p is not None:
                paired_txt = f"**{p:.3f}x**"
                verdicts.append(f"paired {'met' if p >= g else 'MISSED'}")
            base_cpu = med(base, "cpu_us_per_req") if all("cpu_us_per_req" in r for r in runs[base]) else 0
            if cpu and base_cpu:
                cr = base_cpu / cpu
                cpu_ratio = f"**{cr:.3f}x**"
                verdicts.append(f"CPU {'met' if cr >= g else 'MISSED'}")
            if non2xx or errs:
                # Errors answer faster than real work: such a run says nothing about the goal.
                verdicts = ["INVALID: the endpoint answered non-2xx or failed"]
            goal = f"≥ {g}x: " + ", ".join(verdicts)
        label = labels.get(name, name)
        out.write(
            f"| {label} | {rs[0]['conns']} | {per_round} | {rps:,.0f} | {fmt_us(med(name, 'p50_us'))} "
            f"| {fmt_us(med(name, 'p99_us'))} | {err_txt} | {ratio} | {paired_txt} | {cpu_txt} | {cpu_ratio} | {goal} |\n"
        )
    return 0


def fmt_us(us: float) -> str:
    if us >= 1000:
        return f"{us / 1000:.2f} ms"
    return f"{us:.0f} µs"


if __name__ == "__main__":
    sys.exit(main())
