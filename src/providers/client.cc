#include "providers/client.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "cache/cache.h"
#include "engine/engine.h"
#include "providers/wire.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/json_scan.h"
#include "util/json_writer.h"
#include "util/log.h"
#include "util/strings.h"

namespace retort {

namespace {

std::atomic<int> g_stop{0};

// What the cache keeps for a request (cached_response reads it back). A generate request
// keeps the server's raw reply, parsed again by today's parser on every read; a
// loglikelihood request (its reply is shared by a batch and may be long) keeps the parsed
// response and the parser version that made it.
std::string raw_reply_entry(const HttpReply& reply) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("parser");
  w.value(static_cast<int64_t>(wire::kParserVersion));
  w.key("raw");
  w.value(reply.body);
  if (!reply.content_type.empty()) {
    w.key("content_type");
    w.value(reply.content_type);
  }
  w.key("http_status");
  w.value(static_cast<int64_t>(reply.status));
  w.key("latency_s");
  w.json(Json(reply.latency_s));
  if (reply.ttft_s >= 0) {
    w.key("ttft_s");
    w.json(Json(reply.ttft_s));
  }
  w.end_object();
  return out;
}

std::string response_to_json(const Response& r) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("parser");
  w.value(static_cast<int64_t>(wire::kParserVersion));
  w.key("text");
  w.value(r.text);
  if (!r.reasoning.empty()) {
    w.key("reasoning");
    w.value(r.reasoning);
  }
  w.key("finish_reason");
  w.value(r.finish_reason);
  w.key("loglikelihood");
  w.json(Json(r.loglikelihood));
  w.key("is_greedy");
  w.value(r.is_greedy);
  w.key("prompt_tokens");
  w.value(r.prompt_tokens);
  w.key("completion_tokens");
  w.value(r.completion_tokens);
  if (r.reasoning_tokens >= 0) {
    w.key("reasoning_tokens");
    w.value(r.reasoning_tokens);
  }
  w.key("latency_s");
  w.json(Json(r.latency_s));
  if (r.ttft_s >= 0) {
    w.key("ttft_s");
    w.json(Json(r.ttft_s));
  }
  w.key("http_status");
  w.value(r.http_status);
  w.end_object();
  return out;
}

// A cache entry as the Response it stands for, or nothing when it must be asked again: a
// raw reply today's parser does not accept, a parsed response from an older parser version,
// or text that is not an entry.
std::optional<Response> cached_response(const Endpoint& ep, const Request& req,
                                        const std::string& text, std::vector<Response>& scratch) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  if (j.contains("raw")) {
    if (!j["raw"].is_string()) return std::nullopt;
    HttpReply reply;
    reply.status = j.value("http_status", 200);
    reply.body = j["raw"].get<std::string>();
    reply.content_type = j.value("content_type", "");
    reply.latency_s = j.value("latency_s", 0.0);
    reply.ttft_s = j.value("ttft_s", -1.0);
    std::vector<const Request*> batch{&req};
    Outcome o = wire::parse_reply(ep, batch, reply, scratch);
    if (o.verdict != Verdict::kDone || scratch.size() != 1 || !scratch[0].ok) return std::nullopt;
    Response r = std::move(scratch[0]);
    r.cached = true;
    return r;
  }
  if (j.value("parser", 1) < wire::kParserVersion) return std::nullopt;
  Response r;
  r.ok = true;
  r.cached = true;
  r.text = j.value("text", "");
  r.reasoning = j.value("reasoning", "");
  r.finish_reason = j.value("finish_reason", "");
  r.loglikelihood = j.value("loglikelihood", 0.0);
  r.is_greedy = j.value("is_greedy", false);
  r.prompt_tokens = j.value("prompt_tokens", int64_t{0});
  r.completion_tokens = j.value("completion_tokens", int64_t{0});
  r.reasoning_tokens = j.value("reasoning_tokens", int64_t{-1});
  r.latency_s = j.value("latency_s", 0.0);
  r.ttft_s = j.value("ttft_s", -1.0);
  r.http_status = j.value("http_status", 200);
  return r;
}

