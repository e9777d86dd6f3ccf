#!/usr/bin/env python3
"""Generates the directory trees that bench/startup_bench.py measures retort's start-up on.

  gen_task_tree.py clean OUT            one task file (task.yaml) and its data, nothing else
  gen_task_tree.py beside OUT --n N     the same task file, beside OUT/other/ holding N YAML
                                        files that define no task (CI configs, manifests,
                                        compose files), 1% of them broken YAML
  gen_task_tree.py tasks OUT --n N      N task files shaped like lm-eval's tasks/ tree:
                                        benchmarks of ~50 subject files, each including a
                                        shared _default_template_yaml, with tags, a group file
                                        per benchmark, a few !function values and 0.5% broken
                                        files; every task reads OUT/data.jsonl

The shapes (a template included by every subject file, a group file listing the subjects,
`tag:` lists) follow lm-eval's lm_eval/tasks/mmlu/ layout; the content is synthetic.
Output is deterministic for given arguments.
"""
import argparse
import json
import os

TASK = """task: {name}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: "Q: {{{{question}}}}\\nA:"
doc_to_target: "{{{{answer}}}}"
generation_kwargs:
  until: ["\\n"]
  max_gen_toks: 8
metric_list:
  - metric: exact_match
metadata:
  version: 1.0
"""

TEMPLATE = """dataset_path: json
test_split: test
output_type: generate_until
doc_to_text: "Question: {{question}}\\nAnswer:"
doc_to_target: "{{answer}}"
generation_kwargs:
  until: ["</s>", "\\n\\n"]
  max_gen_toks: 32
  do_sample: false
  temperature: 0.0
filter_list:
  - name: get-answer
    filter:
      - function: regex
        regex_pattern: "answer is (\\\\-?[0-9\\\\.\\\\,]+)"
      - function: take_first
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
    ignore_case: true
metadata:
  version: 2.0
"""

SUBJECT = """include: _default_template_yaml
task: {bench}_{subject}
task_alias: {subject_words}
tag:
  - {bench}_{kind}_tasks
  - {bench}_all
dataset_kwargs:
  data_files:
    test: {data}
description: "The following are questions about {subject_words}.\\n\\n"
"""

GROUP = """group: {bench}
group_alias: {bench} (all subjects)
task:
{members}
aggregate_metric_list:
  - metric: exact_match
    weight_by_size: true
metadata:
  version: 2.0
"""

UNRELATED = [
    # A CI workflow.
    """name: ci-{i}
on:
  push:
    branches: [main]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make test-{i}
""",
    # A Kubernetes manifest.
    """apiVersion: apps/v1
kind: Deployment
metadata:
  name: service-{i}
  labels: {{app: service-{i}}}
spec:
  replicas: {r}
  template:
    spec:
      containers:
        - name: main
          image: registry.example/service:{i}
""",
    # A compose file.
    """version: "3.8"
services:
  db{i}:
    image: postgres:15
    environment:
      POSTGRES_PASSWORD: example
    ports: ["{port}:5432"]
""",
]

BROKEN = """name: broken-{i}
steps: [unclosed, list
  - : what
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def write_data(out):
    with open(os.path.join(out, "data.jsonl"), "w") as f:
        for i in range(4):
            f.write(json.dumps({"question": f"What is {i} + {i}?", "answer": str(2 * i)}) + "\n")


def clean(out):
    os.makedirs(out, exist_ok=True)
    write_data(out)
    write(os.path.join(out, "task.yaml"), TASK.format(name="startup_task", data="data.jsonl"))


def beside(out, n):
    clean(out)
    for i in range(n):
        sub = os.path.join(out, "other", f"project{i // 100:03d}", f"deploy{(i // 10) % 10}")
        if i % 100 == 37:
            text = BROKEN.format(i=i)
        else:
            text = UNRELATED[i % len(UNRELATED)].format(i=i, r=1 + i % 5, port=10000 + i)
        ext = ".yml" if i % 4 == 3 else ".yaml"
        write(os.path.join(sub, f"config{i}{ext}"), text)


def tasks(out, n):
    os.makedirs(out, exist_ok=True)
    write_data(out)
    per_bench = 50
    written = 0
    b = 0
    while written < n:
        bench = f"bench{b:03d}"
        bdir = os.path.join(out, bench)
        write(os.path.join(bdir, "_default_template_yaml"), TEMPLATE)
        count = min(per_bench - 1, n - written - 1) if n - written > 1 else 0
        members = []
        for s in range(count):
            subject = f"subject{s:02d}"
            path = os.path.join(bdir, f"{bench}_{subject}.yaml")
            if written % 200 == 199:
                write(path, BROKEN.format(i=written))  # unparseable, as files in the wild are
            else:
                text = SUBJECT.format(bench=bench, subject=subject,
                                      subject_words=f"subject number {s}",
                                      kind=("stem", "humanities", "other")[s % 3],
                                      data="../data.jsonl")
                if s % 10 == 9:
                    text += "process_results: !function utils.process_results\n"
                write(path, text)
                members.append(f"  - {bench}_{subject}")
            written += 1
        write(os.path.join(bdir, f"_{bench}.yaml"),
              GROUP.format(bench=bench, members="\n".join(members)))
        written += 1
        b += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["clean", "beside", "tasks"])
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=0)
    a = ap.parse_args()
    if a.kind == "clean":
        clean(a.out)
    elif a.kind == "beside":
        beside(a.out, a.n or 10000)
    else:
        tasks(a.out, a.n or 14000)


if __name__ == "__main__":
    main()
