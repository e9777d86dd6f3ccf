#include "providers/wire.h"

#include <cmath>

#include "util/strings.h"

namespace retort::wire {

namespace {

const char* kind_name(RequestKind k) {
  switch (k) {
    case RequestKind::kGenerate:
      return "generate";
    case RequestKind::kLoglikelihood:
      return "loglikelihood";
    case RequestKind::kLoglikelihoodRolling:
      return "loglikelihood_rolling";
  }
  return "generate";
}

Json messages_json(const Request& r) {
  Json msgs = Json::array();
  if (r.messages.empty()) {
    msgs.push_back({{"role", "user"}, {"content", r.prompt}});
  } else {
    for (const auto& m : r.messages) msgs.push_back({{"role", m.role}, {"content", m.content}});
  }
  return msgs;
}

// lm-eval's generation kwargs → (max_tokens, temperature, stop, seed, rest).
struct GenArgs {
  Json max_tokens = 256;
  Json temperature = 0;
  std::vector<std::string> stop;
  Json seed;  // null when absent
  Json rest = Json::object();
};

GenArgs gen_args(const Json& gk) {
  GenArgs a;
  if (!gk.is_object()) return a;
  for (auto it = gk.begin(); it != gk.end(); ++it) {
    const std::string& k = it.key();
    const Json& v = it.value();
    if (k == "do_sample") continue;
    if (k == "max_gen_toks") {
      if (!gk.contains("max_tokens")) a.max_tokens = v;
    } else if (k == "max_tokens") {
      a.max_tokens = v;
    } else if (k == "temperature") {
      a.temperature = v;
    } else if (k == "until" || k == "stop") {
      if (v.is_string()) {
        a.stop.push_back(v.get<std::string>());
      } else if (v.is_array()) {
        for (const auto& s : v)
          if (s.is_string()) a.stop.push_back(s.get<std::string>());
      }
    } else if (k == "seed") {
      a.seed = v;
    } else {
      a.rest[k] = v;
    }
  }
  return a;
}

// OpenAI's own API (not a compatible server) wants max_completion_tokens on chat, and its
// reasoning models (o1, o3, o4, gpt-5 families) reject `stop` and any temperature but 1.
bool is_openai_api(const Endpoint& ep) {
  return ep.base_url.find("://api.openai.com") != std::string::npos;
}

bool is_openai_reasoning_model(const std::string& model) {
  for (const char* p : {"o1", "o3", "o4", "gpt-5"}) {
    size_t n = std::char_traits<char>::length(p);
    if (model.compare(0, n, p) == 0 && (model.size() == n || model[n] == '-')) return true;
  }
  return false;
}

Json generate_body(const Endpoint& ep, Route route, const Request& r) {
  GenArgs a = gen_args(r.gen_kwargs);
  Json body = Json::object();
  if (route == Route::kMessages) {
    body["model"] = ep.model;
    body["max_tokens"] = a.max_tokens;
    std::string system;
    Json msgs = Json::array();
    if (r.messages.empty()) {
      msgs.push_back({{"role", "user"}, {"content", r.prompt}});
    } else {
      for (const auto& m : r.messages) {
        if (m.role == "system") {
          system += (system.empty() ? "" : "\n\n") + m.content;
        } else {
          msgs.push_back({{"role", m.role}, {"content", m.content}});
        }
      }
    }
    if (!system.empty()) body["system"] = system;
    body["messages"] = std::move(msgs);
    body["temperature"] = a.temperature;
    if (!a.stop.empty()) body["stop_sequences"] = a.stop;
    for (const char* k : {"top_p", "top_k"}) {
      if (a.rest.contains(k)) body[k] = a.rest[k];
    }
    return body;
  }
  if (route == Route::kChat) {
    body["messages"] = messages_json(r);
  } else {
    body["prompt"] = r.prompt;
  }
  body["model"] = ep.model;
  const bool openai_chat = route == Route::kChat && is_openai_api(ep);
  body[openai_chat ? "max_completion_tokens" : "max_tokens"] = a.max_tokens;
  if (openai_chat && is_openai_reasoning_model(ep.model)) {
    a.temperature = 1;
    a.stop.clear();
  }
  body["temperature"] = a.temperature;
  if (route == Route::kChat && a.stop.size() > 4) a.stop.resize(4);
  if (!a.stop.empty()) body["stop"] = a.stop;
  if (!a.seed.is_null()) body["seed"] = a.seed;
  for (auto it = a.rest.begin(); it != a.rest.end(); ++it) body[it.key()] = it.value();
  return body;
}

bool is_unicode_space(uint32_t c) {
  return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
         c == 0x205f || c == 0x3000;
}

const Json* find_choice(const Json& choices, size_t index) {
  for (const auto& c : choices) {
    if (c.contains("index") && c["index"].is_number_integer() && c["index"].get<size_t>() == index)
      return &c;
  }
  return index < choices.size() ? &choices[index] : nullptr;
}

std::string str_or_empty(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return "";
  return j[key].get<std::string>();
}

void read_usage(const Json& body, Response& r) {
  if (!body.contains("usage") || !body["usage"].is_object()) return;
  const Json& u = body["usage"];
  auto num = [&](const char* k) -> int64_t {
    return u.contains(k) && u[k].is_number() ? u[k].get<int64_t>() : 0;
  };
  r.prompt_tokens = num("prompt_tokens") + num("input_tokens");
  r.completion_tokens = num("completion_tokens") + num("output_tokens");
}

Outcome retry(std::string reason) {
  return {Verdict::kRetry, std::move(reason)};
}
Outcome fail(std::string reason) {
  return {Verdict::kFail, std::move(reason)};
}

// A 200 whose body is an error object: retry when its code says it is transient.
Outcome error_in_ok_body(const Json& body) {
  const Json& e = body["error"];
  std::string msg = e.is_object() ? str_or_empty(e, "message")
                                  : (e.is_string() ? e.get<std::string>() : e.dump());
  int code = 0;
  if (e.is_object() && e.contains("code") && e["code"].is_number_integer())
    code = e["code"].get<int>();
  std::string line = "the server answered 200 with an error: " + (msg.empty() ? e.dump() : msg);
  return retryable_status(code) ? retry(line) : fail(line);
}

Outcome parse_json(const HttpReply& reply, Json& out) {
  out = Json::parse(reply.body, nullptr, false);
  if (out.is_discarded() || !out.is_object()) {
    return retry(
        "the server's reply is not a JSON object (" +
        (reply.content_type.empty() ? std::string("no content type") : reply.content_type) +
        "): '" + snippet(reply.body) + "'");
  }
  if (out.contains("error") && !out["error"].is_null()) return error_in_ok_body(out);
  return {};
}

// Server-sent events: "data: {json}" lines; returns false when the stream did not end with
// [DONE] (truncated).
bool parse_sse(const std::string& body, std::vector<Json>& events, std::string& bad) {
  bool done = false;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    std::string_view line(body.data() + pos, (nl == std::string::npos ? body.size() : nl) - pos);
    pos = nl == std::string::npos ? body.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.substr(0, 5) != "data:") continue;
    std::string_view data = line.substr(5);
    if (!data.empty() && data[0] == ' ') data.remove_prefix(1);
    if (data == "[DONE]") {
      done = true;
      continue;
    }
    Json j = Json::parse(data, nullptr, false);
    if (j.is_discarded()) {
      bad = std::string(data.substr(0, 80));
      return false;
    }
    events.push_back(std::move(j));
  }
  return done;
}

