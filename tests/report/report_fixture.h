// A small hand-built RunResult shared by the report tests: a multiple-choice task, a
// generative task with two filters, and a group aggregating acc. The same run is written out
// in Python by tests/report/golden/make_golden.py, which produces the expected files.
#pragma once

#include <string>

#include "core/run_result.h"

namespace retort::testing {

inline Response ll_response(double ll, bool greedy, double latency) {
  Response r;
  r.ok = true;
  r.loglikelihood = ll;
  r.is_greedy = greedy;
  r.prompt_tokens = 7;
  r.completion_tokens = 0;
  r.latency_s = latency;
  return r;
}

inline Response gen_response(const std::string& text, double latency, bool cached = false) {
  Response r;
  r.ok = true;
  r.text = text;
  r.finish_reason = "stop";
  r.prompt_tokens = 9;
  r.completion_tokens = 5;
  r.latency_s = latency;
  r.cached = cached;
  return r;
}

inline Sample mc_sample(int64_t id, const std::string& q, const Json& choices, int label,
                        const std::vector<double>& lls, double acc) {
  Sample s;
  s.doc_id = id;
  s.doc = Json{{"question", q}, {"choices", choices}, {"label", label}};
  s.target = label;
  FilteredSample f;
  f.filter = "none";
  f.filtered_resps = Json::array();
  for (size_t i = 0; i < choices.size(); ++i) {
    SampleRequest r;
    r.kind = RequestKind::kLoglikelihood;
    r.arguments =
        Json{{"arg_0", "Q: " + q + "\nA:"}, {"arg_1", " " + choices[i].get<std::string>()}};
    bool greedy = i == static_cast<size_t>(label);
    r.responses.push_back(ll_response(lls[i], greedy, 0.125));
    s.requests.push_back(r);
    f.filtered_resps.push_back(Json::array({lls[i], greedy}));
  }
  f.metric_values = Json{{"acc", acc}, {"acc_norm", acc}};
  s.filtered.push_back(f);
  return s;
}

inline Sample gen_sample(int64_t id, const std::string& q, const std::string& answer,
                         const std::string& response, const std::string& strict,
                         const std::string& flexible, double em_strict, double em_flex) {
  Sample s;
  s.doc_id = id;
  s.doc = Json{{"question", q}, {"answer", "#### " + answer}};
  s.target = answer;
  SampleRequest r;
  r.kind = RequestKind::kGenerate;
  r.arguments = Json{{"arg_0", "Q: " + q + "\nA:"},
                     {"arg_1", Json{{"until", Json::array({"\n\n"})},
                                    {"do_sample", false},
                                    {"temperature", 0.0},
                                    {"max_gen_toks", 256}}}};
  r.responses.push_back(gen_response(response, 0.5));
  s.requests.push_back(r);
  FilteredSample fs;
  fs.filter = "strict-match";
  fs.filtered_resps = Json::array({strict});
  fs.metric_values = Json{{"exact_match", em_strict}};
  FilteredSample ff;
  ff.filter = "flexible-extract";
  ff.filtered_resps = Json::array({flexible});
  ff.metric_values = Json{{"exact_match", em_flex}};
  s.filtered = {fs, ff};
  return s;
}

inline RunResult make_run() {
  RunResult run;
  TaskResult mc;
  mc.name = "arith_mc";
  mc.alias = "arith_mc";
  mc.sample_len = 2;
  mc.original_len = 10;
  mc.version = 1.0;
  mc.num_fewshot = 0;
  mc.config = Json{{"task", "arith_mc"},
                   {"dataset_path", "json"},
                   {"description", nullptr},
                   {"output_type", "multiple_choice"},
                   {"metadata", Json{{"version", 1.0}}}};
  mc.metrics = {{"acc", "none", 0.5, 0.5, true}, {"acc_norm", "none", 0.5, 0.5, true}};
  mc.samples.push_back(
      mc_sample(0, "1+1?", Json::array({"1", "2", "3"}), 1, {-1.25, -0.5, -3.0}, 1.0));
  mc.samples.push_back(mc_sample(1, "2+1?", Json::array({"3", "4"}), 0, {-2.0, -0.1}, 0.0));

  TaskResult gen;
  gen.name = "arith_gen";
  gen.alias = "arith_gen";
  gen.sample_len = 2;
  gen.original_len = 2;
  gen.version = "Yaml";
  gen.num_fewshot = 5;
  gen.config = Json{{"task", "arith_gen"}, {"output_type", "generate_until"}};
  gen.metrics = {{"exact_match", "strict-match", 0.5, 0.5, true},
                 {"exact_match", "flexible-extract", 1.0, 0.0, true}};
  gen.samples.push_back(gen_sample(0, "2+2?", "4", "The answer is #### 4", "4", "4", 1.0, 1.0));
  gen.samples.push_back(
      gen_sample(1, "3+3?", "6", "6 <script>alert('x')</script>", "[invalid]", "6", 0.0, 1.0));

  GroupResult group;
  group.name = "arith";
  group.alias = "Arithmetic";
  group.subtasks = {"arith_mc", "arith_gen"};
  group.metrics = {{"acc", "none", 0.5, 0.5, true}};

  run.tasks = {mc, gen};
  run.groups = {group};
  run.config = Json{{"model", "local-completions"},
                    {"model_args",
                     "model=org/m-1,base_url=http://127.0.0.1:8000/v1,api_key=sk-secret-123456,"
                     "num_concurrent=8"},
                    {"batch_size", 1},
                    {"batch_sizes", Json::array()},
                    {"device", nullptr},
                    {"use_cache", nullptr},
                    {"limit", 2.0},
                    {"bootstrap_iters", 100000},
                    {"gen_kwargs", nullptr},
                    {"random_seed", 0},
                    {"numpy_seed", 1234},
                    {"torch_seed", 1234},
                    {"fewshot_seed", 1234}};
  run.model_name = "org/m-1";
  run.model_source = "local-completions";
  run.start_time = 1714563784.5;
  run.total_seconds = 12.25;
  run.stats.total = 7;
  run.stats.cached = 1;
  run.stats.succeeded = 6;
  run.stats.failed = 0;
  run.stats.http_calls = 6;
  run.stats.prompt_tokens = 53;
  run.stats.completion_tokens = 10;
  run.stats.elapsed_s = 12.0;
  run.stats.latency_p50_s = 0.125;
  run.stats.latency_p90_s = 0.5;
  run.stats.latency_p99_s = 0.5;
  return run;
}

}  // namespace retort::testing
