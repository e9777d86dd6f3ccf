#include "cli/run_pipeline.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <tuple>

#include "cli/code_tasks.h"
#include "data/hub.h"
#include "prompt/chat_template.h"
#include "prompt/prompt.h"
#include "providers/client.h"
#include "providers/endpoint.h"
#include "providers/model_args.h"
#include "report/report.h"
#include "scoring/code_exec.h"
#include "scoring/math_metrics.h"
#include "scoring/scoring.h"
#include "store/store.h"
#include "tasks/tasks.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace retort::cli {

namespace {

const char* const kAdapters[] = {"openai",
                                 "curator",
                                 "local-completions",
                                 "local-chat-completions",
                                 "openai-chat-completions",
                                 "openai-completions"};

bool is_adapter(const std::string& m) {
  for (const char* a : kAdapters)
    if (m == a) return true;
  return false;
}

bool is_chat_adapter(const std::string& m) {
  return m == "local-chat-completions" || m == "openai-chat-completions";
}

// The engine observer: per-task progress for the live display.
class Progress : public ExecObserver {
 public:
  Progress(const std::vector<TaskRun>& runs, std::vector<size_t> task_of)
      : task_of_(std::move(task_of)) {
    for (const auto& r : runs)
      tasks_.push_back(TaskProgress{r.spec->name, 0, static_cast<int64_t>(r.num_requests), 0});
  }
  void on_response(size_t index, const Response& response) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto& t = tasks_[task_of_[index]];
    ++t.done;
    if (!response.ok) ++t.failed;
  }
  void on_progress(const RunStats& stats) override {
    std::vector<TaskProgress> copy;
    {
      std::lock_guard<std::mutex> lock(mu_);
      copy = tasks_;
      series_.add(stats);
    }
    display_.update(stats, copy);
  }
  // Draws the final state; returns the run's series (latency and throughput over time).
  std::vector<SeriesPoint> finish(const RunStats& stats) {
    std::vector<TaskProgress> copy;
    std::vector<SeriesPoint> series;
    {
      std::lock_guard<std::mutex> lock(mu_);
      copy = tasks_;
      series = series_.finish(stats);
    }
    display_.finish(stats, copy);
    return series;
  }

 private:
  std::vector<size_t> task_of_;
  std::mutex mu_;
  std::vector<TaskProgress> tasks_;
  ProgressDisplay display_;
  SeriesRecorder series_;
};

Json task_config_json(const TaskRun& r, const PromptOptions& popts) {
  const TaskSpec& s = *r.spec;
  Json c = s.config;
  c["task"] = s.name;
  c["output_type"] = output_type_name(s.output_type);
  c["target_delimiter"] = s.target_delimiter;
  c["fewshot_delimiter"] = s.fewshot_delimiter;
  c["num_fewshot"] = r.plan.num_fewshot;
  if (s.output_type == OutputType::kGenerateUntil || r.plan.generative_mc)
    c["generation_kwargs"] = r.plan.gen_kwargs;
  if (s.output_type == OutputType::kMultipleChoice)
    c["formulation"] = r.plan.generative_mc ? "generative" : "loglikelihood";
  c["repeats"] = r.plan.repeats;
  if (!popts.system_instruction.empty()) c["system_instruction"] = popts.system_instruction;
  return c;
}

// A task's process_results hook: its metric values, keeping those metric_list names.
Json run_hook(const TaskRun& r, ProcessResultsHook hook, const Sample& sample,
              const Json& results) {
  Json all;
  try {
    all = hook(sample.doc, results);
  } catch (const Error& e) {
    throw Error("task '" + r.spec->name + "', doc " + std::to_string(sample.doc_id) +
                    ", process_results (built-in " + r.spec->process_results +
                    "): " + e.what_failed(),
                r.spec->where("process_results"), e.hint());
  }
  Json out = Json::object();
  for (const auto& m : r.metrics)
    if (all.contains(m.name)) out[m.name] = all[m.name];
  return out;
}

