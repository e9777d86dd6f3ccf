// Core value types that flow between stages: a Request is one logical call the pipeline
// wants answered; a Response is what came back (or why nothing did). Plain values that the
// providers, cache, pipeline, scoring and report all speak; they live in core/ so that no
// stage has to include another stage to name them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/json.h"

namespace retort {

enum class RequestKind { kGenerate, kLoglikelihood, kLoglikelihoodRolling };

struct ChatMessage {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

struct Request {
  RequestKind kind = RequestKind::kGenerate;
  // Index of this copy among `repeats` sampled copies. Part of the cache identity, so
  // repeats are distinct requests.
  int repeat = 0;
  // Chat-style requests carry messages; completion-style requests carry prompt.
  // A request with non-empty messages goes to a chat endpoint.
  std::string prompt;
  std::vector<ChatMessage> messages;
  // loglikelihood: the scored continuation (context is `prompt`). Rolling: the text.
  std::string continuation;
  // lm-eval style generation kwargs: until, max_gen_toks / max_tokens, temperature, top_p,
  // do_sample, seed, ... Passed through to the provider, which maps them to the body.
  // Shared: the requests of a task carry one value (and one per repeat with its own seed).
  SharedJson gen_kwargs;
  // Opaque bookkeeping for the caller (its place in the run's flat list); not part of the
  // identity.
  uint64_t id = 0;
};

struct Response {
  // (The small fields come first and together: a run keeps one Response per request.)
  bool ok = false;
  // loglikelihood: whether every continuation token was the greedy (top-1) choice.
  bool is_greedy = false;
  bool cached = false;
  int http_status = 0;
  int retries = 0;
  // Failure reason when !ok: one line a user can act on ("HTTP 400: maximum context length
  // is 4096 tokens", "connection refused to http://...", ...).
  std::string error;

  // generate: the text (for reasoning models, the answer part), and the reasoning part.
  std::string text;
  std::string reasoning;
  std::string finish_reason;

  // loglikelihood: sum of continuation token logprobs (is_greedy above). Rolling: ll over
  // the whole text.
  double loglikelihood = 0.0;

  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  // Of completion_tokens, those spent reasoning, when the server says so
  // (usage.completion_tokens_details.reasoning_tokens: OpenAI, DeepSeek); -1 when not.
  int64_t reasoning_tokens = -1;
  double latency_s = 0.0;  // wall time of the successful HTTP attempt
  double ttft_s = -1.0;    // time to first token when streamed, else -1
};

}  // namespace retort
