#!/usr/bin/env python3
"""Whole-run benchmark (not a test): the client CPU a user pays for a whole `retort run`
(task loading, planning, prompt templating, the request path, scoring, tables, results
JSON) against an asyncio+aiohttp client that only sends the same number of chat requests
and parses the replies, in one run, against the same zero-latency `retort sim`.

The task: N generate_until docs from a local JSONL file, a Jinja doc_to_text, a regex
filter and exact_match (gsm8k-shaped), --apply_chat_template, no cache, concurrency C.

Usage: bench/run_bench.py [--retort build/retort] [--n 20000] [--concurrency 64] [--reps 3]
                          [--no-warm]
Prints a markdown table (medians over reps); see bench/README.md for recorded numbers."""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from engine_bench import start_sim  # noqa: E402


def write_task(tmp, n):
    with open(os.path.join(tmp, "docs.jsonl"), "w") as f:
        for i in range(n):
            f.write(json.dumps({"question": f"What is {i} plus {i}? Think step by step.",
                                "answer": f"{i} + {i} = {2 * i}\n#### {2 * i}"}) + "\n")
    with open(os.path.join(tmp, "bench_task.yaml"), "w") as f:
        f.write("""task: bench_task
dataset_path: json
dataset_kwargs:
  data_files:
    test: docs.jsonl
test_split: test
output_type: generate_until
doc_to_text: "Question: {{question}}\\nAnswer:"
doc_to_target: "{{answer.split('####')[-1].strip()}}"
generation_kwargs:
  until: ["Question:", "</s>"]
  max_gen_toks: 16
  do_sample: false
  temperature: 0.0
filter_list:
  - name: strict-match
    filter:
      - function: regex
        regex_pattern: "#### (\\\\-?[0-9\\\\.\\\\,]+)"
      - function: take_first
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
""")
    return os.path.join(tmp, "bench_task.yaml")


def measure(cmd, env=None):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-3000:]}")
    return wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--retort", default=os.path.join(HERE, "..", "build", "retort"))
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--no-warm", action="store_true",
                    help="measure each client right after the previous one (no warm-up run)")
    args = ap.parse_args()
    retort = os.path.abspath(args.retort)
    tmp = tempfile.mkdtemp(prefix="retort-runbench-")
    task = write_task(tmp, args.n)
    sim, port = start_sim(retort, ["--mode", "fixed", "--reply", "The answer.\n#### 4"], tmp)
    base = f"http://127.0.0.1:{port}/v1"
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    run_cmd = [retort, "run", "--model", "hosted_vllm/sim-model", "--base-url", base,
               "--tasks", task, "--apply_chat_template", "--no-cache", "--concurrency",
               str(args.concurrency), "--output_path", os.path.join(tmp, "out")]
    base_cmd = ["/usr/bin/python3", os.path.join(HERE, "baseline_aiohttp.py"), "--chat", "--url",
                base + "/chat/completions", "--n", str(args.n), "--concurrency",
                str(args.concurrency)]
    # The whole run records itself in the results store (SQLite under a scratch data
    # directory here, as a user's default); the --no-db row shows what that costs.
    env["XDG_DATA_HOME"] = os.path.join(tmp, "data")
    clients = {"retort run (whole run)": (run_cmd, env),
               "retort run --no-db": (run_cmd + ["--no-db"], env),
               "aiohttp baseline (requests only)": (base_cmd, None)}
    rows = {name: [] for name in clients}
    try:
        for _ in range(args.reps):
            for name, (cmd, cmd_env) in clients.items():
                # On a VM the kernel's cost of handing a process fresh memory depends on what
                # ran just before (pages another client freed a moment ago cost more than
                # pages the same client used): measured on the 2-CPU VM, the client that ran
                # right after the aiohttp baseline paid 5-10 us/request more system time,
                # whichever it was. So each measured run follows an unmeasured run of the same
                # client, and no client pays for another's memory (--no-warm shows the effect).
                if not args.no_warm:
                    measure(cmd, cmd_env)
                rows[name].append(measure(cmd, cmd_env))
    finally:
        sim.terminate()
        sim.wait()
    print(f"# whole-run bench ({os.cpu_count()} CPUs, n={args.n}, "
          f"concurrency={args.concurrency}, medians of {args.reps}"
          f"{', no warm-up runs' if args.no_warm else ', each after a warm-up run of itself'})\n")
    print("| client | wall s | client CPU us/req | of which user | of which system |")
    print("|---|---|---|---|---|")
    cpu = {}
    for name, ms in rows.items():
        wall = statistics.median(m[0] for m in ms)
        user = statistics.median(m[1] for m in ms)
        system = statistics.median(m[2] for m in ms)
        total = statistics.median(m[1] + m[2] for m in ms)
        cpu[name] = total
        print(f"| {name} | {wall:.2f} | {1e6 * total / args.n:.1f} | {1e6 * user / args.n:.1f} "
              f"| {1e6 * system / args.n:.1f} |")
    base = cpu["aiohttp baseline (requests only)"]
    print(f"\nclient CPU per request, baseline / whole retort run: "
          f"{base / cpu['retort run (whole run)']:.1f}x "
          f"(without the results store: {base / cpu['retort run --no-db']:.1f}x)")


if __name__ == "__main__":
    main()
