#include "engine/engine.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <unordered_map>
#include <vector>

#include "engine/transfer.h"

namespace retort {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Token bucket that may go into debt: a call is allowed while the level is >= 0, so a single
// call larger than the bucket still goes, and the ones after it wait until the debt is repaid.
class Bucket {
 public:
  void configure(double per_minute, Clock::time_point now) {
    rate_ = per_minute / 60.0;
    cap_ = std::max(1.0, rate_);
    level_ = cap_;
    last_ = now;
  }
  bool enabled() const { return rate_ > 0; }
  bool ok(Clock::time_point now) {
    if (!enabled()) return true;
    refill(now);
    return level_ >= 0;
  }
  void take(double n) {
    if (enabled()) level_ -= n;
  }
  double wait_s() const { return enabled() && level_ < 0 ? -level_ / rate_ : 0; }

 private:
  void refill(Clock::time_point now) {
    level_ = std::min(cap_, level_ + rate_ * seconds_between(last_, now));
    last_ = now;
  }
  double rate_ = 0, cap_ = 0, level_ = 0;
  Clock::time_point last_;
};

}  // namespace

struct Engine::Impl {
  EngineOptions o;
  EngineCounters& counters;
  CURLM* multi = nullptr;
  std::vector<CURL*> pool;
  std::unordered_map<CURL*, std::unique_ptr<detail::Transfer>> active;
  std::multimap<Clock::time_point, std::unique_ptr<detail::Transfer>> delayed;
  std::mt19937_64 rng{std::random_device{}()};
  Bucket rpm, tpm;
  double window = 1;
  Clock::time_point last_decrease;
  int64_t budget_used = 0;
  bool exhausted = false;

