#!/usr/bin/env python3
"""Start-up time of `retort run`: the whole process, from exec to exit, of a one-request run
(--limit 1) against `retort sim` on loopback, so that what is measured is everything retort
does before its first request (finding and reading task files, loading the data) plus one
round trip that is the same in every case.

Cases, each against the clean case in the same run (runs are interleaved, medians reported):
  clean         --tasks clean/task.yaml: a task file alone in its directory
  beside        --tasks beside/task.yaml: the same file beside 10,000 unrelated YAML files
                (1% of them broken)
  include cold  --include_path tree --tasks bench000_subject00: a 14,000-file lm-eval-shaped
                tree, no task index yet (a fresh cache directory every run)
  include warm  the same with the task index left by the previous run

Trees come from bench/gen_task_tree.py. Usage:
  bench/startup_bench.py --retort build/retort [--runs 15] [--tree-files 14000]
                         [--beside-files 10000] [--work DIR]
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def start_sim(retort, tmp):
    port_file = os.path.join(tmp, "sim.port")
    if os.path.exists(port_file):
        os.remove(port_file)  # a kept --work directory holds the last run's
    log = open(os.path.join(tmp, "sim.log"), "ab")
    p = subprocess.Popen([retort, "sim", "--port", "0", "--port-file", port_file,
                          "--model", "sim-model", "--mode", "fixed", "--reply", "4"],
                         stdout=log, stderr=log)
    for _ in range(200):
        if os.path.exists(port_file) and open(port_file).read().strip():
            return p, int(open(port_file).read().strip())
        time.sleep(0.05)
    p.kill()
    sys.exit("retort sim did not start")


def gen(kind, out, n=0):
    if os.path.isdir(out):
        return
    args = [sys.executable, os.path.join(HERE, "gen_task_tree.py"), kind, out]
    if n:
        args += ["--n", str(n)]
    subprocess.run(args, check=True)


def timed(cmd, env):
    """Wall seconds and CPU seconds (user + system) of one whole retort process."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr.decode()}")
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return dt, cpu, r.stderr.decode()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--retort", default=os.path.join(HERE, "..", "build", "retort"))
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--cold-runs", type=int, default=5)
    ap.add_argument("--tree-files", type=int, default=14000)
    ap.add_argument("--beside-files", type=int, default=10000)
    ap.add_argument("--work", help="where the trees go (kept; default: a temp dir, removed)")
    a = ap.parse_args()
    retort = os.path.abspath(a.retort)

    work = a.work or tempfile.mkdtemp(prefix="retort-startup-")
    os.makedirs(work, exist_ok=True)
    try:
        gen("clean", os.path.join(work, "clean"))
        gen("beside", os.path.join(work, "beside"), a.beside_files)
        gen("tasks", os.path.join(work, "tree"), a.tree_files)
        sim, port = start_sim(retort, work)
        try:
            run(a, retort, work, port)
        finally:
            sim.kill()
            sim.wait()
    finally:
        if not a.work:
            shutil.rmtree(work, ignore_errors=True)


def run(a, retort, work, port):
    base = [retort, "run", "--model", "hosted_vllm/sim-model", "--base-url",
            f"http://127.0.0.1:{port}/v1", "--limit", "1", "--no-cache",
            "--output_path", os.path.join(work, "out")]
    warm_cache = os.path.join(work, "cache-warm")
    env = dict(os.environ)
    env.pop("RETORT_TASK_INDEX", None)
    env["XDG_CACHE_HOME"] = warm_cache

    def cold_env():
        d = os.path.join(work, "cache-cold")
        shutil.rmtree(d, ignore_errors=True)
        return dict(env, XDG_CACHE_HOME=d)

    include = ["--include_path", os.path.join(work, "tree"), "--tasks", "bench000_subject00"]
    cases = [
        ("clean", base + ["--tasks", os.path.join(work, "clean", "task.yaml")], lambda: env),
        ("beside 10k unrelated", base + ["--tasks", os.path.join(work, "beside", "task.yaml")],
         lambda: env),
        ("include_path cold", base + include, cold_env),
        ("include_path warm", base + include, lambda: env),
    ]
    # Prime: the page cache for every tree, and the warm index.
    for _, cmd, e in cases:
        timed(cmd, e())
    times = {name: [] for name, _, _ in cases}
    cpus = {name: [] for name, _, _ in cases}
    for i in range(a.runs):
        for name, cmd, e in cases:
            if name.endswith("cold") and i >= a.cold_runs:
                continue
            dt, cpu, err = timed(cmd, e())
            if "warn" in err.lower() or "error" in err.lower():
                sys.exit(f"{name}: unexpected messages:\n{err}")
            times[name].append(dt)
            cpus[name].append(cpu)

    clean = statistics.median(times["clean"])
    clean_cpu = statistics.median(cpus["clean"])
    print(f"{'case':<22} {'runs':>4} {'wall ms':>8} {'min ms':>7} {'vs clean':>8} "
          f"{'cpu ms':>7} {'vs clean':>8}")
    for name, _, _ in cases:
        t, c = times[name], cpus[name]
        med, cmed = statistics.median(t), statistics.median(c)
        print(f"{name:<22} {len(t):>4} {med * 1e3:>8.1f} {min(t) * 1e3:>7.1f} "
              f"{med / clean:>7.2f}x {cmed * 1e3:>7.1f} {cmed / max(clean_cpu, 1e-4):>7.2f}x")


if __name__ == "__main__":
    main()
