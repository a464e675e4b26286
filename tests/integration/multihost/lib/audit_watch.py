#!/usr/bin/python3
"""Waits for one line of an agent's audit log (<agent state>/audit.jsonl, pkg/agent/audit.h).

Usage: audit_watch.py FILE TIMEOUT_S [--type T] [--verb V] [--op SUBSTR] [--state S]
                      [--ready PATH] [--kill PID] [--run CMD ARG...]

Used by the multi-host tests to provoke a fault at a precise point of a flip (an agent killed
right after it received the promote request, a link cut right after the old primary's fence
ended): a shell loop polls every 50 ms, and a step can take less than that. Reads FILE from
its end as it is when the watcher starts (only lines written afterwards count), every 0.5 ms,
until a line has every field given: type (request, commit, op_end), verb, op_id containing
SUBSTR, state. Then, with --kill, sends SIGKILL to PID (as the root namespace numbers it) at
once; with --run, runs CMD (the rest of the arguments) and waits for it: a fault that must
land within a few milliseconds of the line (a shell would first have to wake up). --ready
PATH is created once the watcher reads (so the caller knows it misses nothing).

Prints "<line's t> <CLOCK_MONOTONIC ns when matched> <op_id> <CLOCK_MONOTONIC ns when --run's
command returned>" (the same clock as the audit logs' t: every host shares the machine's
CLOCK_MONOTONIC) and exits 0 (CMD's exit status if it failed); exits 1 on timeout.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time


def matches(line, args):
    if args.type and line.get("type") != args.type:
        return False
    if args.verb and line.get("verb") != args.verb:
        return False
    if args.op and args.op not in line.get("op_id", ""):
        return False
    if args.state and line.get("state") != args.state:
        return False
    return True


def main():
    p = argparse.ArgumentParser()
    p.add_argument("file")
    p.add_argument("timeout", type=float)
    p.add_argument("--type")
    p.add_argument("--verb")
    p.add_argument("--op")
    p.add_argument("--state")
    p.add_argument("--ready")
    p.add_argument("--kill", type=int)
    argv = sys.argv[1:]
    run = []
    if "--run" in argv:  # everything after it is the command, "--" included
        i = argv.index("--run")
        argv, run = argv[:i], argv[i + 1:]
    args = p.parse_args(argv)
    args.run = run

    fd = os.open(args.file, os.O_RDONLY)
    os.lseek(fd, 0, os.SEEK_END)
    if args.ready:
        open(args.ready, "w").close()
    deadline = time.monotonic() + args.timeout
    pending = b""
    while time.monotonic() < deadline:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            time.sleep(0.0005)
            continue
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if matches(line, args):
                if args.kill:
                    os.kill(args.kill, signal.SIGKILL)
                now = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
                rc = subprocess.call(args.run) if args.run else 0
                done = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
                print(f"{line.get('t')} {now} {line.get('op_id', '')} {done}")
                return rc
    print(f"audit_watch: no matching line in {args.file} within {args.timeout}s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