double percentile(std::vector<float> v, double q) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

constexpr uint32_t kNone = 0xffffffffu;

// The cache key of a request (see request_key): the SHA-256 of identity, canonical text and
// repeat, one per line, fed in pieces. A generate request's body, given body, is kept for
// sending (built once for both).
std::string request_key_and_body(Sha256& sha, const std::string& identity, const Endpoint& endpoint,
                                 const Request& request, const ExecOptions& o, std::string* body) {
  sha.add(identity).add("\n");
  wire::canonical_pieces(
      endpoint, request, o, [&](std::string_view p) { sha.add(p); }, body);
  return sha.add("\n").add(std::to_string(request.repeat)).hex();
}

// Finds requests that are the same question (same kind, texts, messages, generation kwargs
// and repeat: what canonical_text and the key are made of), so a copy is answered with its
// first occurrence. Compares the fields themselves instead of hashing every request's
// canonical text: without a cache no key is needed.
class RequestDedup {
 public:
  explicit RequestDedup(const std::vector<Request>& reqs) : reqs_(reqs), hashes_(reqs.size()) {
    size_t n = 16;
    while (n < 2 * reqs.size()) n *= 2;
    slots_.assign(n, kEmpty);
  }

  // The index of an earlier request equal to request i, or i itself (now remembered).
  uint32_t first_of(uint32_t i) {
    const Request& r = reqs_[i];
    size_t h = hash(r);
    hashes_[i] = h;
    size_t mask = slots_.size() - 1;
    for (size_t pos = h & mask;; pos = (pos + 1) & mask) {
      uint32_t j = slots_[pos];
      if (j == kEmpty) {
        slots_[pos] = i;
        return i;
      }
      if (hashes_[j] == h && same(reqs_[j], r)) return j;
    }
  }

 private:
  static constexpr uint32_t kEmpty = 0xffffffffu;

  static size_t mix(size_t h, size_t v) { return (h ^ v) * 0x100000001b3ull + (h >> 29); }
  static size_t text_hash(std::string_view s) { return std::hash<std::string_view>()(s); }

  size_t kwargs_hash(const SharedJson& g) {
    auto it = kwargs_.find(g.identity());
    if (it != kwargs_.end()) return it->second;
    const Json& v = *g;
    size_t h = text_hash(v.dump(-1, ' ', false, Json::error_handler_t::replace));
    return kwargs_.emplace(g.identity(), h).first->second;
  }

  size_t hash(const Request& r) {
    size_t h = mix(static_cast<size_t>(r.kind), static_cast<size_t>(r.repeat));
    h = mix(h, text_hash(r.prompt));
    h = mix(h, text_hash(r.continuation));
    for (const auto& m : r.messages) h = mix(mix(h, text_hash(m.role)), text_hash(m.content));
    return mix(h, kwargs_hash(r.gen_kwargs));
  }

  static bool same(const Request& a, const Request& b) {
    if (a.kind != b.kind || a.repeat != b.repeat || a.prompt != b.prompt ||
        a.continuation != b.continuation || a.messages.size() != b.messages.size())
      return false;
    for (size_t k = 0; k < a.messages.size(); ++k)
      if (a.messages[k].role != b.messages[k].role ||
          a.messages[k].content != b.messages[k].content)
        return false;
    return a.gen_kwargs.identity() == b.gen_kwargs.identity() || *a.gen_kwargs == *b.gen_kwargs;
  }

  const std::vector<Request>& reqs_;
  std::vector<size_t> hashes_;
  std::vector<uint32_t> slots_;
  std::unordered_map<const void*, size_t> kwargs_;
};

// Feeds the engine with the requests that need the network, turns replies into Responses,
// commits them to the cache and only then hands them on.
class Executor : public CallSource {
 public:
  Executor(const Endpoint& ep, const std::vector<Request>& reqs, const ExecOptions& o,
           ExecObserver* obs, ResponseCache* cache)
      : ep_(ep),
        reqs_(reqs),
        o_(o),
        obs_(obs),
        cache_(cache),
        out_(reqs.size()),
        next_dup_(reqs.size(), kNone),
        answered_(reqs.size(), 0) {
    start_ = std::chrono::steady_clock::now();
    stats_.total = static_cast<int64_t>(reqs.size());
  }

