#include "cli/run_options.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <map>

#include "prompt/prompt.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace retort::cli {

namespace {

enum class Arity { kValue, kOptionalBool, kFlag };

struct FlagDef {
  const char* name;  // canonical, with underscores
  Arity arity;
};

const FlagDef kFlags[] = {
    {"model", Arity::kValue},
    {"model_name", Arity::kValue},
    {"model_args", Arity::kValue},
    {"base_url", Arity::kValue},
    {"api_key", Arity::kValue},
    {"tasks", Arity::kValue},
    {"include_path", Arity::kValue},
    {"config", Arity::kValue},
    {"num_fewshot", Arity::kValue},
    {"repeats", Arity::kValue},
    {"max_tokens", Arity::kValue},
    {"limit", Arity::kValue},
    {"batch_size", Arity::kValue},
    {"gen_kwargs", Arity::kValue},
    {"apply_chat_template", Arity::kOptionalBool},
    {"chat_template", Arity::kValue},
    {"mc_formulation", Arity::kValue},
    {"system_instruction", Arity::kValue},
    {"fewshot_as_multiturn", Arity::kOptionalBool},
    {"output_path", Arity::kValue},
    {"log_samples", Arity::kOptionalBool},
    {"predict_only", Arity::kOptionalBool},
    {"require_complete", Arity::kOptionalBool},
    {"confirm_run_unsafe_code", Arity::kOptionalBool},
    {"seed", Arity::kValue},
    {"use_cache", Arity::kValue},
    {"no_cache", Arity::kOptionalBool},
    {"db", Arity::kValue},
    {"no_db", Arity::kOptionalBool},
    {"concurrency", Arity::kValue},
    {"max_retries", Arity::kValue},
    {"timeout", Arity::kValue},
    {"stall_timeout", Arity::kValue},
    {"rpm", Arity::kValue},
    {"tpm", Arity::kValue},
    {"stream", Arity::kOptionalBool},
    {"price_table", Arity::kValue},
    {"bootstrap_iters", Arity::kValue},
    {"verbosity", Arity::kValue},
    {"help", Arity::kFlag},
    // Accepted for compatibility with lm-eval / Evalchemy command lines; no effect here.
    {"max_batch_size", Arity::kValue},
    {"device", Arity::kValue},
    {"trust_remote_code", Arity::kOptionalBool},
    {"write_out", Arity::kOptionalBool},
    {"show_config", Arity::kOptionalBool},
    {"cache_requests", Arity::kValue},
    {"check_integrity", Arity::kOptionalBool},
    {"wandb_args", Arity::kValue},
    {"hf_hub_log_args", Arity::kValue},
    {"skip_eval", Arity::kOptionalBool},
    {"annotator_model", Arity::kValue},
    {"debug", Arity::kOptionalBool},
};

const std::map<std::string, std::string> kShort = {
    {"-o", "output_path"}, {"-s", "log_samples"}, {"-h", "help"},       {"-t", "tasks"},
    {"-c", "config"},      {"-m", "model"},       {"-b", "batch_size"}, {"-v", "verbosity"},
};

std::optional<bool> bool_literal(const std::string& v) {
  std::string l = to_lower(v);
  if (l == "true" || l == "1" || l == "yes" || l == "on") return true;
  if (l == "false" || l == "0" || l == "no" || l == "off") return false;
  return std::nullopt;
}

const FlagDef* find_flag(const std::string& name) {
  for (const auto& f : kFlags)
    if (name == f.name) return &f;
  return nullptr;
}

std::vector<std::string> flag_names() {
  std::vector<std::string> out;
  for (const auto& f : kFlags) out.push_back(std::string("--") + f.name);
  return out;
}

int parse_int(const std::string& v, const std::string& flag, int min_value) {
  try {
    size_t pos = 0;
    long n = std::stol(v, &pos);
    if (pos == v.size() && n >= min_value) return static_cast<int>(n);
  } catch (const std::exception&) {
  }
  throw Error("'" + v + "' is not a valid value", "--" + flag,
              "give a whole number >= " + std::to_string(min_value));
}

// A finite number > 0 (>= 0 with zero_ok); else an error saying what the flag takes.
double parse_number(const std::string& v, const std::string& flag, const std::string& what,
                    bool zero_ok) {
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end || !std::isfinite(d) || d < 0 || (d == 0 && !zero_ok))
    throw Error("'" + v + "' is not " + what, "--" + flag);
  return d;
}