Outcome parse_generate(const Endpoint& ep, Route route, const HttpReply& reply, Response& r) {
  bool streamed = reply.body.rfind("data:", 0) == 0 ||
                  reply.content_type.find("text/event-stream") != std::string::npos;
  if (streamed && route != Route::kMessages) {
    std::vector<Json> events;
    std::string bad;
    if (!parse_sse(reply.body, events, bad)) {
      return retry(bad.empty() ? "the stream ended before [DONE] (truncated reply)"
                               : "the stream carried a malformed event: '" + bad + "'");
    }
    for (const auto& ev : events) {
      if (ev.contains("error") && !ev["error"].is_null()) return error_in_ok_body(ev);
      read_usage(ev, r);
      if (!ev.contains("choices") || !ev["choices"].is_array()) continue;
      for (const auto& c : ev["choices"]) {
        if (route == Route::kChat && c.contains("delta")) {
          const Json& d = c["delta"];
          r.text += str_or_empty(d, "content");
          r.reasoning += str_or_empty(d, "reasoning_content");
          r.reasoning += str_or_empty(d, "reasoning");
        } else {
          r.text += str_or_empty(c, "text");
        }
        if (c.contains("finish_reason") && c["finish_reason"].is_string())
          r.finish_reason = c["finish_reason"].get<std::string>();
      }
    }
    r.ttft_s = reply.ttft_s;
    r.ok = true;
    return {};
  }
  Json body;
  Outcome o = parse_json(reply, body);
  if (o.verdict != Verdict::kDone) return o;
  if (route == Route::kMessages) {
    if (!body.contains("content") || !body["content"].is_array())
      return retry("the reply has no 'content' blocks: '" + snippet(reply.body) + "'");
    for (const auto& block : body["content"]) {
      std::string type = str_or_empty(block, "type");
      if (type == "text") r.text += str_or_empty(block, "text");
      if (type == "thinking") r.reasoning += str_or_empty(block, "thinking");
    }
    r.finish_reason = str_or_empty(body, "stop_reason");
    read_usage(body, r);
    r.ok = true;
    return {};
  }
  if (!body.contains("choices") || !body["choices"].is_array() || body["choices"].empty())
    return retry("the reply has no 'choices': '" + snippet(reply.body) + "'");
  const Json& c = body["choices"][0];
  if (route == Route::kChat) {
    if (!c.contains("message") || !c["message"].is_object())
      return retry("the reply's choice has no 'message': '" + snippet(reply.body) + "'");
    const Json& m = c["message"];
    r.text = str_or_empty(m, "content");  // null content → ""
    r.reasoning = str_or_empty(m, "reasoning_content");
    if (r.reasoning.empty()) r.reasoning = str_or_empty(m, "reasoning");
  } else {
    r.text = str_or_empty(c, "text");
  }
  r.finish_reason = str_or_empty(c, "finish_reason");
  read_usage(body, r);
  (void)ep;
  r.ok = true;
  return {};
}

