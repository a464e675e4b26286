#!/usr/bin/python3
"""Checks the agents' audit logs (<agent state>/audit.jsonl, pkg/agent/audit.h) of one test.

Usage: audit_check.py HOST=PATH [HOST=PATH ...]

Every host of the multi-host stack shares the machine's CLOCK_MONOTONIC, so the lines of all
agents can be put in one order. The invariants (a line per violation, exit 1 when any):

  stale act       no irreversible act (an allowed commit point) ran under an epoch lower than
                  one its agent had already accepted from a request;
  epochs go back  on one agent, the epochs of allowed commit points never decrease;
  twice           no operation id ended twice (ran twice), on any agent.

Prints one summary line with the counts the closing figures need: requests, commit points,
refusals by code (STALE_EPOCH above all), operations.
"""
import collections
import json
import sys


def read(host, path):
    lines = []
    for n, raw in enumerate(open(path, encoding="utf-8"), 1):
        raw = raw.strip()
        if not raw:
            continue
        try:
            line = json.loads(raw)
        except ValueError as e:
            sys.exit(f"audit_check: {path}:{n}: not JSON: {e}")
        line["_host"] = host
        line["_where"] = f"{host}:{n}"
        lines.append(line)
    return lines


def rev(line):
    return int(line["epoch"]["rev"])


def main(args):
    if not args:
        sys.exit(__doc__)
    violations = []
    counts = collections.Counter()
    ends = collections.defaultdict(list)
    for arg in args:
        host, _, path = arg.partition("=")
        lines = sorted(read(host, path), key=lambda l: int(l["t"]))
        accepted = 0  # the highest rev this agent accepted from a request so far
        last_act = 0  # the rev of its last allowed commit point
        for line in lines:
            kind = line["type"]
            if kind == "request":
                counts["requests"] += 1
                if line["decision"] == "OK":
                    accepted = max(accepted, rev(line))
                else:
                    counts["refused " + line["decision"]] += 1
            elif kind == "commit":
                counts["commit points"] += 1
                if not line["allowed"]:
                    counts["acts refused"] += 1
                    continue
                if rev(line) < accepted:
                    violations.append(
                        f"stale act: {line['_where']}: {line['act']} of {line['op_id']} under "
                        f"rev {rev(line)} after rev {accepted} was accepted")
                if rev(line) < last_act:
                    violations.append(
                        f"epochs go back: {line['_where']}: {line['act']} of {line['op_id']} "
                        f"under rev {rev(line)} after an act under rev {last_act}")
                last_act = max(last_act, rev(line))
            elif kind == "op_end":
                counts["operations"] += 1
                ends[line["op_id"]].append(line["_where"])
    for op_id, where in ends.items():
        if len(where) > 1:
            violations.append(f"twice: operation {op_id} ended {len(where)} times: {', '.join(where)}")
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    print(f"audit: {summary}; stale acts and repeats: {len(violations)}")
    for v in violations:
        print("  " + v)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
