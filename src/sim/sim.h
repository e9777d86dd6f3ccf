// `retort sim`: an OpenAI-compatible server that answers like vLLM's (and serves Anthropic's
// Messages API at /v1/messages), for tests, demos and benchmarks. Deterministic given its
// options (replies, tokenization, logprobs, and which requests get an injected fault), with a
// latency model (time to first token, time per output token, a bounded number of concurrent
// sequences with a FIFO queue, an optional prefix-cache effect) and fault injection by rate.
// See docs/sim.md.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace retort::sim {

enum class Mode { kEcho, kFixed, kScript };

struct SimOptions {
  std::string host = "127.0.0.1";
  int port = 8000;        // 0: pick a free port
  std::string port_file;  // written atomically with the bound port once listening
  std::vector<std::string> models{"sim-model"};
  uint64_t seed = 0;
  Mode mode = Mode::kEcho;
  std::optional<std::string> reply;  // fixed mode; script mode's fallback
  std::string script_path;           // script mode
  double default_logprob = -2.0;     // prompt-token logprob when no script rule says otherwise
  // When set, /v1/* requires "Authorization: Bearer KEY" (or "x-api-key: KEY"), and
  // /v1/messages, as Anthropic's API does, "x-api-key: KEY".
  std::string api_key;
  int max_model_len = 4096;
  std::optional<int> max_tokens_default;  // else vLLM's: 16 (completions), the context (chat)
  // Chat replies "<think>...</think>answer" come back with the thinking in
  // message.reasoning_content (delta.reasoning_content when streamed), as vLLM does with
  // --reasoning-parser deepseek_r1.
  bool reasoning = false;
  // With reasoning: also report usage.completion_tokens_details.reasoning_tokens (the tokens
  // before the answer), as OpenAI's and DeepSeek's APIs do; vLLM does not.
  bool reasoning_tokens = false;
  // Refuse `echo: true` on /v1/completions with a 400, as servers without prompt logprobs
  // do (LM Studio, Ollama, llama.cpp): clients must fall back to generation.
  bool no_echo = false;

  // Latency model.
  double ttft_ms = 0;
  double tpot_ms = 0;
  int max_seqs = 0;  // concurrent sequences; 0 = unlimited
  bool prefix_cache = false;

  // Fault injection: the probability that a generation request gets each fault.
  double fail_429 = 0;
  double retry_after_s = 1;
  double fail_500 = 0;
  double fail_503 = 0;
  double fail_reset = 0;
  double fail_malformed = 0;
  double fail_truncate = 0;
  double fail_stall = 0;

  int threads = 0;  // 0: one per hardware thread
  bool verbose = false;
};

// Checks options that flags cannot check alone; throws retort::Error.
void validate(const SimOptions& options);

class Server {
 public:
  // Loads the script (throws retort::Error naming file:line), binds and listens.
  explicit Server(const SimOptions& options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const;
  // Serves until stop() or, when handle_signals, SIGINT/SIGTERM. Blocks.
  void run(bool handle_signals);
  // Thread-safe; makes run() return.
  void stop();

  struct Impl;  // defined in server.cc; public only so that file's helpers can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace retort::sim
