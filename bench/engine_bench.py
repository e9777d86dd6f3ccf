#!/usr/bin/env python3
"""Engine benchmark (not a test): retort's request path vs an asyncio+aiohttp baseline,
both against `retort sim` on loopback, in one run.

1. Zero-latency sim: requests/s and client CPU-us per request (user+sys of the client
   process, from getrusage) at concurrency 1, 64, 512, for
   `retort models --load-test N --no-cache` (the full engine: curl multi, body mapping,
   reply parsing), the same with the SQLite cache on, and bench/baseline_aiohttp.py.
2. Saturation: sim with --max-seqs 64 and a fixed service time S (--ttft-ms): wall time of
   N requests vs the ideal N*S/64.

Usage: bench/engine_bench.py [--retort build/retort] [--n 20000] [--service-ms 50]
Prints a markdown table; see bench/README.md for recorded numbers."""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def start_sim(retort, extra, tmp):
    port_file = os.path.join(tmp, f"port-{time.monotonic_ns()}")
    log = open(os.path.join(tmp, "sim.log"), "ab")
    p = subprocess.Popen([retort, "sim", "--port", "0", "--port-file", port_file] + extra,
                         stdout=log, stderr=log)
    for _ in range(1000):
        if os.path.exists(port_file) and open(port_file).read().strip():
            return p, int(open(port_file).read().strip())
        time.sleep(0.01)
    p.kill()
    sys.exit("retort sim did not start")


def measure(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    user = after.ru_utime - before.ru_utime
    system = after.ru_stime - before.ru_stime
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
    return wall, (user, system), r


def retort_cmd(retort, port, n, c, cache=None):
    cmd = [retort, "models", "--base-url", f"http://127.0.0.1:{port}/v1", "--model",
           "sim-model", "--load-test", str(n), "--concurrency", str(c), "--max-tokens", "16"]
    return cmd + (["--cache", cache] if cache else ["--no-cache"])


def baseline_cmd(port, n, c):
    return ["/usr/bin/python3", os.path.join(HERE, "baseline_aiohttp.py"), "--url",
            f"http://127.0.0.1:{port}/v1/completions", "--n", str(n), "--concurrency", str(c)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--retort", default=os.path.join(HERE, "..", "build", "retort"))
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--service-ms", type=float, default=50)
    ap.add_argument("--sat-n", type=int, default=64 * 40)
    ap.add_argument("--sim-threads", type=int, default=0)
    args = ap.parse_args()
    retort = os.path.abspath(args.retort)
    tmp = tempfile.mkdtemp(prefix="retort-bench-")
    sim_threads = ["--threads", str(args.sim_threads)] if args.sim_threads else []

    print(f"# engine bench ({os.cpu_count()} CPUs, n={args.n})\n")
    print("| client | concurrency | requests | wall s | req/s | client CPU us/req "
          "| of which user | of which system |")
    print("|---|---|---|---|---|---|---|---|")
    sim, port = start_sim(retort, sim_threads, tmp)
    rows = {}
    try:
        for c in (1, 64, 512):
            n = args.n if c > 1 else max(1000, args.n // 4)
            runs = [("retort", retort_cmd(retort, port, n, c)),
                    ("retort+cache", retort_cmd(retort, port, n, c,
                                                os.path.join(tmp, f"cache-{c}.sqlite"))),
                    ("aiohttp baseline", baseline_cmd(port, n, c))]
            for name, cmd in runs:
                wall, (user, system), r = measure(cmd)
                if name == "aiohttp baseline":
                    out = json.loads(r.stdout.strip().splitlines()[-1])
                    assert out["ok"] == n, out
                us = 1e6 * (user + system) / n
                rows[(name, c)] = us
                rows[(name, c, "user")] = 1e6 * user / n
                print(f"| {name} | {c} | {n} | {wall:.2f} | {n / wall:.0f} | {us:.1f} "
                      f"| {1e6 * user / n:.1f} | {1e6 * system / n:.1f} |", flush=True)
    finally:
        sim.kill()
        sim.wait()
    print()
    for c in (1, 64, 512):
        print(f"- concurrency {c}: baseline / retort CPU per request = "
              f"{rows[('aiohttp baseline', c)] / rows[('retort', c)]:.1f}x "
              f"(with cache: {rows[('aiohttp baseline', c)] / rows[('retort+cache', c)]:.1f}x; "
              f"user CPU only: {rows[('aiohttp baseline', c, 'user')] / rows[('retort', c, 'user')]:.1f}x)")

    s = args.service_ms / 1000
    ideal = args.sat_n * s / 64
    print(f"\n## saturation: sim --max-seqs 64 --ttft-ms {args.service_ms:g}, "
          f"{args.sat_n} requests, ideal N*S/64 = {ideal:.2f} s\n")
    print("| client | concurrency | wall s | vs ideal |")
    print("|---|---|---|---|")
    sim, port = start_sim(retort, sim_threads + ["--max-seqs", "64", "--ttft-ms",
                                                 f"{args.service_ms:g}", "--tpot-ms", "0"], tmp)
    try:
        for name, c, cmd in (
                ("retort", 64, retort_cmd(retort, port, args.sat_n, 64)),
                ("retort", 256, retort_cmd(retort, port, args.sat_n, 256)),
                ("aiohttp baseline", 64, baseline_cmd(port, args.sat_n, 64))):
            wall, _, r = measure(cmd)
            print(f"| {name} | {c} | {wall:.2f} | {100 * (wall / ideal - 1):+.1f}% |", flush=True)
    finally:
        sim.kill()
        sim.wait()


if __name__ == "__main__":
    main()
