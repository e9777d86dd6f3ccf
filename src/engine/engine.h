// The request engine: many HTTP exchanges at once over libcurl multi (connection reuse,
// HTTP/2 multiplexing where offered), with a bounded in-flight window, work pulled lazily
// from a CallSource (so memory follows what is in flight, not the size of the run),
// per-attempt timeouts (total, and a stall timeout for streams), retries with exponential
// backoff + full jitter honouring Retry-After, a global retry budget (a dead server does not
// become a retry storm), client-side rpm/tpm limits, and an AIMD window that halves on 429
// and climbs back once answers flow again.
// Rate-limit replies (429, 529) are not errors: their retries have a budget of their own
// (max_throttle_retries) and never use up max_retries or the global retry budget; their
// Retry-After holds every send, new or retried, until it has passed.
// The loop sleeps until the next thing that can happen (a socket event, libcurl's timer, a
// delayed retry that can start, the rate bucket refilling, the 200 ms tick): it never spins.
// The engine knows nothing about tasks or API bodies: a CallSource builds the calls and
// judges the replies.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/http.h"

namespace retort {

enum class Verdict { kDone, kRetry, kFail };

struct Outcome {
  Verdict verdict = Verdict::kDone;
  std::string reason;  // for kRetry / kFail: one line
};

class CallSource {
 public:
  virtual ~CallSource() = default;
  // Next unit of work; false when there is none left. est_tokens feeds the tpm limit.
  virtual bool next(size_t& unit, HttpCall& call, double& est_tokens) = 0;
  // Judges an HTTP reply (status != 0) for an attempt (0 = first). kDone means the unit is
  // answered; the source keeps its result until on_commit().
  virtual Outcome on_reply(size_t unit, const HttpReply& reply, int attempt) = 0;
  // The unit ended without an answer (non-retryable, retries exhausted, budget spent, or
  // interrupted). last is the last reply (status 0 for transport errors / interrupts).
  virtual void on_failed(size_t unit, const std::string& reason, const HttpReply& last,
                         int retries) = 0;
  // Called after each group of completions was judged: make results durable, then hand on.
  virtual void on_commit() {}
  // Called about every 200 ms from the engine's thread.
  virtual void on_tick() {}
};

struct EngineOptions {
  int concurrency = 32;
  int max_retries = 5;  // retries after errors (5xx, resets, timeouts), per unit
  // Retries after rate-limit replies (429/529), per unit; separate from max_retries so that
  // a busy hosted API does not turn answerable requests into failures.
  int max_throttle_retries = 30;
  double rpm = 0;
  double tpm = 0;
  bool adaptive = true;
  double backoff_base_s = 0.5;
  double backoff_cap_s = 30;
  double retry_after_cap_s = 300;
  // The window halves at most once per this interval (replies to requests sent before a
  // decrease say nothing new). After a burst of 429s it climbs back by one per answer up to
  // half of where the burst began, then by one per window's worth of answers.
  double decrease_interval_s = 1.0;
  // Global retry budget (429s excepted): retries allowed = min + ratio * successes so far.
  int retry_budget_min = 20;
  double retry_budget_ratio = 0.5;
  // Stop flag: 0 run, 1 stop sending (in-flight finish), 2 also abort in-flight.
  const std::atomic<int>* stop = nullptr;
};

struct EngineCounters {
  int64_t http_calls = 0;  // attempts started
  int64_t retries = 0;
  int64_t in_flight = 0;
  int64_t succeeded = 0;  // units done
  int64_t failed = 0;     // units failed
  int64_t throttled = 0;  // 429/529 replies
  int64_t timeouts = 0;   // attempts cut by the total timeout
  int64_t stalls = 0;     // attempts cut by the stall timeout (no bytes for too long)
  int64_t wakeups = 0;    // rounds of the event loop (each one wait on epoll or a timer)
  double window = 0;      // current adaptive window
};

class Engine {
 public:
  explicit Engine(EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Runs until the source is exhausted and everything finished, or until stopped. Returns
  // true when it ran to the end, false when stopped (units never pulled stay with the source).
  bool run(CallSource& source);
  const EngineCounters& counters() const { return counters_; }

 private:
  struct Impl;
  Impl* impl_;
  EngineCounters counters_;
};

}  // namespace retort