std::string yaml_scalar_to_arg(const YAML::Node& n) {
  if (n.IsScalar()) return n.Scalar();
  if (n.IsSequence()) {
    std::vector<std::string> parts;
    for (const auto& x : n) parts.push_back(yaml_scalar_to_arg(x));
    return join(parts, ",");
  }
  if (n.IsMap()) {
    std::vector<std::string> parts;
    for (auto it = n.begin(); it != n.end(); ++it)
      parts.push_back(it->first.Scalar() + "=" + yaml_scalar_to_arg(it->second));
    return join(parts, ",");
  }
  return "";
}

// --config FILE.yaml: keys are flag names; turned into "--key value" pairs.
std::vector<std::string> config_args(const std::string& path) {
  std::string text = read_file(path);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw Error("YAML syntax error: " + e.msg, path + ":" + std::to_string(e.mark.line + 1));
  }
  if (root.IsNull()) return {};
  if (!root.IsMap()) throw Error("a --config file must be a mapping of flag names to values", path);
  std::vector<std::string> out;
  for (auto it = root.begin(); it != root.end(); ++it) {
    std::string key = it->first.Scalar();
    std::string canon = key;
    for (auto& c : canon)
      if (c == '-') c = '_';
    if (!find_flag(canon) || canon == "config") {
      auto close = closest_matches("--" + canon, flag_names(), 1);
      throw Error("unknown key '" + key + "'",
                  path + ":" + std::to_string(it->first.Mark().line + 1),
                  close.empty() ? "keys are `retort run` flag names"
                                : "did you mean '" + close[0].substr(2) + "'?");
    }
    if (it->second.IsNull()) continue;
    out.push_back("--" + canon);
    out.push_back(yaml_scalar_to_arg(it->second));
  }
  return out;
}

