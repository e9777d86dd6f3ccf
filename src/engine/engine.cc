#include "engine/engine.h"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
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
  // Seconds until a call may go (0 = now).
  double wait_s(Clock::time_point now) {
    if (!enabled()) return 0;
    refill(now);
    return level_ < 0 ? -level_ / rate_ : 0;
  }

 private:
  void refill(Clock::time_point now) {
    level_ = std::min(cap_, level_ + rate_ * seconds_between(last_, now));
    last_ = now;
  }
  double rate_ = 0, cap_ = 0, level_ = 0;
  Clock::time_point last_;
};

}  // namespace

// Event loop: libcurl's socket interface (curl_multi_socket_action) over one epoll set, so
// each round costs in proportion to the sockets that are ready, not to the number of
// connections open (curl_multi_perform/poll walk every transfer on every round).
//
// libcurl (7.88) finds an idle connection for a new request by walking all connections
// to the host, so one multi handle holding hundreds of connections pays O(connections)
// per request. Transfers are therefore spread over shards, multi handles of at most
// kShardSize connections each, which share the epoll set and the loop.
struct Engine::Impl {
  static constexpr int kShardSize = 64;
  struct Shard {
    Impl* impl = nullptr;
    uint16_t index = 0;
    CURLM* multi = nullptr;
    int active = 0;
    bool timer_set = false;  // libcurl's timer for this multi handle
    Clock::time_point deadline;
  };

  EngineOptions o;
  EngineCounters& counters;
  std::vector<std::unique_ptr<Shard>> shards;
  int epfd = -1;
  std::vector<std::pair<CURL*, CURLcode>> done;  // completions of one round
  std::vector<CURL*> pool;
  std::unordered_map<CURL*, std::unique_ptr<detail::Transfer>> active;
  std::multimap<Clock::time_point, std::unique_ptr<detail::Transfer>> delayed;
  std::mt19937_64 rng{std::random_device{}()};
  Bucket rpm, tpm;
  double window = 1;
  // After a burst of 429s the window climbs by one per answer up to this, then by one per
  // window's worth of answers (TCP's slow start and congestion avoidance).
  double slow_start_until = 0;
  Clock::time_point last_decrease, last_throttle;
  // A rate-limit reply's Retry-After holds every send (new and retried) until then: the
  // server said when it will take requests again, and each one sent before is a wasted
  // round trip (RFC 6585: "how long to wait before making a new request").
  Clock::time_point hold_until;
  int64_t budget_used = 0;
  bool exhausted = false;

  // Read once: the environment's proxy settings do not change during a run.
  const bool no_proxy_env = detail::proxy_env_absent();