void score_sample(const TaskRun& r, PlannedDoc& pd, Sample& sample,
                  const CodeScoringOptions* code) {
  const TaskSpec& s = *r.spec;
  const ProcessResultsHook* hook =
      s.process_results.empty() ? nullptr : find_process_results_hook(s.process_results);
  if (!s.process_results.empty() && !hook)
    throw Error(
        "task '" + s.name + "': process_results " + s.process_results + " has no scoring built-in",
        s.where("process_results"));
  const int R = r.plan.repeats;
  for (const auto& sr : sample.requests)
    for (const auto& resp : sr.responses)
      if (!resp.ok) sample.failed = true;
  for (const auto& f : r.filters) {
    FilteredSample fs;
    fs.filter = f.name;
    if (sample.failed) {
      sample.filtered.push_back(std::move(fs));
      continue;
    }
    switch (s.output_type) {
      case OutputType::kGenerateUntil: {
        Json resps = Json::array();
        std::vector<bool> cut_off;
        for (const auto& resp : sample.requests[0].responses) {
          resps.push_back(resp.text);
          cut_off.push_back(resp.finish_reason == "length");
        }
        const std::vector<std::string>* choices = pd.choices ? &*pd.choices : nullptr;
        fs.filtered_resps = apply_filter(f, resps, sample.doc, choices, &cut_off);
        if (hook) {
          // results = [generation, then [ll, is_greedy] of each also_loglikelihood request].
          Json results = Json::array({fs.filtered_resps});
          for (size_t i = 1; i < sample.requests.size(); ++i) {
            const Response& resp = sample.requests[i].responses[0];
            results.push_back(Json::array({resp.loglikelihood, resp.is_greedy}));
          }
          fs.metric_values = run_hook(r, *hook, sample, results);
        } else
          fs.metric_values = score_generate(r.metrics, fs.filtered_resps, sample.target,
                                            r.plan.multiple_target, choices);
        if (!f.steps.empty() && f.steps[0].function == "math_answer" && has_math_metric(r)) {
          std::vector<std::string> texts;
          for (const auto& resp : sample.requests[0].responses) texts.push_back(resp.text);
          fs.details = math_answer_details(texts, sample.target, cut_off);
        }
        if (code) {
          Json verdicts;
          Json values = score_code(r.metrics, fs.filtered_resps, sample.target, *code, &verdicts);
          for (auto it = values.begin(); it != values.end(); ++it) fs.metric_values[it.key()] = *it;
          // Per program its verdict and reason, for the samples log (and Evalchemy's keys).
          if (verdicts.is_array()) fs.details = std::move(verdicts);
        }
        break;
      }
      case OutputType::kMultipleChoice: {
        if (r.plan.generative_mc) {
          const std::string& reply = sample.requests[0].responses[0].text;
          std::string letter =
              extract_choice_letter(reply, pd.choices.value_or(std::vector<std::string>{}));
          const std::string gold =
              sample.target.is_string() ? sample.target.get<std::string>() : "";
          fs.filtered_resps = letter.empty() ? Json("[invalid]") : Json(letter);
          fs.metric_values = Json::object();
          fs.metric_values["acc"] =
              !letter.empty() && gold.find(letter) != std::string::npos ? 1.0 : 0.0;
          fs.metric_values["no_answer"] = letter.empty() ? 1.0 : 0.0;
          break;
        }
        MultipleChoiceInput in;
        size_t k = pd.choices ? pd.choices->size() : 0;
        fs.filtered_resps = Json::array();
        for (size_t i = 0; i < sample.requests.size(); ++i) {
          const Response& resp = sample.requests[i].responses[0];
          fs.filtered_resps.push_back(Json::array({resp.loglikelihood, resp.is_greedy}));
          if (i < k) {
            in.lls.push_back(resp.loglikelihood);
            in.is_greedy.push_back(resp.is_greedy);
          } else {
            in.lls_unconditional.push_back(resp.loglikelihood);
          }
        }
        in.choices = pd.choices.value_or(std::vector<std::string>{});
        in.gold = pd.gold;
        in.multiple_target = r.plan.multiple_target;
        if (hook) {
          Json results = Json::array();
          for (size_t i = 0; i < in.lls.size(); ++i)
            results.push_back(Json::array({in.lls[i], static_cast<bool>(in.is_greedy[i])}));
          fs.metric_values = run_hook(r, *hook, sample, results);
        } else {
          fs.metric_values = score_multiple_choice(r.metrics, in);
        }
        break;
      }
      case OutputType::kLoglikelihood: {
        const Response& resp = sample.requests[0].responses[0];
        fs.filtered_resps = Json::array({resp.loglikelihood, resp.is_greedy});
        fs.metric_values = score_loglikelihood(r.metrics, resp.loglikelihood, resp.is_greedy);
        break;
      }
      case OutputType::kLoglikelihoodRolling: {
        const Response& resp = sample.requests[0].responses[0];
        fs.filtered_resps = resp.loglikelihood;
        fs.metric_values =
            score_loglikelihood_rolling(r.metrics, resp.loglikelihood, pd.rolling_text);
        break;
      }
    }
    sample.filtered.push_back(std::move(fs));
  }
  (void)R;
}

// Replies cut at the token limit (finish_reason "length") lose their final answer; reasoning
// models hit the limit often. They are counted in the task's result (results JSON, score
// table, run statistics) and each keeps finish_reason in the samples log.
void count_replies(TaskResult& tr) {
  for (const auto& s : tr.samples)
    for (const auto& sr : s.requests)
      if (sr.kind == RequestKind::kGenerate)
        for (const auto& resp : sr.responses)
          if (resp.ok) {
            ++tr.replies;
            if (resp.finish_reason == "length") ++tr.truncated;
          }
  // Replies without a final answer, from the first math_answer pipeline (the same replies
  // under every pipeline).
  for (size_t f = 0;; ++f) {
    bool any = false, found = false;
    int64_t none = 0;
    for (const auto& s : tr.samples) {
      if (f >= s.filtered.size()) continue;
      any = true;
      const Json& d = s.filtered[f].details;
      if (!d.is_array()) continue;
      found = true;
      for (const auto& x : d) none += x.value("no_answer", false) ? 1 : 0;
    }
    if (!any) break;
    if (found) {
      tr.no_answer = none;
      break;
    }
  }
  if (tr.truncated == 0) return;
  log::warn("{}: {} of {} replies truncated at the token limit (finish_reason length){}", tr.name,
            tr.truncated, tr.replies,
            2 * tr.truncated > tr.replies
                ? "; most replies hit the limit: raise it with --max_tokens N (or --gen_kwargs "
                  "max_gen_toks=N)"
                : "");
}

// Reasoning in a task's generated replies, into the run statistics: the tokens servers
// reported and the characters of reasoning (report.h reasoning_chars).
void count_reasoning(const TaskResult& tr, RunStats& stats) {
  for (const auto& s : tr.samples)
    for (const auto& sr : s.requests)
      if (sr.kind == RequestKind::kGenerate)
        for (const auto& resp : sr.responses) {
          if (!resp.ok) continue;
          if (resp.reasoning_tokens >= 0) {
            stats.reasoning_tokens += resp.reasoning_tokens;
            ++stats.reasoning_token_replies;
          }
          if (const int64_t rc = reasoning_chars(resp); rc > 0) {
            stats.reasoning_chars += rc;
            ++stats.reasoning_replies;
          }
        }
}

// Evalchemy's result keys beside lm-eval's, for the tasks whose metadata asks for them
// (evalchemy_results: repeats | single): from the math_equiv values of the math_answer
// pipeline, over the scored docs; (humaneval | mbpp | mbpp_plus): pass@K from the verdicts
// of each scored doc's programs (code_exec.h evalchemy_code_results).
void add_evalchemy_results(const TaskRun& r, TaskResult& tr) {
  const Json& md = r.spec->metadata;
  if (!md.is_object() || !md.contains("evalchemy_results") || tr.score_withheld) return;
  const std::string style = md["evalchemy_results"].is_string()
                                ? md["evalchemy_results"].get<std::string>()
                                : std::string();
  if (is_evalchemy_code_style(style)) {
    std::vector<std::pair<int64_t, int64_t>> n_c;
    for (const auto& s : tr.samples) {
      if (s.failed) continue;
      for (const auto& fs : s.filtered) {
        if (!fs.details.is_array() || fs.details.empty() || !fs.details[0].contains("verdict"))
          continue;
        int64_t c = 0;
        for (const auto& v : fs.details) c += v["verdict"] == "pass";
        n_c.emplace_back(static_cast<int64_t>(fs.details.size()), c);
        break;
      }
    }
    tr.extra_results = evalchemy_code_results(n_c, style, static_cast<int64_t>(tr.samples.size()));
    return;
  }
  std::vector<Json> values;
  for (const auto& s : tr.samples) {
    if (s.failed) continue;
    for (const auto& fs : s.filtered)
      if (fs.details.is_array() && fs.metric_values.contains("math_equiv")) {
        values.push_back(fs.metric_values["math_equiv"]);
        break;
      }
  }
  tr.extra_results = evalchemy_math_results(values, style == "single");
}

