// The engine against a loopback server: retries, Retry-After, retry budget, bounded
// concurrency, adaptive window, rate limits, timeouts, stop, and no busy waiting.
#include "engine/engine.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <vector>

#include "engine/fake_server.h"

namespace retort {
namespace {

using testing::FakeReply;
using testing::FakeRequest;
using testing::FakeServer;

// Sends n POSTs to url; a 200 is done, a retryable status is retried, others fail.
class Source : public CallSource {
 public:
  Source(std::string url, size_t n) : url_(std::move(url)), n_(n) {}
  bool next(size_t& unit, HttpCall& call, double& est) override {
    if (pos_ >= n_) return false;
    unit = pos_++;
    call.url = url_;
    call.body = "{\"i\":" + std::to_string(unit) + "}";
    call.timeout_s = 10;
    est = 10;
    return true;
  }
  Outcome on_reply(size_t unit, const HttpReply& r, int attempt) override {
    attempts[unit] = attempt;
    if (r.status == 200) {
      ++done;
      return {};
    }
    return {retryable_status(r.status) ? Verdict::kRetry : Verdict::kFail,
            "HTTP " + std::to_string(r.status)};
  }
  void on_failed(size_t unit, const std::string& reason, const HttpReply&, int) override {
    failures[unit] = reason;
  }
  void on_commit() override { ++commits; }

