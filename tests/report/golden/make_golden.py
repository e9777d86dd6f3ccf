#!/usr/bin/env python3
"""Regenerates the golden files of tests/report from the run in report_fixture.h.

It builds the results dict and the samples records the way lm-evaluation-harness does
(evaluator_utils.py:EvalAcc._to_eval_results, api/group.py:Group.aggregate,
evaluator.py:evaluate, loggers/evaluation_tracker.py:save_results_aggregated and
save_results_samples) and serialises them with Python's own json module, so the C++ output
is checked against CPython's json.dumps and float repr. Run: python3 make_golden.py
"""
import hashlib
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def H(s):
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


def sanitize_list(sub):
    if isinstance(sub, list):
        return [sanitize_list(x) for x in sub]
    if isinstance(sub, tuple):
        return tuple(sanitize_list(x) for x in sub)
    return str(sub)


def ll_extra(latency=0.125):
    return {"ok": True, "cached": False, "latency_s": latency, "prompt_tokens": 7,
            "completion_tokens": 0, "retries": 0}


def gen_extra():
    return {"ok": True, "cached": False, "latency_s": 0.5, "prompt_tokens": 9,
            "completion_tokens": 5, "retries": 0, "finish_reason": "stop"}


def mc_doc(doc_id, q, choices, label, lls, acc):
    doc = {"question": q, "choices": choices, "label": label}
    args = [("Q: " + q + "\nA:", " " + c) for c in choices]
    resps = [[(ll, i == label)] for i, ll in enumerate(lls)]
    filtered = {"none": [(ll, i == label) for i, ll in enumerate(lls)]}
    metrics = {"none": {"acc": acc, "acc_norm": acc}}
    extra = [[ll_extra()] for _ in choices]
    return dict(doc_id=doc_id, doc=doc, target=label, args=args, resps=resps,
                filtered=filtered, metrics=metrics, extra=extra)


def gen_doc(doc_id, q, answer, response, strict, flexible, em_s, em_f):
    doc = {"question": q, "answer": "#### " + answer}
    gen_kwargs = {"until": ["\n\n"], "do_sample": False, "temperature": 0.0,
                  "max_gen_toks": 256}
    return dict(doc_id=doc_id, doc=doc, target=answer,
                args=[("Q: " + q + "\nA:", gen_kwargs)], resps=[[response]],
                filtered={"strict-match": [strict], "flexible-extract": [flexible]},
                metrics={"strict-match": {"exact_match": em_s},
                         "flexible-extract": {"exact_match": em_f}},
                extra=[[gen_extra()]])


def logged_samples(docs, filters):
    out = []
    for f in filters:  # evaluator.py: for filter_key ...: for doc ...
        for d in docs:
            m = d["metrics"][f]
            example = {
                "doc_id": d["doc_id"],
                "doc": d["doc"],
                "target": d["target"],
                "arguments": d["args"],
                "resps": d["resps"],
                "filtered_resps": d["filtered"][f],
                "filter": f,
                "metrics": list(m.keys()),
                "doc_hash": H(json.dumps(d["doc"], indent=2, ensure_ascii=False)),
                "prompt_hash": H(d["args"][0][0]),
                "target_hash": H(str(d["target"])),
            }
            example.update(m)
            out.append((example, d["extra"]))
    return out


def tracker_line(example, extra):
    arguments = {}
    for i, arg in enumerate(example["arguments"]):
        arguments[f"gen_args_{i}"] = {}
        for j, tmp in enumerate(arg):
            arguments[f"gen_args_{i}"][f"arg_{j}"] = tmp
    example["resps"] = sanitize_list(example["resps"])
    example["filtered_resps"] = sanitize_list(example["filtered_resps"])
    example["arguments"] = arguments
    example["target"] = str(example["target"])
    example["retort"] = {"failed": False, "responses": extra}
    return json.dumps(example, ensure_ascii=False) + "\n"