void collect_leaves(const SelectionNode& n, std::vector<size_t>& out) {
  if (!n.is_group) {
    if (std::find(out.begin(), out.end(), n.task_index) == out.end()) out.push_back(n.task_index);
    return;
  }
  for (const auto& c : n.children) collect_leaves(c, out);
}

void add_groups(const SelectionNode& n, const RunResult& run, std::vector<GroupResult>& out,
                const std::vector<TaskRun>& runs, bool require_complete) {
  if (!n.is_group) return;
  GroupResult g;
  g.name = n.name;
  g.alias = n.group->alias;
  g.version = n.group->version;
  for (const auto& c : n.children) g.subtasks.push_back(c.name);
  std::vector<size_t> leaves;
  collect_leaves(n, leaves);
  std::vector<const TaskResult*> ptrs;
  for (size_t i : leaves) {
    ptrs.push_back(&run.tasks[i]);
    g.sample_len += run.tasks[i].sample_len;
    g.failed_samples += run.tasks[i].failed_samples;
    if (run.tasks[i].score_withheld) g.score_withheld = true;
  }
  if (!leaves.empty()) g.num_fewshot = runs[leaves[0]].plan.num_fewshot;
  if (require_complete && g.failed_samples > 0) g.score_withheld = true;
  if (!n.group->aggregate_metric_list.is_null() && !g.score_withheld) {
    auto specs = parse_aggregate_metric_list(n.group->aggregate_metric_list,
                                             n.group->file + ": aggregate_metric_list");
    // Generative leaves report under their own filter name: a group pools them separately
    // ("acc,generative" beside "acc,none"), never into one number.
    for (auto& sp : specs)
      if (std::find(sp.filter_list.begin(), sp.filter_list.end(), "none") != sp.filter_list.end())
        sp.filter_list.push_back(kGenerativeFilter);
    g.metrics = aggregate_group(specs, ptrs);
  }
  out.push_back(std::move(g));
  for (const auto& c : n.children) add_groups(c, run, out, runs, require_complete);
}

}  // namespace

void record_run(const RunOptions& o, const RunResult& run, const std::string& endpoint_url,
                const std::string& status) {
  if (o.no_db) return;
  std::string location = o.db.empty() ? store::default_db_location() : o.db;
  try {
    auto db = store::ResultsStore::open(location);
    std::string id = db->record(run, endpoint_url, status);
    std::fprintf(stdout, "run: %s (retort runs show %s)\n", id.c_str(), id.c_str());
  } catch (const std::exception& e) {
    const auto* err = dynamic_cast<const Error*>(&e);
    log::warn("the run was not recorded in the results database: {}",
              err ? err->message() : std::string(e.what()));
  }
}

int64_t docs_for_limit(std::optional<double> limit, int64_t n) {
  if (!limit) return n;
  if (*limit < 1.0) return static_cast<int64_t>(std::ceil(static_cast<double>(n) * *limit));
  return std::min<int64_t>(n, static_cast<int64_t>(*limit));
}

void configure_scoring(TaskRun& r, bool predict_only) {
  const TaskSpec& spec = *r.spec;
  if (r.plan.generative_mc) {
    // One pipeline named after the formulation, so every number it gives reads
    // "acc,generative" and never pools with loglikelihood "acc,none" in a group.
    FilterPipeline p;
    p.name = kGenerativeFilter;
    r.filters = {p};
    r.metrics.clear();
    if (!predict_only) {
      r.metrics.push_back(MetricSpec{"acc", "mean", true, Json::object()});
      r.metrics.push_back(MetricSpec{"no_answer", "mean", false, Json::object()});
    }
    return;
  }
  r.filters = parse_filter_list(spec.filter_list, spec.where("filter_list"));
  r.metrics.clear();
  if (predict_only) {
    if (spec.output_type == OutputType::kGenerateUntil)
      r.metrics = parse_metric_list(Json::array({Json{{"metric", "bypass"}}}), spec.output_type,
                                    spec.where("metric_list"));
  } else {
    r.metrics = parse_metric_list(
        spec.metric_list, spec.output_type, spec.where("metric_list"),
        spec.process_results.empty() ? nullptr : process_results_metrics(spec.process_results));
  }
}

bool has_math_metric(const TaskRun& r) {
  for (const auto& m : r.metrics)
    if (is_math_metric(m.name) && !is_code_metric(m)) return true;
  return false;
}

bool has_code_metric(const TaskRun& r) {
  for (const auto& m : r.metrics)
    if (is_code_metric(m)) return true;
  return false;
}

TaskResult score_task_run(TaskRun& r, std::vector<Response>& responses, const PromptOptions& popts,
                          int64_t bootstrap_iters, VerdictCache* verdicts) {
  TaskResult tr;
  tr.name = r.spec->name;
  tr.alias = r.spec->alias.empty() ? r.spec->name : r.spec->alias;
  tr.original_len = r.original_len;
  tr.sample_len = static_cast<int64_t>(r.plan.docs.size());
  tr.config = task_config_json(r, popts);
  tr.eval_version = eval_version(tr.config, kScorerVersion);
  tr.version = r.spec->version;
  tr.num_fewshot = r.plan.num_fewshot;
  size_t next = r.first_request;
  tr.samples.reserve(r.plan.docs.size());
  for (auto& pd : r.plan.docs) {
    Sample sample = std::move(pd.sample);
    for (auto& sr : sample.requests)
      for (int rep = 0; rep < r.plan.repeats; ++rep)
        sr.responses.push_back(std::move(responses[next++]));
    tr.samples.push_back(std::move(sample));
  }
  // Code tasks run programs: score their docs on every CPU (each doc's sample is its own).
  const bool code = has_code_metric(r);
  CodeScoringOptions copts;
  copts.cache = verdicts;
  copts.workers = 1;
  run_parallel(tr.samples.size(), code ? 0 : 1, [&](size_t i) {
    score_sample(r, r.plan.docs[i], tr.samples[i], code ? &copts : nullptr);
  });
  for (const auto& sample : tr.samples)
    if (sample.failed) ++tr.failed_samples;
  tr.metrics = aggregate_task(r.metrics, tr.samples, bootstrap_iters);
  tr.skipped = r.skipped;
  count_replies(tr);
  add_evalchemy_results(r, tr);
  return tr;
}