  std::string url_;
  size_t n_, pos_ = 0;
  int done = 0, commits = 0;
  std::map<size_t, int> attempts;
  std::map<size_t, std::string> failures;
};

EngineOptions fast_options() {
  EngineOptions o;
  o.concurrency = 8;
  o.backoff_base_s = 0.001;
  o.backoff_cap_s = 0.01;
  return o;
}

TEST(Engine, AnswersEveryUnitOnce) {
  FakeServer server([](const FakeRequest&) { return FakeReply{200, "{}"}; });
  Source src(server.base_url("/x"), 200);
  Engine engine(fast_options());
  EXPECT_TRUE(engine.run(src));
  EXPECT_EQ(src.done, 200);
  EXPECT_TRUE(src.failures.empty());
  EXPECT_EQ(server.requests(), 200);
  EXPECT_EQ(engine.counters().http_calls, 200);
  EXPECT_GT(src.commits, 0);
}

TEST(Engine, RetriesTransientStatusesAndHonoursRetryAfter) {
  std::mutex mu;
  std::map<std::string, int> seen;
  FakeServer server([&](const FakeRequest& r) {
    std::lock_guard<std::mutex> lock(mu);
    int n = seen[r.body]++;
    if (n == 0) return FakeReply{503, "{}"};
    if (n == 1) return FakeReply{429, "{}", "application/json", {"Retry-After: 0"}};
    return FakeReply{200, "{}"};
  });
  Source src(server.base_url("/x"), 20);
  Engine engine(fast_options());
  EXPECT_TRUE(engine.run(src));
  EXPECT_EQ(src.done, 20);
  for (const auto& [unit, attempt] : src.attempts) EXPECT_EQ(attempt, 2) << unit;
  EXPECT_EQ(engine.counters().retries, 40);
  EXPECT_EQ(engine.counters().throttled, 20);
}

TEST(Engine, DoesNotRetryClientErrors) {
  FakeServer server([](const FakeRequest&) { return FakeReply{400, "{\"error\":\"bad\"}"}; });
  Source src(server.base_url("/x"), 10);
  Engine engine(fast_options());
  engine.run(src);
  EXPECT_EQ(server.requests(), 10);
  ASSERT_EQ(src.failures.size(), 10u);
  EXPECT_EQ(src.failures[0], "HTTP 400");
}

TEST(Engine, RetryBudgetStopsAStormAgainstADeadServer) {
  FakeServer server([](const FakeRequest&) { return FakeReply{500, "{}"}; });
  Source src(server.base_url("/x"), 100);
  EngineOptions o = fast_options();
  o.max_retries = 5;
  o.retry_budget_min = 20;
  Engine engine(o);
  engine.run(src);
  EXPECT_EQ(src.failures.size(), 100u);
  // Without the budget this would be 600 calls.
  EXPECT_LE(server.requests(), 100 + 20);
  EXPECT_NE(src.failures[99].find("retry budget"), std::string::npos);
}

TEST(Engine, GivesUpAfterMaxRetriesWithTheReason) {
  FakeServer server([](const FakeRequest&) { return FakeReply{503, "{}"}; });
  Source src(server.base_url("/x"), 1);
  EngineOptions o = fast_options();
  o.max_retries = 3;
  Engine engine(o);
  engine.run(src);
  EXPECT_EQ(server.requests(), 4);
  EXPECT_EQ(src.failures[0], "HTTP 503 (gave up after 3 retries)");
}

TEST(Engine, InFlightNeverExceedsConcurrency) {
  FakeServer server([](const FakeRequest&) { return FakeReply{200, "{}"}.after_ms(5); });
  Source src(server.base_url("/x"), 120);
  EngineOptions o = fast_options();
  o.concurrency = 6;
  Engine engine(o);
  engine.run(src);
  EXPECT_EQ(src.done, 120);
  EXPECT_LE(server.max_concurrent(), 6);
  EXPECT_GE(server.max_concurrent(), 2);
}

TEST(Engine, FirstWaveGoesOutAtOnceOverPlainHttp) {
  // Waiting to multiplex (CURLOPT_PIPEWAIT) on a plain-http connection held every
  // transfer but the first until the first reply came back.
  FakeServer server([](const FakeRequest&) { return FakeReply{200, "{}"}.after_ms(300); });
  Source src(server.base_url("/x"), 4);
  EngineOptions o = fast_options();
  o.concurrency = 4;
  Engine engine(o);
  engine.run(src);
  EXPECT_EQ(src.done, 4);
  EXPECT_EQ(server.max_concurrent(), 4);
}

TEST(Engine, HostNamesAndServerClosedConnections) {
  // A name (resolved by libcurl's resolver thread, whose socketpair goes through the same
  // event loop) and a server that closes every connection after its reply, so sockets
  // come and go and descriptor numbers are reused all the time.
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  addrinfo* ai = nullptr;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  if (getaddrinfo(host, nullptr, &hints, &ai) != 0 || !ai) GTEST_SKIP() << "hostname unresolvable";
  bool loopback =
      reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
  freeaddrinfo(ai);
  if (!loopback) GTEST_SKIP() << "hostname is not 127.0.0.1 here";
  FakeServer server([](const FakeRequest&) {
    FakeReply r;
    r.raw =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
        "Connection: close\r\n\r\n{}";
    return r;
  });
  Source src("http://" + std::string(host) + ":" + std::to_string(server.port()) + "/x", 60);
  EngineOptions o = fast_options();
  o.concurrency = 4;
  Engine engine(o);
  EXPECT_TRUE(engine.run(src));
  EXPECT_EQ(src.done, 60);
  EXPECT_TRUE(src.failures.empty()) << src.failures.begin()->second;
}

TEST(Engine, AdaptiveWindowShrinksOn429) {
  std::atomic<int> n{0};
  FakeServer server([&](const FakeRequest&) {
    return ++n <= 4 ? FakeReply{429, "{}"} : FakeReply{200, "{}"};
  });
  Source src(server.base_url("/x"), 10);
  EngineOptions o = fast_options();
  o.concurrency = 64;
  Engine engine(o);
  engine.run(src);
  EXPECT_EQ(src.done, 10);
  EXPECT_LT(engine.counters().window, 64);  // halved, and only 10 successes to grow back
}

TEST(Engine, ConnectionErrorsAreRetriedThenReported) {
  Source src("http://127.0.0.1:" + std::to_string(testing::refused_port()) + "/x", 3);
  EngineOptions o = fast_options();
  o.max_retries = 2;
  Engine engine(o);
  engine.run(src);
  ASSERT_EQ(src.failures.size(), 3u);
  EXPECT_NE(src.failures[0].find("connection refused by http://127.0.0.1:"), std::string::npos)
      << src.failures[0];
  EXPECT_NE(src.failures[0].find("gave up after 2 retries"), std::string::npos);
}

TEST(Engine, StopFlagStopsBeforeSending) {
  FakeServer server([](const FakeRequest&) { return FakeReply{200, "{}"}; });
  Source src(server.base_url("/x"), 10);
  std::atomic<int> stop{1};
  EngineOptions o = fast_options();
  o.stop = &stop;
  Engine engine(o);
  EXPECT_FALSE(engine.run(src));
  EXPECT_EQ(server.requests(), 0);
}

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Arrival times at the server, in order.
class Arrivals {
 public:
  void add() {
    std::lock_guard<std::mutex> lock(mu_);
    at_.push_back(Clock::now());
  }
  std::vector<Clock::time_point> get() {
    std::lock_guard<std::mutex> lock(mu_);
    return at_;
  }

