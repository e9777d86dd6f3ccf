// Internal to providers: how a Request becomes an HTTP body for each API style, and how a
// reply becomes Responses. Pure functions, unit-tested without a network.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/request.h"
#include "engine/engine.h"
#include "engine/http.h"
#include "providers/client.h"
#include "providers/endpoint.h"
#include "util/json.h"

namespace retort::wire {

enum class Route { kChat, kCompletions, kMessages };

// A loglikelihood request sent as token ids, the way lm-eval's API models send it
// (tokenized_requests): ids = (context tokens + continuation tokens)[-L:], and the
// continuation's logprobs are token_logprobs[ctxlen:-1] of the echo (the last entry is the
// generated token).
struct TokenPlan {
  std::vector<int64_t> ids;
  size_t ctxlen = 0;
};

// How a loglikelihood request is split into context and continuation under these options:
// "tokenize" (by token count, needs the server's /tokenize) for a loglikelihood request
// whose context is not empty after lm-eval's rstrip, else "offset" (text_offset).
const char* ll_split_for(const Request& r, const ExecOptions& o);

// Which route a request takes on this endpoint; "" or a one-line reason it cannot be sent.
std::string route_for(const Endpoint& ep, const Request& r, Route* route);

// The JSON text that defines a request's answer (the body without transport-only fields
// such as "stream"); hashed into the cache key. For a generate request, when body is given
// it receives the request body as build_call would write it without streaming, so the caller
// can hand it back to build_call instead of building it twice.
std::string canonical_text(const Endpoint& ep, const Request& r, const ExecOptions& o,
                           std::string* body = nullptr);
// The same text in pieces, in order (canonical_text is their concatenation), for a caller
// that hashes it without joining it.
void canonical_pieces(const Endpoint& ep, const Request& r, const ExecOptions& o,
                      const std::function<void(std::string_view)>& piece,
                      std::string* body = nullptr);

// Builds one HTTP call: a single generate request, or 1..batch_size loglikelihood /
// loglikelihood_rolling requests sharing one /completions call with a list prompt.
HttpCall build_call(const Endpoint& ep, const ExecOptions& o,
                    const std::vector<const Request*>& batch);
// The same into an existing call, reusing its buffers (the engine recycles calls).
// plans (when given, one per batch entry) send loglikelihood prompts as token ids.
// prebuilt (when given and not empty) is a generate request's body from canonical_text; it
// is moved into the call when the options add nothing to it (no streaming).
void build_call(const Endpoint& ep, const ExecOptions& o, const std::vector<const Request*>& batch,
                HttpCall& call, const std::vector<const TokenPlan*>* plans = nullptr,
                std::string* prebuilt = nullptr);

// The version of what parse_reply makes of a reply. A cache entry that keeps the server's
// raw reply (generate requests) is parsed again by today's parser on every read, so a fix
// reaches answers cached before it. An entry that keeps only the parsed response (a
// loglikelihood batch shares one reply) carries this version; bump it when a fix changes
// what such a reply parses to, and older entries are asked again. Entries written before
// versioning count as version 1.
inline constexpr int kParserVersion = 1;

// Judges a reply (any status). On kDone, out holds one Response per batch entry.
// Usual replies are read without a JSON DOM; dom_only reads every reply through the DOM
// (the reference the fast path is tested against). plans (when given, one per batch entry)
// say the loglikelihood requests went as token ids.
Outcome parse_reply(const Endpoint& ep, const std::vector<const Request*>& batch,
                    const HttpReply& reply, std::vector<Response>& out, bool dom_only = false,
                    const std::vector<const TokenPlan*>* plans = nullptr);

// lm-eval's context/continuation split: Python rstrip() whitespace at the end of the context
// moves to the front of the continuation.
void split_context(const std::string& context, const std::string& continuation,
                   std::string& ctx_out, std::string& cont_out);
// Number of Unicode code points in UTF-8 text (Python len()).
size_t code_points(std::string_view utf8);

// The message a server put in an error body ({"error":{"message"}}, {"message"},
// {"detail"}, Anthropic's {"error":{"message"}}), else a short snippet of the body.
std::string error_message(const std::string& body);
// A short printable snippet of a body, for messages.
std::string snippet(const std::string& body, size_t n = 80);
// One line for a non-2xx reply, with a hint where one helps (401 → which key flag/env var).
std::string describe_http_error(const Endpoint& ep, int status, const std::string& body);

// Headers (auth, versions) for the endpoint's style.
std::vector<std::string> auth_headers(const Endpoint& ep);

}  // namespace retort::wire
