// Run statistics: what the request engine did, for the live display and the final
// statistics table. Plain values; the engine fills a RunStats, the report prints it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace retort {

// One moment of a run, for the report's chart of latency and throughput over time.
struct SeriesPoint {
  double t_s = 0.0;           // seconds since the engine started
  int64_t done = 0;           // requests answered so far
  int64_t in_flight = 0;      // sent and unanswered at that moment
  double tokens_per_s = 0.0;  // output tokens per second since the previous point
  double ttft_p50_s = -1.0;   // median time to first token so far (-1: nothing streamed)
};

struct RunStats {
  int64_t total = 0;        // logical requests planned
  int64_t cached = 0;       // answered from the response cache
  int64_t succeeded = 0;    // answered by the server (excludes cached)
  int64_t failed = 0;       // ended with an error after retries
  int64_t interrupted = 0;  // of failed: not answered because the run was stopped
  int64_t in_flight = 0;    // currently sent and unanswered
  int64_t retries = 0;      // HTTP attempts beyond the first
  int64_t http_calls = 0;   // HTTP requests sent (a batched call counts once)
  int64_t throttled = 0;    // attempts answered 429/529 (rate limited; retried apart)
  int64_t timeouts = 0;     // attempts cut by the total timeout (--timeout)
  int64_t stalls = 0;       // attempts cut by the stall timeout (streams: no bytes for N s)
  int64_t truncated = 0;    // generated replies cut at the token limit (finish_reason length)
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  // Reasoning in the generated replies scored (cached ones included): the tokens servers
  // reported (usage.completion_tokens_details.reasoning_tokens) and how many replies reported
  // them; the characters of reasoning (reasoning_content and <think>...</think>) and how many
  // replies had any.
  int64_t reasoning_tokens = 0;
  int64_t reasoning_token_replies = 0;
  int64_t reasoning_chars = 0;
  int64_t reasoning_replies = 0;
  double elapsed_s = 0.0;  // wall time since the engine started
  double latency_p50_s = 0.0;
  double latency_p90_s = 0.0;
  double latency_p99_s = 0.0;
  double ttft_p50_s = -1.0;  // -1 when nothing was streamed
  double ttft_p90_s = -1.0;
  double ttft_p99_s = -1.0;
  // Time per output token after the first ((latency - TTFT) / (tokens - 1)), streamed
  // replies of 2+ tokens; -1 when there were none.
  double tpot_p50_s = -1.0;
  double tpot_p90_s = -1.0;
  double tpot_p99_s = -1.0;
  // Client-side limits the run was configured with (--rpm / --tpm; 0 = none).
  double rpm_limit = 0;
  double tpm_limit = 0;
  // Cost: a price per million input / output tokens from the price table (< 0: none for
  // this model), or a local server (costs $0.00).
  double price_input_per_mtok = -1.0;
  double price_output_per_mtok = -1.0;
  std::string price_model;  // the price table entry that matched
  bool local_server = false;
  // Sampled over the run by the pipeline's progress observer (at most ~120 points).
  std::vector<SeriesPoint> series;

  int64_t done() const { return cached + succeeded + failed; }
  double requests_per_min() const {
    return elapsed_s > 0 ? 60.0 * (succeeded + failed) / elapsed_s : 0;
  }
  double tokens_per_min() const { return 60.0 * tokens_per_s(); }
  // USD for the tokens this run sent and received (cached replies cost nothing); 0 on a
  // local server; < 0 when no price is known.
  double cost_usd() const {
    if (price_input_per_mtok >= 0 && price_output_per_mtok >= 0)
      return (static_cast<double>(prompt_tokens) * price_input_per_mtok +
              static_cast<double>(completion_tokens) * price_output_per_mtok) /
             1e6;
    return local_server ? 0.0 : -1.0;
  }
  double tokens_per_s() const {
    return elapsed_s > 0 ? static_cast<double>(prompt_tokens + completion_tokens) / elapsed_s : 0;
  }
};

}  // namespace retort