  // Dedup, cache lookup, validation. Hands on everything that needs no network. Copies are
  // linked to their first occurrence before anything is handed on, so they are answered
  // with it.
  void plan() {
    std::vector<uint32_t> last(reqs_.size(), kNone);
    std::vector<uint32_t> heads;
    RequestDedup dedup(reqs_);
    for (uint32_t i = 0; i < reqs_.size(); ++i) {
      uint32_t head = dedup.first_of(i);
      if (head != i) {
        uint32_t tail = last[head] == kNone ? head : last[head];
        next_dup_[tail] = i;
        last[head] = i;
        answered_[i] = 2;  // a copy: answered with its head
        continue;
      }
      heads.push_back(i);
    }
    // Keys only where there is a cache to ask. A generate request's key is made from its
    // body, which is kept for sending; without a cache the body is written when the call is
    // made, into the buffer of a finished call (no body per request held in memory).
    if (cache_) {
      keys_.resize(reqs_.size());
      bodies_.resize(reqs_.size());
      const std::string identity = ep_.identity();
      Sha256 sha;
      for (uint32_t i : heads)
        keys_[i] = request_key_and_body(sha, identity, ep_, reqs_[i], o_, &bodies_[i]);
    }
    for (uint32_t i : heads) {
      wire::Route route;
      std::string why = wire::route_for(ep_, reqs_[i], &route);
      if (!why.empty()) {
        Response r;
        r.error = why;
        finish(i, std::move(r));
        continue;
      }
      if (cache_) {
        if (auto text = cache_->get(keys_[i])) {
          if (auto r = cached_response(ep_, reqs_[i], *text, replies_)) {
            std::string().swap(bodies_[i]);
            finish(i, std::move(*r));
            continue;
          }
        }
      }
      todo_.push_back(i);
    }
    end_ = todo_.size();
    if (obs_) obs_->on_progress(snapshot());
  }

  // Moves the requests split by token count to the end of the work list and returns where
  // they start; the caller runs the rest first, then these in chunks (set_range), each
  // after its texts were tokenized (set_plans).
  size_t partition_tokenized() {
    auto mid = std::stable_partition(todo_.begin(), todo_.end(), [&](uint32_t i) {
      return std::string_view(wire::ll_split_for(reqs_[i], o_)) != "tokenize";
    });
    end_ = static_cast<size_t>(mid - todo_.begin());
    return end_;
  }
  const std::vector<uint32_t>& todo() const { return todo_; }
  const Request& request(uint32_t i) const { return reqs_[i]; }
  void set_range(size_t begin, size_t end) {
    pos_ = begin;
    end_ = end;
  }
  // Token plans of the requests in the current range; a request without one failed to
  // tokenize and fails with why.
  void set_plans(std::unordered_map<uint32_t, wire::TokenPlan> plans,
                 const std::unordered_map<uint32_t, std::string>& failures) {
    plans_ = std::move(plans);
    for (const auto& [i, why] : failures) {
      Response r;
      r.error = why;
      ready_.emplace_back(i, std::move(r));
    }
    on_commit();
  }

  // Fills batch_ (and batch_plans_) with the requests of a unit.
  void gather(const std::vector<uint32_t>& members) {
    batch_.clear();
    batch_plans_.clear();
    for (uint32_t i : members) {
      batch_.push_back(&reqs_[i]);
      if (plans_.empty()) continue;
      auto p = plans_.find(i);
      batch_plans_.push_back(p == plans_.end() ? nullptr : &p->second);
    }
  }

