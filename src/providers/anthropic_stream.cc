#include "providers/anthropic_stream.h"

#include <string>
#include <string_view>

#include "util/json.h"

namespace retort::wire {

namespace {

// The string at j[key], or "" when j is not an object or the value is not a string.
std::string text_at(const Json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const Json* object_at(const Json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? &*it : nullptr;
}

void read_output_tokens(const Json* usage, Response& r) {
  if (!usage) return;
  auto it = usage->find("output_tokens");
  if (it != usage->end() && it->is_number_integer()) r.completion_tokens = it->get<int64_t>();
}

// Anthropic's error types that a later attempt may get past (overload, rate limits, its own
// failures); the rest (invalid_request_error, authentication_error, ...) will not change.
bool retryable_error(const std::string& type) {
  return type == "overloaded_error" || type == "rate_limit_error" || type == "api_error";
}

}  // namespace

Outcome parse_anthropic_stream(const HttpReply& reply, Response& r) {
  const std::string& body = reply.body;
  std::string event;  // the "event:" name of the event being read
  bool stopped = false;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    std::string_view line(body.data() + pos, (nl == std::string::npos ? body.size() : nl) - pos);
    pos = nl == std::string::npos ? body.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      event.clear();
      continue;
    }
    if (line.substr(0, 6) == "event:") {
      std::string_view name = line.substr(6);
      if (!name.empty() && name[0] == ' ') name.remove_prefix(1);
      event = std::string(name);
      continue;
    }
    if (line.substr(0, 5) != "data:") continue;  // comments (":...") and other fields
    std::string_view data = line.substr(5);
    if (!data.empty() && data[0] == ' ') data.remove_prefix(1);
    Json j = Json::parse(data, nullptr, false);
    if (j.is_discarded()) {
      return {Verdict::kRetry,
              "the stream carried a malformed event: '" + std::string(data.substr(0, 80)) + "'"};
    }
    std::string type = text_at(j, "type");
    if (type.empty()) type = event;

    if (type == "error") {
      const Json* e = object_at(j, "error");
      std::string error_type = e ? text_at(*e, "type") : std::string();
      std::string message = e ? text_at(*e, "message") : std::string();
      return {retryable_error(error_type) ? Verdict::kRetry : Verdict::kFail,
              "the server's stream carried an error: " + error_type + ": " + message};
    }
    if (type == "message_start") {
      const Json* message = object_at(j, "message");
      const Json* usage = message ? object_at(*message, "usage") : nullptr;
      if (usage) {
        auto it = usage->find("input_tokens");
        if (it != usage->end() && it->is_number_integer()) r.prompt_tokens = it->get<int64_t>();
      }
      read_output_tokens(usage, r);
    } else if (type == "content_block_delta") {
      const Json* delta = object_at(j, "delta");
      if (!delta) continue;
      std::string delta_type = text_at(*delta, "type");
      if (delta_type == "text_delta") {
        r.text += text_at(*delta, "text");
      } else if (delta_type == "thinking_delta") {
        r.reasoning += text_at(*delta, "thinking");
      }
    } else if (type == "message_delta") {
      const Json* delta = object_at(j, "delta");
      if (delta) {
        std::string reason = text_at(*delta, "stop_reason");
        if (!reason.empty()) r.finish_reason = std::move(reason);
      }
      read_output_tokens(object_at(j, "usage"), r);
    } else if (type == "message_stop") {
      stopped = true;
    }
  }
  if (!stopped) {
    return {Verdict::kRetry, "the stream ended before message_stop (truncated reply)"};
  }
  r.ttft_s = reply.ttft_s;
  r.ok = true;
  return {};
}

}  // namespace retort::wire
