// Scoring: what happens to responses after the engine answered them, with lm-eval's exact
// semantics (see docs/metrics.md and lm-eval-semantics.md §8-§10).
//
//   responses ──filter pipeline──► filtered_resps ──per-doc metrics──► metric_values
//   metric_values over all docs ──aggregation──► MetricValue (value, stderr)
//   leaf TaskResults ──group aggregation──► MetricValue of a group
//
// Filters and metrics are configured from a task's `filter_list` / `metric_list` (JSON as
// read from YAML). Configuration mistakes throw retort::Error naming the field. Per-doc
// metric values are JSON (a number, or a list such as [gold, pred] or [ll, words]) so that
// they can be written to samples files as lm-eval does; aggregation converts them once to
// plain numbers and never touches JSON inside the bootstrap loop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/output_type.h"
#include "core/run_result.h"
#include "util/json.h"

namespace retort {

// The scorer's version: bump it when a change under scoring/ can change a score of the same
// responses (a filter, a metric, answer equivalence). Part of every task's evaluation
// version, so `retort compare` and `retort report` can say that two runs were scored
// differently, and `retort rescore` brings an old run up to date.
constexpr const char* kScorerVersion = "2";  // 2: BLEU is 0 when no n-gram matches (sacrebleu)

// ---------------------------------------------------------------------------- filters

// One step of a pipeline, e.g. {function: regex, regex_pattern: ..., group_select: -1}.
struct FilterStep {
  std::string function;  // take_first, take_first_k, majority_vote, regex, ...
  // regex / multi_choice_regex
  std::string regex_pattern = R"(#### (\-?[0-9\.\,]+))";
  int64_t group_select = 0;
  std::string fallback = "[invalid]";
  bool ignore_case = false;                    // multi_choice_regex
  bool ignore_punctuation = false;             // multi_choice_regex (Unicode category P*)
  std::vector<std::string> regexes_to_ignore;  // multi_choice_regex
  // take_first_k
  int64_t k = 0;
  // code_extract (code_exec.h extract_code)
  std::string style = "fenced";
  // map
  Json mapping_dict = Json::object();
  Json default_value = nullptr;
};

// A named filter pipeline: one `filter_list` entry. Its output is `filtered_resps[name]`
// and the metrics computed from it are reported as "metric,name".
struct FilterPipeline {
  std::string name = "none";
  std::vector<FilterStep> steps;
};

// The pipeline lm-eval applies when a task has no filter_list: "none" = [take_first].
FilterPipeline default_filter();
// One filter_list entry: {name: ..., filter: [{function: ..., ...}, ...]}. where names the
// field in errors, e.g. "tasks/gsm8k.yaml: filter_list[0]".
FilterPipeline parse_filter(const Json& entry, const std::string& where);
// A whole filter_list; null (absent) gives [default_filter()].
std::vector<FilterPipeline> parse_filter_list(const Json& filter_list, const std::string& where);

// Applies a pipeline to one request's responses (one per repeat, usually strings).
// Returns a single value after take_first / majority_vote-then-take_first, else a list.
// multi_choice_regex needs the doc's answer choices: `choices` when given, else
// doc["choices"] as lm-eval reads it. Throws Error when regex's group_select is out of
// range for a response (lm-eval raises IndexError there). cut_off marks, per response, the
// replies that stopped at the token limit (finish_reason "length"): math_answer as the first
// step takes only an explicit final answer from those (math_equiv.h extract_answer).
Json apply_filter(const FilterPipeline& pipeline, const Json& resps_for_doc, const Doc& doc,
                  const std::vector<std::string>* choices = nullptr,
                  const std::vector<bool>* cut_off = nullptr);

// Names of the filter functions retort implements.
const std::vector<std::string>& supported_filters();

// ---------------------------------------------------------------------------- metrics

// One `metric_list` entry, resolved against the registry defaults.
struct MetricSpec {
  std::string name;         // acc, acc_norm, exact_match, bleu, ...
  std::string aggregation;  // mean, perplexity, f1, ...
  bool higher_is_better = true;
  // Everything else in the entry, passed to the metric (exact_match: ignore_case,
  // ignore_punctuation, ignore_numbers, regexes_to_ignore).
  Json kwargs = Json::object();
};

// lm-eval's defaults for an output type (§1): MC acc, acc_norm; generate_until
// exact_match; loglikelihood perplexity, acc; rolling word/byte_perplexity, bits_per_byte.
std::vector<MetricSpec> default_metrics(OutputType type);
// A `metric_list` entry {metric, aggregation?, higher_is_better?, **kwargs}.
// hook_metric: the name is one the task's process_results hook produces (an unknown name is
// then accepted, aggregated by mean unless the entry says otherwise).
MetricSpec parse_metric(const Json& entry, const std::string& where, bool hook_metric = false);
// A whole metric_list; null (absent) gives default_metrics(type).
// hook_metrics: the metrics a task's process_results hook produces (process_results_metrics),
// accepted whatever the output type; nullptr when the task has no hook.
std::vector<MetricSpec> parse_metric_list(const Json& metric_list, OutputType type,
                                          const std::string& where,
                                          const std::vector<std::string>* hook_metrics = nullptr);
// The registry's default aggregation / direction for a metric name; throw Error listing
// the supported metrics for an unknown name.
std::string default_aggregation(const std::string& metric, const std::string& where = "");
bool default_higher_is_better(const std::string& metric, const std::string& where = "");
const std::vector<std::string>& supported_metrics();
const std::vector<std::string>& supported_aggregations();

// Per-doc inputs for a multiple_choice doc (one loglikelihood request per choice).
struct MultipleChoiceInput {
  std::vector<double> lls;           // one per choice (conditional)
  std::vector<bool> is_greedy;       // one per choice
  std::vector<std::string> choices;  // doc_to_choice (the contexts for multiple_input)
  Json gold;                         // int index, choice string, or list of int indices
  bool multiple_target = false;
  std::vector<double> lls_unconditional;  // ("", choice) lls, for acc_mutual_info
};

// Each function returns an object metric name -> per-doc value, in lm-eval's key order,
// holding only the metrics listed in specs that the output type produces.
Json score_multiple_choice(const std::vector<MetricSpec>& specs, const MultipleChoiceInput& in);
Json score_loglikelihood(const std::vector<MetricSpec>& specs, double ll, bool is_greedy);
// text is doc_to_target (the scored text): words = len(re.split(r"\s+", text)), bytes =
// its UTF-8 length.
Json score_loglikelihood_rolling(const std::vector<MetricSpec>& specs, double ll,
                                 const std::string& text);
// result: the filtered response (usually a string). gold: doc_to_target. choices: the
// doc's choices when the task sets doc_to_choice (then gold is an index into them).
Json score_generate(const std::vector<MetricSpec>& specs, const Json& result, const Json& gold,
                    bool multiple_target, const std::vector<std::string>* choices = nullptr);

// Generative multiple choice (docs/tasks.md): the letter ("A".."Z", within the number of
// choices) a reply names, or "" when it names none. In order: the last "answer is (X)" /
// "Answer: X" statement; a reply that is the letter ("B", "(B)", "B.", "**B**") or starts
// with it marked as one ("B. text", "(B) text", "B) text", "B: text"); a reply that is exactly one
// choice's text (ignoring case, surrounding space, a final period). Such a doc scores acc 1 when
// the letter is a gold letter; no letter scores 0 and counts in no_answer.
std::string extract_choice_letter(const std::string& reply,
                                  const std::vector<std::string>& choices);

// Native process_results hooks of lm-eval task files (scoring/task_hooks.cc), by the key
// src/tasks resolves `process_results: !function NAME` to. results is lm-eval's list:
// multiple_choice [[ll, is_greedy], ...]; generate_until [filtered reply]. Returns the doc's
// metric values (an object), or throws Error when the doc lacks what the hook reads.
using ProcessResultsHook = Json (*)(const Doc& doc, const Json& results);
const ProcessResultsHook* find_process_results_hook(const std::string& key);
// The metric names a hook returns (nullptr for an unknown key). A task's metric_list may
// name them (lm-eval accepts any name there when process_results is custom); their
// aggregation defaults to mean.
const std::vector<std::string>* process_results_metrics(const std::string& key);

// exact_match (lm-eval's exact_match_hf_evaluate) on one pair: regexes_to_ignore,
// ignore_case, ignore_punctuation (ASCII), ignore_numbers, then ==. kwargs as in MetricSpec.
bool exact_match(const std::string& prediction, const std::string& reference,
                 const Json& kwargs = Json::object());

// ------------------------------------------------------------------------ aggregation

constexpr int64_t kDefaultBootstrapIters = 100000;

// Aggregates one metric under one filter over per-doc values (doc order) into a value and
// stderr (nullopt = "N/A"): mean stderr for mean, bootstrap for median, f1, mcc,
// perplexity, bleu (bleu/chrf/ter capped at 100 iterations), N/A otherwise.
MetricValue aggregate_metric(const MetricSpec& spec, const std::string& filter,
                             const std::vector<Json>& items,
                             int64_t bootstrap_iters = kDefaultBootstrapIters);

// Aggregates every (filter, metric) present in samples[*].filtered[*].metric_values, filter
// order then metric order as the first sample has them. Samples lacking a metric's value
// (e.g. failed ones) are left out of that metric.
std::vector<MetricValue> aggregate_task(const std::vector<MetricSpec>& specs,
                                        const std::vector<Sample>& samples,
                                        int64_t bootstrap_iters = kDefaultBootstrapIters);

// One `aggregate_metric_list` entry of a group.
struct GroupMetricSpec {
  std::string metric;
  std::string aggregation = "mean";  // only "mean" exists in lm-eval
  bool weight_by_size = true;
  std::vector<std::string> filter_list = {"none"};
};
std::vector<GroupMetricSpec> parse_aggregate_metric_list(const Json& list,
                                                         const std::string& where);

// One leaf task's score for a group metric.
struct GroupMember {
  double value = 0.0;
  std::optional<double> stderr_value;
  int64_t size = 0;  // sample_len
};
// Σ(v·w)/Σw with w = size (or 1 when !weight_by_size); pooled stderr
// sqrt(Σ(n_i-1)·se_i²·n_i/(Σn_i-k)/Σn_i), N/A when any member's is.
MetricValue aggregate_group_metric(const std::string& metric, const std::string& filter,
                                   const std::vector<GroupMember>& members, bool weight_by_size,
                                   bool higher_is_better);
// Group metrics over the leaf tasks (recursively collected by the caller): for each spec
// and filter, the leaves that report "metric,filter" are pooled.
std::vector<MetricValue> aggregate_group(const std::vector<GroupMetricSpec>& specs,
                                         const std::vector<const TaskResult*>& leaves);

}  // namespace retort