def main():
    mc_docs = [mc_doc(0, "1+1?", ["1", "2", "3"], 1, [-1.25, -0.5, -3.0], 1.0),
               mc_doc(1, "2+1?", ["3", "4"], 0, [-2.0, -0.1], 0.0)]
    gen_docs = [gen_doc(0, "2+2?", "4", "The answer is #### 4", "4", "4", 1.0, 1.0),
                gen_doc(1, "3+3?", "6", "6 <script>alert('x')</script>", "[invalid]", "6",
                        0.0, 1.0)]
    samples = {"arith_mc": logged_samples(mc_docs, ["none"]),
               "arith_gen": logged_samples(gen_docs, ["strict-match", "flexible-extract"])}
    task_hashes = {t: H("".join(e["doc_hash"] + e["prompt_hash"] + e["target_hash"]
                                for e, _ in s)) for t, s in samples.items()}

    mc = {"name": "arith_mc", "alias": "arith_mc", "sample_len": 2, "acc,none": 0.5,
          "acc_stderr,none": 0.5, "acc_norm,none": 0.5, "acc_norm_stderr,none": 0.5}
    gen = {"name": "arith_gen", "alias": "arith_gen", "sample_len": 2,
           "exact_match,strict-match": 0.5, "exact_match_stderr,strict-match": 0.5,
           "exact_match,flexible-extract": 1.0, "exact_match_stderr,flexible-extract": 0.0}
    group = {"alias": "Arithmetic", "name": "arith", "sample_len": 4, "acc,none": 0.5,
             "acc_stderr,none": 0.5, "sample_count": {"acc,none": 2}}
    configs = {"arith_mc": {"task": "arith_mc", "dataset_path": "json",
                            "output_type": "multiple_choice", "metadata": {"version": 1.0}},
               "arith_gen": {"task": "arith_gen", "output_type": "generate_until"}}
    results = {
        "results": {"arith_mc": mc, "arith_gen": gen, "arith": group},
        "groups": {"arith": group},
        "group_subtasks": {"arith": ["arith_mc", "arith_gen"]},
        "configs": dict(sorted(configs.items())),
        "versions": dict(sorted({"arith_mc": 1.0, "arith_gen": "Yaml", "arith": "N/A"}.items())),
        "n-shot": dict(sorted({"arith_mc": 0, "arith_gen": 5}.items())),
        "higher_is_better": dict(sorted({
            "arith_mc": {"acc": True, "acc_norm": True},
            "arith_gen": {"exact_match": True},
            "arith": {"acc": True, "acc_norm": True, "exact_match": True}}.items())),
        "n-samples": {"arith_mc": {"original": 10, "effective": 2},
                      "arith_gen": {"original": 2, "effective": 2}},
        "config": {"model": "local-completions",
                   "model_args": "model=org/m-1,base_url=http://127.0.0.1:8000/v1,"
                                 "num_concurrent=8",
                   "batch_size": 1, "batch_sizes": [], "device": None, "use_cache": None,
                   "limit": 2.0, "bootstrap_iters": 100000, "gen_kwargs": None,
                   "random_seed": 0, "numpy_seed": 1234, "torch_seed": 1234,
                   "fewshot_seed": 1234},
        "git_hash": None,
        "date": 1714563784.5,
        "task_hashes": task_hashes,
        "model_source": "local-completions",
        "model_name": "org/m-1",
        "model_name_sanitized": "org__m-1",
        "system_instruction": None,
        "system_instruction_sha": None,
        "fewshot_as_multiturn": False,
        "chat_template": None,
        "chat_template_sha": None,
        "total_evaluation_time_seconds": str(12.25),
        "retort": {
            "version": "0.1.0", "complete": True, "interrupted": False, "predict_only": False,
            "start_time": 1714563784.5, "end_time": 1714563784.5 + 12.25,
            "stats": {"total": 7, "cached": 1, "succeeded": 6, "failed": 0, "in_flight": 0,
                      "retries": 0, "http_calls": 6, "prompt_tokens": 53,
                      "completion_tokens": 10, "elapsed_s": 12.0,
                      "requests_per_min": 60.0 * 6 / 12.0, "tokens_per_s": 63 / 12.0,
                      "latency_p50_s": 0.125, "latency_p90_s": 0.5, "latency_p99_s": 0.5,
                      "ttft_p50_s": -1.0, "tokens_per_min": 60 * 63 / 12.0,
                      "rpm_limit": None, "tpm_limit": None, "cost_usd": None,
                      "price": None, "local_server": False},
            "failed_samples": {}, "partial": {},
        },
    }
    with open(os.path.join(HERE, "results.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(results, indent=2, ensure_ascii=False))
    for task, s in samples.items():
        with open(os.path.join(HERE, f"samples_{task}.jsonl"), "w", encoding="utf-8") as f:
            for example, extra in s:
                f.write(tracker_line(example, extra))


if __name__ == "__main__":
    main()