 private:
  std::mutex mu_;
  std::vector<Clock::time_point> at_;
};

// A limiter of `per_s` calls a second with a bucket of `burst` calls lets call i (0-based)
// arrive no earlier than (i + 1 - burst) / per_s after the first. Only lower bounds are
// checked: a slow machine can only make the gaps longer.
void expect_spaced(const std::vector<Clock::time_point>& at, double per_s, int burst) {
  const double slack = 0.03;  // the clocks of the sender's decision and the server's receipt
  for (size_t i = static_cast<size_t>(burst); i < at.size(); ++i) {
    double earliest = static_cast<double>(i + 1 - static_cast<size_t>(burst)) / per_s;
    EXPECT_GE(seconds(at[0], at[i]), earliest - slack) << "request " << i;
  }
}

TEST(Engine, RpmLimitSpacesRequestsAtTheServer) {
  Arrivals arrivals;
  FakeServer server([&](const FakeRequest&) {
    arrivals.add();
    return FakeReply{200, "{}"};
  });
  Source src(server.base_url("/x"), 20);
  EngineOptions o = fast_options();
  o.rpm = 600;  // 10/s; the bucket holds a second's worth, and the call that empties it goes
  Engine engine(o);
  EXPECT_TRUE(engine.run(src));
  EXPECT_EQ(src.done, 20);
  auto at = arrivals.get();
  ASSERT_EQ(at.size(), 20u);
  expect_spaced(at, 10, 11);  // the 20th no earlier than 0.9 s after the first
}

TEST(Engine, TpmLimitSpacesRequestsAtTheServer) {
  Arrivals arrivals;
  FakeServer server([&](const FakeRequest&) {
    arrivals.add();
    return FakeReply{200, "{}"};
  });
  Source src(server.base_url("/x"), 20);  // each call is estimated at 10 tokens
  EngineOptions o = fast_options();
  o.tpm = 6000;  // 100 tokens/s = 10 calls/s
  Engine engine(o);
  EXPECT_TRUE(engine.run(src));
  auto at = arrivals.get();
  ASSERT_EQ(at.size(), 20u);
  expect_spaced(at, 10, 11);
}

TEST(Engine, RetriesWaitForRetryAfter) {
  std::mutex mu;
  std::map<std::string, std::vector<Clock::time_point>> seen;
  FakeServer server([&](const FakeRequest& r) {
    std::lock_guard<std::mutex> lock(mu);
    auto& at = seen[r.body];
    at.push_back(Clock::now());
    if (at.size() == 1) return FakeReply{429, "{}", "application/json", {"Retry-After: 1"}};
    // OpenAI's millisecond header wins over Retry-After.
    if (at.size() == 2)
      return FakeReply{429, "{}", "application/json", {"Retry-After: 0", "retry-after-ms: 600"}};
    return FakeReply{200, "{}"};
  });
  Source src(server.base_url("/x"), 4);
  Engine engine(fast_options());  // backoff alone would wait at most 10 ms
  EXPECT_TRUE(engine.run(src));
  EXPECT_EQ(src.done, 4);
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(seen.size(), 4u);
  for (const auto& [body, at] : seen) {
    ASSERT_EQ(at.size(), 3u) << body;
    EXPECT_GE(seconds(at[0], at[1]), 0.98) << body;
    EXPECT_GE(seconds(at[1], at[2]), 0.58) << body;
  }
}

TEST(Engine, RetryAfterHoldsNewRequestsToo) {
  Arrivals arrivals;
  std::atomic<int> n{0};
  FakeServer server([&](const FakeRequest&) {
    arrivals.add();
    if (++n == 1) return FakeReply{429, "{}", "application/json", {"Retry-After: 1"}};
    return FakeReply{200, "{}"};
  });
  Source src(server.base_url("/x"), 3);
  EngineOptions o = fast_options();
  o.concurrency = 1;
  o.adaptive = false;
  Engine engine(o);
  EXPECT_TRUE(engine.run(src));
  EXPECT_EQ(src.done, 3);
  auto at = arrivals.get();
  ASSERT_EQ(at.size(), 4u);
  // Nothing, not even another unit's first attempt, went while the server said to wait.
  EXPECT_GE(seconds(at[0], at[1]), 0.98);
}

TEST(Engine, RateLimitRepliesDoNotUseUpErrorRetries) {
  std::mutex mu;
  std::map<std::string, int> seen;
  FakeServer server([&](const FakeRequest& r) {
    std::lock_guard<std::mutex> lock(mu);
    int n = seen[r.body]++;
    if (n < 4) return FakeReply{429, "{}", "application/json", {"Retry-After: 0"}};
    if (n == 4) return FakeReply{503, "{}"};
    return FakeReply{200, "{}"};
  });
  Source src(server.base_url("/x"), 10);
  EngineOptions o = fast_options();
  o.max_retries = 1;
  o.retry_budget_min = 10;  // the run's budget: one retry per unit, for the 503s
  o.retry_budget_ratio = 0;
  o.adaptive = false;
  Engine engine(o);
  EXPECT_TRUE(engine.run(src));
  EXPECT_EQ(src.done, 10) << (src.failures.empty() ? "" : src.failures.begin()->second);
  EXPECT_EQ(engine.counters().throttled, 40);
  for (const auto& [unit, attempt] : src.attempts) EXPECT_EQ(attempt, 5) << unit;
}

TEST(Engine, RateLimitRetriesHaveTheirOwnLimit) {
  FakeServer server([](const FakeRequest&) {
    return FakeReply{429, "{}", "application/json", {"Retry-After: 0"}};
  });
  Source src(server.base_url("/x"), 2);
  EngineOptions o = fast_options();
  o.max_throttle_retries = 3;
  Engine engine(o);
  engine.run(src);
  EXPECT_EQ(server.requests(), 8);
  ASSERT_EQ(src.failures.size(), 2u);
  EXPECT_EQ(src.failures[0], "HTTP 429 (gave up after 3 rate-limited retries)");
}

TEST(Engine, AdaptiveWindowRecoversAfterABurstOf429s) {
  // The first 40 requests are throttled (with every 429 halving it, the window falls to 1),
  // then everything is answered.
  std::atomic<int> n{0};
  FakeServer server([&](const FakeRequest&) {
    if (++n <= 40) return FakeReply{429, "{}", "application/json", {"Retry-After: 0"}};
    return FakeReply{200, "{}"};
  });
  Source src(server.base_url("/x"), 80);
  EngineOptions o = fast_options();
  o.concurrency = 32;
  o.decrease_interval_s = 0;
  Engine engine(o);
  EXPECT_TRUE(engine.run(src));
  EXPECT_EQ(src.done, 80);
  EXPECT_EQ(engine.counters().throttled, 40);
  // From a window of 1, growing by 1/window per answer would reach about 13 after 80
  // answers; climbing back by one per answer to half of the pre-burst 32 reaches 16 in 15.
  EXPECT_GE(engine.counters().window, 16) << engine.counters().window;
}

TEST(Engine, NoBusyWaitWhileADueRetryWaitsForAFullWindow) {
  // Unit 0 fails once with a short Retry-After; its retry is due while unit 1 holds the only
  // slot for 1 s.
  std::mutex mu;
  std::map<std::string, int> seen;
  FakeServer server([&](const FakeRequest& r) {
    std::lock_guard<std::mutex> lock(mu);
    int n = seen[r.body]++;
    if (r.body == "{\"i\":0}" && n == 0)
      return FakeReply{503, "{}", "application/json", {"Retry-After: 0.02"}};
    if (r.body == "{\"i\":1}") return FakeReply{200, "{}"}.after_ms(1000);
    return FakeReply{200, "{}"};
  });
  Source src(server.base_url("/x"), 2);
  EngineOptions o = fast_options();
  o.concurrency = 1;
  o.adaptive = false;
  Engine engine(o);
  EXPECT_TRUE(engine.run(src));
  EXPECT_EQ(src.done, 2);
  // Waiting on the next real event: ~10 rounds a second (the progress tick) plus one per
  // event. A loop polling with a zero timeout goes round thousands of times.
  EXPECT_LT(engine.counters().wakeups, 100);
}

TEST(Engine, NoBusyWaitWhileADueRetryWaitsForTheRateLimit) {
  std::mutex mu;
  std::map<std::string, int> seen;
  std::vector<Clock::time_point> retry_at;
  auto start = Clock::now();
  FakeServer server([&](const FakeRequest& r) {
    std::lock_guard<std::mutex> lock(mu);
    int n = seen[r.body]++;
    if (r.body == "{\"i\":0}" && n == 0)
      return FakeReply{429, "{}", "application/json", {"Retry-After: 0"}};
    if (n == 1) retry_at.push_back(Clock::now());
    return FakeReply{200, "{}"};
  });
  Source src(server.base_url("/x"), 2);
  EngineOptions o = fast_options();
  o.rpm = 60;  // both first attempts empty the bucket; the retry waits ~1 s for it
  o.adaptive = false;
  Engine engine(o);
  EXPECT_TRUE(engine.run(src));
  EXPECT_EQ(src.done, 2);
  ASSERT_EQ(retry_at.size(), 1u);
  EXPECT_GE(seconds(start, retry_at[0]), 0.95);  // a retry pays the rate limit too
  EXPECT_LT(engine.counters().wakeups, 100);
}

TEST(Engine, TotalTimeoutAndStallTimeoutAreToldApart) {
  // A reply that sends its headers and then nothing more, and one that never starts.
  FakeServer server([](const FakeRequest& r) {
    FakeReply rep;
    if (r.body == "{\"i\":0}") {
      rep.raw = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: {}\n\n";
      rep.raw_later = "data: [DONE]\n\n";
      rep.raw_later_ms = 4000;
      return rep;
    }
    return FakeReply{200, "{}"}.after_ms(4000);
  });
  class TimeoutSource : public Source {
   public:
    using Source::Source;
    bool next(size_t& unit, HttpCall& call, double& est) override {
      if (!Source::next(unit, call, est)) return false;
      call.timeout_s = unit == 0 ? 30 : 1;
      call.stall_timeout_s = unit == 0 ? 1 : 0;
      return true;
    }
  };
  TimeoutSource src(server.base_url("/x"), 2);
  EngineOptions o = fast_options();
  o.max_retries = 0;
  Engine engine(o);
  engine.run(src);
  ASSERT_EQ(src.failures.size(), 2u);
  EXPECT_NE(src.failures[0].find("(stalled; the stall timeout)"), std::string::npos)
      << src.failures[0];
  EXPECT_NE(src.failures[1].find("within 1 s (timeout)"), std::string::npos) << src.failures[1];
  EXPECT_EQ(engine.counters().stalls, 1);
  EXPECT_EQ(engine.counters().timeouts, 1);
}

TEST(Http, StallTimeoutLeavesASteadyStreamAlone) {
  // Data every 400 ms for 2.4 s: longer than the 1 s stall timeout, never quiet that long.
  FakeServer server([](const FakeRequest&) {
    FakeReply rep;
    rep.raw = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n";
    rep.drip.assign(6, "data: {}\n\n");
    rep.drip_ms = 400;
    return rep;
  });
  HttpCall c;
  c.url = server.base_url("/x");
  c.body = "{}";
  c.stream = true;
  c.timeout_s = 30;
  c.stall_timeout_s = 1;
  HttpReply r = http_call(c);
  EXPECT_EQ(r.status, 200) << r.transport_message;
  EXPECT_FALSE(r.stalled);
  EXPECT_EQ(r.body, "data: {}\n\ndata: {}\n\ndata: {}\n\ndata: {}\n\ndata: {}\n\ndata: {}\n\n");
}

TEST(Http, ParsesRetryAfter) {
  EXPECT_DOUBLE_EQ(parse_retry_after("5"), 5);
  EXPECT_DOUBLE_EQ(parse_retry_after(" 1.5 "), 1.5);
  EXPECT_EQ(parse_retry_after("soon"), -1);
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), 0);  // in the past
  double future = parse_retry_after("Fri, 01 Jan 2100 00:00:00 GMT");
  EXPECT_GT(future, 1e8);
}

