// Reading Anthropic's streamed Messages replies: text, thinking, usage and stop reason, and
// what a cut, broken or error-carrying stream means for a retry.
#include "providers/anthropic_stream.h"

#include <gtest/gtest.h>

#include <string>

namespace retort {
namespace {

HttpReply stream_reply(const std::string& body) {
  HttpReply r;
  r.status = 200;
  r.content_type = "text/event-stream; charset=utf-8";
  r.body = body;
  r.ttft_s = 0.25;
  return r;
}

// "event: NAME\ndata: JSON\n\n", as Anthropic's API writes each event.
std::string event(const std::string& name, const std::string& data) {
  return "event: " + name + "\ndata: " + data + "\n\n";
}

std::string message_start(int input_tokens) {
  return event("message_start",
               R"({"type":"message_start","message":{"id":"msg_1","type":"message",)"
               R"("role":"assistant","model":"claude-x","content":[],"stop_reason":null,)"
               R"("stop_sequence":null,"usage":{"input_tokens":)" +
                   std::to_string(input_tokens) +
                   R"(,"cache_creation_input_tokens":7,"cache_read_input_tokens":9,)"
                   R"("output_tokens":1}}})");
}

std::string block_start(int index, const std::string& type) {
  const std::string field = type == "text" ? "text" : "thinking";
  return event("content_block_start", R"({"type":"content_block_start","index":)" +
                                          std::to_string(index) + R"(,"content_block":{"type":")" +
                                          type + R"(",")" + field + R"(":""}})");
}

std::string delta(int index, const std::string& type, const std::string& key,
                  const std::string& text) {
  return event("content_block_delta", R"({"type":"content_block_delta","index":)" +
                                          std::to_string(index) + R"(,"delta":{"type":")" + type +
                                          R"(",")" + key + R"(":")" + text + R"("}})");
}

std::string block_stop(int index) {
  return event("content_block_stop",
               R"({"type":"content_block_stop","index":)" + std::to_string(index) + "}");
}

std::string message_end(const std::string& stop_reason, int output_tokens) {
  return event("message_delta", R"({"type":"message_delta","delta":{"stop_reason":")" +
                                    stop_reason +
                                    R"(","stop_sequence":null},"usage":{"output_tokens":)" +
                                    std::to_string(output_tokens) + "}}") +
         event("message_stop", R"({"type":"message_stop"})");
}

std::string text_stream() {
  return message_start(25) + block_start(0, "text") + event("ping", R"({"type": "ping"})") +
         delta(0, "text_delta", "text", "Hello") + delta(0, "text_delta", "text", ", world") +
         block_stop(0) + message_end("end_turn", 15);
}

TEST(AnthropicStream, ReadsTextUsageAndStopReason) {
  Response r;
  Outcome o = wire::parse_anthropic_stream(stream_reply(text_stream()), r);
  EXPECT_EQ(o.verdict, Verdict::kDone) << o.reason;
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.text, "Hello, world");
  EXPECT_EQ(r.reasoning, "");
  EXPECT_EQ(r.finish_reason, "end_turn");
  EXPECT_EQ(r.prompt_tokens, 25) << "input_tokens only, not the cache_* counts";
  EXPECT_EQ(r.completion_tokens, 15) << "message_delta's output_tokens wins over message_start's";
  EXPECT_DOUBLE_EQ(r.ttft_s, 0.25);
}

TEST(AnthropicStream, ThinkingGoesToReasoningAndTextToText) {
  std::string body =
      message_start(12) + block_start(0, "thinking") +
      delta(0, "thinking_delta", "thinking", "Two plus two ") +
      delta(0, "thinking_delta", "thinking", "is four.") +
      delta(0, "signature_delta", "signature", "EqQBCgIYAhIM") + block_stop(0) +
      block_start(1, "text") + delta(1, "text_delta", "text", "4") + block_stop(1) +
      event("content_block_start",
            R"({"type":"content_block_start","index":2,"content_block":{"type":"tool_use",)"
            R"("id":"t1","name":"calc","input":{}}})") +
      event("content_block_delta",
            R"({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta",)"
            R"("partial_json":"{\"x\": 1}"}})") +
      block_stop(2) + message_end("max_tokens", 40);
  Response r;
  Outcome o = wire::parse_anthropic_stream(stream_reply(body), r);
  EXPECT_EQ(o.verdict, Verdict::kDone) << o.reason;
  EXPECT_EQ(r.reasoning, "Two plus two is four.");
  EXPECT_EQ(r.text, "4");
  EXPECT_EQ(r.finish_reason, "max_tokens");
  EXPECT_EQ(r.completion_tokens, 40);
}