double as_double(const Json& j) {
  return j.get<double>();
}

Outcome parse_loglikelihood(const std::vector<const Request*>& batch, const HttpReply& reply,
                            std::vector<Response>& out) {
  Json body;
  Outcome o = parse_json(reply, body);
  if (o.verdict != Verdict::kDone) return o;
  if (!body.contains("choices") || !body["choices"].is_array())
    return retry("the reply has no 'choices': '" + snippet(reply.body) + "'");
  const Json& choices = body["choices"];
  if (choices.size() < batch.size()) {
    return retry("the reply has " + std::to_string(choices.size()) + " choices for " +
                 std::to_string(batch.size()) + " prompts");
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    const Request& rq = *batch[i];
    Response& r = out[i];
    const Json* c = find_choice(choices, i);
    if (!c || !c->contains("logprobs") || !(*c)["logprobs"].is_object()) {
      return fail(
          "this endpoint returned no logprobs for the prompt; it cannot score loglikelihood "
          "requests (use the generative variant of the task)");
    }
    const Json& lp = (*c)["logprobs"];
    if (lp.contains("content") && !lp.contains("token_logprobs")) {
      return fail(
          "this endpoint cannot return prompt logprobs (it answers logprobs.content for "
          "generated tokens only, like llama.cpp or chat-only servers); use the generative "
          "variant of the task");
    }
    if (!lp.contains("token_logprobs") || !lp["token_logprobs"].is_array() ||
        !lp.contains("text_offset") || !lp["text_offset"].is_array()) {
      return fail(
          "this endpoint's logprobs lack token_logprobs/text_offset, so prompt logprobs "
          "cannot be read; use the generative variant of the task");
    }
    const Json& tlp = lp["token_logprobs"];
    const Json& off = lp["text_offset"];
    const Json& top = lp.contains("top_logprobs") ? lp["top_logprobs"] : Json();
    std::string ctx, cont;
    if (rq.kind == RequestKind::kLoglikelihoodRolling) {
      cont = rq.continuation;
    } else {
      split_context(rq.prompt, rq.continuation, ctx, cont);
    }
    size_t begin = code_points(ctx), end = begin + code_points(cont);
    double ll = 0;
    bool greedy = true;
    size_t counted = 0, prompt_tokens = 0;
    for (size_t t = 0; t < tlp.size() && t < off.size(); ++t) {
      if (!off[t].is_number()) continue;
      size_t at = off[t].get<size_t>();
      if (at >= end) break;  // the generated token(s) after the prompt
      ++prompt_tokens;
      if (at < begin) continue;
      if (tlp[t].is_null()) continue;  // first token of the prompt: no logprob
      double v = as_double(tlp[t]);
      ll += v;
      ++counted;
      if (top.is_array() && t < top.size() && top[t].is_object() && !top[t].empty()) {
        double best = -INFINITY;
        for (auto it = top[t].begin(); it != top[t].end(); ++it)
          if (it.value().is_number()) best = std::max(best, as_double(it.value()));
        if (v != best) greedy = false;
      }
    }
    if (counted == 0 && !cont.empty() && rq.kind == RequestKind::kLoglikelihood) {
      return fail(
          "could not find the continuation's tokens in the echoed prompt (text_offset "
          "does not reach past the context)");
    }
    r.loglikelihood = ll;
    r.is_greedy = greedy;
    r.prompt_tokens = static_cast<int64_t>(prompt_tokens);
    r.completion_tokens = 0;
    r.finish_reason = str_or_empty(*c, "finish_reason");
    r.ok = true;
  }
  return {};
}

}  // namespace