void apply(RunOptions& o, const std::string& name, const std::string& value) {
  auto list = [](const std::string& v) {
    std::vector<std::string> out;
    for (auto& p : split(v, ',')) {
      std::string t = trim(p);
      if (!t.empty()) out.push_back(t);
    }
    return out;
  };
  if (name == "model")
    o.model = value;
  else if (name == "model_name")
    o.model_name = value;
  else if (name == "model_args") {
    o.model_args_text = value;
    o.model_args = parse_kv_args(value, "--model_args");
  } else if (name == "base_url")
    o.base_url = value;
  else if (name == "api_key")
    o.api_key = value;
  else if (name == "tasks")
    o.tasks = list(value);
  else if (name == "include_path") {
    for (auto& p : list(value)) o.include_path.push_back(p);
  } else if (name == "num_fewshot")
    o.num_fewshot = parse_int(value, name, 0);
  else if (name == "repeats")
    o.repeats = parse_int(value, name, 1);
  else if (name == "max_tokens")
    o.max_tokens = parse_int(value, name, 1);
  else if (name == "limit") {
    o.limit_text = value;
    char* end = nullptr;
    double d = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !std::isfinite(d) || d <= 0)
      throw Error("'" + value + "' is not a valid --limit", "--limit",
                  "--limit is the number of docs per task (e.g. 100), or a fraction of each "
                  "task's docs below 1 (e.g. 0.1); it does not limit the number of tasks");
    if (d >= 1 && d != std::floor(d))
      throw Error("'" + value + "' is not a valid --limit", "--limit",
                  "a --limit of 1 or more is a whole number of docs per task");
    o.limit = d;
  } else if (name == "batch_size") {
    std::string v = to_lower(value);
    if (v != "auto" && !starts_with(v, "auto:")) parse_int(value, name, 1);
    o.batch_size = v;
  } else if (name == "gen_kwargs") {
    o.gen_kwargs_text = value;
    o.gen_kwargs = parse_kv_args(value, "--gen_kwargs");
  } else if (name == "system_instruction")
    o.system_instruction = value;
  else if (name == "output_path")
    o.output_path = value;
  else if (name == "seed") {
    auto parts = split(value, ',');
    if (parts.size() != 1 && parts.size() != 4)
      throw Error("'" + value + "' is not a valid --seed", "--seed",
                  "give one integer for all seeds, or four comma-separated values "
                  "(python,numpy,torch,fewshot), e.g. 0,1234,1234,1234; None leaves one unset");
    std::optional<int64_t> vals[4];
    for (size_t i = 0; i < parts.size(); ++i) {
      std::string p = trim(parts[i]);
      if (to_lower(p) == "none") continue;
      try {
        size_t pos = 0;
        vals[i] = std::stoll(p, &pos);
        if (pos != p.size()) throw std::invalid_argument(p);
      } catch (const std::exception&) {
        throw Error("'" + p + "' is not an integer", "--seed");
      }
    }
    for (int i = 0; i < 4; ++i) o.seeds[i] = parts.size() == 1 ? vals[0] : vals[i];
  } else if (name == "mc_formulation") {
    std::string v = to_lower(trim(value));
    if (v == "ll" || v == "logprobs") v = "loglikelihood";
    if (v == "gen" || v == "generate") v = "generative";
    if (v != "auto" && v != "loglikelihood" && v != "generative")
      throw Error("'" + value + "' is not a multiple-choice formulation", "--mc_formulation",
                  "use auto, loglikelihood or generative");
    o.mc_formulation = v;
  } else if (name == "chat_template")
    o.chat_template_file = value;
  else if (name == "use_cache")
    o.use_cache = value;
  else if (name == "db")
    o.db = value;
  else if (name == "price_table")
    o.price_table = value;
  else if (name == "concurrency")
    o.concurrency = parse_int(value, name, 1);
  else if (name == "max_retries")
    o.max_retries = parse_int(value, name, 0);
  else if (name == "timeout")
    o.timeout_s = parse_number(value, name, "a number of seconds", false);
  else if (name == "stall_timeout")
    o.stall_timeout_s = parse_number(value, name, "a number of seconds (0 = off)", true);
  else if (name == "rpm")
    o.rpm = parse_number(value, name, "a number of requests per minute (0 = no limit)", true);
  else if (name == "tpm")
    o.tpm = parse_number(value, name, "a number of tokens per minute (0 = no limit)", true);
  else if (name == "bootstrap_iters")
    o.bootstrap_iters = parse_int(value, name, 0);
  else if (name == "verbosity") {
    std::string v = to_lower(value);
    if (v == "debug")
      log::set_level(log::Level::kDebug);
    else if (v == "info")
      log::set_level(log::Level::kInfo);
    else if (v == "warning" || v == "warn")
      log::set_level(log::Level::kWarn);
    else if (v == "error" || v == "critical")
      log::set_level(log::Level::kError);
    else
      throw Error("'" + value + "' is not a verbosity", "--verbosity",
                  "use DEBUG, INFO, WARNING or ERROR");
    o.verbosity = value;
  } else {
    o.ignored.push_back("--" + name);
  }
}

void apply_bool(RunOptions& o, const std::string& name, bool v, const std::string& raw) {
  if (name == "apply_chat_template")
    o.apply_chat_template = v;
  else if (name == "fewshot_as_multiturn")
    o.fewshot_as_multiturn = v;
  else if (name == "log_samples")
    o.log_samples = v;
  else if (name == "predict_only")
    o.predict_only = v;
  else if (name == "require_complete")
    o.require_complete = v;
  else if (name == "no_cache")
    o.no_cache = v;
  else if (name == "stream")
    o.stream = v;
  else if (name == "no_db")
    o.no_db = v;
  else if (name == "confirm_run_unsafe_code")
    o.confirm_run_unsafe_code = v;
  else if (name == "help")
    o.show_help = true;
  else
    o.ignored.push_back("--" + name + (raw.empty() ? "" : " " + raw));
}

}  // namespace