TEST(Http, ClassifiesStatuses) {
  for (int s : {408, 429, 500, 502, 503, 504, 529}) EXPECT_TRUE(retryable_status(s)) << s;
  for (int s : {200, 400, 401, 403, 404, 422}) EXPECT_FALSE(retryable_status(s)) << s;
}

TEST(Http, TransportErrorsSayWhatHappened) {
  HttpCall c;
  c.method = "GET";
  c.timeout_s = 10;
  c.url = "http://nonexistent.invalid/v1/models";
  HttpReply r = http_call(c);
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.transport_retryable);
  EXPECT_NE(r.transport_message.find("cannot resolve host 'nonexistent.invalid'"),
            std::string::npos)
      << r.transport_message;

  FakeServer server([](const FakeRequest&) { return FakeReply{200, "{}"}; });
  c.url = "https://127.0.0.1:" + std::to_string(server.port()) + "/v1/models";
  r = http_call(c);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.transport_message.find("TLS handshake"), std::string::npos) << r.transport_message;
  EXPECT_NE(r.transport_message.find("use http://"), std::string::npos);
}

// The engine hands libcurl each distinct URL parsed once (a CURLU): what reaches the server
// must be what the URL says, for every request and every URL, credentials included.
TEST(Engine, EachUrlReachesTheServerAsWritten) {
  std::mutex mu;
  std::vector<std::string> seen;
  FakeServer server([&](const FakeRequest& r) {
    std::lock_guard<std::mutex> lock(mu);
    auto auth = r.headers.find("authorization");
    seen.push_back(r.path + " " + (auth == r.headers.end() ? "-" : auth->second));
    return FakeReply{200, "{}"};
  });
  const std::string port = std::to_string(server.port());
  struct Urls : Source {
    Urls(std::vector<std::string> urls) : Source("", urls.size()), urls_(std::move(urls)) {}
    bool next(size_t& unit, HttpCall& call, double& est) override {
      if (!Source::next(unit, call, est)) return false;
      call.url = urls_[unit];
      return true;
    }
    std::vector<std::string> urls_;
  };
  std::vector<std::string> urls;
  for (int i = 0; i < 3; ++i) {
    urls.push_back("http://127.0.0.1:" + port + "/v1/chat/completions");
    urls.push_back("http://127.0.0.1:" + port + "/v1/completions?api-version=2024-06-01");
    urls.push_back("http://user:s%3Acret@127.0.0.1:" + port + "/a/b");
  }
  Urls src(urls);
  EngineOptions o = fast_options();
  o.concurrency = 2;
  Engine(o).run(src);
  EXPECT_EQ(src.done, 9);
  std::sort(seen.begin(), seen.end());
  // Basic auth of user / s:cret ("dXNlcjpzOmNyZXQ=").
  std::vector<std::string> want;
  for (int i = 0; i < 3; ++i) want.push_back("/a/b Basic dXNlcjpzOmNyZXQ=");
  for (int i = 0; i < 3; ++i) want.push_back("/v1/chat/completions -");
  for (int i = 0; i < 3; ++i) want.push_back("/v1/completions?api-version=2024-06-01 -");
  EXPECT_EQ(seen, want);

  // A URL libcurl's URL parser rejects still fails with libcurl's own error, as a failure.
  Urls bad({"http://[::1/v1/models"});
  Engine(o).run(bad);
  EXPECT_EQ(bad.done, 0);
  ASSERT_EQ(bad.failures.size(), 1u);
  EXPECT_NE(bad.failures[0].find("invalid URL"), std::string::npos) << bad.failures[0];
}

