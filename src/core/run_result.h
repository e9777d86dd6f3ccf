// What a finished (or interrupted) run produced, as plain values: per-sample records,
// per-task and per-group scores, and the run's configuration and statistics. The pipeline
// (cli/run) fills a RunResult; scoring fills the metric values; report/ writes files and
// tables from it and never calls back into earlier stages.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/request.h"
#include "core/stats.h"
#include "util/json.h"

namespace retort {

// One request of a sample as lm-eval logs it, with one Response per repeat.
struct SampleRequest {
  // What was asked: decides how `resps` is logged (generate: the text; loglikelihood:
  // [ll, is_greedy]; rolling: ll).
  RequestKind kind = RequestKind::kGenerate;
  // lm-eval `arguments` entry: {"arg_0": ctx, "arg_1": continuation | gen_kwargs}. For chat
  // requests arg_0 is the JSON string of the message list. A planned generate request keeps
  // its arg_1 (the task's generation kwargs) apart, in gen_kwargs: one value the task's
  // samples share instead of a JSON copy in each (use logged_arguments() for the whole entry).
  Json arguments = Json::object();
  SharedJson gen_kwargs;  // arg_1 of a planned generate request; unset otherwise
  std::vector<Response> responses;

  // arguments as lm-eval logs them: with arg_1 = gen_kwargs where that is kept apart.
  Json logged_arguments() const {
    if (!gen_kwargs.has_value() || !arguments.is_object() || arguments.contains("arg_1"))
      return arguments;
    Json a = arguments;
    a["arg_1"] = *gen_kwargs;
    return a;
  }
};

// The result of one filter pipeline on one sample.
struct FilteredSample {
  std::string filter = "none";
  Json filtered_resps;                  // what metrics were computed on
  Json metric_values = Json::object();  // metric name -> per-doc value (number or list)
  // What the samples log adds under "retort" for this filter: for a math_answer pipeline,
  // per repeat the extraction rule, both normalised forms and the verdict; null when none.
  Json details;
};

struct Sample {
  int64_t doc_id = 0;
  Doc doc;
  Json target;  // doc_to_target result (string, int or list)
  std::vector<SampleRequest> requests;
  std::vector<FilteredSample> filtered;  // one per filter in filter_list order
  std::string doc_hash, prompt_hash, target_hash;
  bool failed = false;  // some request of this sample failed
};

struct MetricValue {
  std::string metric;  // "acc", "exact_match", ...
  std::string filter;  // "none", "strict-match", ...
  double value = 0.0;
  std::optional<double> stderr_value;  // nullopt = "N/A"
  bool higher_is_better = true;
};

struct TaskResult {
  std::string name;
  std::string alias;
  int64_t sample_len = 0;    // docs evaluated (after --limit)
  int64_t original_len = 0;  // docs in the split
  std::vector<MetricValue> metrics;
  Json config = Json::object();  // the task's resolved config, lm-eval `configs` entry
  Json version = "Yaml";         // metadata.version, else "Yaml"
  // report's eval_version(config, scorer version): same value = scored the same way.
  std::string eval_version;
  int num_fewshot = 0;
  std::vector<Sample> samples;
  int64_t failed_samples = 0;  // samples with a failed request: left out of every metric
  // --require_complete and some sample failed: `metrics` is empty on purpose.
  bool score_withheld = false;
  // Generated replies scored, and of them those cut at the token limit (finish_reason
  // "length") and, for tasks whose answers are extracted (math), those with no answer.
  int64_t replies = 0, truncated = 0;
  std::optional<int64_t> no_answer;
  // Docs of the split left out before planning, by reason (e.g. DS-1000 problems whose
  // library is not installed); counted in the results and the score table.
  std::vector<std::pair<std::string, int64_t>> skipped;
  // Keys written beside lm-eval's in this task's results entry under other harnesses'
  // names (Evalchemy's accuracy_avg, accuracy_std_err, run_stats, ...).
  Json extra_results = Json::object();

  // Docs the metrics were computed over.
  int64_t scored_len() const { return sample_len - failed_samples; }
};

struct GroupResult {
  std::string name;
  std::string alias;
  std::vector<std::string> subtasks;  // direct children (tasks or groups), in order
  std::vector<MetricValue> metrics;   // empty when the group does not aggregate
  int64_t sample_len = 0;
  int num_fewshot = 0;
  Json version = Json();        // metadata.version when given
  int64_t failed_samples = 0;   // over the group's leaf tasks
  bool score_withheld = false;  // some leaf's score was withheld (--require_complete)
};

struct RunResult {
  std::vector<TaskResult> tasks;
  std::vector<GroupResult> groups;
  // lm-eval `config` block: model, model_args (secrets removed), batch_size, limit,
  // bootstrap_iters, gen_kwargs, seeds, ...
  Json config = Json::object();
  std::string model_name;    // for the output directory name (sanitised by report/)
  std::string model_source;  // lm-eval `model_source`: the --model value ("local-completions")
  // The chat template applied: nullopt when --apply_chat_template is off, "" when the server
  // applies its own (tokenizer-less APIs), else the template text.
  std::optional<std::string> chat_template;
  std::optional<std::string> git_hash;  // `git describe --always` of the cwd, when known
  std::string system_instruction;
  bool fewshot_as_multiturn = false;
  bool predict_only = false;
  double start_time = 0.0;  // unix seconds
  double total_seconds = 0.0;
  RunStats stats;
  // How to plan this run again without a server (cli's replan_json: tasks, few-shot, chat
  // settings, limit, ...), kept in the results database for `retort rescore`.
  Json plan = Json::object();
  bool complete = true;  // every request answered
  // Stopped by a signal before every request was answered: what was scored is written,
  // marked interrupted; the same command resumes from the cache.
  bool interrupted = false;
};

}  // namespace retort
