#!/usr/bin/env python3
"""Throttle benchmark (not a test): client CPU while the server answers every request with
429 + Retry-After. A client that waits on the next real event (a reply, a due retry, the
end of the Retry-After hold) costs almost nothing; one that polls with a zero timeout
while a due retry cannot start burns a core.

For each case: `retort sim --fail-429 1 --retry-after R`, then
`retort models --load-test N --no-cache --concurrency C` for D seconds, then SIGINT (the
client stops and exits 130). Client CPU = user + sys of the client process (os.wait4's
rusage), as a share of one core over the client's wall time; the simulator's count of
requests says how hard the client pressed a server that asked it to wait.

Usage: bench/throttle_bench.py [--retort build/retort ...] [--seconds 10] [--retry-after 2]
Prints a markdown table; see bench/README.md for recorded numbers."""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine_bench import start_sim  # noqa: E402


def sim_requests(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/sim/stats", timeout=10) as r:
        return json.load(r)["by_route"].get("/v1/completions", 0)


def run_case(retort, port, n, c, seconds, tmp):
    before = sim_requests(port)
    cmd = [retort, "models", "--base-url", f"http://127.0.0.1:{port}/v1", "--model",
           "sim-model", "--load-test", str(n), "--concurrency", str(c), "--no-cache"]
    log = open(os.path.join(tmp, "client.log"), "wb")
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=log, stderr=log)
    time.sleep(seconds)
    p.send_signal(signal.SIGINT)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    cpu = usage.ru_utime + usage.ru_stime
    sent = sim_requests(port) - before
    return wall, cpu, usage.ru_utime, usage.ru_stime, sent, os.waitstatus_to_exitcode(status)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--retort", action="append",
                    help="retort binary (repeat to compare builds); default build/retort")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--retry-after", type=float, default=2)
    ap.add_argument("--n", type=int, default=20000, help="requests in the load test")
    ap.add_argument("--concurrency", type=int, action="append",
                    help="repeatable; default 1 and 64")
    a = ap.parse_args()
    binaries = a.retort or ["build/retort"]
    concurrencies = a.concurrency or [1, 64]
    print(f"server: every request 429 + Retry-After: {a.retry_after:g}; "
          f"client runs {a.seconds:g} s, then SIGINT; {a.n} requests queued\n")
    print("| retort | concurrency | wall s | client CPU s | user | sys | CPU % of one core "
          "| HTTP requests sent | requests/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for binary in binaries:
            sim, port = start_sim(binary, ["--fail-429", "1", "--retry-after",
                                           f"{a.retry_after:g}"], tmp)
            try:
                for c in concurrencies:
                    wall, cpu, user, system, sent, rc = run_case(binary, port, a.n, c,
                                                                 a.seconds, tmp)
                    if rc != 130:
                        sys.exit(f"{binary}: the load test exited {rc}, expected 130 "
                                 f"(see {tmp}/client.log)")
                    print(f"| {binary} | {c} | {wall:.2f} | {cpu:.3f} | {user:.3f} | "
                          f"{system:.3f} | {100 * cpu / wall:.2f}% | {sent} | "
                          f"{sent / wall:.1f} |")
                    sys.stdout.flush()
            finally:
                sim.terminate()
                sim.wait()


if __name__ == "__main__":
    main()