namespace {

void check_run_options(const RunOptions& o) {
  for (const auto& flag : o.ignored)
    log::warn("{} is accepted for compatibility and has no effect", flag);
  if (o.tasks.empty())
    throw Error("no tasks given", "--tasks",
                "e.g. --tasks gsm8k,mmlu or --tasks path/to/task.yaml");
  if (o.model.empty())
    throw Error("no model given", "--model",
                "e.g. --model hosted_vllm/Qwen/Qwen3-8B --base-url http://localhost:8000/v1");
  if (o.predict_only && o.output_path.empty())
    throw Error("--predict_only writes samples and needs --output_path", "--predict_only");
  if (o.log_samples && o.output_path.empty())
    throw Error("--log_samples needs --output_path", "--log_samples");
}

// Chat settings (lm-eval: fewshot_as_multiturn defaults to true with a chat template, and
// setting it without one is an error).
PromptOptions prompt_options(const RunOptions& o) {
  PromptOptions popts;
  popts.apply_chat_template = o.apply_chat_template;
  if (is_chat_adapter(o.model) && !popts.apply_chat_template) {
    log::warn("--model {} sends chat messages; turning on --apply_chat_template", o.model);
    popts.apply_chat_template = true;
  }
  if (o.fewshot_as_multiturn.value_or(false) && !popts.apply_chat_template)
    throw Error("--fewshot_as_multiturn needs --apply_chat_template", "--fewshot_as_multiturn");
  popts.fewshot_as_multiturn = o.fewshot_as_multiturn.value_or(popts.apply_chat_template);
  popts.system_instruction = o.system_instruction;
  popts.num_fewshot = o.num_fewshot;
  popts.fewshot_seed = o.seeds[3];
  popts.gen_kwargs_override = o.gen_kwargs;
  popts.repeats = o.repeats;
  if (o.max_tokens && !o.gen_kwargs.contains("max_gen_toks"))
    popts.gen_kwargs_override["max_gen_toks"] = *o.max_tokens;
  return popts;
}

Selection select_tasks(const RunOptions& o) {
  TaskRegistry registry;
  registry.enable_index_cache();
  for (const auto& d : builtin_task_dirs()) registry.add_dir(d);
  for (const auto& d : o.include_path) {
    if (!std::filesystem::is_directory(d))
      throw Error("--include_path '" + d + "' is not a directory", "--include_path");
    registry.add_dir(d);
  }
  Selection selection = registry.select(o.tasks);
  log::debug("tasks: {} YAML files indexed, {} read", registry.stats().yaml_files_indexed,
             registry.stats().yaml_files_read);
  return selection;
}

// What model_args add to every request: lm-eval's API models send their `seed` (default
// 1234), and `max_gen_toks` is the default length of generations whose task names none.
struct RequestDefaults {
  std::optional<int64_t> seed;
  std::optional<int64_t> max_gen_toks;
  std::optional<std::string> stop_eos;  // added to generations' `until` (model_args_stop_eos)

  explicit RequestDefaults(const Json& model_args, const std::string& tokenizer_eos = "") {
    for (const auto& k : unknown_model_args(model_args))
      log::warn("model_args {} is not a setting retort knows; it has no effect (known: {})", k,
                join(known_model_args(), ", "));
    for (const auto& k : ignored_model_args(model_args))
      log::info("model_args {} is accepted for compatibility and has no effect here", k);
    seed = model_args_seed(model_args);
    max_gen_toks = model_args_max_gen_toks(model_args);
    stop_eos = model_args_stop_eos(model_args, tokenizer_eos);
  }
  void apply(Request& req) {
    // Requests that share their kwargs (a task's, per repeat) share the result too.
    auto key = std::make_tuple(req.gen_kwargs.identity(), req.repeat, req.kind);
    if (auto it = applied_.find(key); it != applied_.end()) {
      req.gen_kwargs = it->second.second;
      return;
    }
    SharedJson given = req.gen_kwargs;  // kept in applied_: its identity stays its own
    // Repeats sample with seed + r (Evalchemy: [s + i for s in seed]), so they differ.
    if (seed && !req.gen_kwargs->contains("seed"))
      req.gen_kwargs.edit()["seed"] = *seed + req.repeat;
    if (max_gen_toks && req.kind == RequestKind::kGenerate &&
        !req.gen_kwargs->contains("max_gen_toks") && !req.gen_kwargs->contains("max_tokens"))
      req.gen_kwargs.edit()["max_gen_toks"] = *max_gen_toks;
    if (stop_eos && req.kind == RequestKind::kGenerate) {
      // handle_stop_sequences: a string becomes a list, None an empty one, then eos is
      // appended unless already there. Samples keep the task's own `until`, as lm-eval logs.
      Json until = req.gen_kwargs->contains("until") ? req.gen_kwargs["until"] : Json::array();
      if (until.is_string()) until = Json::array({until});
      if (until.is_null()) until = Json::array();
      if (until.is_array() && std::find(until.begin(), until.end(), Json(*stop_eos)) == until.end())
        until.push_back(*stop_eos);
      req.gen_kwargs.edit()["until"] = std::move(until);
    }
    applied_.emplace(key, std::make_pair(std::move(given), req.gen_kwargs));
  }