RunOptions parse_run_options(const std::vector<std::string>& args_in) {
  std::vector<std::string> args(args_in.begin() + (args_in.empty() ? 0 : 1), args_in.end());
  // --config first, so that command-line flags override its values.
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    std::string value;
    bool has = false;
    if (a == "--config" || a == "-c") {
      if (i + 1 >= args.size()) throw Error("--config needs a file", "--config");
      value = args[i + 1];
      has = true;
    } else if (starts_with(a, "--config=")) {
      value = a.substr(9);
      has = true;
    }
    if (has) {
      auto pre = config_args(value);
      args.insert(args.begin(), pre.begin(), pre.end());
      break;
    }
  }
  RunOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    std::string name, value;
    bool has_value = false;
    if (kShort.count(a)) {
      name = kShort.at(a);
    } else if (starts_with(a, "--")) {
      name = a.substr(2);
      auto eq = name.find('=');
      if (eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_value = true;
      }
      for (auto& c : name)
        if (c == '-') c = '_';
    } else {
      throw Error("unexpected argument '" + a + "'", "retort run",
                  "flags start with --; see 'retort run --help'");
    }
    const FlagDef* f = find_flag(name);
    if (!f) {
      auto close = closest_matches("--" + name, flag_names(), 1);
      throw Error("unknown flag '" + a + "'", "retort run",
                  close.empty() ? "see 'retort run --help'" : "did you mean " + close[0] + "?");
    }
    if (name == "config") {
      if (!has_value) ++i;
      continue;
    }
    switch (f->arity) {
      case Arity::kFlag:
        apply_bool(o, name, true, "");
        break;
      case Arity::kOptionalBool: {
        if (!has_value && i + 1 < args.size() && !starts_with(args[i + 1], "-")) {
          value = args[++i];
          has_value = true;
        }
        if (!has_value) {
          apply_bool(o, name, true, "");
          break;
        }
        auto b = bool_literal(value);
        if (!b) {
          if (name == "apply_chat_template") {
            // lm-eval: a template name picks one of the tokenizer's named chat templates
            // (used where the template is rendered here; a chat server uses its own).
            o.chat_template_name = value;
            apply_bool(o, name, true, value);
            break;
          }
          throw Error("'" + value + "' is not true or false", "--" + name);
        }
        apply_bool(o, name, *b, value);
        break;
      }
      case Arity::kValue:
        if (!has_value) {
          if (i + 1 >= args.size())
            throw Error("--" + name + " needs a value", "--" + name, "see 'retort run --help'");
          value = args[++i];
        }
        apply(o, name, value);
        break;
    }
  }
  return o;
}

