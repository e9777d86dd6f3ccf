#include "providers/client.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <unordered_map>

#include "cache/cache.h"
#include "engine/engine.h"
#include "providers/wire.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/strings.h"

namespace retort {

namespace {

std::atomic<int> g_stop{0};

Json response_to_json(const Response& r) {
  Json j = Json::object();
  j["text"] = r.text;
  if (!r.reasoning.empty()) j["reasoning"] = r.reasoning;
  j["finish_reason"] = r.finish_reason;
  j["loglikelihood"] = r.loglikelihood;
  j["is_greedy"] = r.is_greedy;
  j["prompt_tokens"] = r.prompt_tokens;
  j["completion_tokens"] = r.completion_tokens;
  j["latency_s"] = r.latency_s;
  if (r.ttft_s >= 0) j["ttft_s"] = r.ttft_s;
  j["http_status"] = r.http_status;
  return j;
}

std::optional<Response> response_from_json(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
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
    std::unordered_map<std::string, uint32_t> first;
    first.reserve(reqs_.size());
    std::vector<uint32_t> last(reqs_.size(), kNone);
    std::vector<uint32_t> heads;
    keys_.resize(reqs_.size());
    for (uint32_t i = 0; i < reqs_.size(); ++i) {
      std::string key = request_key(ep_, reqs_[i]);
      auto [it, inserted] = first.emplace(key, i);
      if (!inserted) {
        uint32_t head = it->second;
        uint32_t tail = last[head] == kNone ? head : last[head];
        next_dup_[tail] = i;
        last[head] = i;
        answered_[i] = 2;  // a copy: answered with its head
        continue;
      }
      keys_[i] = std::move(key);
      heads.push_back(i);
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
          if (auto r = response_from_json(*text)) {
            finish(i, std::move(*r));
            continue;
          }
        }
      }
      todo_.push_back(i);
    }
    if (obs_) obs_->on_progress(snapshot());
  }

  bool next(size_t& unit, HttpCall& call, double& est_tokens) override {
    if (pos_ >= todo_.size()) return false;
    std::vector<uint32_t> members{todo_[pos_++]};
    if (reqs_[members[0]].kind != RequestKind::kGenerate) {
      while (pos_ < todo_.size() && static_cast<int>(members.size()) < o_.batch_size &&
             reqs_[todo_[pos_]].kind != RequestKind::kGenerate) {
        members.push_back(todo_[pos_++]);
      }
    }
    std::vector<const Request*> batch;
    double chars = 0;
    for (uint32_t i : members) {
      batch.push_back(&reqs_[i]);
      chars += static_cast<double>(reqs_[i].prompt.size() + reqs_[i].continuation.size());
      for (const auto& m : reqs_[i].messages) chars += static_cast<double>(m.content.size());
    }
    wire::build_call(ep_, o_, batch, call);
    est_tokens = chars / 4 + max_tokens_of(reqs_[members[0]]);
    unit = next_unit_++;
    units_.emplace(unit, std::move(members));
    ++stats_.in_flight;
    return true;
  }

  Outcome on_reply(size_t unit, const HttpReply& reply, int attempt) override {
    auto it = units_.find(unit);
    std::vector<const Request*> batch;
    for (uint32_t i : it->second) batch.push_back(&reqs_[i]);
    std::vector<Response> rs;
    Outcome out = wire::parse_reply(ep_, batch, reply, rs);
    if (out.verdict != Verdict::kDone) return out;
    for (size_t k = 0; k < rs.size(); ++k) {
      uint32_t i = it->second[k];
      rs[k].retries = attempt;
      latencies_.push_back(static_cast<float>(rs[k].latency_s));
      if (rs[k].ttft_s >= 0) ttfts_.push_back(static_cast<float>(rs[k].ttft_s));
      if (cache_) {
        to_store_.emplace_back(
            keys_[i], response_to_json(rs[k]).dump(-1, ' ', false, Json::error_handler_t::replace));
      }
      ready_.emplace_back(i, std::move(rs[k]));
    }
    units_.erase(it);
    --stats_.in_flight;
    return out;
  }

  void on_failed(size_t unit, const std::string& reason, const HttpReply& last,
                 int retries) override {
    auto it = units_.find(unit);
    for (uint32_t i : it->second) {
      Response r;
      r.error = reason;
      r.http_status = last.status;
      r.retries = retries;
      ready_.emplace_back(i, std::move(r));
    }
    units_.erase(it);
    --stats_.in_flight;
  }

  void on_commit() override {
    if (ready_.empty()) return;
    if (cache_ && !to_store_.empty()) cache_->put_many(to_store_);
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
    }
    stats_.elapsed_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    stats_.latency_p50_s = percentile(latencies_, 0.5);
    stats_.latency_p90_s = percentile(latencies_, 0.9);
    stats_.latency_p99_s = percentile(latencies_, 0.99);
    stats_.ttft_p50_s = ttfts_.empty() ? -1 : percentile(ttfts_, 0.5);
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
  std::vector<uint32_t> todo_;
  size_t pos_ = 0;
  size_t next_unit_ = 0;
  std::unordered_map<size_t, std::vector<uint32_t>> units_;
  std::vector<std::pair<uint32_t, Response>> ready_;
  std::vector<std::pair<std::string, std::string>> to_store_;
  std::vector<float> latencies_, ttfts_;
  RunStats stats_;
  const EngineCounters* counters_ = nullptr;
  std::chrono::steady_clock::time_point start_;
};

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
  v = -1;
  num("batch_size", v);
  if (v > 0) o.batch_size = static_cast<int>(v);
  return o;
}

std::string request_key(const Endpoint& endpoint, const Request& request) {
  static const ExecOptions kDefaults;
  std::string s = endpoint.identity();
  s += '\n';
  s += wire::canonical_text(endpoint, request, kDefaults);
  s += '\n';
  s += std::to_string(request.repeat);
  return sha256_hex(s);
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
  if (options.ll_split != "offset" && options.ll_split != "auto") {
    throw Error("loglikelihood split '" + options.ll_split + "' is not supported",
                "ExecOptions.ll_split", "use \"offset\" (text_offset of the echoed prompt)");
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
  eo.rpm = options.rpm;
  eo.tpm = options.tpm;
  eo.adaptive = options.adaptive;
  eo.backoff_base_s = options.backoff_base_s;
  eo.backoff_cap_s = options.backoff_cap_s;
  eo.stop = &g_stop;
  Engine engine(eo);
  ex.set_counters(&engine.counters());
  bool complete = g_stop.load() == 0 && engine.run(ex);
  if (!complete) ex.interrupt_rest();
  RunStats s = ex.snapshot();
  s.in_flight = 0;
  if (observer) observer->on_progress(s);
  if (stats_out) *stats_out = s;
  return ex.take();
}

}  // namespace retort
