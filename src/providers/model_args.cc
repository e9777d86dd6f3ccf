#include "providers/model_args.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "util/error.h"
#include "util/strings.h"

namespace retort {

namespace {

// Keys with an effect here (providers/endpoint.cc, client.cc, the pipeline).
const std::vector<std::string> kKnown = {
    "base_url", "api_base", "api_key", "model", "pretrained", "num_concurrent", "max_retries",
    "timeout", "batch_size", "max_length", "tokenized_requests", "seed", "max_gen_toks",
    // rate limits and streaming (lm-eval / Curator / LiteLLM spellings)
    "max_requests_per_minute", "max_tokens_per_minute", "rpm", "tpm", "stream", "stall_timeout",
    // whose chat template --apply_chat_template renders for a completions endpoint
    "tokenizer", "revision",
    // appended to generations' stop lists, as lm-eval's API models do
    "eos_string"};

// Keys lm-eval's API models or Curator accept that change nothing against a server here:
// tokenizers (the server tokenizes), local-model device settings, cache/backoff knobs.
const std::vector<std::string> kIgnored = {"tokenizer_backend",
                                           "trust_remote_code",
                                           "add_bos_token",
                                           "verify_certificate",
                                           "custom_prefix_token_id",
                                           "dtype",
                                           "device",
                                           "parallelize",
                                           "backend",
                                           "generation_params",
                                           "require_all_responses",
                                           "max_batch_size",
                                           "truncate",
                                           "header",
                                           "think_end_token"};

bool contains(const std::vector<std::string>& v, const std::string& k) {
  return std::find(v.begin(), v.end(), k) != v.end();
}

std::optional<int64_t> parse_int(const Json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (d == static_cast<double>(static_cast<int64_t>(d))) return static_cast<int64_t>(d);
    return std::nullopt;
  }
  if (v.is_string()) {
    std::string s = trim(v.get<std::string>());
    char* end = nullptr;
    errno = 0;
    long long i = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && *end == '\0' && errno == 0) return static_cast<int64_t>(i);
  }
  return std::nullopt;
}

}  // namespace

const std::vector<std::string>& known_model_args() {
  return kKnown;
}

std::vector<std::string> unknown_model_args(const Json& args) {
  std::vector<std::string> out;
  if (!args.is_object()) return out;
  for (const auto& [k, v] : args.items())
    if (!contains(kKnown, k) && !contains(kIgnored, k)) out.push_back(k);
  return out;
}

std::vector<std::string> ignored_model_args(const Json& args) {
  std::vector<std::string> out;
  if (!args.is_object()) return out;
  for (const auto& [k, v] : args.items())
    if (contains(kIgnored, k)) out.push_back(k);
  return out;
}

std::optional<int64_t> model_args_seed(const Json& args) {
  if (!args.is_object() || !args.contains("seed")) return kDefaultRequestSeed;
  const Json& v = args["seed"];
  if (v.is_null()) return std::nullopt;
  if (v.is_string() && (to_lower(trim(v.get<std::string>())) == "none")) return std::nullopt;
  auto i = parse_int(v);
  if (!i)
    throw Error("model_args seed must be an integer or None, got '" +
                    (v.is_string() ? v.get<std::string>() : v.dump()) + "'",
                "--model_args", "e.g. --model_args seed=1234");
  return i;
}

std::optional<int64_t> model_args_max_gen_toks(const Json& args) {
  if (!args.is_object() || !args.contains("max_gen_toks")) return std::nullopt;
  const Json& v = args["max_gen_toks"];
  auto i = parse_int(v);
  if (!i || *i < 1)
    throw Error("model_args max_gen_toks must be a positive integer, got '" +
                    (v.is_string() ? v.get<std::string>() : v.dump()) + "'",
                "--model_args", "e.g. --model_args max_gen_toks=1024");
  return i;
}

std::optional<std::string> model_args_stop_eos(const Json& args, const std::string& tokenizer_eos) {
  auto text = [&](const char* k) {
    return args.is_object() && args.contains(k) && args[k].is_string() ? args[k].get<std::string>()
                                                                       : std::string();
  };
  if (args.is_object() && args.contains("num_concurrent")) {
    auto n = parse_int(args["num_concurrent"]);
    if (n && *n > 1) return std::nullopt;
  }
  if (std::string eos = text("eos_string"); !eos.empty()) return eos;
  if (to_lower(trim(text("tokenizer_backend"))) == "none" || tokenizer_eos.empty())
    return std::nullopt;
  return tokenizer_eos;
}

}  // namespace retort