  Impl(EngineOptions options, EngineCounters& c) : o(options), counters(c) {
    detail::ensure_curl_global();
    o.concurrency = std::max(1, o.concurrency);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    int n = (o.concurrency + kShardSize - 1) / kShardSize;
    for (int i = 0; i < n; ++i) {
      auto sh = std::make_unique<Shard>();
      sh->impl = this;
      sh->index = static_cast<uint16_t>(i);
      sh->multi = curl_multi_init();
      CURLM* m = sh->multi;
      curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, &Impl::on_socket);
      curl_multi_setopt(m, CURLMOPT_SOCKETDATA, sh.get());
      curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, &Impl::on_timer);
      curl_multi_setopt(m, CURLMOPT_TIMERDATA, sh.get());
      curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
      curl_multi_setopt(m, CURLMOPT_MAXCONNECTS,
                        static_cast<long>(std::min(o.concurrency, kShardSize) + 16));
      shards.push_back(std::move(sh));
    }
    window = o.concurrency;
    auto now = Clock::now();
    rpm.configure(o.rpm, now);
    tpm.configure(o.tpm, now);
    last_decrease = last_throttle = hold_until = now - std::chrono::hours(1);
  }

  // One header list per distinct set of headers (in practice one per run), instead of a
  // list built and freed for every call.
  std::unordered_map<std::string, curl_slist*> header_lists;
  curl_slist* shared_headers(const HttpCall& c) {
    auto [it, inserted] = header_lists.try_emplace(detail::header_key(c), nullptr);
    if (inserted) it->second = detail::header_list(c);
    return it->second;
  }

  ~Impl() {
    for (auto& [easy, t] : active) {
      curl_multi_remove_handle(shards[t->shard]->multi, easy);
      curl_easy_cleanup(easy);
    }
    for (CURL* e : pool) curl_easy_cleanup(e);
    for (auto& sh : shards) curl_multi_cleanup(sh->multi);
    if (epfd >= 0) ::close(epfd);
    for (auto& [key, list] : header_lists) curl_slist_free_all(list);
  }

  // Sockets in the epoll set, by descriptor: the events registered, and whether libcurl
  // has let go of the socket (a connection back in its cache between two requests).
  // For the connections' sockets, which the engine opens and closes for libcurl (so it
  // knows when a descriptor number is new), letting go costs no system call: the
  // registration stays, and the next request on that connection usually wants the same
  // events; an event on such a socket (the server closed an idle connection) takes it out
  // of the set. Other sockets libcurl watches (its resolver's socketpair) leave the set at
  // once.
  static constexpr uint8_t kRegistered = 1, kIn = 2, kOut = 4, kLetGo = 8, kOurs = 16;
  struct Fd {
    uint8_t state = 0;
    uint16_t shard = 0;  // whose multi handle owns the socket
  };
  std::vector<Fd> fds;

  Fd& fd_slot(curl_socket_t s) {
    auto fd = static_cast<size_t>(s);
    if (fd >= fds.size()) fds.resize(fd + 64);
    return fds[fd];
  }

  static curl_socket_t on_open_socket(void* userp, curlsocktype, curl_sockaddr* addr) {
    auto* self = static_cast<Impl*>(userp);
    curl_socket_t s = ::socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
    if (s >= 0) self->fd_slot(s) = Fd{kOurs, 0};
    return s < 0 ? CURL_SOCKET_BAD : s;
  }

  static int on_close_socket(void* userp, curl_socket_t s) {
    auto* self = static_cast<Impl*>(userp);
    self->fd_slot(s) = Fd{};  // closing takes it out of the epoll set
    return ::close(s);
  }

  static int on_socket(CURL*, curl_socket_t s, int what, void* userp, void*) {
    auto* shard = static_cast<Shard*>(userp);
    Impl* self = shard->impl;
    if (s < 0) return 0;
    Fd& fd = self->fd_slot(s);
    fd.shard = shard->index;
    uint8_t& st = fd.state;
    if (what == CURL_POLL_REMOVE) {
      if (!(st & kRegistered)) return 0;
      if (st & kOurs) {
        st |= kLetGo;
      } else {
        epoll_ctl(self->epfd, EPOLL_CTL_DEL, s, nullptr);
        st = 0;
      }
      return 0;
    }
    uint8_t want = (what & CURL_POLL_IN ? kIn : 0) | (what & CURL_POLL_OUT ? kOut : 0);
    if (!(st & kRegistered) || (st & (kIn | kOut)) != want) {
      epoll_event ev{};
      ev.events = (want & kIn ? EPOLLIN : 0u) | (want & kOut ? EPOLLOUT : 0u);
      ev.data.fd = s;
      int op = st & kRegistered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
      if (epoll_ctl(self->epfd, op, s, &ev) != 0) {
        // A stale record (should not happen): try the other operation.
        epoll_ctl(self->epfd, op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev);
      }
    }
    st = static_cast<uint8_t>((st & kOurs) | kRegistered | want);
    return 0;
  }

  // A multi handle's single timeout: -1 = none, 0 = act now (next round), else ms from now.
  static int on_timer(CURLM*, long timeout_ms, void* userp) {
    auto* shard = static_cast<Shard*>(userp);
    shard->timer_set = timeout_ms >= 0;
    if (timeout_ms >= 0) shard->deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    return 0;
  }

  // The earliest libcurl deadline over the shards, if any.
  bool curl_deadline(Clock::time_point& when) const {
    bool any = false;
    for (const auto& sh : shards) {
      if (sh->timer_set && (!any || sh->deadline < when)) {
        when = sh->deadline;
        any = true;
      }
    }
    return any;
  }

  // Hands libcurl what epoll saw and what timed out, then collects finished transfers.
  // When libcurl's timer is already due (new transfers to start), it runs without waiting.
  void drive(int wait_ms) {
    constexpr int kMaxEvents = 256;
    epoll_event events[kMaxEvents];
    Clock::time_point when;
    bool due = curl_deadline(when) && when <= Clock::now();
    int n = due ? 0 : epoll_wait(epfd, events, kMaxEvents, wait_ms);
    int running = 0;
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      Fd& slot = fd_slot(fd);
      uint8_t& st = slot.state;
      if (st & kLetGo) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr);
        st = kOurs;
        continue;
      }
      int flags = 0;
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) flags |= CURL_CSELECT_IN;
      if (events[i].events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
      if (events[i].events & EPOLLERR) flags |= CURL_CSELECT_ERR;
      curl_multi_socket_action(shards[slot.shard]->multi, fd, flags, &running);
    }
    auto now = Clock::now();
    for (auto& sh : shards) {
      if (sh->timer_set && sh->deadline <= now) {
        sh->timer_set = false;
        curl_multi_socket_action(sh->multi, CURL_SOCKET_TIMEOUT, 0, &running);
      }
      // Read all messages before handling any: removing a handle scans the pending ones.
      int left = 0;
      while (CURLMsg* m = curl_multi_info_read(sh->multi, &left)) {
        if (m->msg == CURLMSG_DONE) done.emplace_back(m->easy_handle, m->data.result);
      }
    }
  }

  int stop_level() const { return o.stop ? o.stop->load(std::memory_order_relaxed) : 0; }

  void start(std::unique_ptr<detail::Transfer> t) {
    CURL* easy;
    if (!pool.empty()) {
      easy = pool.back();  // setup_easy sets every option it ever set: no reset needed
      pool.pop_back();
    } else {
      easy = curl_easy_init();
    }
    detail::setup_easy(easy, *t, shared_headers(t->call), no_proxy_env);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &Impl::on_open_socket);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, this);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, &Impl::on_close_socket);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, this);
    Shard* sh = shards.front().get();
    for (auto& s : shards)
      if (s->active < sh->active) sh = s.get();
    ++sh->active;
    t->shard = sh->index;
    curl_multi_add_handle(sh->multi, easy);
    ++counters.http_calls;
    if (t->attempt > 0) ++counters.retries;
    active.emplace(easy, std::move(t));
  }

  size_t window_limit() const { return static_cast<size_t>(std::max(1.0, std::floor(window))); }

  void fill(CallSource& src) {
    size_t limit = window_limit();
    while (active.size() < limit) {
      auto now = Clock::now();
      if (now < hold_until || !rpm.ok(now) || !tpm.ok(now)) break;
      std::unique_ptr<detail::Transfer> t;
      if (!delayed.empty() && delayed.begin()->first <= now) {
        t = std::move(delayed.begin()->second);
        delayed.erase(delayed.begin());
        tpm.take(estimate_of(*t));
      } else if (!exhausted) {
        t = fresh_transfer();
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
    recycle(std::move(t));
  }

  // Finished transfers are kept for reuse, so their call and reply buffers keep their
  // capacity instead of being allocated anew for every request.
  std::vector<std::unique_ptr<detail::Transfer>> spare;
  std::unique_ptr<detail::Transfer> fresh_transfer() {
    if (spare.empty()) return std::make_unique<detail::Transfer>();
    auto t = std::move(spare.back());
    spare.pop_back();
    t->attempt = 0;
    t->throttled = 0;
    t->unit = 0;
    return t;
  }
  void recycle(std::unique_ptr<detail::Transfer> t) {
    if (spare.size() < static_cast<size_t>(o.concurrency)) spare.push_back(std::move(t));
  }

  // Schedules another attempt, or fails the unit. A throttled attempt (429/529) counts only
  // against max_throttle_retries; other failures against max_retries and the run's budget.
  void retry_or_fail(CallSource& src, std::unique_ptr<detail::Transfer> t, std::string reason,
                     bool throttled) {
    if (stop_level() > 0) return fail(src, std::move(t), "interrupted (" + reason + ")");
    int errors = t->attempt - t->throttled;  // error retries so far
    if (throttled ? t->throttled >= o.max_throttle_retries : errors >= o.max_retries) {
      std::string r = reason;
      int n = throttled ? t->throttled : errors;
      if (n > 0)
        r += " (gave up after " + std::to_string(n) +
             (throttled ? " rate-limited retries)" : " retries)");
      return fail(src, std::move(t), r);
    }
    if (!throttled &&
        budget_used >=
            o.retry_budget_min + static_cast<int64_t>(o.retry_budget_ratio * counters.succeeded)) {
      return fail(src, std::move(t),
                  reason +
                      " (not retried: the run's retry budget is spent, the server keeps "
                      "failing)");
    }
    int n = throttled ? t->throttled : errors;
    double ceiling = std::min(o.backoff_cap_s, o.backoff_base_s * std::pow(2.0, n));
    double delay = std::uniform_real_distribution<double>(0, std::max(0.0, ceiling))(rng);
    if (t->reply.retry_after_s >= 0) {
      delay = std::max(delay, std::min(t->reply.retry_after_s, o.retry_after_cap_s));
    }
    if (throttled) {
      ++t->throttled;
    } else {
      ++budget_used;
    }
    ++t->attempt;
    auto when = Clock::now() +
                std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(delay));
    delayed.emplace(when, std::move(t));
  }

  void on_throttled(const HttpReply& reply) {
    ++counters.throttled;
    auto now = Clock::now();
    if (reply.retry_after_s > 0) {
      auto until = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                             std::min(reply.retry_after_s, o.retry_after_cap_s)));
      hold_until = std::max(hold_until, until);
    }
    if (!o.adaptive) return;
    // A burst begins after a quiet spell: remember where the window stood, so that once
    // answers flow again it climbs back quickly to half of that.
    constexpr double kQuietSpell = 10.0;
    if (seconds_between(last_throttle, now) > kQuietSpell) slow_start_until = window / 2;
    last_throttle = now;
    if (seconds_between(last_decrease, now) < o.decrease_interval_s) return;
    window = std::max(1.0, window / 2);
    last_decrease = now;
  }

  void on_success() {
    ++counters.succeeded;
    if (o.adaptive && window < o.concurrency) {
      double step = window < slow_start_until ? 1.0 : 1.0 / window;
      window = std::min<double>(o.concurrency, window + step);
    }
  }

  // Takes a transfer's handle off its shard's multi handle.
  void release(CURL* easy, const detail::Transfer& t) {
    Shard& sh = *shards[t.shard];
    curl_multi_remove_handle(sh.multi, easy);
    --sh.active;
  }

  void complete(CallSource& src, CURL* easy, CURLcode code) {
    auto it = active.find(easy);
    if (it == active.end()) return;
    std::unique_ptr<detail::Transfer> t = std::move(it->second);
    active.erase(it);
    release(easy, *t);
    detail::finish_transfer(easy, *t, code);
    pool.push_back(easy);
    const HttpReply& reply = t->reply;
    if (reply.timed_out) ++counters.timeouts;
    if (reply.stalled) ++counters.stalls;
    if (reply.status == 0) {
      if (!reply.transport_retryable) return fail(src, std::move(t), reply.transport_message);
      std::string reason = reply.transport_message;
      return retry_or_fail(src, std::move(t), reason, false);
    }
    bool throttled = reply.status == 429 || reply.status == 529;
    if (throttled) on_throttled(reply);
    Outcome out = src.on_reply(t->unit, reply, t->attempt);
    switch (out.verdict) {
      case Verdict::kDone:
        estimates.erase(t.get());
        on_success();
        recycle(std::move(t));
        return;
      case Verdict::kFail:
        return fail(src, std::move(t), out.reason);
      case Verdict::kRetry:
        return retry_or_fail(src, std::move(t), out.reason, throttled);
    }
  }

  void abort_active(CallSource& src) {
    std::vector<CURL*> handles;
    for (auto& kv : active) handles.push_back(kv.first);
    for (CURL* easy : handles) {
      auto t = std::move(active[easy]);
      active.erase(easy);
      release(easy, *t);
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
      // Sleep until the next thing that can happen. fill() left nothing startable, so a
      // delayed retry or the rate bucket only matters when the window has room: while it is
      // full, only a completion (a socket event or libcurl's timer) frees a slot.
      auto now = Clock::now();
      double wait = std::min(0.1, std::max(0.0, 0.2 - seconds_between(last_tick, now)));
      if (stop == 0 && active.size() < window_limit() && (!exhausted || !delayed.empty())) {
        double gate = std::max(
            {rpm.wait_s(now), tpm.wait_s(now), std::max(0.0, seconds_between(now, hold_until))});
        if (gate > 0) {
          wait = std::min(wait, gate);
        } else if (!delayed.empty()) {
          wait = std::min(wait, std::max(0.0, seconds_between(now, delayed.begin()->first)));
        }
      }
      Clock::time_point when;
      if (curl_deadline(when)) wait = std::min(wait, std::max(0.0, seconds_between(now, when)));
      ++counters.wakeups;
      drive(static_cast<int>(std::ceil(wait * 1000)));
      for (auto& [easy, code] : done) complete(src, easy, code);
      if (!done.empty()) src.on_commit();
      done.clear();
      now = Clock::now();
      if (seconds_between(last_tick, now) >= 0.2) {
        counters.in_flight = static_cast<int64_t>(active.size());
        counters.window = window;
        src.on_tick();
        last_tick = now;
      }
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
