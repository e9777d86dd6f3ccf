// What `--model_args K=V,...` may say, as lm-eval's API models (TemplateAPI) and Curator /
// LiteLLM users write it, and the defaults lm-eval applies to every request.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/json.h"

namespace retort {

// lm-eval's TemplateAPI default `seed` (lm_eval/models/api_models.py: seed=1234): sent in
// every request body unless model_args says otherwise or the task's gen_kwargs set one.
constexpr int64_t kDefaultRequestSeed = 1234;

// Keys of `args` that retort neither uses nor knows to be harmless, in the order given.
std::vector<std::string> unknown_model_args(const Json& args);
// Keys retort accepts for compatibility but ignores (e.g. tokenizer_backend), in order.
std::vector<std::string> ignored_model_args(const Json& args);
// Every key retort reads, for the "unknown key" warning's hint.
const std::vector<std::string>& known_model_args();

// model_args seed: nullopt for seed=None (then no seed is sent), else the value (default
// kDefaultRequestSeed). Throws retort::Error naming --model_args for a non-integer.
std::optional<int64_t> model_args_seed(const Json& args);
// model_args max_gen_toks: the default for generate requests whose task gives neither
// max_gen_toks nor max_tokens (nullopt: the provider's default, 256). Throws retort::Error
// for a value that is not a positive integer.
std::optional<int64_t> model_args_max_gen_toks(const Json& args);

// The end-of-sequence string lm-eval's API models add to every generation's stop list
// (lm_eval/models/api_models.py model_call passes eos=self.eos_string, and
// models/utils.py handle_stop_sequences appends it unless `until` holds it already). Only
// that synchronous path does: with num_concurrent > 1 lm-eval goes through amodel_call, which
// passes no eos, and nothing is added. The string is model_args eos_string when given, else
// the tokenizer's eos_token: tokenizer_eos is what retort knows of it (the eos_token of the
// tokenizer_config.json a local chat template came from; "" when none was loaded), ignored
// under tokenizer_backend=None as lm-eval then has no tokenizer.
std::optional<std::string> model_args_stop_eos(const Json& args, const std::string& tokenizer_eos);

}  // namespace retort
