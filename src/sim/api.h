// The simulator's OpenAI/vLLM API semantics (and Anthropic's Messages API), independent of the
// network: a request body in, a reply (status, body or stream steps, and what the latency model
// needs) out.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/script.h"
#include "sim/sim.h"
#include "sim/tokenizer.h"

namespace retort::sim {

struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string extra_headers;  // complete "Name: value\r\n" lines
  std::string body;           // the body when not streamed

  // A streamed reply is Server-Sent Events; steps[i] holds the bytes produced by generation
  // step i (step 0 at the time to first token, one step per output token after that),
  // stream_tail the final events (finish reasons, usage) and stream_done the event that says
  // the stream is complete ("data: [DONE]", or Anthropic's message_stop), both sent with the
  // last step. A truncated stream sends neither; a malformed one still sends stream_done.
  bool stream = false;
  std::vector<std::string> steps;
  std::string stream_tail;
  std::string stream_done;

  // For the latency model and metrics (generation routes only).
  bool generation = false;
  size_t prompt_tokens = 0;
  size_t completion_tokens = 0;
  size_t output_steps = 0;           // the longest choice, in tokens (at least 1)
  std::vector<uint32_t> prompt_ids;  // the first prompt's tokens, for the prefix cache
};

// An error reply in vLLM's shape: {"object":"error","message","type","param","code"}.
Reply error_reply(int status, const std::string& message, const std::string& type);
// An error reply in OpenAI's shape: {"error":{"message","type","param","code"}}.
Reply openai_error_reply(int status, const std::string& message, const std::string& type,
                         const std::string& code);

// An error reply in Anthropic's shape: {"type":"error","error":{"type","message"}}.
Reply anthropic_error_reply(int status, const std::string& type, const std::string& message);

class Api {
 public:
  Api(const SimOptions& options, const Script* script);

  Reply models() const;
  Reply chat(std::string_view body);
  Reply completions(std::string_view body);
  // Anthropic's POST /v1/messages: its request checks, reply and event stream.
  Reply messages(std::string_view body);
  Reply tokenize(std::string_view body);
  Reply detokenize(std::string_view body);

  Tokenizer& tokenizer() { return tokenizer_; }

 private:
  struct Generated;
  Generated generate(const std::string& prompt_subject, const std::string& echo_text,
                     long max_tokens, const std::vector<std::string>& stop);
  std::string next_id(const char* prefix);

  const SimOptions& options_;
  const Script* script_;
  Tokenizer tokenizer_;
  int64_t created_;
  std::atomic<uint64_t> id_counter_{0};
};

}  // namespace retort::sim
