// `retort run` flags: the native spellings and the ones people bring from lm-eval and
// Evalchemy (`--model_args`, `--output_path`, `--apply_chat_template True`, ...). Both
// `--flag value` and `--flag=value` work, and `_` and `-` are interchangeable in names.
// `--config FILE.yaml` supplies defaults (keys are flag names); flags on the command line
// win.
//
// Why `run` has its own parser while the other commands use CLI11: users paste lm-eval and
// Evalchemy command lines here, which need `_`/`-` interchangeable in every name, optional
// Python-style booleans (`--apply_chat_template True`, or no value), dozens of accepted-but-
// ignored flags, `--config` defaults under the command line, and an unknown flag answered
// with the closest real one. CLI11 does each with per-option workarounds; one table here is
// shorter and keeps the rules in one place.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "util/json.h"

namespace retort::cli {

struct RunOptions {
  std::string model;       // --model: prefixed model name or an lm-eval/Evalchemy adapter
  std::string model_name;  // --model_name (with an adapter)
  std::string model_args_text;
  Json model_args = Json::object();
  std::string base_url, api_key;
  std::vector<std::string> tasks;
  std::vector<std::string> include_path;
  std::optional<int> num_fewshot;
  std::optional<int> repeats;         // --repeats: samples per doc (Evalchemy's n_repeat)
  std::optional<int64_t> max_tokens;  // --max_tokens (Evalchemy): max_gen_toks for every task
  std::optional<double> limit;        // < 1: fraction of docs per task; >= 1: docs per task
  std::string limit_text;
  std::string batch_size = "1";
  Json gen_kwargs = Json::object();
  std::string gen_kwargs_text;
  bool apply_chat_template = false;
  std::string chat_template_name;  // --apply_chat_template NAME (a named template)
  std::string chat_template_file;  // --chat_template FILE
  // --mc_formulation: how multiple_choice tasks are scored: "auto" (loglikelihood where the
  // endpoint gives prompt logprobs, else generative), "loglikelihood" or "generative".
  std::string mc_formulation = "auto";
  std::string system_instruction;
  std::optional<bool> fewshot_as_multiturn;
  std::string output_path;
  bool log_samples = false;
  bool predict_only = false;
  bool require_complete = false;         // no score for a task with failed docs
  bool confirm_run_unsafe_code = false;  // code tasks may execute generated programs
  // python, numpy, torch, fewshot seeds (lm-eval: 0,1234,1234,1234); nullopt = None.
  std::optional<int64_t> seeds[4] = {0, 1234, 1234, 1234};
  std::string use_cache;  // cache path ("" = default location)
  bool no_cache = false;
  std::string db;      // --db: results database (file or postgresql:// URL); "" = default
  bool no_db = false;  // --no-db: record nothing
  std::optional<int> concurrency;
  std::optional<int> max_retries;
  std::optional<double> timeout_s;
  std::optional<double> stall_timeout_s;  // streamed calls: no bytes for this long fails
  std::optional<double> rpm, tpm;         // client-side requests / tokens per minute
  bool stream = false;                    // stream generate calls (SSE): TTFT per request
  std::string price_table;  // --price_table FILE: prices per model prefix ahead of the built-in
  int64_t bootstrap_iters = 100000;
  std::string verbosity = "INFO";
  bool show_help = false;
  std::vector<std::string> ignored;  // accepted for compatibility, no effect (warned)
};

// Parses argv after "run". Throws retort::Error (exit 2) naming the flag.
RunOptions parse_run_options(const std::vector<std::string>& args);

std::string run_help();

}  // namespace retort::cli