  bool next(size_t& unit, HttpCall& call, double& est_tokens) override {
    while (pos_ < end_ && answered_[todo_[pos_]] != 0) ++pos_;  // failed to tokenize
    if (pos_ >= end_) return false;
    // Units are slots reused once answered, so their member lists keep their capacity.
    if (free_units_.empty()) {
      unit = units_.size();
      units_.emplace_back();
    } else {
      unit = free_units_.back();
      free_units_.pop_back();
    }
    std::vector<uint32_t>& members = units_[unit];
    members.assign(1, todo_[pos_++]);
    if (reqs_[members[0]].kind != RequestKind::kGenerate) {
      while (pos_ < end_ && static_cast<int>(members.size()) < o_.batch_size &&
             reqs_[todo_[pos_]].kind != RequestKind::kGenerate) {
        if (answered_[todo_[pos_]] == 0) members.push_back(todo_[pos_]);
        ++pos_;
      }
    }
    double chars = 0;
    for (uint32_t i : members) {
      chars += static_cast<double>(reqs_[i].prompt.size() + reqs_[i].continuation.size());
      for (const auto& m : reqs_[i].messages) chars += static_cast<double>(m.content.size());
    }
    gather(members);
    wire::build_call(ep_, o_, batch_, call, plans_.empty() ? nullptr : &batch_plans_,
                     members.size() == 1 && !bodies_.empty() ? &bodies_[members[0]] : nullptr);
    est_tokens = chars / 4 + max_tokens_of(reqs_[members[0]]);
    ++stats_.in_flight;
    return true;
  }

  Outcome on_reply(size_t unit, const HttpReply& reply, int attempt) override {
    const std::vector<uint32_t>& members = units_[unit];
    gather(members);
    std::vector<Response>& rs = replies_;
    Outcome out =
        wire::parse_reply(ep_, batch_, reply, rs, false, plans_.empty() ? nullptr : &batch_plans_);
    if (out.verdict != Verdict::kDone) return out;
    for (size_t k = 0; k < rs.size(); ++k) {
      uint32_t i = members[k];
      rs[k].retries = attempt;
      latencies_.push_back(static_cast<float>(rs[k].latency_s));
      if (rs[k].ttft_s >= 0) ttfts_.push_back(static_cast<float>(rs[k].ttft_s));
      if (rs[k].ttft_s >= 0 && rs[k].completion_tokens >= 2)
        tpots_.push_back(static_cast<float>((rs[k].latency_s - rs[k].ttft_s) /
                                            static_cast<double>(rs[k].completion_tokens - 1)));
      if (cache_) {
        to_store_.emplace_back(keys_[i], reqs_[i].kind == RequestKind::kGenerate
                                             ? raw_reply_entry(reply)
                                             : response_to_json(rs[k]));
      }
      ready_.emplace_back(i, std::move(rs[k]));
    }
    free_units_.push_back(unit);
    --stats_.in_flight;
    return out;
  }

  void on_failed(size_t unit, const std::string& reason, const HttpReply& last,
                 int retries) override {
    for (uint32_t i : units_[unit]) {
      Response r;
      r.error = reason;
      r.http_status = last.status;
      r.retries = retries;
      ready_.emplace_back(i, std::move(r));
    }
    free_units_.push_back(unit);
    --stats_.in_flight;
  }

  void on_commit() override {
    if (ready_.empty()) return;
    // A write that fails warns once and the run goes on uncached: answers in hand are worth
    // more than their copies on disk.
    if (cache_ && !to_store_.empty()) cache_->store(to_store_);
    to_store_.clear();
    for (auto& [i, r] : ready_) finish(i, std::move(r));
    ready_.clear();
  }

  void on_tick() override {
    if (obs_) obs_->on_progress(snapshot());
  }

  // Marks everything never answered as interrupted.
  void interrupt_rest() {
    for (uint32_t i = 0; i < reqs_.size(); ++i) {
      if (answered_[i] == 0) {
        Response r;
        r.error = "interrupted";
        finish(i, std::move(r));
      }
    }
  }

  void set_counters(const EngineCounters* c) { counters_ = c; }

