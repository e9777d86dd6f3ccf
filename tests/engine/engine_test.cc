// The engine against a loopback server: retries, Retry-After, retry budget, bounded
// concurrency, adaptive window, stop.
#include "engine/engine.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>

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

TEST(Engine, RpmLimitSpacesRequests) {
  FakeServer server([](const FakeRequest&) { return FakeReply{200, "{}"}; });
  Source src(server.base_url("/x"), 3);
  EngineOptions o = fast_options();
  o.rpm = 6000;  // 100/s: 3 requests pass quickly, but through the limiter
  Engine engine(o);
  EXPECT_TRUE(engine.run(src));
  EXPECT_EQ(src.done, 3);
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