std::string run_help() {
  return R"(usage: retort run --model MODEL --tasks TASKS [options]   (alias: retort eval)

Evaluates a model behind an OpenAI-compatible API on tasks written in the
lm-evaluation-harness YAML dialect. Flags accept --flag value and --flag=value,
with '_' or '-' in names (--output_path = --output-path).

model:
  --model NAME            a prefixed model name (hosted_vllm/Qwen/Qwen3-8B, openai/gpt-4o,
                          lm_studio/ID, ollama/NAME, anthropic/NAME), or an adapter:
                          openai | curator | local-completions | local-chat-completions |
                          openai-chat-completions, with --model_name or model_args model=
  --model_name NAME       the model id (with an adapter)
  --model_args K=V,...    base_url/api_base, api_key, model, num_concurrent, max_retries,
                          timeout, stall_timeout, max_length, tokenized_requests, seed,
                          max_gen_toks, max_requests_per_minute (rpm),
                          max_tokens_per_minute (tpm), stream
  --base-url URL          server base URL, e.g. http://127.0.0.1:8000/v1
  --api-key KEY           API key (else the provider's env var, e.g. OPENAI_API_KEY)

tasks:
  --tasks A,B,...         task names (case-insensitive), globs (mmlu_*), groups, tags,
                          a YAML file, or a directory of YAML files
  --include_path DIR      more task files (repeatable, or comma-separated)
  --config FILE.yaml      defaults for these flags (keys are flag names)
  --num_fewshot N         shots per prompt (a task that says num_fewshot: 0 keeps 0)
  --limit N               evaluate at most N docs PER TASK (the first N); a value
                          below 1 is a fraction of each task's docs (0.1 = 10%).
                          It limits docs, not the number of tasks.
  --gen_kwargs K=V,...    override generation kwargs (until, max_gen_toks, temperature, ...)
  --repeats N             sampled answers per doc (distinct seeded requests; default: the task's)
  --max_tokens N          token limit of every generation (Evalchemy's flag; = max_gen_toks)
  --apply_chat_template [BOOL|NAME]
                                 format prompts as chat: messages to a chat endpoint, or
                                 rendered here with the model's Hugging Face chat template
                                 for a completions endpoint (local-completions); NAME picks
                                 one of the tokenizer's named templates
  --chat_template FILE           the chat template to render (a Jinja file or a
                                 tokenizer_config.json) instead of the Hub tokenizer's
  --mc_formulation auto|loglikelihood|generative
                                 multiple-choice tasks by choice loglikelihood or by a
                                 generated letter (auto: generative where the endpoint
                                 gives no prompt logprobs, e.g. chat-only servers)
  --fewshot_as_multiturn [BOOL]  shots as user/assistant turns (default with chat)
  --system_instruction TEXT      prepended as the system message / prompt start
  --predict_only          generate and log samples, skip metrics
  --confirm_run_unsafe_code [BOOL]  allow code tasks (HumanEval, MBPP, ...) to run the
                          model's programs, each in a bubblewrap sandbox

execution:
  --batch_size N|auto     prompts per completions call for loglikelihood requests
  --concurrency N         requests in flight across all tasks (default 32; model_args
                          num_concurrent also sets it)
  --max_retries N         retries per request after errors (default 5); rate-limit
                          replies (429 + Retry-After) are retried apart, up to 30 times
  --timeout S             seconds per HTTP attempt, streamed or not (default 600)
  --stream [BOOL]         stream generate calls (SSE): time to first token per request
  --stall_timeout S       a streamed attempt fails after S seconds without data
                          (default 120; 0 = off)
  --rpm N                 at most N requests per minute (client side; 0 = no limit)
  --tpm N                 at most N tokens per minute, estimated from prompt length and
                          max tokens (client side; 0 = no limit)
  --price_table FILE      prices for the statistics table's cost row: a JSON object
                          {"model-prefix": {"input": USD/1M, "output": USD/1M}} ahead of
                          the built-in list prices (docs/output.md)
  --use_cache PATH        response cache file (default ~/.cache/retort/cache.sqlite)
  --no-cache              do not read or write the response cache
  --seed S | A,B,C,D      seeds (python,numpy,torch,fewshot); default 0,1234,1234,1234

output:
  --output_path PATH      directory, or a .json file name, for results (and samples)
  --log_samples, -s       also write samples_<task>_<date>.jsonl
  --bootstrap_iters N     bootstrap iterations for non-mean stderrs (default 100000)
  --require_complete      give no score for a task (or group) with failed docs,
                          instead of a score over the docs that were answered
  --verbosity LEVEL       DEBUG, INFO, WARNING, ERROR
  --db PATH|URL           results database the run is recorded in (default
                          $XDG_DATA_HOME/retort/runs.db; postgresql://... for PostgreSQL)
  --no-db                 do not record the run

exit status: 0 all requests answered; 3 some requests failed (their samples are
marked, scores use the rest and the tables say "N/M scored"); 2 usage or
configuration error; 130 interrupted (what was answered is scored and written,
marked interrupted; run the same command again: answered requests come from the
cache).
)";
}

}  // namespace retort::cli