  RunStats snapshot() {
    if (counters_) {
      stats_.http_calls = counters_->http_calls;
      stats_.retries = counters_->retries;
      stats_.throttled = counters_->throttled;
      stats_.timeouts = counters_->timeouts;
      stats_.stalls = counters_->stalls;
    }
    stats_.elapsed_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    stats_.latency_p50_s = percentile(latencies_, 0.5);
    stats_.latency_p90_s = percentile(latencies_, 0.9);
    stats_.latency_p99_s = percentile(latencies_, 0.99);
    stats_.ttft_p50_s = ttfts_.empty() ? -1 : percentile(ttfts_, 0.5);
    stats_.ttft_p90_s = ttfts_.empty() ? -1 : percentile(ttfts_, 0.9);
    stats_.ttft_p99_s = ttfts_.empty() ? -1 : percentile(ttfts_, 0.99);
    stats_.tpot_p50_s = tpots_.empty() ? -1 : percentile(tpots_, 0.5);
    stats_.tpot_p90_s = tpots_.empty() ? -1 : percentile(tpots_, 0.9);
    stats_.tpot_p99_s = tpots_.empty() ? -1 : percentile(tpots_, 0.99);
    return stats_;
  }

  std::vector<Response> take() { return std::move(out_); }

 private:
  static double max_tokens_of(const Request& r) {
    if (r.kind != RequestKind::kGenerate) return 1;
    const Json& g = r.gen_kwargs;
    for (const char* k : {"max_tokens", "max_gen_toks"})
      if (g.is_object() && g.contains(k) && g[k].is_number()) return g[k].get<double>();
    return 256;
  }

  void count(const Response& r) {
    if (r.cached) {
      ++stats_.cached;
    } else if (r.ok) {
      ++stats_.succeeded;
    } else {
      ++stats_.failed;
      if (r.error == "interrupted" || starts_with(r.error, "interrupted (")) ++stats_.interrupted;
    }
    if (!r.cached) {
      stats_.prompt_tokens += r.prompt_tokens;
      stats_.completion_tokens += r.completion_tokens;
    }
  }

  // Hands on request i and all its copies.
  void finish(uint32_t i, Response r) {
    for (uint32_t j = next_dup_[i]; j != kNone; j = next_dup_[j]) {
      Response copy = r;
      if (copy.ok) copy.prompt_tokens = copy.completion_tokens = 0;
      out_[j] = std::move(copy);
      answered_[j] = 1;
      count(out_[j]);
      if (obs_) obs_->on_response(j, out_[j]);
    }
    out_[i] = std::move(r);
    answered_[i] = 1;
    count(out_[i]);
    if (obs_) obs_->on_response(i, out_[i]);
  }

  const Endpoint& ep_;
  const std::vector<Request>& reqs_;
  const ExecOptions& o_;
  ExecObserver* obs_;
  ResponseCache* cache_;
  std::vector<Response> out_;
  std::vector<uint32_t> next_dup_;
  std::vector<uint8_t> answered_;  // 0 open, 1 answered, 2 copy (answered with its head)
  std::vector<std::string> keys_;
  std::vector<std::string> bodies_;  // generate bodies built with the keys (cache only), until sent
  std::vector<uint32_t> todo_;
  size_t pos_ = 0;
  size_t end_ = 0;  // next() stops here (see set_range)
  std::unordered_map<uint32_t, wire::TokenPlan> plans_;
  std::vector<std::vector<uint32_t>> units_;  // by unit: the requests it carries
  std::vector<size_t> free_units_;
  // Scratch for one call: its requests, their token plans, the parsed replies.
  std::vector<const Request*> batch_;
  std::vector<const wire::TokenPlan*> batch_plans_;
  std::vector<Response> replies_;
  std::vector<std::pair<uint32_t, Response>> ready_;
  std::vector<std::pair<std::string, std::string>> to_store_;
  std::vector<float> latencies_, ttfts_, tpots_;
  RunStats stats_;
  const EngineCounters* counters_ = nullptr;
  std::chrono::steady_clock::time_point start_;
};

// Asks the server's /tokenize for the token ids of texts (no special tokens, as lm-eval's
// tok_encode), through the response cache: a rerun asks nothing it already asked.
class TokenizeSource : public CallSource {
 public:
  TokenizeSource(const Endpoint& ep, const ExecOptions& o, ResponseCache* cache, Executor& progress)
      : ep_(ep), o_(o), cache_(cache), progress_(progress) {}

