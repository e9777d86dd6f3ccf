"""What recording a run in the results store costs (not a test): `retort run` of
run_bench.py's generated task (N generate_until chat requests against a zero-latency
`retort sim`) with the store (SQLite under a scratch XDG_DATA_HOME) and with --no-db, for
one or more retort binaries, interleaved in the same minutes; each measured run follows an
unmeasured one of the same command. Prints, per binary, the medians of client CPU per
request and of the paired differences (with store - without), and the database's bytes per
stored sample.

  --fresh: every measured run records into a new database (a benchmark's first recording);
           without it, each binary's runs all go to one database (the same benchmark again:
           another model, another day), as in run_bench.py.

Usage: bench/record_bench.py [--n 20000] [--reps 8] [--fresh] NAME=RETORT [NAME=RETORT ...]
e.g.   bench/record_bench.py before=/tmp/retort_old after=build/retort"""
import argparse
import os
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from engine_bench import start_sim  # noqa: E402
from run_bench import measure, write_task  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--reps", type=int, default=8)
    ap.add_argument("--fresh", action="store_true")
    ap.add_argument("binaries", nargs="+", help="NAME=path of a retort binary")
    args = ap.parse_args()
    bins = dict(b.split("=", 1) for b in args.binaries)
    tmp = tempfile.mkdtemp(prefix="retort-recordbench-")
    task = write_task(tmp, args.n)
    sim, port = start_sim(os.path.abspath(next(iter(bins.values()))),
                          ["--mode", "fixed", "--reply", "The answer.\n#### 4"], tmp)
    base = f"http://127.0.0.1:{port}/v1"
    cpu = {}  # (name, "db" | "nodb") -> [us/request]
    runs = {name: 0 for name in bins}  # runs recorded in the database sized below
    try:
        for rep in range(args.reps):
            for name, binary in bins.items():
                data = os.path.join(tmp, f"data-{name}" + (f"-{rep}" if args.fresh else ""))
                env = dict(os.environ, HF_HUB_OFFLINE="1", XDG_DATA_HOME=data)
                warm_env = dict(env, XDG_DATA_HOME=os.path.join(tmp, "warm")) if args.fresh \
                    else env
                cmd = [os.path.abspath(binary), "run", "--model", "hosted_vllm/sim-model",
                       "--base-url", base, "--tasks", task, "--apply_chat_template", "--no-cache",
                       "--concurrency", "64", "--output_path", os.path.join(tmp, "out")]
                for mode, c in (("db", cmd), ("nodb", cmd + ["--no-db"])):
                    measure(c, warm_env)
                    _, user, system = measure(c, env)
                    cpu.setdefault((name, mode), []).append(1e6 * (user + system) / args.n)
                runs[name] = 1 if args.fresh else runs[name] + 2
    finally:
        sim.terminate()
        sim.wait()
    print(f"# recording cost ({os.cpu_count()} CPUs, n={args.n}, {args.reps} interleaved reps, "
          f"{'a new database each run' if args.fresh else 'one database per binary'})\n")
    print("| binary | with store CPU us/req | --no-db | recording (median of paired diffs) "
          "| runs.db bytes per sample |")
    print("|---|---|---|---|---|")
    for name in bins:
        db, nodb = cpu[(name, "db")], cpu[(name, "nodb")]
        diff = statistics.median(a - b for a, b in zip(db, nodb))
        data = os.path.join(tmp, f"data-{name}" + ("-0" if args.fresh else ""))
        size = os.path.getsize(os.path.join(data, "retort", "runs.db"))
        print(f"| {name} | {statistics.median(db):.1f} | {statistics.median(nodb):.1f} "
              f"| {diff:.2f} | {size / (runs[name] * args.n):.0f} |")


if __name__ == "__main__":
    main()
