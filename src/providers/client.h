// The public face of the request path: execute() answers a list of Requests against one
// Endpoint, through the response cache and the HTTP engine, and returns one Response per
// Request in the same order. It never throws for a failed request (the failure is inside
// that Response); it throws retort::Error only for problems with the options themselves
// (e.g. an unusable cache path).
//
// Promises:
//  - identical requests (same canonical identity: endpoint identity without secrets, body
//    defining fields, repeat index) are sent once and answered for every copy;
//  - a response is committed to the cache before it is handed to the observer or returned,
//    so a killed run re-asks nothing that was answered;
//  - memory is bounded by what is in flight, not by the size of the run;
//  - request_stop() (async-signal-safe) stops new sends; execute() then returns with the
//    unanswered requests marked error "interrupted".
#pragma once

#include <atomic>
#include <cstddef>
#include <string>
#include <vector>

#include "core/request.h"
#include "core/stats.h"
#include "providers/endpoint.h"
#include "util/json.h"

namespace retort {

struct ExecOptions {
  int concurrency = 32;    // max requests in flight (the adaptive window never exceeds it)
  int batch_size = 1;      // prompts per /completions call for loglikelihood requests
  double timeout_s = 600;  // per HTTP attempt, streamed or not
  // Streamed calls only: an attempt fails when no byte arrives for this long (0 = off).
  double stall_timeout_s = 120;
  int max_retries = 5;  // per request, beyond the first attempt, after errors
  // Per request, after rate-limit replies (429/529, which honour Retry-After); these never
  // use up max_retries.
  int max_throttle_retries = 30;
  double rpm = 0;  // client-side requests/minute limit (0 = none)
  double tpm = 0;  // client-side tokens/minute limit, estimated (0 = none)
  bool use_cache = true;
  std::string cache_path;  // "" = $XDG_CACHE_HOME/retort/cache.sqlite (else ~/.cache/retort)
  bool stream = false;     // stream chat/completions generate calls (SSE) to measure ttft
  bool adaptive = true;    // AIMD concurrency window on 429
  // Loglikelihood context/continuation split. "offset" (and "auto"): the prompt goes as
  // text and the continuation is found by the echoed text_offset. "tokenize": lm-eval's
  // tokenized_requests, for servers with /tokenize (vLLM, SGLang, llama.cpp, retort sim):
  // context and context+continuation are tokenized by the server (no special tokens), the
  // prompt goes as token ids cut to the last max_length-1, and the split is by token count.
  // Other values make execute() throw.
  std::string ll_split = "offset";
  int max_length = 2048;  // lm-eval's max_length (tokenize split: tokens sent <= max_length-1)
  double backoff_base_s = 0.5;  // full-jitter exponential backoff: U(0, min(cap, base*2^n))
  double backoff_cap_s = 30;
};

// Applies lm-eval style --model_args (num_concurrent, max_retries, timeout, batch_size,
// max_length, tokenized_requests), Curator's max_requests_per_minute / max_tokens_per_minute
// (LiteLLM's rpm / tpm), stream and stall_timeout on top of options.
ExecOptions exec_options_from_model_args(const Json& model_args, ExecOptions options);

class ExecObserver {
 public:
  virtual ~ExecObserver() = default;
  // Called once per Request (index into the input vector), after it is durable in the cache.
  virtual void on_response(size_t index, const Response& response) {
    (void)index;
    (void)response;
  }
  // Called every ~200 ms and once at the end, from the thread running execute().
  virtual void on_progress(const RunStats& stats) { (void)stats; }
};

std::vector<Response> execute(const Endpoint& endpoint, const std::vector<Request>& requests,
                              const ExecOptions& options, ExecObserver* observer = nullptr,
                              RunStats* stats_out = nullptr);

// The cache key of one request (hex SHA-256): endpoint identity (no secret) + the fields that
// define the body + repeat index. Options matter for loglikelihood requests (their split);
// the default options give the key of a text-offset split.
std::string request_key(const Endpoint& endpoint, const Request& request);
std::string request_key(const Endpoint& endpoint, const Request& request, const ExecOptions& o);

// Stop handling for Ctrl-C. request_stop() only sets an atomic flag (async-signal-safe): the
// first call stops new sends and lets in-flight requests finish; a second call also aborts
// the in-flight ones. interrupted() is true once a stop was requested.
void request_stop();
bool interrupted();
void clear_stop();  // for tests and for a second run in the same process

// What an endpoint can do, found by asking it (GET /models; a tiny echo request for
// prompt logprobs when asked for).
struct Capabilities {
  std::vector<std::string> models;  // what GET {base}/models lists
  bool serves_model = false;        // endpoint.model is among them (or the list is empty)
  bool prompt_logprobs = false;     // completions echo+logprobs returns prompt logprobs
  bool checked_prompt_logprobs = false;
  bool tokenize = false;  // {root}/tokenize answers (vLLM, llama.cpp, retort sim)
  // When !prompt_logprobs after checking: one line saying why and what to do, e.g. "this
  // endpoint cannot return prompt logprobs (llama.cpp/chat-only); use the generative
  // variant of the task".
  std::string prompt_logprobs_error;
};

// Probes the endpoint. Throws retort::Error with one clear line (and a hint) when it cannot
// be used at all: unreachable host, DNS failure, refused connection, TLS failure, non-JSON
// reply, error object, 401/403 (names the key flag/env var), base URL missing /v1 (says to
// add it), model not served (lists what is served and suggests the closest id).
Capabilities probe(const Endpoint& endpoint, bool check_prompt_logprobs = false,
                   double timeout_s = 30);

// GET {base_url}/models → model ids. Throws retort::Error like probe() does.
std::vector<std::string> list_models(const Endpoint& endpoint, double timeout_s = 30);

}  // namespace retort