  // Texts to tokenize; returns the index of each (the same text once).
  size_t add(const std::string& text) {
    auto [it, inserted] = index_.try_emplace(text, texts_.size());
    if (inserted) texts_.push_back(&it->first);
    return it->second;
  }

  // Answers what the cache holds; the rest go to the server in run().
  void plan() {
    ids_.assign(texts_.size(), {});
    errors_.assign(texts_.size(), "");
    keys_.resize(texts_.size());
    for (size_t i = 0; i < texts_.size(); ++i) {
      keys_[i] = sha256_hex(ep_.identity() + "\ntokenize\n" + *texts_[i]);
      if (cache_) {
        if (auto text = cache_->get(keys_[i]); text && read_ids(*text, ids_[i])) continue;
      }
      todo_.push_back(i);
    }
  }

  // After the engine ran this source: text i's token ids, or null when it failed (error(i)).
  const std::vector<int64_t>* ids(size_t i) const {
    return errors_[i].empty() ? &ids_[i] : nullptr;
  }
  const std::string& error(size_t i) const { return errors_[i]; }

  bool next(size_t& unit, HttpCall& call, double& est_tokens) override {
    if (pos_ >= todo_.size()) return false;
    unit = todo_[pos_++];
    call.method = "POST";
    call.url = ep_.server_root() + "/tokenize";
    call.headers = wire::auth_headers(ep_);
    call.stream = false;
    call.timeout_s = o_.timeout_s;
    call.stall_timeout_s = 0;
    call.body.clear();
    JsonWriter w(call.body);
    w.begin_object();
    w.key("model");
    w.value(ep_.model);
    w.key("prompt");
    w.value(*texts_[unit]);
    w.key("add_special_tokens");
    w.value(false);
    w.end_object();
    est_tokens = static_cast<double>(texts_[unit]->size()) / 4;
    return true;
  }

  Outcome on_reply(size_t unit, const HttpReply& reply, int) override {
    if (reply.status < 200 || reply.status >= 300) {
      std::string line = "tokenizing the prompt failed: " +
                         wire::describe_http_error(ep_, reply.status, reply.body);
      return {retryable_status(reply.status) ? Verdict::kRetry : Verdict::kFail, line};
    }
    if (!read_ids(reply.body, ids_[unit])) {
      return {Verdict::kRetry,
              "the /tokenize reply has no list of token ids: '" + wire::snippet(reply.body) + "'"};
    }
    if (ids_[unit].empty() && !texts_[unit]->empty()) {
      return {Verdict::kFail, "the server's /tokenize gave no tokens for a non-empty prompt ('" +
                                  wire::snippet(reply.body) + "')"};
    }
    if (cache_) {
      std::string text;
      JsonWriter w(text);
      w.begin_array();
      for (int64_t id : ids_[unit]) w.value(id);
      w.end_array();
      to_store_.emplace_back(keys_[unit], std::move(text));
    }
    return {};
  }

  void on_failed(size_t unit, const std::string& reason, const HttpReply&, int) override {
    errors_[unit] = reason;
  }
  void on_commit() override {
    if (cache_ && !to_store_.empty()) cache_->store(to_store_);
    to_store_.clear();
  }
  void on_tick() override { progress_.on_tick(); }

 private:
  // {"tokens": [ids]} from a server, or [ids] from the cache.
  static bool read_ids(const std::string& text, std::vector<int64_t>& out) {
    out.clear();
    JsonScanner js(text);
    auto read_list = [&] {
      return js.elements([&] {
        int64_t id = 0;
        if (!js.read_int(id)) return false;
        out.push_back(id);
        return true;
      });
    };
    if (js.peek() == JsonScanner::Type::kArray) return read_list() && js.finish();
    std::string key;
    bool found = false;
    bool ok = js.members(key, [&](const std::string& k) {
      if (k != "tokens" || found) return js.skip_value();
      found = true;
      return read_list();
    });
    return ok && found && js.finish();
  }