 private:
  std::map<std::tuple<const void*, int, RequestKind>, std::pair<SharedJson, SharedJson>> applied_;
};

// The tokenizer's eos_token as far as retort knows the tokenizer: the special tokens of the
// tokenizer_config.json a locally rendered chat template came from.
std::string tokenizer_eos(const PromptOptions& popts) {
  if (!popts.chat_template) return "";
  const Json& t = popts.chat_template->special_tokens();
  return t.contains("eos_token") && t["eos_token"].is_string() ? t["eos_token"].get<std::string>()
                                                               : "";
}

// Every request of every task, in one flat list (so one engine call spans tasks).
struct RunPlan {
  std::vector<TaskRun> runs;
  std::vector<TaskDocs> docs;   // per run, kept until the formulation is settled
  std::vector<int64_t> limits;  // per run: docs planned
  std::vector<Request> requests;
  std::vector<size_t> task_of;  // request index -> index into runs
  // Tasks scored by loglikelihood: multiple_choice ones (which have a generative
  // formulation) and the others (loglikelihood, loglikelihood_rolling), which have none.
  std::string mc_names, ll_names;
};

// Plans every task (task file, data and template errors surface here, before any server is
// contacted); the flat request list is made by flatten_requests once the formulation of
// multiple-choice tasks is settled.
RunPlan plan_run(const RunOptions& o, const Selection& selection, const PromptOptions& popts) {
  // model_args mistakes (seed=abc) are usage errors: found before any server is contacted.
  { const RequestDefaults check(o.model_args); }
  RunPlan plan;
  plan.runs.resize(selection.tasks.size());
  plan.docs.resize(selection.tasks.size());
  plan.limits.resize(selection.tasks.size());
  std::map<std::string, int64_t> seen_counts;  // for `retort tasks list`
  for (size_t ti = 0; ti < selection.tasks.size(); ++ti) {
    const TaskSpec& spec = selection.tasks[ti];
    TaskRun& r = plan.runs[ti];
    r.spec = &spec;
    const int shots = effective_num_fewshot(spec, o.num_fewshot);
    plan.docs[ti] = load_task_docs(spec, shots);
    const TaskDocs& docs = plan.docs[ti];
    r.original_len = docs.original_len;
    r.skipped = docs.skipped;
    seen_counts[doc_count_key(spec)] = docs.original_len;
    if (docs.eval.empty() && !docs.skipped.empty()) {
      std::string why;
      for (const auto& [reason, n] : docs.skipped)
        why += (why.empty() ? "" : "; ") + std::to_string(n) + " skipped: " + reason;
      throw Error("task '" + spec.name + "': every doc was skipped (" + why + ")",
                  spec.where("process_docs"), "install what the reasons name");
    }
    if (docs.eval.empty())
      throw Error("task '" + spec.name + "': the eval split '" + spec.eval_split().value_or("") +
                      "' has no docs",
                  spec.where(spec.test_split ? "test_split" : "validation_split"),
                  "check dataset_path / data_files and the split name");
    plan.limits[ti] = docs_for_limit(o.limit, docs.original_len);
    // Only multiple-choice tasks are planned again (in the generative formulation, when the
    // endpoint has no prompt logprobs): the others give their docs to their samples instead
    // of keeping a copy of each until flatten_requests.
    if (spec.output_type == OutputType::kMultipleChoice)
      r.plan = plan_task(spec, docs, popts, plan.limits[ti]);
    else
      r.plan = plan_task(spec, std::move(plan.docs[ti]), popts, plan.limits[ti]);
    configure_scoring(r, o.predict_only);
    if (has_code_metric(r)) check_code_consent(spec, o.confirm_run_unsafe_code);
    if (spec.output_type == OutputType::kMultipleChoice)
      plan.mc_names += (plan.mc_names.empty() ? "" : ", ") + spec.name;
    else if (spec.output_type != OutputType::kGenerateUntil || !spec.also_loglikelihood.empty())
      plan.ll_names += (plan.ll_names.empty() ? "" : ", ") + spec.name;
  }
  remember_doc_counts(doc_count_file(), seen_counts);
  return plan;
}

// Re-plans multiple-choice tasks in the generative formulation when popts asks for it, then
// lays every request of every task out in one list.
void flatten_requests(const RunOptions& o, RunPlan& plan, const PromptOptions& popts) {
  RequestDefaults defaults(o.model_args, tokenizer_eos(popts));
  for (size_t ti = 0; ti < plan.runs.size(); ++ti) {
    TaskRun& r = plan.runs[ti];
    const TaskSpec& spec = *r.spec;
    if (popts.mc_generative && spec.output_type == OutputType::kMultipleChoice &&
        !r.plan.generative_mc) {
      r.plan = plan_task(spec, plan.docs[ti], popts, plan.limits[ti]);
      configure_scoring(r, o.predict_only);
    }
    r.first_request = plan.requests.size();
    // Room for this task's requests up front (growing geometrically across tasks): moving
    // every Request on each doubling of the vector was a tenth of a big run's page faults.
    size_t need = plan.requests.size();
    for (const auto& pd : r.plan.docs) need += pd.requests.size();
    if (need > plan.requests.capacity()) {
      plan.requests.reserve(std::max(need, 2 * plan.requests.capacity()));
      plan.task_of.reserve(plan.requests.capacity());
    }
    for (auto& pd : r.plan.docs) {
      for (auto& req : pd.requests) {
        defaults.apply(req);
        req.id = plan.requests.size();
        plan.requests.push_back(std::move(req));
        plan.task_of.push_back(ti);
      }
      // Moved into the flat list (scoring reads pd.sample); freeing the emptied shells now
      // lets the engine's allocations reuse their memory instead of fresh pages.
      std::vector<Request>().swap(pd.requests);
    }
    r.num_requests = plan.requests.size() - r.first_request;
    log::info("{}: {} of {} docs, {}-shot, {} requests{}", spec.name, r.plan.docs.size(),
              r.original_len, r.plan.num_fewshot, r.num_requests,
              r.plan.generative_mc ? " (generative formulation)" : "");
  }
  plan.docs.clear();
}

Endpoint run_endpoint(const RunOptions& o) {
  EndpointOptions eopts;
  eopts.model = o.model;
  if (is_adapter(o.model)) {
    eopts.api_style = o.model;
    eopts.model = o.model_name;
    if (eopts.model.empty())
      for (const char* k : {"model", "pretrained"})
        if (o.model_args.contains(k) && o.model_args[k].is_string()) {
          eopts.model = o.model_args[k].get<std::string>();
          break;
        }
    if (eopts.model.empty())
      throw Error("--model " + o.model + " needs the model id", "--model_name",
                  "add --model_name NAME (or model_args model=NAME)");
    if (o.model == "openai" || o.model == "curator") eopts.api_style = "";
  } else if (!o.model_name.empty()) {
    log::warn("--model_name {} is ignored: --model {} already names the model", o.model_name,
              o.model);
  }
  eopts.base_url = o.base_url;
  eopts.api_key = o.api_key;
  eopts.model_args = o.model_args;
  return resolve_endpoint(eopts);
}

// The chat template rendered here (lm-eval's API models with an HF tokenizer render it
// locally and send text: lm-eval-semantics.md §5): --chat_template FILE, else for a
// completions endpoint the tokenizer's, from model_args tokenizer= (a Hub repo or a local
// folder) or the model id, as lm-eval's TemplateAPI loads AutoTokenizer(tokenizer or model,
// revision=revision). Null for chat endpoints, which apply their own template.
std::shared_ptr<const ChatTemplate> local_chat_template(const RunOptions& o,
                                                        const Endpoint& endpoint) {
  const bool chat_api = endpoint.style == ApiStyle::kChat || endpoint.style == ApiStyle::kAnthropic;
  std::optional<ChatTemplate> t;
  if (!o.chat_template_file.empty()) {
    if (chat_api)
      throw Error(
          "--chat_template renders the prompt here for a completions endpoint, but --model " +
              o.model + " is a chat API, which applies its own template",
          "--chat_template",
          "drop --chat_template, or use --model local-completions with the server's "
          "/v1/completions");
    t = load_chat_template_file(o.chat_template_file, o.chat_template_name);
  } else if (endpoint.style == ApiStyle::kCompletions) {
    auto arg = [&](const char* k) {
      return o.model_args.contains(k) && o.model_args[k].is_string()
                 ? trim(o.model_args[k].get<std::string>())
                 : std::string();
    };
    std::string repo = arg("tokenizer");
    if (repo.empty()) repo = endpoint.model;
    std::error_code ec;
    if (std::filesystem::is_regular_file(repo + "/tokenizer_config.json", ec)) {
      t = load_chat_template_file(repo + "/tokenizer_config.json", o.chat_template_name);
    } else if (!repo.empty() && looks_like_hub_repo(repo)) {
      t = load_hub_chat_template(repo, arg("revision"), o.chat_template_name);
    } else {
      throw Error("--apply_chat_template with --model " + o.model +
                      " renders the model's chat template here, but '" + repo +
                      "' is not a Hugging Face model id to take it from",
                  "--apply_chat_template",
                  "add model_args tokenizer=ORG/NAME (the model's Hub repo), or use "
                  "--chat_template FILE (a Jinja file or a tokenizer_config.json)");
    }
  } else {
    return nullptr;
  }
  log::info("chat template: {} ({} bytes), rendered here", t->origin(), t->source().size());
  return std::make_shared<const ChatTemplate>(std::move(*t));
}

// Probes the endpoint. Loglikelihood scoring needs prompt logprobs and a plain-text prompt;
// where they are missing, multiple-choice tasks switch to their generative formulation
// (popts.mc_generative, unless --mc_formulation loglikelihood) and other loglikelihood tasks
// stop the run with one error saying why and what to do. Returns whether the server
// tokenizes.
bool check_endpoint(const RunOptions& o, const RunPlan& plan, PromptOptions& popts,
                    const Endpoint& endpoint) {
  const bool needs_loglikelihood =
      !plan.ll_names.empty() || (!plan.mc_names.empty() && !popts.mc_generative);
  if (!needs_loglikelihood) {
    probe(endpoint, false, o.timeout_s.value_or(30));
    return false;
  }
  // Why this run cannot have prompt logprobs ("" = it can).
  std::string reason, where = "--model " + o.model, hint;
  bool tokenize = false;
  if (popts.apply_chat_template && !popts.chat_template) {
    reason =
        "with --apply_chat_template the prompt would have to be rendered with the model's chat "
        "template locally, which retort does not do";
    where = "--apply_chat_template";
    hint = "drop --apply_chat_template for these tasks";
  } else if (endpoint.style == ApiStyle::kChat || endpoint.style == ApiStyle::kAnthropic) {
    reason = "a chat-only API cannot give prompt logprobs";
    hint = "use a completions endpoint (e.g. --model local-completions or a hosted_vllm/ model)";
  } else {
    Capabilities caps = probe(endpoint, true, o.timeout_s.value_or(30));
    tokenize = caps.tokenize;
    if (caps.checked_prompt_logprobs && !caps.prompt_logprobs) {
      reason = caps.prompt_logprobs_error.empty() ? "this endpoint does not return them"
                                                  : caps.prompt_logprobs_error;
      where = endpoint.base_url;
      hint = "use a server that echoes prompt logprobs (vLLM, SGLang)";
    }
  }
  if (reason.empty()) return tokenize;
  const bool forced_ll = o.mc_formulation == "loglikelihood";
  std::string refused = plan.ll_names;
  if (!plan.mc_names.empty() && forced_ll) refused += (refused.empty() ? "" : ", ") + plan.mc_names;
  if (!refused.empty())
    throw Error("task(s) " + refused + " need prompt logprobs: " + reason, where,
                hint + (forced_ll && !plan.mc_names.empty()
                            ? ", or --mc_formulation generative for the multiple-choice tasks"
                            : ", or a generative variant of the task"));
  popts.mc_generative = true;
  log::warn(
      "{}: no prompt logprobs here ({}); these multiple-choice tasks run in the generative "
      "formulation: choices lettered in the prompt, the reply's letter scored by exact match "
      "(reported as acc,generative; --mc_formulation loglikelihood refuses instead)",
      plan.mc_names, reason);
  return tokenize;
}

// Engine settings: flags win over model_args. Loglikelihood requests follow lm-eval's
// tokenized_requests (split by token count, prompts as token ids) when the server can
// tokenize, unless model_args says tokenized_requests=False; else they go as text, split
// by text_offset.
ExecOptions exec_options(const RunOptions& o, const Endpoint& endpoint, bool server_tokenizes) {
  ExecOptions eo = exec_options_from_model_args(o.model_args, ExecOptions{});
  bool asked_tokenized = eo.ll_split == "tokenize";
  if (!o.model_args.contains("tokenized_requests") && server_tokenizes) eo.ll_split = "tokenize";
  if (asked_tokenized && !server_tokenizes) {
    log::warn(
        "model_args tokenized_requests=True: {} has no /tokenize endpoint, so prompts go as "
        "text and the continuation is found by text_offset",
        endpoint.server_root());
    eo.ll_split = "offset";
  }
  if (o.concurrency) eo.concurrency = *o.concurrency;
  if (o.max_retries) eo.max_retries = *o.max_retries;
  if (o.timeout_s) eo.timeout_s = *o.timeout_s;
  if (o.stall_timeout_s) eo.stall_timeout_s = *o.stall_timeout_s;
  if (o.rpm) eo.rpm = *o.rpm;
  if (o.tpm) eo.tpm = *o.tpm;
  if (o.stream) eo.stream = true;
  if (o.batch_size != "auto" && !starts_with(o.batch_size, "auto"))
    eo.batch_size = std::stoi(o.batch_size);
  eo.use_cache = !o.no_cache;
  eo.cache_path = o.use_cache;
  return eo;
}

// Scores every task and group over what was answered. A task with failed docs is scored
// over the rest (and marked partial), or not at all under --require_complete.
void score_run(const RunOptions& o, RunPlan& plan, const Selection& selection,
               const PromptOptions& popts, std::vector<Response>& responses, RunResult& run) {
  std::unique_ptr<VerdictCache> verdicts;
  if (!o.no_cache)
    for (const auto& r : plan.runs)
      if (has_code_metric(r)) {
        verdicts = open_verdict_cache(o.use_cache);
        break;
      }
  for (auto& r : plan.runs) {
    TaskResult tr = score_task_run(r, responses, popts, o.bootstrap_iters, verdicts.get());
    if (tr.failed_samples > 0) {
      run.complete = false;
      if (o.require_complete) {
        tr.metrics.clear();
        tr.score_withheld = true;
      }
    }
    run.stats.truncated += tr.truncated;
    count_reasoning(tr, run.stats);
    run.tasks.push_back(std::move(tr));
  }
  if (run.interrupted) run.complete = false;
  for (const auto& root : selection.roots)
    add_groups(root, run, run.groups, plan.runs, o.require_complete);
}

// lm-eval's `config` block of the results file.
Json run_config(const RunOptions& o) {
  Json cfg = Json::object();
  cfg["model"] = o.model;
  cfg["model_args"] = o.model_args_text;
  cfg["batch_size"] = o.batch_size;
  cfg["batch_sizes"] = Json::array();
  cfg["device"] = nullptr;
  cfg["use_cache"] =
      o.no_cache ? Json(nullptr) : Json(o.use_cache.empty() ? "default" : o.use_cache);
  cfg["limit"] = o.limit ? Json(*o.limit) : Json(nullptr);
  cfg["bootstrap_iters"] = o.bootstrap_iters;
  cfg["gen_kwargs"] = o.gen_kwargs.empty() ? Json(nullptr) : o.gen_kwargs;
  const char* seed_names[] = {"random_seed", "numpy_seed", "torch_seed", "fewshot_seed"};
  for (int i = 0; i < 4; ++i) cfg[seed_names[i]] = o.seeds[i] ? Json(*o.seeds[i]) : Json(nullptr);
  return cfg;
}

// Tables on stdout, files under --output_path, and the exit status.
int report_run(const RunOptions& o, const RunResult& run, const std::string& model) {
  std::string table = format_score_table(run);
  std::fprintf(stdout, "%s\n", table.c_str());
  std::fprintf(stdout, "%s\n", format_stats_table(run.stats, model).c_str());
  if (!o.output_path.empty()) {
    OutputPaths paths = write_outputs(run, o.output_path, o.log_samples || o.predict_only);
    std::fprintf(stdout, "results: %s\n", paths.results_json.c_str());
    for (const auto& p : paths.samples_jsonl) std::fprintf(stdout, "samples: %s\n", p.c_str());
    if (!paths.html.empty()) std::fprintf(stdout, "report: %s\n", paths.html.c_str());
  }
  std::fflush(stdout);
  const RunStats& stats = run.stats;
  if (run.interrupted) {
    std::fprintf(stderr,
                 "interrupted: %lld of %lld requests answered; the results above and any files "
                 "written are partial. Run the same command again to resume; answered requests "
                 "come from the cache.\n",
                 static_cast<long long>(stats.done() - stats.interrupted),
                 static_cast<long long>(stats.total));
    return kExitInterrupted;
  }
  if (stats.failed > 0 || !run.complete) {
    std::fprintf(stderr,
                 "warning: %lld request(s) failed; their samples are marked failed and left out "
                 "of the scores (exit status 3). Rerun to retry them; answered requests come "
                 "from the cache.\n",
                 static_cast<long long>(stats.failed));
    return kExitSomeFailed;
  }
  return kExitOk;
}

}  // namespace

