#!/usr/bin/env python3
"""Self cost per function from callgrind dumps (scripts/bench/profile.sh), and differences.

  cgdiff.py self  DUMP N [TOP]          self instructions per request (N requests in the dump)
  cgdiff.py diff  BASE DUMP N [TOP]     per-request self-cost increase of DUMP over BASE
  cgdiff.py calls DUMP N FUNCTION...    calls per request to FUNCTION, by caller

callgrind_annotate 3.19 attributes inlined frames oddly for Rust binaries; this reads the
`fn=`/`calls=` records directly (a cost line right after `calls=` is the callee's inclusive cost
and is not self cost).
"""

import collections
import re
import sys

FN = re.compile(r"(c?fn)=\((\d+)\)(?: (.*))?")


def parse(path):
    names, self_cost, calls = {}, collections.Counter(), collections.Counter()
    fn = cfn = None
    after_call = False
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = FN.match(line)
            if m:
                kind, ident, name = m.groups()
                if name:
                    names[ident] = name
                if kind == "fn":
                    fn = names.get(ident, ident)
                else:
                    cfn = names.get(ident, ident)
                continue
            if line.startswith("calls="):
                calls[(fn, cfn)] += int(line[6:].split()[0])
                after_call = True
                continue
            if line and (line[0].isdigit() or line[0] in "+-*"):
                if after_call:
                    after_call = False
                    continue
                parts = line.split()
                if len(parts) >= 2 and fn:
                    self_cost[fn] += int(parts[1])
    return self_cost, calls


def main():
    cmd = sys.argv[1]
    if cmd == "self":
        s, _ = parse(sys.argv[2])
        n, top = int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 30
        total = sum(s.values())
        print(f"total {total // n} instructions per request")
        for f, c in s.most_common(top):
            print(f"{c // n:8d} {100 * c / total:5.1f}%  {f[:160]}")
    elif cmd == "diff":
        a, _ = parse(sys.argv[2])
        b, _ = parse(sys.argv[3])
        n, top = int(sys.argv[4]), int(sys.argv[5]) if len(sys.argv) > 5 else 30
        print(f"delta {(sum(b.values()) - sum(a.values())) / n:.0f} instructions per request")
        d = sorted(((b[k] - a[k]) / n, k) for k in set(a) | set(b))
        for v, k in reversed(d[-top:]):
            print(f"{v:8.0f}  {k[:160]}")
    elif cmd == "calls":
        _, c = parse(sys.argv[2])
        n = int(sys.argv[3])
        for target in sys.argv[4:]:
            by = collections.Counter({f: v for (f, t), v in c.items() if t == target})
            print(f"{target}: {sum(by.values()) / n:.2f} calls per request")
            for f, v in by.most_common(20):
                print(f"   {v / n:6.2f}  {f[:150]}")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