  const Endpoint& ep_;
  const ExecOptions& o_;
  ResponseCache* cache_;
  Executor& progress_;
  std::unordered_map<std::string, size_t> index_;
  std::vector<const std::string*> texts_;
  std::vector<std::string> keys_;
  std::vector<std::vector<int64_t>> ids_;
  std::vector<std::string> errors_;
  std::vector<size_t> todo_;
  size_t pos_ = 0;
  std::vector<std::pair<std::string, std::string>> to_store_;
};

// Runs the loglikelihood requests split by token count, in chunks (memory stays bounded by
// a chunk's token lists): tokenize each chunk's contexts and context+continuations, build
// lm-eval's token plans, then score the chunk. Returns false when stopped.
bool run_tokenized(const Endpoint& ep, const ExecOptions& o, ResponseCache* cache, Executor& ex,
                   Engine& engine, size_t begin) {
  constexpr size_t kChunk = 4096;
  const auto& todo = ex.todo();
  const size_t limit = static_cast<size_t>(std::max(2, o.max_length) - 1);
  for (size_t b = begin; b < todo.size(); b += kChunk) {
    size_t e = std::min(todo.size(), b + kChunk);
    TokenizeSource tok(ep, o, cache, ex);
    std::vector<std::pair<size_t, size_t>> text_of(e - b);  // (context, whole) per request
    for (size_t k = b; k < e; ++k) {
      const Request& r = ex.request(todo[k]);
      std::string ctx, cont;
      wire::split_context(r.prompt, r.continuation, ctx, cont);
      text_of[k - b] = {tok.add(ctx), tok.add(ctx + cont)};
    }
    tok.plan();
    if (g_stop.load() != 0 || !engine.run(tok)) return false;
    std::unordered_map<uint32_t, wire::TokenPlan> plans;
    std::unordered_map<uint32_t, std::string> failures;
    for (size_t k = b; k < e; ++k) {
      uint32_t i = todo[k];
      const auto* ctx = tok.ids(text_of[k - b].first);
      const auto* whole = tok.ids(text_of[k - b].second);
      if (!ctx || !whole) {
        failures[i] = tok.error(ctx ? text_of[k - b].second : text_of[k - b].first);
        continue;
      }
      // lm-eval's _encode_pair: continuation = whole[len(context):]; then the last L tokens.
      wire::TokenPlan plan;
      plan.ids = *ctx;
      if (whole->size() > ctx->size())
        plan.ids.insert(plan.ids.end(), whole->begin() + static_cast<std::ptrdiff_t>(ctx->size()),
                        whole->end());
      size_t cut = plan.ids.size() > limit ? plan.ids.size() - limit : 0;
      plan.ids.erase(plan.ids.begin(), plan.ids.begin() + static_cast<std::ptrdiff_t>(cut));
      plan.ctxlen = ctx->size() > cut ? ctx->size() - cut : 0;
      plans.emplace(i, std::move(plan));
    }
    ex.set_plans(std::move(plans), failures);
    ex.set_range(b, e);
    if (g_stop.load() != 0 || !engine.run(ex)) return false;
  }
  return true;
}

}  // namespace