Json replan_json(const RunOptions& o, const PromptOptions& popts) {
  namespace fs = std::filesystem;
  auto absolute = [](const std::string& p) {
    std::error_code ec;
    return fs::exists(p, ec) ? fs::absolute(p).lexically_normal().string() : p;
  };
  Json j = Json::object();
  Json tasks = Json::array();
  for (const auto& t : o.tasks) tasks.push_back(absolute(t));
  j["tasks"] = tasks;
  Json include = Json::array();
  for (const auto& d : o.include_path) include.push_back(absolute(d));
  j["include_path"] = include;
  j["num_fewshot"] = o.num_fewshot ? Json(*o.num_fewshot) : Json();
  j["repeats"] = o.repeats ? Json(*o.repeats) : Json();
  j["max_tokens"] = o.max_tokens ? Json(*o.max_tokens) : Json();
  j["limit"] = o.limit ? Json(*o.limit) : Json();
  j["gen_kwargs"] = o.gen_kwargs;
  j["apply_chat_template"] = popts.apply_chat_template;
  j["fewshot_as_multiturn"] = popts.fewshot_as_multiturn;
  j["mc_generative"] = popts.mc_generative;
  if (popts.chat_template) {
    // The template rendered here, as a tokenizer config (its text and special tokens).
    Json config = popts.chat_template->special_tokens().is_object()
                      ? popts.chat_template->special_tokens()
                      : Json::object();
    config["chat_template"] = popts.chat_template->source();
    j["chat_template"] = Json{{"config", config}, {"origin", popts.chat_template->origin()}};
  }
  j["system_instruction"] = o.system_instruction;
  j["predict_only"] = o.predict_only;
  j["require_complete"] = o.require_complete;
  Json seeds = Json::array();
  for (const auto& seed : o.seeds) seeds.push_back(seed ? Json(*seed) : Json());
  j["seeds"] = seeds;
  j["bootstrap_iters"] = o.bootstrap_iters;
  j["use_cache"] = o.use_cache;
  j["no_cache"] = o.no_cache;
  return j;
}