TEST(AnthropicStream, WithoutMessageStopIsATruncatedReplyToRetry) {
  std::string body = message_start(25) + block_start(0, "text") +
                     delta(0, "text_delta", "text", "Hello") + block_stop(0);
  Response r;
  Outcome o = wire::parse_anthropic_stream(stream_reply(body), r);
  EXPECT_EQ(o.verdict, Verdict::kRetry);
  EXPECT_EQ(o.reason, "the stream ended before message_stop (truncated reply)");
  EXPECT_FALSE(r.ok);

  // Cut in the middle of the message_delta: still no message_stop.
  std::string full = text_stream();
  Response cut;
  o = wire::parse_anthropic_stream(stream_reply(full.substr(0, full.find("event: message_stop"))),
                                   cut);
  EXPECT_EQ(o.verdict, Verdict::kRetry);
  EXPECT_FALSE(cut.ok);

  Response empty;
  EXPECT_EQ(wire::parse_anthropic_stream(stream_reply(""), empty).verdict, Verdict::kRetry);
}

TEST(AnthropicStream, ADataLineThatIsNotJsonIsMalformed) {
  std::string body = message_start(3) + "event: content_block_delta\ndata: {\"type\":\"content_" +
                     std::string(100, 'x') + "\n\n" + message_end("end_turn", 2);
  Response r;
  Outcome o = wire::parse_anthropic_stream(stream_reply(body), r);
  EXPECT_EQ(o.verdict, Verdict::kRetry);
  EXPECT_EQ(o.reason, "the stream carried a malformed event: '{\"type\":\"content_" +
                          std::string(80 - 17, 'x') + "'");
  EXPECT_FALSE(r.ok);
}

TEST(AnthropicStream, AnOverloadedErrorEventIsRetried) {
  std::string body = message_start(3) + block_start(0, "text") +
                     delta(0, "text_delta", "text", "Hel") +
                     event("error", R"({"type":"error","error":{"type":"overloaded_error",)"
                                    R"("message":"Overloaded"}})");
  Response r;
  Outcome o = wire::parse_anthropic_stream(stream_reply(body), r);
  EXPECT_EQ(o.verdict, Verdict::kRetry);
  EXPECT_EQ(o.reason, "the server's stream carried an error: overloaded_error: Overloaded");
  EXPECT_FALSE(r.ok);

  for (const char* type : {"rate_limit_error", "api_error"}) {
    Response again;
    std::string e = event("error", std::string(R"({"type":"error","error":{"type":")") + type +
                                       R"(","message":"m"}})");
    EXPECT_EQ(wire::parse_anthropic_stream(stream_reply(e), again).verdict, Verdict::kRetry)
        << type;
  }
}

TEST(AnthropicStream, AnInvalidRequestErrorEventFails) {
  std::string body = event("error", R"({"type":"error","error":{"type":"invalid_request_error",)"
                                    R"("message":"max_tokens: Field required"}})");
  Response r;
  Outcome o = wire::parse_anthropic_stream(stream_reply(body), r);
  EXPECT_EQ(o.verdict, Verdict::kFail);
  EXPECT_EQ(o.reason,
            "the server's stream carried an error: invalid_request_error: max_tokens: Field "
            "required");
  EXPECT_FALSE(r.ok);
}

TEST(AnthropicStream, CrlfLineEndsAndDataWithoutASpace) {
  std::string body;
  for (char c : text_stream()) {
    if (c == '\n') body += '\r';
    body += c;
  }
  Response r;
  Outcome o = wire::parse_anthropic_stream(stream_reply(body), r);
  EXPECT_EQ(o.verdict, Verdict::kDone) << o.reason;
  EXPECT_EQ(r.text, "Hello, world");
  EXPECT_EQ(r.finish_reason, "end_turn");
  EXPECT_EQ(r.prompt_tokens, 25);

  std::string tight = text_stream();
  for (size_t at = tight.find("data: "); at != std::string::npos; at = tight.find("data: ", at))
    tight.erase(at + 5, 1);
  Response t;
  o = wire::parse_anthropic_stream(stream_reply(tight), t);
  EXPECT_EQ(o.verdict, Verdict::kDone) << o.reason;
  EXPECT_EQ(t.text, "Hello, world");
  EXPECT_EQ(t.completion_tokens, 15);
}

}  // namespace
}  // namespace retort