ExecOptions exec_options_from_model_args(const Json& a, ExecOptions o) {
  if (!a.is_object()) return o;
  auto num = [&](const char* k, double& out) {
    if (!a.contains(k)) return;
    const Json& v = a[k];
    if (v.is_number()) {
      out = v.get<double>();
    } else if (v.is_string()) {
      try {
        out = std::stod(v.get<std::string>());
      } catch (const std::exception&) {
        throw Error("model_args " + std::string(k) + " must be a number, got '" +
                        v.get<std::string>() + "'",
                    "--model_args");
      }
    }
  };
  double v = -1;
  num("num_concurrent", v);
  if (v > 0) o.concurrency = static_cast<int>(v);
  v = -1;
  num("max_retries", v);
  if (v >= 0) o.max_retries = static_cast<int>(v);
  v = -1;
  num("timeout", v);
  if (v > 0) o.timeout_s = v;
  // Curator's spellings, and LiteLLM's shorter ones.
  for (const char* k : {"max_requests_per_minute", "rpm"}) {
    v = -1;
    num(k, v);
    if (v >= 0) o.rpm = v;
  }
  for (const char* k : {"max_tokens_per_minute", "tpm"}) {
    v = -1;
    num(k, v);
    if (v >= 0) o.tpm = v;
  }
  v = -1;
  num("stall_timeout", v);
  if (v >= 0) o.stall_timeout_s = v;
  v = -1;
  num("batch_size", v);
  if (v > 0) o.batch_size = static_cast<int>(v);
  v = -1;
  num("max_length", v);
  if (v > 1) o.max_length = static_cast<int>(v);
  if (a.contains("tokenized_requests")) {
    const Json& t = a["tokenized_requests"];
    std::string text = t.is_string() ? to_lower(t.get<std::string>()) : t.dump();
    if (text == "true" || text == "1") {
      o.ll_split = "tokenize";
    } else if (text == "false" || text == "0") {
      o.ll_split = "offset";
    } else {
      throw Error("model_args tokenized_requests must be True or False, got '" + text + "'",
                  "--model_args");
    }
  }
  if (a.contains("stream")) {
    const Json& t = a["stream"];
    std::string text = t.is_string() ? to_lower(t.get<std::string>()) : t.dump();
    if (text == "true" || text == "1") {
      o.stream = true;
    } else if (text == "false" || text == "0") {
      o.stream = false;
    } else {
      throw Error("model_args stream must be True or False, got '" + text + "'", "--model_args");
    }
  }
  return o;
}

std::string request_key(const Endpoint& endpoint, const Request& request) {
  static const ExecOptions kDefaults;
  return request_key(endpoint, request, kDefaults);
}

std::string request_key(const Endpoint& endpoint, const Request& request, const ExecOptions& o) {
  Sha256 sha;
  return request_key_and_body(sha, endpoint.identity(), endpoint, request, o, nullptr);
}

void request_stop() {
  g_stop.fetch_add(1, std::memory_order_relaxed);
}
bool interrupted() {
  return g_stop.load(std::memory_order_relaxed) > 0;
}
void clear_stop() {
  g_stop.store(0);
}

std::vector<Response> execute(const Endpoint& endpoint, const std::vector<Request>& requests,
                              const ExecOptions& options, ExecObserver* observer,
                              RunStats* stats_out) {
  if (options.ll_split != "offset" && options.ll_split != "auto" &&
      options.ll_split != "tokenize") {
    throw Error("loglikelihood split '" + options.ll_split + "' is not supported",
                "ExecOptions.ll_split",
                "use \"offset\" (text_offset of the echoed prompt) or \"tokenize\"");
  }
  std::unique_ptr<ResponseCache> cache;
  if (options.use_cache) {
    cache = std::make_unique<ResponseCache>(
        options.cache_path.empty() ? ResponseCache::default_path() : options.cache_path);
  }
  Executor ex(endpoint, requests, options, observer, cache.get());
  ex.plan();
  EngineOptions eo;
  eo.concurrency = options.concurrency;
  eo.max_retries = options.max_retries;
  eo.max_throttle_retries = options.max_throttle_retries;
  eo.rpm = options.rpm;
  eo.tpm = options.tpm;
  eo.adaptive = options.adaptive;
  eo.backoff_base_s = options.backoff_base_s;
  eo.backoff_cap_s = options.backoff_cap_s;
  eo.stop = &g_stop;
  Engine engine(eo);
  ex.set_counters(&engine.counters());
  size_t tokenized = ex.partition_tokenized();
  bool complete = g_stop.load() == 0 && engine.run(ex);
  if (complete && tokenized < ex.todo().size())
    complete = run_tokenized(endpoint, options, cache.get(), ex, engine, tokenized);
  if (!complete) ex.interrupt_rest();
  RunStats s = ex.snapshot();
  s.in_flight = 0;
  if (observer) observer->on_progress(s);
  if (stats_out) *stats_out = s;
  return ex.take();
}

}  // namespace retort