size_t code_points(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xc0) != 0x80) ++n;
  return n;
}

void split_context(const std::string& context, const std::string& continuation,
                   std::string& ctx_out, std::string& cont_out) {
  size_t cut = context.size();
  while (cut > 0) {
    // Decode the code point ending at cut.
    size_t start = cut - 1;
    while (start > 0 && (static_cast<unsigned char>(context[start]) & 0xc0) == 0x80) --start;
    unsigned char b0 = static_cast<unsigned char>(context[start]);
    uint32_t cp;
    size_t len = cut - start;
    if (len == 1) {
      cp = b0;
    } else {
      cp = b0 & (0xff >> (len + 1));
      for (size_t i = start + 1; i < cut; ++i)
        cp = (cp << 6) | (static_cast<unsigned char>(context[i]) & 0x3f);
    }
    if (!is_unicode_space(cp)) break;
    cut = start;
  }
  ctx_out = context.substr(0, cut);
  cont_out = context.substr(cut) + continuation;
}

std::string route_for(const Endpoint& ep, const Request& r, Route* route) {
  bool chat = !r.messages.empty();
  if (r.kind != RequestKind::kGenerate) {
    if (ep.style == ApiStyle::kChat || ep.style == ApiStyle::kAnthropic || chat) {
      return std::string(
                 "loglikelihood requests need a completions endpoint that echoes prompt logprobs; "
                 "this endpoint is ") +
             (ep.style == ApiStyle::kAnthropic ? "Anthropic's Messages API" : "chat-only") +
             " (use the generative variant of the task)";
    }
    *route = Route::kCompletions;
    return "";
  }
  switch (ep.style) {
    case ApiStyle::kAnthropic:
      *route = Route::kMessages;
      return "";
    case ApiStyle::kChat:
      *route = Route::kChat;
      return "";
    case ApiStyle::kCompletions:
      if (chat) return "a chat request (messages) cannot go to a completions-only endpoint";
      *route = Route::kCompletions;
      return "";
    case ApiStyle::kAuto:
      *route = chat ? Route::kChat : Route::kCompletions;
      return "";
  }
  return "";
}

Json canonical(const Endpoint& ep, const Request& r, const ExecOptions& o) {
  Route route = Route::kCompletions;
  route_for(ep, r, &route);
  if (r.kind == RequestKind::kGenerate) {
    Json j = {{"kind", "generate"},
              {"route", route == Route::kChat       ? "chat"
                        : route == Route::kMessages ? "messages"
                                                    : "completions"}};
    j["body"] = generate_body(ep, route, r);
    return j;
  }
  Json j = {{"kind", kind_name(r.kind)}, {"split", o.ll_split}};
  if (r.kind == RequestKind::kLoglikelihood) j["context"] = r.prompt;
  j["continuation"] = r.continuation;
  return j;
}

