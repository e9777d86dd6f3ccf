// Endpoint resolution: turns what a user typed (a LiteLLM-style model name such as
// "hosted_vllm/Qwen/Qwen3-8B", a --base-url, a --api-key, lm-eval style --model_args, and
// the provider environment variables) into one resolved Endpoint. Resolution is pure (no
// network); probing what the server can do lives in client.h.
#pragma once

#include <string>

#include "util/json.h"

namespace retort {

// How requests are put on the wire.
//   kAuto:        OpenAI-compatible; a Request with messages goes to /chat/completions, a
//                 Request with a prompt (and every loglikelihood request) to /completions.
//   kChat:        OpenAI-compatible, chat only: a prompt-only generate Request is sent as one
//                 user message; loglikelihood requests fail (chat cannot echo the prompt).
//   kCompletions: OpenAI-compatible, completions only: messages requests fail.
//   kAnthropic:   Anthropic Messages API (/v1/messages); generate only.
enum class ApiStyle { kAuto, kChat, kCompletions, kAnthropic };

const char* api_style_name(ApiStyle style);  // "auto", "chat", "completions", "anthropic"

struct EndpointOptions {
  // As typed: "hosted_vllm/Qwen/Qwen3-8B", "lm_studio/x", "openai/gpt-4o",
  // "anthropic/claude-...", "ollama/llama3", or a bare model id.
  std::string model;
  std::string base_url;   // --base-url; wins over model_args and env vars
  std::string api_key;    // --api-key; wins over model_args and env vars
  std::string api_style;  // "", "auto", "chat", "completions", "anthropic" (or lm-eval adapter
                          // names: local-completions, local-chat-completions, ...)
  // Parsed --model_args (an object). Recognised: base_url / api_base, api_key, model /
  // pretrained, num_concurrent, max_retries, timeout, max_length, tokenized_requests, seed.
  Json model_args = Json::object();
};

struct Endpoint {
  std::string base_url;  // e.g. "http://127.0.0.1:8000/v1" (no trailing slash)
  std::string model;     // model id sent in the body (prefix removed)
  std::string api_key;   // may be empty; never logged, never cached
  ApiStyle style = ApiStyle::kAuto;
  std::string provider;  // "openai", "hosted_vllm", "lm_studio", "ollama", "anthropic", ...
  // Where the key came from, for error hints: "--api-key", "OPENAI_API_KEY", ... ("" = none).
  std::string api_key_source;
  // The env var / flag that would set the key for this provider (for "missing key" hints).
  std::string api_key_env;
  // Credentials written in the base URL (http://user:password@host/v1) leave the URL, which
  // is printed and logged, and go as "Authorization: Basic <this>" when no API key is set,
  // as curl would send them. base64 of the percent-decoded "user:password"; never logged.
  std::string basic_auth;

  // Identity for cache keys: base URL + model + style. Never contains the key.
  std::string identity() const;
  // Server root (base_url without a trailing "/v1"), where vLLM serves /tokenize, /health.
  std::string server_root() const;
};

// Resolves options + environment into an Endpoint. Registers the key (and any password in
// the base URL) with log::add_secret.
// Throws retort::Error when no base URL can be determined or the style is unknown.
Endpoint resolve_endpoint(const EndpointOptions& options);

}  // namespace retort
