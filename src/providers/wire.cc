#include "providers/wire.h"

#include <cmath>

#include "providers/anthropic_stream.h"
#include "util/json_scan.h"
#include "util/json_writer.h"
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

// lm-eval's generation kwargs → (max_tokens, temperature, stop, seed, rest), as pointers
// into the request's gen_kwargs.
struct GenArgs {
  const Json* max_tokens = nullptr;   // absent: 256
  const Json* temperature = nullptr;  // absent: 0
  std::vector<std::string_view> stop;
  const Json* seed = nullptr;  // absent or null: not sent
  std::vector<std::pair<std::string_view, const Json*>> rest;

  const Json* rest_value(std::string_view key) const {
    for (const auto& [k, v] : rest)
      if (k == key) return v;
    return nullptr;
  }
};

GenArgs gen_args(const Json& gk) {
  GenArgs a;
  if (!gk.is_object()) return a;
  for (auto it = gk.begin(); it != gk.end(); ++it) {
    const std::string& k = it.key();
    const Json& v = it.value();
    if (k == "do_sample") continue;
    if (k == "max_gen_toks") {
      if (!gk.contains("max_tokens")) a.max_tokens = &v;
    } else if (k == "max_tokens") {
      a.max_tokens = &v;
    } else if (k == "temperature") {
      a.temperature = &v;
    } else if (k == "until" || k == "stop") {
      if (v.is_string()) {
        a.stop.push_back(v.get_ref<const std::string&>());
      } else if (v.is_array()) {
        for (const auto& s : v)
          if (s.is_string()) a.stop.push_back(s.get_ref<const std::string&>());
      }
    } else if (k == "seed") {
      a.seed = &v;
    } else {
      a.rest.emplace_back(k, &v);
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

// A request body as an ordered list of members, written without a JSON DOM. set() keeps
// the semantics of assigning into an insertion-ordered JSON object: a key set again keeps
// its place and takes the new value.
class Body {
 public:
  enum class Kind { kJson, kString, kInt, kBool, kRaw, kStops, kMessages };
  struct Member {
    std::string_view key;
    Kind kind = Kind::kRaw;
    const Json* json = nullptr;
    std::string_view text;  // kString, kRaw
    int64_t num = 0;        // kInt, kBool
  };

  explicit Body(const Request& r, const GenArgs& a) : r_(r), a_(a) { members_.reserve(12); }

  void set(std::string_view key, const Json* v) { put({key, Kind::kJson, v, {}, 0}); }
  void set_string(std::string_view key, std::string_view v) {
    put({key, Kind::kString, nullptr, v, 0});
  }
  void set_int(std::string_view key, int64_t v) { put({key, Kind::kInt, nullptr, {}, v}); }
  void set_bool(std::string_view key, bool v) { put({key, Kind::kBool, nullptr, {}, v}); }
  void set_raw(std::string_view key, std::string_view json) {
    put({key, Kind::kRaw, nullptr, json, 0});
  }
  void set_stops(std::string_view key) { put({key, Kind::kStops, nullptr, {}, 0}); }
  // The request's messages (or its prompt as one user message); drop_system leaves out the
  // system messages (Anthropic takes them apart).
  void set_messages(bool drop_system) {
    put({"messages", Kind::kMessages, nullptr, {}, drop_system});
  }
  // A number from gen_kwargs, or the default when absent.
  void set_or(std::string_view key, const Json* v, int64_t fallback) {
    if (v) {
      set(key, v);
    } else {
      set_int(key, fallback);
    }
  }

  void write(std::string& out) const {
    JsonWriter w(out);
    w.begin_object();
    for (const Member& m : members_) {
      w.key(m.key);
      switch (m.kind) {
        case Kind::kJson:
          w.json(*m.json);
          break;
        case Kind::kString:
          w.value(m.text);
          break;
        case Kind::kInt:
          w.value(m.num);
          break;
        case Kind::kBool:
          w.value(m.num != 0);
          break;
        case Kind::kRaw:
          w.raw(m.text);
          break;
        case Kind::kStops:
          w.begin_array();
          for (std::string_view s : a_.stop) w.value(s);
          w.end_array();
          break;
        case Kind::kMessages:
          w.begin_array();
          if (r_.messages.empty()) {
            write_message(w, "user", r_.prompt);
          } else {
            for (const auto& msg : r_.messages) {
              if (m.num && msg.role == "system") continue;
              write_message(w, msg.role, msg.content);
            }
          }
          w.end_array();
          break;
      }
    }
    w.end_object();
  }

 private:
  static void write_message(JsonWriter& w, std::string_view role, std::string_view content) {
    w.begin_object();
    w.key("role");
    w.value(role);
    w.key("content");
    w.value(content);
    w.end_object();
  }

  void put(const Member& m) {
    for (Member& x : members_) {
      if (x.key == m.key) {
        x = m;
        return;
      }
    }
    members_.push_back(m);
  }

  const Request& r_;
  const GenArgs& a_;
  std::vector<Member> members_;
};

// Writes the body of a generate request (without transport-only fields) into body.
// `system` holds Anthropic's joined system text while body is alive.
void generate_body(const Endpoint& ep, Route route, const Request& r, GenArgs& a, Body& body,
                   std::string& system) {
  if (route == Route::kMessages) {
    body.set_string("model", ep.model);
    body.set_or("max_tokens", a.max_tokens, 256);
    for (const auto& m : r.messages) {
      if (m.role != "system") continue;
      if (!system.empty()) system += "\n\n";
      system += m.content;
    }
    if (!system.empty()) body.set_string("system", system);
    body.set_messages(true);
    body.set_or("temperature", a.temperature, 0);
    if (!a.stop.empty()) body.set_stops("stop_sequences");
    for (const char* k : {"top_p", "top_k"}) {
      if (const Json* v = a.rest_value(k)) body.set(k, v);
    }
    return;
  }
  if (route == Route::kChat) {
    body.set_messages(false);
  } else {
    body.set_string("prompt", r.prompt);
  }
  body.set_string("model", ep.model);
  const bool openai_chat = route == Route::kChat && is_openai_api(ep);
  body.set_or(openai_chat ? "max_completion_tokens" : "max_tokens", a.max_tokens, 256);
  if (openai_chat && is_openai_reasoning_model(ep.model)) {
    body.set_int("temperature", 1);
    a.stop.clear();
  } else {
    body.set_or("temperature", a.temperature, 0);
  }
  if (route == Route::kChat && a.stop.size() > 4) a.stop.resize(4);
  if (!a.stop.empty()) body.set_stops("stop");
  if (a.seed && !a.seed->is_null()) body.set("seed", a.seed);
  for (const auto& [k, v] : a.rest) body.set(k, v);
}

bool is_unicode_space(uint32_t c) {
  return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
         c == 0x205f || c == 0x3000;
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
  // OpenAI and DeepSeek: usage.completion_tokens_details.reasoning_tokens (part of
  // completion_tokens). vLLM and LM Studio leave it out (or null): unknown, not 0. The last
  // usage seen wins, as for the other counts.
  r.reasoning_tokens = -1;
  if (u.contains("completion_tokens_details") && u["completion_tokens_details"].is_object()) {
    const Json& d = u["completion_tokens_details"];
    if (d.contains("reasoning_tokens") && d["reasoning_tokens"].is_number())
      r.reasoning_tokens = d["reasoning_tokens"].get<int64_t>();
  }
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
// The next "data:" payload of a server-sent events body from pos (one optional space after
// the colon dropped, CRLF or LF line ends); false at the end.
bool next_sse_data(const std::string& body, size_t& pos, std::string_view& data) {
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    std::string_view line(body.data() + pos, (nl == std::string::npos ? body.size() : nl) - pos);
    pos = nl == std::string::npos ? body.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.substr(0, 5) != "data:") continue;
    data = line.substr(5);
    if (!data.empty() && data[0] == ' ') data.remove_prefix(1);
    return true;
  }
  return false;
}

bool parse_sse(const std::string& body, std::vector<Json>& events, std::string& bad) {
  bool done = false;
  size_t pos = 0;
  std::string_view data;
  while (next_sse_data(body, pos, data)) {
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

// The scanner readers below read the usual shapes of replies without a DOM and give up
// (false) on anything unusual: a value of an unexpected type, a member seen twice, a
// non-null error, malformed JSON. The DOM path then reads the reply again; it owns every
// message and edge case, and tests compare the two.

bool once(bool& seen) {
  return !seen && (seen = true);
}

// "usage": prompt_tokens, input_tokens, completion_tokens, output_tokens (integers; other
// types count 0, as in read_usage), and completion_tokens_details.reasoning_tokens (-1 when
// absent or not an integer).
bool scan_usage(JsonScanner& js, std::string& key, int64_t (&u)[4], int64_t& reasoning) {
  static constexpr std::string_view kNames[4] = {"prompt_tokens", "input_tokens",
                                                 "completion_tokens", "output_tokens"};
  bool seen[4] = {false, false, false, false};
  bool details = false;
  return js.members(key, [&](const std::string& k) {
    if (k == "completion_tokens_details") {
      if (!once(details)) return false;
      if (js.peek() != JsonScanner::Type::kObject) return js.skip_value();
      std::string inner;
      bool rt = false;
      return js.members(inner, [&](const std::string& d) {
        if (d != "reasoning_tokens") return js.skip_value();
        if (!once(rt)) return false;
        return js.peek() == JsonScanner::Type::kNumber ? js.read_int(reasoning) : js.skip_value();
      });
    }
    size_t i = 0;
    while (i < 4 && k != kNames[i]) ++i;
    if (i == 4) return js.skip_value();
    if (!once(seen[i])) return false;
    return js.peek() == JsonScanner::Type::kNumber ? js.read_int(u[i]) : js.skip_value();
  });
}

// A chat message or delta: content, reasoning_content, reasoning (each a string, or "").
bool scan_message(JsonScanner& js, std::string& key, std::string& content,
                  std::string& reasoning_content, std::string& reasoning) {
  bool c = false, rc = false, r = false;
  return js.members(key, [&](const std::string& k) {
    if (k == "content") return once(c) && js.string_or_skip(content);
    if (k == "reasoning_content") return once(rc) && js.string_or_skip(reasoning_content);
    if (k == "reasoning") return once(r) && js.string_or_skip(reasoning);
    return js.skip_value();
  });
}

// A top-level "error" member: only null is usual.
bool scan_null_error(JsonScanner& js, bool& seen) {
  return once(seen) && js.peek() == JsonScanner::Type::kNull && js.skip_value();
}

// A non-streamed chat/completions reply: choices[0].message.{content, reasoning_content,
// reasoning} (chat) or choices[0].text, choices[0].finish_reason, usage. No or empty
// choices, or (chat) no message object, is unusual.
class GenerateReplyReader {
 public:
  GenerateReplyReader(const std::string& body, bool chat) : js_(body), chat_(chat) {}

  // Whether the reply had the usual shape; then r holds text, finish reason, usage and,
  // for chat, reasoning (reasoning_content wins over reasoning).
  bool read(Response& r) {
    bool choices = false, usage = false, error = false;
    bool ok = js_.members(key_, [&](const std::string& k) {
      if (k == "choices") return once(choices) && read_choices();
      if (k == "error") return scan_null_error(js_, error);
      if (k == "usage") {
        return once(usage) && (js_.peek() == JsonScanner::Type::kObject
                                   ? scan_usage(js_, key_, usage_, reasoning_tokens_)
                                   : js_.skip_value());
      }
      return js_.skip_value();
    });
    if (!ok || !js_.finish() || !saw_choice0_ || (chat_ && !saw_message_)) return false;
    r.text = chat_ ? std::move(content_) : std::move(text_);
    if (chat_)
      r.reasoning =
          reasoning_content_.empty() ? std::move(reasoning_) : std::move(reasoning_content_);
    r.finish_reason = std::move(finish_);
    r.prompt_tokens = usage_[0] + usage_[1];
    r.completion_tokens = usage_[2] + usage_[3];
    r.reasoning_tokens = reasoning_tokens_;
    return true;
  }

 private:
  bool read_choices() {
    size_t n = 0;
    return js_.elements([&] { return n++ > 0 ? js_.skip_value() : read_choice(); });
  }

  bool read_choice() {
    saw_choice0_ = true;
    bool text = false, finish = false, message = false;
    return js_.members(key_, [&](const std::string& k) {
      if (k == "text") return once(text) && js_.string_or_skip(text_);
      if (k == "finish_reason") return once(finish) && js_.string_or_skip(finish_);
      if (k == "message") {
        saw_message_ = true;
        return once(message) && scan_message(js_, key_, content_, reasoning_content_, reasoning_);
      }
      return js_.skip_value();
    });
  }

  JsonScanner js_;
  bool chat_;
  std::string key_;
  bool saw_choice0_ = false, saw_message_ = false;
  std::string text_, finish_, content_, reasoning_content_, reasoning_;
  int64_t usage_[4] = {0, 0, 0, 0};
  int64_t reasoning_tokens_ = -1;
};

// An OpenAI-style stream (chat deltas or completions text, usage in the last event, ended
// by [DONE]), event by event. A choice or delta that is not an object, or no [DONE], is
// unusual.
class StreamReader {
 public:
  explicit StreamReader(bool chat) : chat_(chat) {}

  bool read(const std::string& body, Response& r) {
    bool done = false;
    size_t pos = 0;
    std::string_view data;
    while (next_sse_data(body, pos, data)) {
      if (data == "[DONE]") {
        done = true;
      } else if (!read_event(data)) {
        return false;
      }
    }
    if (!done) return false;
    r.text = std::move(text_);
    r.reasoning = std::move(reasoning_);
    r.finish_reason = std::move(finish_);
    if (usage_seen_) {
      r.prompt_tokens = usage_[0] + usage_[1];
      r.completion_tokens = usage_[2] + usage_[3];
      r.reasoning_tokens = reasoning_tokens_;
    }
    return true;
  }

 private:
  using T = JsonScanner::Type;

  bool read_event(std::string_view data) {
    JsonScanner js(data);
    bool choices = false, usage = false, error = false;
    bool ok = js.members(key_, [&](const std::string& k) {
      if (k == "choices") {
        return once(choices) && (js.peek() == T::kArray ? read_choices(js) : js.skip_value());
      }
      if (k == "error") return scan_null_error(js, error);
      if (k == "usage") {
        if (!once(usage)) return false;
        if (js.peek() != T::kObject) return js.skip_value();
        int64_t u[4] = {0, 0, 0, 0};
        int64_t reasoning = -1;
        if (!scan_usage(js, key_, u, reasoning)) return false;
        std::copy(u, u + 4, usage_);
        reasoning_tokens_ = reasoning;
        usage_seen_ = true;
        return true;
      }
      return js.skip_value();
    });
    return ok && js.finish();
  }

  // Every choice adds to the text: its delta (chat) or its text.
  bool read_choices(JsonScanner& js) {
    return js.elements([&] {
      bool delta = false, text = false, finish = false, finish_string = false;
      piece_text_.clear();
      piece_content_.clear();
      piece_rc_.clear();
      piece_reasoning_.clear();
      bool ok = js.members(key_, [&](const std::string& k) {
        if (k == "delta") {
          return once(delta) && scan_message(js, key_, piece_content_, piece_rc_, piece_reasoning_);
        }
        if (k == "text") return once(text) && js.string_or_skip(piece_text_);
        if (k == "finish_reason") {
          finish_string = js.peek() == T::kString;
          return once(finish) && js.string_or_skip(piece_finish_);
        }
        return js.skip_value();
      });
      if (!ok) return false;
      if (chat_ && delta) {
        text_ += piece_content_;
        reasoning_ += piece_rc_;
        reasoning_ += piece_reasoning_;
      } else {
        text_ += piece_text_;
      }
      if (finish_string) finish_ = piece_finish_;
      return true;
    });
  }

  bool chat_;
  std::string key_;
  std::string text_, reasoning_, finish_;
  std::string piece_text_, piece_content_, piece_rc_, piece_reasoning_, piece_finish_;
  int64_t usage_[4] = {0, 0, 0, 0};
  int64_t reasoning_tokens_ = -1;
  bool usage_seen_ = false;
};

Outcome parse_generate(const Endpoint& ep, Route route, const HttpReply& reply, Response& r,
                       bool dom_only) {
  bool streamed = reply.body.rfind("data:", 0) == 0 ||
                  reply.content_type.find("text/event-stream") != std::string::npos;
  if (streamed && route == Route::kMessages) return parse_anthropic_stream(reply, r);
  if (streamed && !dom_only && StreamReader(route == Route::kChat).read(reply.body, r)) {
    r.ttft_s = reply.ttft_s;
    r.ok = true;
    return {};
  }
  if (streamed) {
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
  if (!dom_only && route != Route::kMessages &&
      GenerateReplyReader(reply.body, route == Route::kChat).read(r)) {
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

// One choice of an echo reply (completions with echo + logprobs), as far as scoring a
// loglikelihood request needs it. Filled from the DOM or, for usual replies, by a scanner.
struct EchoChoice {
  int64_t index = -1;            // the "index" member when it is a non-negative integer
  bool logprobs_object = false;  // "logprobs" is an object
  bool has_content = false;      // logprobs has "content" (chat-style, generated tokens)
  bool has_token_logprobs = false;
  bool tlp_array = false;              // token_logprobs is an array (read when it is)
  bool arrays = false;                 // token_logprobs and text_offset are both arrays
  std::vector<double> token_logprobs;  // NaN: null (the first prompt token)
  std::vector<uint64_t> text_offset;   // kNotANumber: not a number
  std::vector<double> best_top;        // highest top logprob per token; NaN: none to compare
  std::string finish_reason;
};

constexpr uint64_t kNotANumber = ~uint64_t{0};

// The choice answering prompt i: the one whose index is i, else the i-th.
const EchoChoice* find_choice(const std::vector<EchoChoice>& choices, size_t i) {
  for (const auto& c : choices)
    if (c.index >= 0 && static_cast<size_t>(c.index) == i) return &c;
  return i < choices.size() ? &choices[i] : nullptr;
}

// Reads the choices of an echo reply through the DOM: any shape, with the error messages.
Outcome echo_choices_dom(const HttpReply& reply, std::vector<EchoChoice>& out) {
  Json body;
  Outcome o = parse_json(reply, body);
  if (o.verdict != Verdict::kDone) return o;
  if (!body.contains("choices") || !body["choices"].is_array())
    return retry("the reply has no 'choices': '" + snippet(reply.body) + "'");
  const double nan = std::nan("");
  for (const Json& c : body["choices"]) {
    EchoChoice e;
    if (c.is_object()) {
      if (c.contains("index") && c["index"].is_number_integer() && c["index"].get<int64_t>() >= 0)
        e.index = c["index"].get<int64_t>();
      e.finish_reason = str_or_empty(c, "finish_reason");
    }
    if (c.is_object() && c.contains("logprobs") && c["logprobs"].is_object()) {
      const Json& lp = c["logprobs"];
      e.logprobs_object = true;
      e.has_content = lp.contains("content");
      e.has_token_logprobs = lp.contains("token_logprobs");
      e.tlp_array = e.has_token_logprobs && lp["token_logprobs"].is_array();
      e.arrays = e.tlp_array && lp.contains("text_offset") && lp["text_offset"].is_array();
      if (e.tlp_array) {
        for (const Json& v : lp["token_logprobs"]) {
          if (!v.is_null() && !v.is_number()) {
            return fail("this endpoint's token_logprobs hold a value that is not a number: " +
                        v.dump());
          }
          e.token_logprobs.push_back(v.is_null() ? nan : v.get<double>());
        }
      }
      if (e.arrays) {
        for (const Json& v : lp["text_offset"])
          e.text_offset.push_back(v.is_number() ? v.get<uint64_t>() : kNotANumber);
        const Json* top = lp.contains("top_logprobs") ? &lp["top_logprobs"] : nullptr;
        if (top && top->is_array()) {
          for (const Json& t : *top) {
            double best = nan;
            if (t.is_object() && !t.empty()) {
              best = -INFINITY;
              for (auto it = t.begin(); it != t.end(); ++it)
                if (it.value().is_number()) best = std::max(best, it.value().get<double>());
            }
            e.best_top.push_back(best);
          }
        }
      }
    }
    out.push_back(std::move(e));
  }
  return {};
}

// An echo reply (vLLM's and the simulator's: choices of {index, text, logprobs: {tokens,
// token_logprobs, top_logprobs, text_offset}, finish_reason}). A choice or logprobs that
// is not an object, entries of other types than vLLM sends, other logprobs members
// (e.g. "content"), or a top_logprobs entry naming one token twice is unusual.
class EchoReplyReader {
 public:
  explicit EchoReplyReader(const std::string& body) : js_(body) {}

  bool read(std::vector<EchoChoice>& out) {
    bool choices = false, error = false;
    bool ok = js_.members(key_, [&](const std::string& k) {
      if (k == "choices") {
        return once(choices) && js_.elements([&] {
          out.emplace_back();
          return read_choice(out.back());
        });
      }
      if (k == "error") return scan_null_error(js_, error);
      return js_.skip_value();
    });
    return ok && js_.finish() && choices;
  }

 private:
  using T = JsonScanner::Type;

  bool read_choice(EchoChoice& e) {
    bool index = false, finish = false, logprobs = false;
    return js_.members(key_, [&](const std::string& k) {
      if (k == "index") {
        int64_t v = -1;
        bool ok = once(index) && (js_.peek() == T::kNumber ? js_.read_int(v) : js_.skip_value());
        e.index = v >= 0 ? v : -1;
        return ok;
      }
      if (k == "finish_reason") return once(finish) && js_.string_or_skip(e.finish_reason);
      if (k == "logprobs") return once(logprobs) && read_logprobs(e);
      return js_.skip_value();
    });
  }

  bool read_logprobs(EchoChoice& e) {
    if (js_.peek() == T::kNull) return js_.skip_value();
    e.logprobs_object = true;
    bool tlp = false, off = false, top = false, tokens = false;
    bool ok = js_.members(key_, [&](const std::string& k) {
      if (k == "token_logprobs") {
        e.has_token_logprobs = true;
        return once(tlp) && js_.elements([&] {
          double v = std::nan("");
          bool ok = js_.peek() == T::kNull ? js_.skip_value() : js_.read_double(v);
          e.token_logprobs.push_back(v);
          return ok;
        });
      }
      if (k == "text_offset") {
        return once(off) && js_.elements([&] {
          int64_t v = 0;
          if (!js_.read_int(v) || v < 0) return false;
          e.text_offset.push_back(static_cast<uint64_t>(v));
          return true;
        });
      }
      if (k == "top_logprobs") return once(top) && js_.elements([&] { return read_top(e); });
      if (k == "tokens") return once(tokens) && js_.skip_value();
      return false;  // "content" (chat-style logprobs) and anything else: the DOM reads those
    });
    e.tlp_array = tlp;
    e.arrays = tlp && off;
    return ok;
  }

  // One top_logprobs entry: null, or {token: logprob} naming each token once.
  bool read_top(EchoChoice& e) {
    double best = std::nan("");
    if (js_.peek() == T::kNull) {
      e.best_top.push_back(best);
      return js_.skip_value();
    }
    tokens_.clear();
    bool ok = js_.members(key_, [&](const std::string& k) {
      for (const auto& t : tokens_)
        if (t == k) return false;  // one token named twice
      tokens_.push_back(k);
      double v = 0;
      if (!js_.read_double(v)) return false;
      best = std::isnan(best) ? v : std::max(best, v);
      return true;
    });
    e.best_top.push_back(best);
    return ok;
  }

  JsonScanner js_;
  std::string key_;
  std::vector<std::string> tokens_;
};

// lm-eval's token-count split: the continuation's logprobs are token_logprobs[ctxlen:-1]
// (the last entry is the generated token); greedy when each equals its top_logprobs' best.
void score_by_tokens(const EchoChoice& c, const TokenPlan& plan, Response& r, size_t& counted) {
  const auto& tlp = c.token_logprobs;
  double ll = 0;
  bool greedy = true;
  size_t end = tlp.empty() ? 0 : tlp.size() - 1;
  for (size_t t = plan.ctxlen; t < end; ++t) {
    if (std::isnan(tlp[t])) continue;
    ll += tlp[t];
    ++counted;
    if (t < c.best_top.size() && !std::isnan(c.best_top[t]) && tlp[t] != c.best_top[t])
      greedy = false;
  }
  r.loglikelihood = ll;
  r.is_greedy = greedy;
  r.prompt_tokens = static_cast<int64_t>(plan.ids.size());
}

Outcome parse_loglikelihood(const std::vector<const Request*>& batch, const HttpReply& reply,
                            std::vector<Response>& out, bool dom_only,
                            const std::vector<const TokenPlan*>* plans) {
  std::vector<EchoChoice> choices;
  if (dom_only || !EchoReplyReader(reply.body).read(choices)) {
    choices.clear();
    Outcome o = echo_choices_dom(reply, choices);
    if (o.verdict != Verdict::kDone) return o;
  }
  if (choices.size() < batch.size()) {
    return retry("the reply has " + std::to_string(choices.size()) + " choices for " +
                 std::to_string(batch.size()) + " prompts");
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    const Request& rq = *batch[i];
    Response& r = out[i];
    const EchoChoice* c = find_choice(choices, i);
    if (!c || !c->logprobs_object) {
      return fail(
          "this endpoint returned no logprobs for the prompt; it cannot score loglikelihood "
          "requests (use the generative variant of the task)");
    }
    if (c->has_content && !c->has_token_logprobs) {
      return fail(
          "this endpoint cannot return prompt logprobs (it answers logprobs.content for "
          "generated tokens only, like llama.cpp or chat-only servers); use the generative "
          "variant of the task");
    }
    const bool by_tokens = plans && (*plans)[i];  // needs token_logprobs only
    if (by_tokens ? !c->tlp_array : !c->arrays) {
      return fail(by_tokens ? "this endpoint's logprobs lack token_logprobs, so prompt logprobs "
                              "cannot be read; use the generative variant of the task"
                            : "this endpoint's logprobs lack token_logprobs/text_offset, so "
                              "prompt logprobs cannot be read; use the generative variant of "
                              "the task");
    }
    if (by_tokens) {
      size_t counted = 0;
      score_by_tokens(*c, *(*plans)[i], r, counted);
      if (counted == 0 && !rq.continuation.empty()) {
        return fail(
            "the echo holds no logprobs for the continuation's tokens (expected them from "
            "token " +
            std::to_string((*plans)[i]->ctxlen) + " of " + std::to_string((*plans)[i]->ids.size()) +
            ")");
      }
      r.completion_tokens = 0;
      r.finish_reason = c->finish_reason;
      r.ok = true;
      continue;
    }
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
    const auto& tlp = c->token_logprobs;
    const auto& off = c->text_offset;
    for (size_t t = 0; t < tlp.size() && t < off.size(); ++t) {
      if (off[t] == kNotANumber) continue;
      if (off[t] >= end) break;  // the generated token(s) after the prompt
      ++prompt_tokens;
      if (off[t] < begin) continue;
      if (std::isnan(tlp[t])) continue;  // first token of the prompt: no logprob
      ll += tlp[t];
      ++counted;
      if (t < c->best_top.size() && !std::isnan(c->best_top[t]) && tlp[t] != c->best_top[t])
        greedy = false;
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
    r.finish_reason = c->finish_reason;
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

const char* ll_split_for(const Request& r, const ExecOptions& o) {
  if (o.ll_split != "tokenize" || r.kind != RequestKind::kLoglikelihood) return "offset";
  std::string ctx, cont;
  split_context(r.prompt, r.continuation, ctx, cont);
  return ctx.empty() ? "offset" : "tokenize";
}

void canonical_pieces(const Endpoint& ep, const Request& r, const ExecOptions& o,
                      const std::function<void(std::string_view)>& piece, std::string* body_out) {
  if (r.kind == RequestKind::kGenerate) {
    // {"kind":"generate","route":"<route>","body":<body>}: the body, often the longest
    // piece, goes to the caller as it is instead of being copied into a JSON object.
    Route route = Route::kCompletions;
    route_for(ep, r, &route);
    GenArgs a = gen_args(r.gen_kwargs);
    Body body(r, a);
    std::string system;
    generate_body(ep, route, r, a, body, system);
    std::string text;
    body.write(text);
    piece(R"({"kind":"generate","route":")");
    piece(route == Route::kChat ? "chat" : route == Route::kMessages ? "messages" : "completions");
    piece(R"(","body":)");
    piece(text);
    piece("}");
    if (body_out) *body_out = std::move(text);
    return;
  }
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("kind");
  w.value(kind_name(r.kind));
  const char* split = ll_split_for(r, o);
  w.key("split");
  w.value(split);
  if (std::string_view(split) == "tokenize") {
    w.key("max_length");
    w.value(o.max_length);
  }
  if (r.kind == RequestKind::kLoglikelihood) {
    w.key("context");
    w.value(r.prompt);
  }
  w.key("continuation");
  w.value(r.continuation);
  w.end_object();
  piece(out);
}

std::string canonical_text(const Endpoint& ep, const Request& r, const ExecOptions& o,
                           std::string* body_out) {
  std::string out;
  canonical_pieces(
      ep, r, o, [&](std::string_view p) { out += p; }, body_out);
  return out;
}

namespace {

// Fills h with the endpoint's auth/version headers, reusing h's strings.
void set_auth_headers(const Endpoint& ep, std::vector<std::string>& h) {
  size_t n = 0;
  auto put = [&](std::string_view name, std::string_view value) {
    if (n == h.size()) h.emplace_back();
    h[n].assign(name).append(value);
    ++n;
  };
  if (ep.style == ApiStyle::kAnthropic) {
    if (!ep.api_key.empty()) put("x-api-key: ", ep.api_key);
    put("anthropic-version: ", "2023-06-01");
  } else if (!ep.api_key.empty()) {
    put("Authorization: Bearer ", ep.api_key);
  } else if (!ep.basic_auth.empty()) {
    put("Authorization: Basic ", ep.basic_auth);
  }
  h.resize(n);
}

}  // namespace

std::vector<std::string> auth_headers(const Endpoint& ep) {
  std::vector<std::string> h;
  set_auth_headers(ep, h);
  return h;
}

HttpCall build_call(const Endpoint& ep, const ExecOptions& o,
                    const std::vector<const Request*>& batch) {
  HttpCall call;
  build_call(ep, o, batch, call);
  return call;
}

void build_call(const Endpoint& ep, const ExecOptions& o, const std::vector<const Request*>& batch,
                HttpCall& call, const std::vector<const TokenPlan*>* plans, std::string* prebuilt) {
  call.method = "POST";
  call.timeout_s = o.timeout_s;
  call.stall_timeout_s = 0;
  call.stream = false;
  call.ttft_marker.clear();
  call.body.clear();
  set_auth_headers(ep, call.headers);
  const Request& first = *batch.front();
  Route route = Route::kCompletions;
  route_for(ep, first, &route);
  if (first.kind == RequestKind::kGenerate) {
    auto set_url = [&] {
      call.url.assign(ep.base_url)
          .append(route == Route::kChat       ? "/chat/completions"
                  : route == Route::kMessages ? "/messages"
                                              : "/completions");
    };
    if (prebuilt && !prebuilt->empty() && !o.stream) {
      call.body = std::move(*prebuilt);
      prebuilt->clear();
      set_url();
      return;
    }
    GenArgs a = gen_args(first.gen_kwargs);
    Body body(first, a);
    std::string system;
    generate_body(ep, route, first, a, body, system);
    if (o.stream) {
      body.set_bool("stream", true);
      if (route != Route::kMessages) body.set_raw("stream_options", R"({"include_usage":true})");
      call.stream = true;
      call.stall_timeout_s = o.stall_timeout_s;
      // Anthropic sends message_start before any token: the first token is the first delta.
      if (route == Route::kMessages) call.ttft_marker = "content_block_delta";
    }
    set_url();
    body.write(call.body);
    return;
  }
  JsonWriter w(call.body);
  w.begin_object();
  w.key("model");
  w.value(ep.model);
  w.key("prompt");
  w.begin_array();
  for (size_t i = 0; i < batch.size(); ++i) {
    const Request* r = batch[i];
    if (plans && (*plans)[i]) {
      w.begin_array();
      for (int64_t id : (*plans)[i]->ids) w.value(id);
      w.end_array();
    } else if (r->kind == RequestKind::kLoglikelihood) {
      w.value(r->prompt + r->continuation);
    } else {
      w.value(r->continuation);
    }
  }
  w.end_array();
  w.key("temperature");
  w.value(0);
  w.key("max_tokens");
  w.value(1);
  w.key("logprobs");
  w.value(1);
  if (first.gen_kwargs->is_object() && first.gen_kwargs->contains("seed")) {
    w.key("seed");
    w.json(first.gen_kwargs["seed"]);
  }
  w.key("echo");
  w.value(true);
  w.end_object();
  call.url.assign(ep.base_url).append("/completions");
}

Outcome parse_reply(const Endpoint& ep, const std::vector<const Request*>& batch,
                    const HttpReply& reply, std::vector<Response>& out, bool dom_only,
                    const std::vector<const TokenPlan*>* plans) {
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
    return parse_generate(ep, route, reply, out[0], dom_only);
  return parse_loglikelihood(batch, reply, out, dom_only, plans);
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