namespace {

// RunOptions and PromptOptions from a replan_json object. Throws Error naming the field.
std::pair<RunOptions, PromptOptions> options_from_replan(const Json& j) {
  const std::string where = "the run's recorded plan";
  RunOptions o;
  try {
    for (const auto& t : j.at("tasks")) o.tasks.push_back(t.get<std::string>());
    for (const auto& d : j.at("include_path")) o.include_path.push_back(d.get<std::string>());
    if (!j.at("num_fewshot").is_null()) o.num_fewshot = j["num_fewshot"].get<int>();
    if (!j.at("repeats").is_null()) o.repeats = j["repeats"].get<int>();
    if (!j.at("max_tokens").is_null()) o.max_tokens = j["max_tokens"].get<int64_t>();
    if (!j.at("limit").is_null()) o.limit = j["limit"].get<double>();
    o.gen_kwargs = j.at("gen_kwargs");
    o.apply_chat_template = j.at("apply_chat_template").get<bool>();
    o.fewshot_as_multiturn = j.at("fewshot_as_multiturn").get<bool>();
    o.system_instruction = j.at("system_instruction").get<std::string>();
    o.require_complete = j.at("require_complete").get<bool>();
    for (size_t i = 0; i < 4 && i < j.at("seeds").size(); ++i)
      o.seeds[i] = j["seeds"][i].is_null() ? std::nullopt
                                           : std::optional<int64_t>(j["seeds"][i].get<int64_t>());
    o.bootstrap_iters = j.at("bootstrap_iters").get<int64_t>();
    o.use_cache = j.at("use_cache").get<std::string>();
    o.no_cache = j.at("no_cache").get<bool>();
  } catch (const Json::exception& e) {
    throw Error(std::string("cannot read it: ") + e.what(), where,
                "the run was recorded by another retort; rerun it to rescore");
  }
  // Rescoring gives scores also to a run that only collected predictions.
  o.predict_only = false;
  PromptOptions popts = prompt_options(o);
  popts.mc_generative = j.value("mc_generative", false);
  if (j.contains("chat_template") && j["chat_template"].is_object()) {
    const Json& t = j["chat_template"];
    popts.chat_template = std::make_shared<const ChatTemplate>(ChatTemplate::from_tokenizer_config(
        t.value("config", Json::object()), t.value("origin", std::string("the recorded run"))));
  }
  return {std::move(o), std::move(popts)};
}

}  // namespace