std::vector<std::string> auth_headers(const Endpoint& ep) {
  std::vector<std::string> h;
  if (ep.style == ApiStyle::kAnthropic) {
    if (!ep.api_key.empty()) h.push_back("x-api-key: " + ep.api_key);
    h.push_back("anthropic-version: 2023-06-01");
  } else if (!ep.api_key.empty()) {
    h.push_back("Authorization: Bearer " + ep.api_key);
  }
  return h;
}

HttpCall build_call(const Endpoint& ep, const ExecOptions& o,
                    const std::vector<const Request*>& batch) {
  HttpCall call;
  call.timeout_s = o.timeout_s;
  call.headers = auth_headers(ep);
  const Request& first = *batch.front();
  Route route = Route::kCompletions;
  route_for(ep, first, &route);
  if (first.kind == RequestKind::kGenerate) {
    Json body = generate_body(ep, route, first);
    if (o.stream && route != Route::kMessages) {
      body["stream"] = true;
      body["stream_options"] = {{"include_usage", true}};
      call.stream = true;
    }
    call.url = ep.base_url + (route == Route::kChat       ? "/chat/completions"
                              : route == Route::kMessages ? "/messages"
                                                          : "/completions");
    call.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
    return call;
  }
  Json prompts = Json::array();
  for (const Request* r : batch) {
    prompts.push_back(r->kind == RequestKind::kLoglikelihood ? r->prompt + r->continuation
                                                             : r->continuation);
  }
  Json body = {{"model", ep.model},
               {"prompt", std::move(prompts)},
               {"temperature", 0},
               {"max_tokens", 1},
               {"logprobs", 1}};
  if (first.gen_kwargs.is_object() && first.gen_kwargs.contains("seed"))
    body["seed"] = first.gen_kwargs["seed"];
  body["echo"] = true;
  call.url = ep.base_url + "/completions";
  call.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return call;
}

Outcome parse_reply(const Endpoint& ep, const std::vector<const Request*>& batch,
                    const HttpReply& reply, std::vector<Response>& out) {
  out.assign(batch.size(), Response{});
  for (auto& r : out) {
    r.http_status = reply.status;
    r.latency_s = reply.latency_s;
  }
  if (reply.status < 200 || reply.status >= 300) {
    std::string line = describe_http_error(ep, reply.status, reply.body);
    return retryable_status(reply.status) ? retry(line) : fail(line);
  }
  Route route = Route::kCompletions;
  route_for(ep, *batch.front(), &route);
  if (batch.front()->kind == RequestKind::kGenerate)
    return parse_generate(ep, route, reply, out[0]);
  return parse_loglikelihood(batch, reply, out);
}

std::string snippet(const std::string& body, size_t n) {
  std::string s;
  for (char c : body) {
    if (s.size() >= n) {
      s += "...";
      break;
    }
    s += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  }
  return trim(s);
}

std::string error_message(const std::string& body) {
  Json j = Json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.is_object()) {
    if (j.contains("error")) {
      const Json& e = j["error"];
      if (e.is_string()) return e.get<std::string>();
      if (e.is_object() && e.contains("message") && e["message"].is_string())
        return e["message"].get<std::string>();
    }
    if (j.contains("message") && j["message"].is_string()) return j["message"].get<std::string>();
    if (j.contains("detail")) {
      return j["detail"].is_string() ? j["detail"].get<std::string>() : j["detail"].dump();
    }
  }
  return snippet(body);
}

std::string describe_http_error(const Endpoint& ep, int status, const std::string& body) {
  std::string line = "HTTP " + std::to_string(status);
  std::string msg = error_message(body);
  if (!msg.empty()) line += ": " + msg;
  if (status == 401 || status == 403) {
    std::string flag = ep.api_key.empty()
                           ? "no API key was given"
                           : "the API key (from " + ep.api_key_source + ") was rejected";
    line += " — " + flag + "; pass --api-key or set " + ep.api_key_env;
  } else if (status == 404 && !ends_with(ep.base_url, "/v1") &&
             to_lower(msg).find("model") == std::string::npos) {
    line += " — the base URL may be missing /v1 (try --base-url " + ep.base_url + "/v1)";
  } else if (status == 404) {
    line += " — check the model name with: retort models --base-url " + ep.base_url;
  }
  return line;
}

}  // namespace retort::wire