  Impl(EngineOptions options, EngineCounters& c) : o(options), counters(c) {
    detail::ensure_curl_global();
    o.concurrency = std::max(1, o.concurrency);
    multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(o.concurrency + 16));
    window = o.concurrency;
    auto now = Clock::now();
    rpm.configure(o.rpm, now);
    tpm.configure(o.tpm, now);
    last_decrease = now - std::chrono::hours(1);
  }

  ~Impl() {
    for (auto& [easy, t] : active) {
      curl_multi_remove_handle(multi, easy);
      curl_easy_cleanup(easy);
    }
    for (CURL* e : pool) curl_easy_cleanup(e);
    curl_multi_cleanup(multi);
  }

  int stop_level() const { return o.stop ? o.stop->load(std::memory_order_relaxed) : 0; }

  void start(std::unique_ptr<detail::Transfer> t) {
    CURL* easy;
    if (!pool.empty()) {
      easy = pool.back();
      pool.pop_back();
      curl_easy_reset(easy);
    } else {
      easy = curl_easy_init();
    }
    detail::setup_easy(easy, *t);
    curl_multi_add_handle(multi, easy);
    ++counters.http_calls;
    if (t->attempt > 0) ++counters.retries;
    active.emplace(easy, std::move(t));
  }

  void fill(CallSource& src) {
    size_t limit = static_cast<size_t>(std::max(1.0, std::floor(window)));
    while (active.size() < limit) {
      auto now = Clock::now();
      if (!rpm.ok(now) || !tpm.ok(now)) break;
      std::unique_ptr<detail::Transfer> t;
      if (!delayed.empty() && delayed.begin()->first <= now) {
        t = std::move(delayed.begin()->second);
        delayed.erase(delayed.begin());
        tpm.take(estimate_of(*t));
      } else if (!exhausted) {
        t = std::make_unique<detail::Transfer>();
        double est = 0;
        if (!src.next(t->unit, t->call, est)) {
          exhausted = true;
          continue;
        }
        estimates[t.get()] = est;
        tpm.take(est);
      } else {
        break;
      }
      rpm.take(1);
      start(std::move(t));
    }
  }

  // Token estimates by transfer, for retries (which pay the tpm limit again).
  std::unordered_map<const detail::Transfer*, double> estimates;
  double estimate_of(const detail::Transfer& t) {
    auto it = estimates.find(&t);
    return it == estimates.end() ? 0 : it->second;
  }

  void fail(CallSource& src, std::unique_ptr<detail::Transfer> t, const std::string& reason) {
    ++counters.failed;
    estimates.erase(t.get());
    src.on_failed(t->unit, reason, t->reply, t->attempt);
  }

  void retry_or_fail(CallSource& src, std::unique_ptr<detail::Transfer> t, std::string reason,
                     bool counts_against_budget) {
    if (stop_level() > 0) return fail(src, std::move(t), "interrupted (" + reason + ")");
    if (t->attempt >= o.max_retries) {
      std::string r = reason;
      if (t->attempt > 0) r += " (gave up after " + std::to_string(t->attempt) + " retries)";
      return fail(src, std::move(t), r);
    }
    if (counts_against_budget &&
        budget_used >=
            o.retry_budget_min + static_cast<int64_t>(o.retry_budget_ratio * counters.succeeded)) {
      return fail(src, std::move(t),
                  reason +
                      " (not retried: the run's retry budget is spent, the server keeps "
                      "failing)");
    }
    double ceiling = std::min(o.backoff_cap_s, o.backoff_base_s * std::pow(2.0, t->attempt));
    double delay = std::uniform_real_distribution<double>(0, std::max(0.0, ceiling))(rng);
    if (t->reply.retry_after_s >= 0) {
      delay = std::max(delay, std::min(t->reply.retry_after_s, o.retry_after_cap_s));
    }
    if (counts_against_budget) ++budget_used;
    ++t->attempt;
    auto when = Clock::now() +
                std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(delay));
    delayed.emplace(when, std::move(t));
  }

  void on_throttled() {
    ++counters.throttled;
    if (!o.adaptive) return;
    auto now = Clock::now();
    if (seconds_between(last_decrease, now) < 1.0) return;
    window = std::max(1.0, window / 2);
    last_decrease = now;
  }

  void on_success() {
    ++counters.succeeded;
    if (o.adaptive && window < o.concurrency) {
      window = std::min<double>(o.concurrency, window + 1.0 / window);
    }
  }

  void complete(CallSource& src, CURL* easy, CURLcode code) {
    auto it = active.find(easy);
    if (it == active.end()) return;
    std::unique_ptr<detail::Transfer> t = std::move(it->second);
    active.erase(it);
    curl_multi_remove_handle(multi, easy);
    detail::finish_transfer(easy, *t, code);
    pool.push_back(easy);
    const HttpReply& reply = t->reply;
    if (reply.status == 0) {
      if (!reply.transport_retryable) return fail(src, std::move(t), reply.transport_message);
      std::string reason = reply.transport_message;
      return retry_or_fail(src, std::move(t), reason, true);
    }
    bool throttled = reply.status == 429 || reply.status == 529;
    if (throttled) on_throttled();
    Outcome out = src.on_reply(t->unit, reply, t->attempt);
    switch (out.verdict) {
      case Verdict::kDone:
        estimates.erase(t.get());
        on_success();
        return;
      case Verdict::kFail:
        return fail(src, std::move(t), out.reason);
      case Verdict::kRetry:
        return retry_or_fail(src, std::move(t), out.reason, !throttled);
    }
  }

  void abort_active(CallSource& src) {
    std::vector<CURL*> handles;
    for (auto& kv : active) handles.push_back(kv.first);
    for (CURL* easy : handles) {
      auto t = std::move(active[easy]);
      active.erase(easy);
      curl_multi_remove_handle(multi, easy);
      pool.push_back(easy);
      t->reply = HttpReply{};
      fail(src, std::move(t), "interrupted");
    }
  }

  bool run(CallSource& src) {
    exhausted = false;
    auto last_tick = Clock::now();
    while (true) {
      int stop = stop_level();
      if (stop >= 1) {
        while (!delayed.empty()) {
          auto t = std::move(delayed.begin()->second);
          delayed.erase(delayed.begin());
          fail(src, std::move(t), "interrupted");
        }
      }
      if (stop >= 2) abort_active(src);
      if (stop == 0) fill(src);
      counters.in_flight = static_cast<int64_t>(active.size());
      counters.window = window;
      if (active.empty() && (stop > 0 || (exhausted && delayed.empty()))) {
        src.on_commit();
        src.on_tick();
        return stop == 0;
      }
      int running = 0;
      curl_multi_perform(multi, &running);
      bool any = false;
      int left = 0;
      while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
        if (m->msg != CURLMSG_DONE) continue;
        any = true;
        complete(src, m->easy_handle, m->data.result);
      }
      if (any) src.on_commit();
      auto now = Clock::now();
      if (seconds_between(last_tick, now) >= 0.2) {
        counters.in_flight = static_cast<int64_t>(active.size());
        counters.window = window;
        src.on_tick();
        last_tick = now;
      }
      if (any) continue;
      double wait = 0.1;
      if (!delayed.empty()) {
        wait = std::min(wait, std::max(0.0, seconds_between(now, delayed.begin()->first)));
      }
      double rate_wait = std::max(rpm.wait_s(), tpm.wait_s());
      if (rate_wait > 0) wait = std::min(wait, rate_wait);
      int ms = static_cast<int>(std::ceil(wait * 1000));
      curl_multi_poll(multi, nullptr, 0, std::max(ms, 1), nullptr);
    }
  }
};

Engine::Engine(EngineOptions options) : impl_(new Impl(options, counters_)) {}
Engine::~Engine() {
  delete impl_;
}
bool Engine::run(CallSource& source) {
  return impl_->run(source);
}

}  // namespace retort
