#include "sim/api.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <optional>

#include <fmt/format.h>

#include "util/json.h"

namespace retort::sim {

namespace {

// A request the API rejects; becomes an error reply in vLLM's shape.
struct ApiError {
  int status;
  std::string message;
  std::string type;
};

[[noreturn]] void bad_request(const std::string& message) {
  throw ApiError{400, message, "BadRequestError"};
}

std::string dumps(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json parse_body(std::string_view body) {
  Json j;
  try {
    j = Json::parse(body);
  } catch (const Json::exception& e) {
    bad_request(std::string("Invalid JSON body: ") + e.what());
  }
  if (!j.is_object()) bad_request("The request body must be a JSON object.");
  return j;
}

const Json* field(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<long> get_int(const Json& j, const char* key, long lo, long hi) {
  const Json* v = field(j, key);
  if (!v) return std::nullopt;
  if (!v->is_number_integer() &&
      !(v->is_number_float() && std::floor(v->get<double>()) == v->get<double>())) {
    bad_request(fmt::format("'{}' must be an integer", key));
  }
  long x = v->is_number_integer() ? v->get<long>() : static_cast<long>(v->get<double>());
  if (x < lo || x > hi)
    bad_request(fmt::format("'{}' must be between {} and {}, got {}", key, lo, hi, x));
  return x;
}

bool get_bool(const Json& j, const char* key) {
  const Json* v = field(j, key);
  if (!v) return false;
  if (!v->is_boolean()) bad_request(fmt::format("'{}' must be a boolean", key));
  return v->get<bool>();
}

std::vector<std::string> get_stop(const Json& j) {
  std::vector<std::string> out;
  const Json* v = field(j, "stop");
  if (!v) return out;
  if (v->is_string()) {
    out.push_back(v->get<std::string>());
  } else if (v->is_array()) {
    for (const auto& s : *v) {
      if (!s.is_string()) bad_request("'stop' must be a string or a list of strings");
      out.push_back(s.get<std::string>());
    }
  } else {
    bad_request("'stop' must be a string or a list of strings");
  }
  return out;
}

const std::string& resolve_model(const SimOptions& o, const Json& body) {
  const Json* m = field(body, "model");
  if (!m) return o.models.front();
  if (!m->is_string()) bad_request("'model' must be a string");
  const auto& name = m->get_ref<const std::string&>();
  for (const auto& s : o.models) {
    if (s == name) return s;
  }
  throw ApiError{404, fmt::format("The model `{}` does not exist.", name), "NotFoundError"};
}

// Text of a chat message's content: a string, null, or a list of parts.
std::string content_text(const Json& content) {
  if (content.is_null()) return "";
  if (content.is_string()) return content.get<std::string>();
  if (content.is_array()) {
    std::string out;
    bool first = true;
    for (const auto& part : content) {
      if (!part.is_object()) bad_request("message content parts must be objects");
      auto t = part.find("text");
      if (t == part.end()) continue;  // images and other parts carry no text here
      if (!t->is_string()) bad_request("a content part's 'text' must be a string");
      if (!first) out += '\n';
      out += t->get<std::string>();
      first = false;
    }
    return out;
  }
  bad_request("message 'content' must be a string, a list of parts, or null");
}

// The simulator's chat template (also used by /tokenize with "messages").
struct ChatPrompt {
  std::string text;
  std::string last_user;
};

ChatPrompt apply_chat_template(const Json& messages) {
  if (!messages.is_array() || messages.empty()) {
    bad_request("'messages' must be a non-empty list of messages");
  }
  ChatPrompt p;
  for (const auto& m : messages) {
    if (!m.is_object()) bad_request("each message must be an object with 'role' and 'content'");
    auto r = m.find("role");
    if (r == m.end() || !r->is_string()) bad_request("each message needs a string 'role'");
    std::string content = content_text(m.contains("content") ? m["content"] : Json());
    const auto& role = r->get_ref<const std::string&>();
    p.text += "<|" + role + "|>\n" + content + "\n";
    if (role == "user") p.last_user = std::move(content);
  }
  p.text += "<|assistant|>\n";
  return p;
}

constexpr double kGeneratedLogprob = -0.01;

// Where a reply's reasoning and answer lie, as a reasoning parser for DeepSeek-R1-style
// output sees them: "<think>reasoning</think>answer", where the opening tag may be missing
// (the chat template put it in the prompt). Without a closing tag, all is reasoning when the
// reply opens with <think>, else all is answer.
struct ReasoningSplit {
  size_t reasoning_begin = 0, reasoning_end = 0;  // [begin, end) of the reasoning
  size_t content_begin = 0;                       // the answer runs to the end
};

ReasoningSplit split_reasoning(const std::string& text) {
  static const std::string kOpen = "<think>", kClose = "</think>";
  ReasoningSplit s;
  size_t first = text.find_first_not_of(" \t\r\n");
  bool opens = first != std::string::npos && text.compare(first, kOpen.size(), kOpen) == 0;
  size_t from = opens ? first + kOpen.size() : 0;
  size_t close = text.find(kClose, from);
  if (close == std::string::npos) {
    if (opens) {
      s.reasoning_begin = from;
      s.reasoning_end = s.content_begin = text.size();
    }
    return s;
  }
  s.reasoning_begin = from;
  s.reasoning_end = close;
  s.content_begin = close + kClose.size();
  return s;
}

std::string clip(const std::string& text, size_t a, size_t b, size_t lo, size_t hi) {
  size_t x = std::max(a, lo), y = std::min(b, hi);
  return x < y ? text.substr(x, y - x) : std::string();
}

// A lower logprob for the one alternative token offered in top_logprobs, so the real token
// stays the top-1 (greedy) and, where possible, the two probabilities sum to at most 1.
double alt_logprob(double lp) {
  double rest = lp < -1e-9 ? std::log1p(-std::exp(lp)) : -20.0;
  return std::max(-100.0, std::min(lp - 1.0, rest));
}

const std::string& alt_token(const std::string& tok) {
  static const std::string kAlts[] = {" the", ",", " a"};
  return tok == kAlts[0] ? (tok == kAlts[1] ? kAlts[2] : kAlts[1]) : kAlts[0];
}

Json byte_list(const std::string& s) {
  Json b = Json::array();
  for (unsigned char c : s) b.push_back(static_cast<int>(c));
  return b;
}

// A chat logprobs.content[] entry.
Json chat_logprob_entry(const std::string& tok, long top_k) {
  Json e = Json::object();
  e["token"] = tok;
  e["logprob"] = kGeneratedLogprob;
  e["bytes"] = byte_list(tok);
  Json top = Json::array();
  if (top_k >= 1) {
    Json t = Json::object();
    t["token"] = tok;
    t["logprob"] = kGeneratedLogprob;
    t["bytes"] = byte_list(tok);
    top.push_back(std::move(t));
  }
  if (top_k >= 2) {
    const auto& alt = alt_token(tok);
    Json t = Json::object();
    t["token"] = alt;
    t["logprob"] = alt_logprob(kGeneratedLogprob);
    t["bytes"] = byte_list(alt);
    top.push_back(std::move(t));
  }
  e["top_logprobs"] = std::move(top);
  return e;
}

// Legacy completions logprobs: parallel lists.
struct LegacyLogprobs {
  Json tokens = Json::array();
  Json token_logprobs = Json::array();
  Json top_logprobs = Json::array();
  Json text_offset = Json::array();

  void add(const std::string& tok, std::optional<double> lp, size_t offset, long k) {
    tokens.push_back(tok);
    text_offset.push_back(offset);
    if (!lp) {
      token_logprobs.push_back(nullptr);
      top_logprobs.push_back(nullptr);
      return;
    }
    token_logprobs.push_back(*lp);
    Json top = Json::object();
    top[tok] = *lp;
    if (k >= 2) top[alt_token(tok)] = alt_logprob(*lp);
    top_logprobs.push_back(std::move(top));
  }
  Json to_json() {
    Json j = Json::object();
    j["tokens"] = std::move(tokens);
    j["token_logprobs"] = std::move(token_logprobs);
    j["top_logprobs"] = std::move(top_logprobs);
    j["text_offset"] = std::move(text_offset);
    return j;
  }
};

// reasoning: the completion tokens spent reasoning, sent as OpenAI's
// completion_tokens_details.reasoning_tokens; omitted when < 0.
Json usage_json(size_t prompt, size_t completion, long reasoning = -1) {
  Json u = Json::object();
  u["prompt_tokens"] = prompt;
  u["total_tokens"] = prompt + completion;
  u["completion_tokens"] = completion;
  if (reasoning >= 0) u["completion_tokens_details"] = Json{{"reasoning_tokens", reasoning}};
  return u;
}

// The tokens of a reply that start before its answer (the reasoning and its tags).
long reasoning_token_count(const std::vector<std::string>& tokens, size_t content_begin) {
  long count = 0;
  size_t offset = 0;
  for (const auto& t : tokens) {
    if (offset >= content_begin) break;
    ++count;
    offset += t.size();
  }
  return count;
}

std::string sse(const Json& j) {
  return "data: " + dumps(j) + "\n\n";
}

std::string context_error(int max_len, size_t prompt, long completion, const char* where) {
  return fmt::format(
      "This model's maximum context length is {} tokens. However, you requested {} tokens ({} "
      "in the {}, {} in the completion). Please reduce the length of the {} or completion.",
      max_len, prompt + completion, prompt, where, completion, where);
}

Reply json_reply(const Json& j) {
  Reply r;
  r.body = dumps(j);
  return r;
}

}  // namespace

Reply error_reply(int status, const std::string& message, const std::string& type) {
  Json j = Json::object();
  j["object"] = "error";
  j["message"] = message;
  j["type"] = type;
  j["param"] = nullptr;
  j["code"] = status;
  Reply r = json_reply(j);
  r.status = status;
  return r;
}

Reply openai_error_reply(int status, const std::string& message, const std::string& type,
                         const std::string& code) {
  Json e = Json::object();
  e["message"] = message;
  e["type"] = type;
  e["param"] = nullptr;
  e["code"] = code;
  Json j = Json::object();
  j["error"] = std::move(e);
  Reply r = json_reply(j);
  r.status = status;
  return r;
}

Reply anthropic_error_reply(int status, const std::string& type, const std::string& message) {
  Json e = Json::object();
  e["type"] = type;
  e["message"] = message;
  Json j = Json::object();
  j["type"] = "error";
  j["error"] = std::move(e);
  Reply r = json_reply(j);
  r.status = status;
  return r;
}

struct Api::Generated {
  std::string text;
  std::vector<std::string> tokens;
  std::string finish_reason;
  std::string stop;  // the stop string that cut the text, if one did
};

Api::Api(const SimOptions& options, const Script* script)
    : options_(options), script_(script), created_(static_cast<int64_t>(std::time(nullptr))) {}

std::string Api::next_id(const char* prefix) {
  return fmt::format("{}-sim{:012x}", prefix, id_counter_.fetch_add(1) + 1);
}

Api::Generated Api::generate(const std::string& subject, const std::string& echo_text,
                             long max_tokens, const std::vector<std::string>& stop) {
  const std::string* base = &echo_text;
  std::optional<std::string> scripted;
  if (options_.mode == Mode::kFixed && options_.reply) {
    base = &*options_.reply;
  } else if (options_.mode == Mode::kScript) {
    if (script_) scripted = script_->reply_for(subject);
    if (scripted) {
      base = &*scripted;
    } else if (options_.reply) {
      base = &*options_.reply;
    }
  }
  Generated g;
  auto pieces = tokenizer_.pieces(*base);
  size_t n = std::min(pieces.size(), static_cast<size_t>(std::max(0L, max_tokens)));
  bool truncated = n < pieces.size();
  pieces.resize(n);
  for (const auto& p : pieces) g.text += p;
  size_t cut = std::string::npos;
  for (const auto& s : stop) {
    if (s.empty()) continue;
    size_t at = g.text.find(s);
    if (at < cut) {
      cut = at;
      g.stop = s;
    }
  }
  if (cut != std::string::npos) {
    g.text.resize(cut);
    g.tokens = tokenizer_.pieces(g.text);
    g.finish_reason = "stop";
  } else {
    g.tokens = std::move(pieces);
    g.finish_reason = truncated ? "length" : "stop";
  }
  return g;
}

Reply Api::models() const {
  Json data = Json::array();
  for (const auto& m : options_.models) {
    Json e = Json::object();
    e["id"] = m;
    e["object"] = "model";
    e["created"] = created_;
    e["owned_by"] = "vllm";
    e["root"] = m;
    e["parent"] = nullptr;
    e["max_model_len"] = options_.max_model_len;
    data.push_back(std::move(e));
  }
  Json j = Json::object();
  j["object"] = "list";
  j["data"] = std::move(data);
  return json_reply(j);
}

Reply Api::chat(std::string_view body) try {
  Json req = parse_body(body);
  const std::string& model = resolve_model(options_, req);
  auto msgs = req.find("messages");
  if (msgs == req.end()) bad_request("'messages' is required");
  ChatPrompt prompt = apply_chat_template(*msgs);
  auto max_req = get_int(req, "max_completion_tokens", 0, 1L << 30);
  if (!max_req) max_req = get_int(req, "max_tokens", 0, 1L << 30);
  long n = get_int(req, "n", 1, 128).value_or(1);
  bool logprobs = get_bool(req, "logprobs");
  long top_k = get_int(req, "top_logprobs", 0, 20).value_or(0);
  if (top_k > 0 && !logprobs) bad_request("'top_logprobs' needs 'logprobs': true");
  bool stream = get_bool(req, "stream");
  bool include_usage = false;
  if (const Json* so = field(req, "stream_options")) {
    if (!so->is_object()) bad_request("'stream_options' must be an object");
    include_usage = get_bool(*so, "include_usage");
  }
  auto stop = get_stop(req);

  Reply r;
  r.generation = true;
  r.prompt_ids = tokenizer_.encode(prompt.text);
  r.prompt_tokens = r.prompt_ids.size();
  const auto max_len = static_cast<size_t>(options_.max_model_len);
  if (r.prompt_tokens > max_len ||
      (max_req && r.prompt_tokens + static_cast<size_t>(*max_req) > max_len)) {
    bad_request(
        context_error(options_.max_model_len, r.prompt_tokens, max_req.value_or(0), "messages"));
  }
  long max_tokens =
      max_req ? *max_req
              : options_.max_tokens_default.value_or(static_cast<int>(max_len - r.prompt_tokens));
  max_tokens = std::min(max_tokens, static_cast<long>(max_len - r.prompt_tokens));

  Generated g = generate(prompt.last_user, prompt.last_user, max_tokens, stop);
  r.completion_tokens = g.tokens.size() * static_cast<size_t>(n);
  r.output_steps = std::max<size_t>(1, g.tokens.size());
  const long reasoning_tokens =
      options_.reasoning && options_.reasoning_tokens
          ? reasoning_token_count(g.tokens, split_reasoning(g.text).content_begin) * n
          : -1;
  const std::string id = next_id("chatcmpl");
  const int64_t created = static_cast<int64_t>(std::time(nullptr));

  if (!stream) {
    Json choices = Json::array();
    for (long i = 0; i < n; ++i) {
      Json c = Json::object();
      c["index"] = i;
      Json msg = Json::object();
      msg["role"] = "assistant";
      if (options_.reasoning) {
        ReasoningSplit rs = split_reasoning(g.text);
        std::string content = g.text.substr(rs.content_begin);
        if (rs.reasoning_end > rs.reasoning_begin) {
          msg["reasoning_content"] =
              g.text.substr(rs.reasoning_begin, rs.reasoning_end - rs.reasoning_begin);
        } else {
          msg["reasoning_content"] = nullptr;
        }
        msg["content"] = content.empty() ? Json() : Json(content);
      } else {
        msg["content"] = g.text;
      }
      msg["tool_calls"] = Json::array();
      c["message"] = std::move(msg);
      if (logprobs) {
        Json content = Json::array();
        for (const auto& t : g.tokens) content.push_back(chat_logprob_entry(t, top_k));
        Json lp = Json::object();
        lp["content"] = std::move(content);
        c["logprobs"] = std::move(lp);
      } else {
        c["logprobs"] = nullptr;
      }
      c["finish_reason"] = g.finish_reason;
      c["stop_reason"] = nullptr;
      choices.push_back(std::move(c));
    }
    Json j = Json::object();
    j["id"] = id;
    j["object"] = "chat.completion";
    j["created"] = created;
    j["model"] = model;
    j["choices"] = std::move(choices);
    j["usage"] = usage_json(r.prompt_tokens, r.completion_tokens, reasoning_tokens);
    r.body = dumps(j);
    return r;
  }

  r.stream = true;
  r.content_type = "text/event-stream; charset=utf-8";
  r.steps.assign(r.output_steps, std::string());
  auto chunk = [&](long index) {
    Json j = Json::object();
    j["id"] = id;
    j["object"] = "chat.completion.chunk";
    j["created"] = created;
    j["model"] = model;
    Json c = Json::object();
    c["index"] = index;
    Json choices = Json::array();
    choices.push_back(std::move(c));
    j["choices"] = std::move(choices);
    return j;
  };
  for (long i = 0; i < n; ++i) {
    Json j = chunk(i);
    Json& c = j["choices"][0];
    c["delta"] = Json{{"role", "assistant"}, {"content", ""}};
    c["logprobs"] = nullptr;
    c["finish_reason"] = nullptr;
    r.steps[0] += sse(j);
  }
  const ReasoningSplit rs = split_reasoning(g.text);
  size_t offset = 0;
  for (size_t t = 0; t < g.tokens.size(); ++t) {
    Json delta = Json::object();
    if (options_.reasoning) {
      // A token is sent as the parts of it that fall in the reasoning or in the answer; the
      // tags themselves are not sent.
      size_t end = offset + g.tokens[t].size();
      std::string thought = clip(g.text, offset, end, rs.reasoning_begin, rs.reasoning_end);
      std::string answer = clip(g.text, offset, end, rs.content_begin, g.text.size());
      if (!thought.empty()) delta["reasoning_content"] = std::move(thought);
      if (!answer.empty()) delta["content"] = std::move(answer);
      offset = end;
      if (delta.empty()) continue;
    } else {
      delta["content"] = g.tokens[t];
    }
    for (long i = 0; i < n; ++i) {
      Json j = chunk(i);
      Json& c = j["choices"][0];
      c["delta"] = delta;
      if (logprobs) {
        Json content = Json::array();
        content.push_back(chat_logprob_entry(g.tokens[t], top_k));
        c["logprobs"] = Json{{"content", std::move(content)}};
      } else {
        c["logprobs"] = nullptr;
      }
      c["finish_reason"] = nullptr;
      r.steps[t] += sse(j);
    }
  }
  std::string& last = r.stream_tail;
  for (long i = 0; i < n; ++i) {
    Json j = chunk(i);
    Json& c = j["choices"][0];
    c["delta"] = Json::object();
    c["logprobs"] = nullptr;
    c["finish_reason"] = g.finish_reason;
    c["stop_reason"] = nullptr;
    last += sse(j);
  }
  if (include_usage) {
    Json j = Json::object();
    j["id"] = id;
    j["object"] = "chat.completion.chunk";
    j["created"] = created;
    j["model"] = model;
    j["choices"] = Json::array();
    j["usage"] = usage_json(r.prompt_tokens, r.completion_tokens, reasoning_tokens);
    last += sse(j);
  }
  r.stream_done = "data: [DONE]\n\n";
  return r;
} catch (const ApiError& e) {
  return error_reply(e.status, e.message, e.type);
}

Reply Api::completions(std::string_view body) try {
  Json req = parse_body(body);
  const std::string& model = resolve_model(options_, req);
  const Json* p = field(req, "prompt");
  if (!p) bad_request("'prompt' is required");

  // One entry per prompt: its text and its token strings.
  struct Prompt {
    std::string text;
    std::vector<std::string> tokens;
    std::vector<uint32_t> ids;
  };
  std::vector<Prompt> prompts;
  auto from_ids = [&](const Json& list) {
    Prompt pr;
    for (const auto& t : list) {
      if (!t.is_number_integer()) bad_request("a token prompt must be a list of integers");
      long id = t.get<long>();
      if (id < 0 || id >= static_cast<long>(kVocabSize)) {
        bad_request(fmt::format("Token id {} is out of vocabulary", id));
      }
      pr.ids.push_back(static_cast<uint32_t>(id));
      pr.tokens.push_back(tokenizer_.piece_of(static_cast<uint32_t>(id)));
      pr.text += pr.tokens.back();
    }
    return pr;
  };
  auto from_text = [&](std::string text) {
    Prompt pr;
    pr.text = std::move(text);
    for (const auto& piece : split_pieces(pr.text)) {
      pr.tokens.emplace_back(pr.text, piece.offset, piece.size);
      pr.ids.push_back(token_id(pr.tokens.back()));
    }
    return pr;
  };
  if (p->is_string()) {
    prompts.push_back(from_text(p->get<std::string>()));
  } else if (p->is_array() && !p->empty()) {
    const Json& first = (*p)[0];
    if (first.is_number_integer()) {
      prompts.push_back(from_ids(*p));
    } else {
      for (const auto& e : *p) {
        if (e.is_string()) {
          prompts.push_back(from_text(e.get<std::string>()));
        } else if (e.is_array()) {
          prompts.push_back(from_ids(e));
        } else {
          bad_request(
              "'prompt' must be a string, a list of strings, a list of token ids, or a "
              "list of lists of token ids");
        }
      }
    }
  } else {
    bad_request("'prompt' must be a non-empty string or list");
  }

  auto max_req = get_int(req, "max_tokens", 0, 1L << 30);
  long n = get_int(req, "n", 1, 128).value_or(1);
  bool echo = get_bool(req, "echo");
  if (echo && options_.no_echo)
    bad_request("'echo' is not supported by this server (started with --no-echo)");
  auto k = get_int(req, "logprobs", 0, 20);
  bool stream = get_bool(req, "stream");
  bool include_usage = false;
  if (const Json* so = field(req, "stream_options")) {
    if (!so->is_object()) bad_request("'stream_options' must be an object");
    include_usage = get_bool(*so, "include_usage");
  }
  auto stop = get_stop(req);
  const auto max_len = static_cast<size_t>(options_.max_model_len);
  long requested = max_req ? *max_req : options_.max_tokens_default.value_or(16);

  Reply r;
  r.generation = true;
  r.prompt_ids = prompts.front().ids;
  struct Out {
    size_t prompt = 0;
    Generated gen;
    double prompt_lp = 0;
  };
  std::vector<Out> outs;
  outs.reserve(prompts.size());
  for (const auto& pr : prompts) {
    if (pr.tokens.size() > max_len ||
        (max_req && pr.tokens.size() + static_cast<size_t>(*max_req) > max_len)) {
      bad_request(
          context_error(options_.max_model_len, pr.tokens.size(), max_req.value_or(0), "prompt"));
    }
    long mt = std::min(requested, static_cast<long>(max_len - pr.tokens.size()));
    Out o;
    o.prompt = outs.size();
    o.gen = generate(pr.text, pr.text, mt, stop);
    o.prompt_lp = options_.default_logprob;
    if (script_) {
      if (auto lp = script_->prompt_logprob_for(pr.text)) o.prompt_lp = *lp;
    }
    r.prompt_tokens += pr.tokens.size();
    r.completion_tokens += o.gen.tokens.size() * static_cast<size_t>(n);
    r.output_steps = std::max(r.output_steps, o.gen.tokens.size());
    outs.push_back(std::move(o));
  }
  r.output_steps = std::max<size_t>(1, r.output_steps);
  const std::string id = next_id("cmpl");
  const int64_t created = static_cast<int64_t>(std::time(nullptr));

  // text_offset counts characters (code points), as vLLM's Python server does, not bytes.
  auto chars = [](const std::string& t) {
    size_t n = 0;
    for (unsigned char c : t) n += (c & 0xC0) != 0x80;
    return n;
  };
  auto logprobs_of = [&](const Out& o, bool with_prompt, size_t from, size_t to,
                         size_t base_offset) {
    LegacyLogprobs lp;
    size_t off = base_offset;
    const Prompt& pr = prompts[o.prompt];
    if (with_prompt) {
      for (size_t t = 0; t < pr.tokens.size(); ++t) {
        lp.add(pr.tokens[t], t == 0 ? std::nullopt : std::optional<double>(o.prompt_lp), off, *k);
        off += chars(pr.tokens[t]);
      }
    }
    for (size_t t = 0; t < from; ++t) off += chars(o.gen.tokens[t]);
    for (size_t t = from; t < to; ++t) {
      lp.add(o.gen.tokens[t], kGeneratedLogprob, off, *k);
      off += chars(o.gen.tokens[t]);
    }
    return lp.to_json();
  };

  if (!stream) {
    Json choices = Json::array();
    for (const auto& o : outs) {
      for (long i = 0; i < n; ++i) {
        Json c = Json::object();
        c["index"] = static_cast<long>(o.prompt) * n + i;
        c["text"] = echo ? prompts[o.prompt].text + o.gen.text : o.gen.text;
        if (k) {
          c["logprobs"] = logprobs_of(o, echo, 0, o.gen.tokens.size(), 0);
        } else {
          c["logprobs"] = nullptr;
        }
        c["finish_reason"] = o.gen.finish_reason;
        c["stop_reason"] = nullptr;
        c["prompt_logprobs"] = nullptr;
        choices.push_back(std::move(c));
      }
    }
    Json j = Json::object();
    j["id"] = id;
    j["object"] = "text_completion";
    j["created"] = created;
    j["model"] = model;
    j["choices"] = std::move(choices);
    j["usage"] = usage_json(r.prompt_tokens, r.completion_tokens);
    r.body = dumps(j);
    return r;
  }

  r.stream = true;
  r.content_type = "text/event-stream; charset=utf-8";
  r.steps.assign(r.output_steps, std::string());
  auto chunk = [&](long index, std::string text, Json logprobs, Json finish) {
    Json j = Json::object();
    j["id"] = id;
    j["object"] = "text_completion";
    j["created"] = created;
    j["model"] = model;
    Json c = Json::object();
    c["index"] = index;
    c["text"] = std::move(text);
    c["logprobs"] = std::move(logprobs);
    c["finish_reason"] = std::move(finish);
    c["stop_reason"] = nullptr;
    Json choices = Json::array();
    choices.push_back(std::move(c));
    j["choices"] = std::move(choices);
    return sse(j);
  };
  for (const auto& o : outs) {
    const Prompt& pr = prompts[o.prompt];
    size_t base = echo ? chars(pr.text) : 0;
    for (long i = 0; i < n; ++i) {
      long index = static_cast<long>(o.prompt) * n + i;
      if (echo) {
        r.steps[0] += chunk(index, pr.text, k ? logprobs_of(o, true, 0, 0, 0) : Json(), nullptr);
      }
      for (size_t t = 0; t < o.gen.tokens.size(); ++t) {
        r.steps[t] += chunk(index, o.gen.tokens[t],
                            k ? logprobs_of(o, false, t, t + 1, base) : Json(), nullptr);
      }
    }
  }
  std::string& last = r.stream_tail;
  for (const auto& o : outs) {
    for (long i = 0; i < n; ++i) {
      last += chunk(static_cast<long>(o.prompt) * n + i, "", nullptr, o.gen.finish_reason);
    }
  }
  if (include_usage) {
    Json j = Json::object();
    j["id"] = id;
    j["object"] = "text_completion";
    j["created"] = created;
    j["model"] = model;
    j["choices"] = Json::array();
    j["usage"] = usage_json(r.prompt_tokens, r.completion_tokens);
    last += sse(j);
  }
  r.stream_done = "data: [DONE]\n\n";
  return r;
} catch (const ApiError& e) {
  return error_reply(e.status, e.message, e.type);
}

Reply Api::messages(std::string_view body) try {
  Json req = parse_body(body);
  // Anthropic's API rejects fields it does not know, which catches OpenAI-isms such as
  // "stop", "n" or "stream_options" sent to it.
  static const char* const kKnown[] = {"model",       "messages",          "max_tokens",
                                       "system",      "metadata",          "stop_sequences",
                                       "stream",      "temperature",       "top_k",
                                       "top_p",       "thinking",          "tools",
                                       "tool_choice", "service_tier",      "container",
                                       "mcp_servers", "context_management"};
  for (auto it = req.begin(); it != req.end(); ++it) {
    if (std::find_if(std::begin(kKnown), std::end(kKnown),
                     [&](const char* k) { return it.key() == k; }) == std::end(kKnown)) {
      bad_request(it.key() + ": Extra inputs are not permitted");
    }
  }
  const Json* m = field(req, "model");
  if (!m) bad_request("model: Field required");
  if (!m->is_string()) bad_request("model: Input should be a valid string");
  const auto& model_name = m->get_ref<const std::string&>();
  auto known = std::find(options_.models.begin(), options_.models.end(), model_name);
  if (known == options_.models.end()) {
    throw ApiError{404, "model: " + model_name, "not_found_error"};
  }
  const std::string& model = *known;

  auto integer = [&](const char* key) -> std::optional<long> {
    const Json* v = field(req, key);
    if (!v) return std::nullopt;
    if (!v->is_number_integer() &&
        !(v->is_number_float() && std::floor(v->get<double>()) == v->get<double>())) {
      bad_request(fmt::format("{}: Input should be a valid integer", key));
    }
    return v->is_number_integer() ? v->get<long>() : static_cast<long>(v->get<double>());
  };
  auto number_in = [&](const char* key, double lo, double hi) {
    const Json* v = field(req, key);
    if (!v) return;
    if (!v->is_number()) bad_request(fmt::format("{}: Input should be a valid number", key));
    double x = v->get<double>();
    if (x < lo)
      bad_request(fmt::format("{}: Input should be greater than or equal to {}", key, lo));
    if (x > hi) bad_request(fmt::format("{}: Input should be less than or equal to {}", key, hi));
  };
  auto max_req = integer("max_tokens");
  if (!max_req) bad_request("max_tokens: Field required");
  if (*max_req < 1) bad_request("max_tokens: Input should be greater than or equal to 1");
  number_in("temperature", 0, 1);
  number_in("top_p", 0, 1);
  if (auto k = integer("top_k"); k && *k < 0)
    bad_request("top_k: Input should be greater than or equal to 0");
  bool stream = false;
  if (const Json* v = field(req, "stream")) {
    if (!v->is_boolean()) bad_request("stream: Input should be a valid boolean");
    stream = v->get<bool>();
  }
  std::vector<std::string> stop;
  if (const Json* v = field(req, "stop_sequences")) {
    if (!v->is_array()) bad_request("stop_sequences: Input should be a valid list");
    for (size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_string())
        bad_request(fmt::format("stop_sequences.{}: Input should be a valid string", i));
      stop.push_back((*v)[i].get<std::string>());
    }
  }

  // Text of a content (or system) field: a string or a list of blocks, of which only text
  // blocks carry text here; joined as the chat route joins content parts.
  auto blocks_text = [](const Json& content, const std::string& where) {
    if (content.is_string()) return content.get<std::string>();
    if (!content.is_array()) bad_request(where + ": Input should be a valid list");
    std::string out;
    bool first = true;
    for (size_t i = 0; i < content.size(); ++i) {
      const Json& b = content[i];
      const std::string at = fmt::format("{}.{}", where, i);
      if (!b.is_object()) bad_request(at + ": Input should be a valid dictionary");
      auto type = b.find("type");
      if (type == b.end() || !type->is_string()) bad_request(at + ".type: Field required");
      if (*type != "text") continue;  // images, documents, tool results: no text here
      auto text = b.find("text");
      if (text == b.end() || !text->is_string())
        bad_request(at + ".text: Input should be a valid string");
      if (!first) out += '\n';
      out += text->get<std::string>();
      first = false;
    }
    return out;
  };
  // The same conversation as chat messages, so the prompt, its token count and the reply
  // are those of the chat route.
  Json chat = Json::array();
  if (const Json* sys = field(req, "system")) {
    chat.push_back({{"role", "system"}, {"content", blocks_text(*sys, "system")}});
  }
  const Json* msgs = field(req, "messages");
  if (!msgs) bad_request("messages: Field required");
  if (!msgs->is_array()) bad_request("messages: Input should be a valid list");
  if (msgs->empty())
    bad_request("messages: List should have at least 1 item after validation, not 0");
  for (size_t i = 0; i < msgs->size(); ++i) {
    const Json& msg = (*msgs)[i];
    const std::string at = fmt::format("messages.{}", i);
    if (!msg.is_object()) bad_request(at + ": Input should be a valid dictionary");
    auto role = msg.find("role");
    if (role == msg.end() || !role->is_string() || (*role != "user" && *role != "assistant"))
      bad_request(at + ".role: Input should be 'user' or 'assistant'");
    auto content = msg.find("content");
    if (content == msg.end() || content->is_null()) bad_request(at + ".content: Field required");
    chat.push_back({{"role", *role}, {"content", blocks_text(*content, at + ".content")}});
  }
  ChatPrompt prompt = apply_chat_template(chat);

  Reply r;
  r.generation = true;
  r.prompt_ids = tokenizer_.encode(prompt.text);
  r.prompt_tokens = r.prompt_ids.size();
  const auto max_len = static_cast<size_t>(options_.max_model_len);
  if (r.prompt_tokens > max_len) {
    bad_request(
        fmt::format("prompt is too long: {} tokens > {} maximum", r.prompt_tokens, max_len));
  }
  if (r.prompt_tokens + static_cast<size_t>(*max_req) > max_len) {
    bad_request(fmt::format(
        "input length and `max_tokens` exceed context limit: {} + {} > {}, decrease input "
        "length or `max_tokens` and try again",
        r.prompt_tokens, *max_req, max_len));
  }

  Generated g = generate(prompt.last_user, prompt.last_user, *max_req, stop);
  r.completion_tokens = g.tokens.size();
  r.output_steps = std::max<size_t>(1, g.tokens.size());
  const std::string stop_reason = !g.stop.empty()               ? "stop_sequence"
                                  : g.finish_reason == "length" ? "max_tokens"
                                                                : "end_turn";
  const Json stop_sequence = g.stop.empty() ? Json() : Json(g.stop);
  // With --reasoning, "<think>...</think>answer" becomes a thinking block and a text block.
  const ReasoningSplit rs = options_.reasoning ? split_reasoning(g.text) : ReasoningSplit{};
  const bool thinks = rs.reasoning_end > rs.reasoning_begin;
  static const std::string kSignature = "c2ltLXNpZ25hdHVyZQ==";  // opaque, like the real one
  const std::string id = fmt::format("msg_sim{:012x}", id_counter_.fetch_add(1) + 1);
  auto usage = [&](size_t output) {
    Json u = Json::object();
    u["input_tokens"] = r.prompt_tokens;
    u["cache_creation_input_tokens"] = 0;
    u["cache_read_input_tokens"] = 0;
    u["output_tokens"] = output;
    return u;
  };
  auto message = [&](Json content, Json reason, Json sequence, size_t output) {
    Json j = Json::object();
    j["id"] = id;
    j["type"] = "message";
    j["role"] = "assistant";
    j["model"] = model;
    j["content"] = std::move(content);
    j["stop_reason"] = std::move(reason);
    j["stop_sequence"] = std::move(sequence);
    j["usage"] = usage(output);
    return j;
  };

  if (!stream) {
    Json content = Json::array();
    std::string answer = g.text.substr(rs.content_begin);
    if (thinks) {
      content.push_back(
          {{"type", "thinking"},
           {"thinking", g.text.substr(rs.reasoning_begin, rs.reasoning_end - rs.reasoning_begin)},
           {"signature", kSignature}});
    }
    if (!thinks || !answer.empty()) content.push_back({{"type", "text"}, {"text", answer}});
    r.body = dumps(message(std::move(content), stop_reason, stop_sequence, g.tokens.size()));
    return r;
  }

  r.stream = true;
  r.content_type = "text/event-stream; charset=utf-8";
  r.steps.assign(r.output_steps, std::string());
  auto event = [](const char* name, const Json& data) {
    return fmt::format("event: {}\ndata: {}\n\n", name, dumps(data));
  };
  // The open content block: its index and type ("thinking" or "text").
  int block = 0;
  std::string block_type = thinks ? "thinking" : "text";
  auto start_block = [&]() {
    Json cb = block_type == "text" ? Json{{"type", "text"}, {"text", ""}}
                                   : Json{{"type", "thinking"}, {"thinking", ""}};
    return event(
        "content_block_start",
        {{"type", "content_block_start"}, {"index", block}, {"content_block", std::move(cb)}});
  };
  auto stop_block = [&]() {
    std::string out;
    if (block_type == "thinking") {
      out += event("content_block_delta",
                   {{"type", "content_block_delta"},
                    {"index", block},
                    {"delta", {{"type", "signature_delta"}, {"signature", kSignature}}}});
    }
    return out + event("content_block_stop", {{"type", "content_block_stop"}, {"index", block}});
  };
  auto delta = [&](const char* type, const char* key, const std::string& text) {
    return event("content_block_delta", {{"type", "content_block_delta"},
                                         {"index", block},
                                         {"delta", {{"type", type}, {key, text}}}});
  };
  r.steps[0] += event("message_start", {{"type", "message_start"},
                                        {"message", message(Json::array(), nullptr, nullptr, 1)}});
  r.steps[0] += start_block();
  r.steps[0] += event("ping", {{"type", "ping"}});
  size_t offset = 0;
  for (size_t t = 0; t < g.tokens.size(); ++t) {
    // A token is sent as the parts of it that fall in the thinking or in the answer; the tags
    // themselves are not sent.
    size_t end = offset + g.tokens[t].size();
    std::string thought = clip(g.text, offset, end, rs.reasoning_begin, rs.reasoning_end);
    std::string answer = clip(g.text, offset, end, rs.content_begin, g.text.size());
    offset = end;
    if (!thought.empty()) r.steps[t] += delta("thinking_delta", "thinking", thought);
    if (!answer.empty()) {
      if (block_type != "text") {
        r.steps[t] += stop_block();
        ++block;
        block_type = "text";
        r.steps[t] += start_block();
      }
      r.steps[t] += delta("text_delta", "text", answer);
    }
  }
  r.stream_tail = stop_block();
  r.stream_tail += event(
      "message_delta", {{"type", "message_delta"},
                        {"delta", {{"stop_reason", stop_reason}, {"stop_sequence", stop_sequence}}},
                        {"usage", {{"output_tokens", g.tokens.size()}}}});
  r.stream_done = event("message_stop", {{"type", "message_stop"}});
  return r;
} catch (const ApiError& e) {
  return anthropic_error_reply(
      e.status, e.status == 404 ? "not_found_error" : "invalid_request_error", e.message);
}

Reply Api::tokenize(std::string_view body) try {
  Json req = parse_body(body);
  resolve_model(options_, req);
  std::string text;
  if (const Json* m = field(req, "messages")) {
    text = apply_chat_template(*m).text;
  } else if (const Json* p = field(req, "prompt")) {
    if (!p->is_string()) bad_request("'prompt' must be a string");
    text = p->get<std::string>();
  } else {
    bad_request("give 'prompt' (a string) or 'messages'");
  }
  Json j = Json::object();
  auto ids = tokenizer_.encode(text);
  j["tokens"] = ids;
  j["count"] = ids.size();
  j["max_model_len"] = options_.max_model_len;
  return json_reply(j);
} catch (const ApiError& e) {
  return error_reply(e.status, e.message, e.type);
}

Reply Api::detokenize(std::string_view body) try {
  Json req = parse_body(body);
  resolve_model(options_, req);
  const Json* t = field(req, "tokens");
  if (!t || !t->is_array()) bad_request("'tokens' must be a list of token ids");
  std::vector<uint32_t> ids;
  for (const auto& e : *t) {
    if (!e.is_number_integer() || e.get<long>() < 0) {
      bad_request("'tokens' must be a list of non-negative integers");
    }
    long v = e.get<long>();
    ids.push_back(v >= static_cast<long>(kVocabSize) ? kVocabSize : static_cast<uint32_t>(v));
  }
  Json j = Json::object();
  j["prompt"] = tokenizer_.decode(ids);
  return json_reply(j);
} catch (const ApiError& e) {
  return error_reply(e.status, e.message, e.type);
}

}  // namespace retort::sim