// The engine tells libcurl "no proxy" only when the environment names none: with
// http_proxy set, calls still go through that proxy (libcurl reads it as it always does).
TEST(Engine, AProxyFromTheEnvironmentIsStillUsed) {
  std::mutex mu;
  std::vector<std::string> via_proxy;
  FakeServer proxy([&](const FakeRequest& r) {
    std::lock_guard<std::mutex> lock(mu);
    via_proxy.push_back(r.path);
    return FakeReply{200, "{}"};
  });
  struct Url : Source {
    explicit Url(std::string url) : Source("", 2), url_(std::move(url)) {}
    bool next(size_t& unit, HttpCall& call, double& est) override {
      if (!Source::next(unit, call, est)) return false;
      call.url = url_;
      return true;
    }
    std::string url_;
  };
  EngineOptions o = fast_options();
  o.concurrency = 1;
  const char* saved = std::getenv("http_proxy");
  std::string saved_value = saved ? saved : "";
  ::setenv("http_proxy", proxy.base_url().substr(0, proxy.base_url().find("/v1")).c_str(), 1);
  // A host that does not resolve: only the proxy can answer for it.
  Url through("http://model-server.invalid:8000/v1/models");
  Engine(o).run(through);
  if (saved)
    ::setenv("http_proxy", saved_value.c_str(), 1);
  else
    ::unsetenv("http_proxy");
  EXPECT_EQ(through.done, 2) << (through.failures.empty() ? "" : through.failures[0]);
  ASSERT_EQ(via_proxy.size(), 2u);
  EXPECT_EQ(via_proxy[0], "http://model-server.invalid:8000/v1/models");
}

TEST(Http, TtftIsTheFirstByteOrTheFirstMarker) {
  // An Anthropic-like stream: message_start at once, the first token 150 ms later.
  FakeServer server([](const FakeRequest&) {
    FakeReply r;
    r.raw =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
        "event: message_start\ndata: {\"type\":\"message_start\"}\n\n";
    r.raw_later =
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\"}\n\n"
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    r.raw_later_ms = 150;
    return r;
  });
  HttpCall call;
  call.url = server.base_url() + "/messages";
  call.body = "{}";
  call.stream = true;
  HttpReply first_byte = http_call(call);
  ASSERT_EQ(first_byte.status, 200);
  EXPECT_GE(first_byte.ttft_s, 0);
  EXPECT_LT(first_byte.ttft_s, 0.12);
  call.ttft_marker = "content_block_delta";
  HttpReply first_token = http_call(call);
  ASSERT_EQ(first_token.status, 200);
  EXPECT_GE(first_token.ttft_s, 0.14);
  EXPECT_NE(first_token.body.find("message_stop"), std::string::npos);
}

}  // namespace
}  // namespace retort