RunResult rescore_pipeline(const Json& plan_json, const RescoreOptions& ro,
                           const StoredResponses& stored) {
  auto [o, popts] = options_from_replan(plan_json);
  o.include_path.insert(o.include_path.begin(), ro.include_path.begin(), ro.include_path.end());
  o.confirm_run_unsafe_code = ro.confirm_run_unsafe_code;
  const Selection selection = select_tasks(o);
  RunPlan plan = plan_run(o, selection, popts);
  flatten_requests(o, plan, popts);
  // Every planned request answered from what the run stored, in plan order.
  std::vector<Response> responses(plan.requests.size());
  for (const auto& r : plan.runs) {
    size_t next = r.first_request;
    for (const auto& pd : r.plan.docs) {
      std::vector<RequestKind> kinds;
      for (const auto& sr : pd.sample.requests) kinds.push_back(sr.kind);
      std::vector<Response> got = stored(r.spec->name, pd.sample, kinds, r.plan.repeats);
      const size_t want = kinds.size() * static_cast<size_t>(r.plan.repeats);
      if (got.size() != want)
        throw Error(fmt::format("task '{}', doc {}: the run stored {} responses, the plan has {} "
                                "requests",
                                r.spec->name, pd.sample.doc_id, got.size(), want),
                    "retort rescore", "the task's requests changed since the run; rerun it");
      for (auto& resp : got) responses[next++] = std::move(resp);
    }
  }
  RunResult run;
  run.plan = replan_json(o, popts);
  run.system_instruction = o.system_instruction;
  run.fewshot_as_multiturn = popts.fewshot_as_multiturn;
  if (popts.apply_chat_template)
    run.chat_template = popts.chat_template ? popts.chat_template->source() : "";
  score_run(o, plan, selection, popts, responses, run);
  return run;
}

int run_pipeline(const RunOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const double start_unix =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  check_run_options(o);
  PromptOptions popts = prompt_options(o);
  popts.mc_generative = o.mc_formulation == "generative";
  const Selection selection = select_tasks(o);
  // A chat template rendered here shapes every prompt, so it is settled before planning.
  std::optional<Endpoint> early_endpoint;
  if (popts.apply_chat_template) {
    early_endpoint = run_endpoint(o);
    popts.chat_template = local_chat_template(o, *early_endpoint);
  } else if (!o.chat_template_file.empty()) {
    throw Error("--chat_template needs --apply_chat_template", "--chat_template");
  }
  RunPlan plan = plan_run(o, selection, popts);
  const Endpoint endpoint = early_endpoint ? *early_endpoint : run_endpoint(o);
  const bool server_tokenizes = check_endpoint(o, plan, popts, endpoint);
  flatten_requests(o, plan, popts);
  const ExecOptions eo = exec_options(o, endpoint, server_tokenizes);
  const std::vector<ModelPrice> prices =
      o.price_table.empty() ? builtin_prices() : load_price_table(o.price_table);

  RunStats stats;
  std::vector<Response> responses;
  {
    Progress progress(plan.runs, plan.task_of);
    responses = execute(endpoint, plan.requests, eo, &progress, &stats);
    stats.series = progress.finish(stats);
  }

  // Score what was answered, also when interrupted: the partial results are written
  // (marked interrupted) so the work is visible, and the same command resumes.
  RunResult run;
  run.interrupted = interrupted();
  run.start_time = start_unix;
  run.model_name = endpoint.model;
  run.model_source = o.model;
  // lm-eval records the template text ("" where the server applies its own).
  if (popts.apply_chat_template)
    run.chat_template = popts.chat_template ? popts.chat_template->source() : "";
  run.system_instruction = o.system_instruction;
  run.fewshot_as_multiturn = popts.fewshot_as_multiturn;
  run.predict_only = o.predict_only;
  run.stats = stats;
  run.stats.rpm_limit = eo.rpm;
  run.stats.tpm_limit = eo.tpm;
  run.stats.local_server = is_local_url(endpoint.base_url);
  if (const ModelPrice* price = find_price(prices, endpoint.model)) {
    run.stats.price_model = price->prefix;
    run.stats.price_input_per_mtok = price->input_per_mtok;
    run.stats.price_output_per_mtok = price->output_per_mtok;
  }
  run.plan = replan_json(o, popts);
  score_run(o, plan, selection, popts, responses, run);
  run.config = run_config(o);
  run.total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int code = report_run(o, run, endpoint.model);
  record_run(o, run, endpoint.base_url,
             run.interrupted ? "interrupted"
             : run.complete  ? "complete"
                             : "partial");
  // The process exits right after this: freeing every sample, response and planned request
  // one by one cost 5-10% of a whole run's CPU (bench/run_bench.py), for memory the exit
  // returns anyway. So they are handed to a holder that is never destroyed.
  struct Leftovers {
    RunResult run;
    RunPlan plan;
    std::vector<Response> responses;
  };
  [[maybe_unused]] static Leftovers* kept = nullptr;  // reachable: leak checkers stay quiet
  kept = new Leftovers{std::move(run), std::move(plan), std::move(responses)};
  return code;
}

}  // namespace retort::cli
