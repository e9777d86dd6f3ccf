#!/usr/bin/env python3
"""Compares the client CPU of commands run alternately (not a test): each round runs every
command once, in the given order, and the medians over the rounds are printed per command
(user + system CPU of the child, from getrusage, divided by --per).

Usage: bench/interleave.py --reps 7 --per 20000 "old=build-old/retort run ..." "new=build/retort run ..."

Use it to see what a change does to `retort` alone: the VM's state moves absolute numbers
between runs (bench/README.md, "Whole run", session 7), but two binaries run in turn see
the same conditions.
"""
import argparse
import resource
import statistics
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--per", type=float, default=1.0, help="divide CPU by this (requests)")
    ap.add_argument("cases", nargs="+", help="NAME=shell command")
    args = ap.parse_args()
    cases = []
    for c in args.cases:
        if "=" not in c:
            sys.exit(f"expected NAME=command, got {c!r}")
        cases.append(c.split("=", 1))
    rows = {name: [] for name, _ in cases}
    for _ in range(args.reps):
        for name, cmd in cases:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            r = subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if r.returncode != 0:
                sys.exit(f"{name} failed ({r.returncode}): {r.stderr[-2000:]}")
            rows[name].append(((after.ru_utime - before.ru_utime) * 1e6 / args.per,
                               (after.ru_stime - before.ru_stime) * 1e6 / args.per))
    unit = "us" if args.per == 1.0 else "us/unit"
    for name, v in rows.items():
        total = statistics.median(u + s for u, s in v)
        print(f"{name:12s} CPU {total:8.1f} {unit} (user {statistics.median(u for u, _ in v):.1f}, "
              f"system {statistics.median(s for _, s in v):.1f}; min {min(u + s for u, s in v):.1f})")


if __name__ == "__main__":
    main()
