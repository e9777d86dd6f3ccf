// One HTTP exchange as plain values, and a blocking fetch for the few one-off calls
// (model listing, capability probes). The concurrent path is engine.h; both share these
// types and the wording of transport errors.
#pragma once

#include <string>
#include <vector>

namespace retort {

struct HttpCall {
  std::string method = "POST";  // "POST" or "GET"
  std::string url;
  std::vector<std::string> headers;  // "Name: value"; Content-Type is added for POST bodies
  std::string body;
  bool stream = false;      // response is SSE; ttft = time to the first body byte, or to
  std::string ttft_marker;  // the first appearance of this text in the body when set
  double timeout_s = 600;   // whole exchange
  // Fails the exchange when no byte arrives for this long (0 = off). Meant for streams: a
  // non-streamed reply sends nothing until it is complete, so only timeout_s bounds it.
  // libcurl measures it in whole seconds (rounded up).
  double stall_timeout_s = 0;
};

struct HttpReply {
  int status = 0;                    // HTTP status; 0 when no reply came (transport error)
  int transport_error = 0;           // CURLcode, 0 = none
  std::string transport_message;     // one line saying what went wrong, naming the URL
  bool transport_retryable = false;  // refused/reset/timeout: yes; DNS/TLS/bad URL: no
  std::string body;
  std::string content_type;
  // Retry-After (seconds or HTTP date), or retry-after-ms / x-ms-retry-after-ms (OpenAI,
  // Azure) when present, in seconds; -1 when absent.
  double retry_after_s = -1;
  double latency_s = 0;
  double ttft_s = -1;      // streaming only: time to the first body byte
  bool timed_out = false;  // transport error: the total timeout (timeout_s) ran out
  bool stalled = false;    // transport error: no byte for stall_timeout_s
};

// Performs one exchange and waits for it. Never throws for network problems (they are in
// the reply).
HttpReply http_call(const HttpCall& call);

// Parses a Retry-After value: delta seconds ("12", "1.5") or an HTTP date. -1 if neither.
double parse_retry_after(const std::string& value);

// Whether an HTTP status is worth retrying: 408, 409, 425, 429, 5xx (incl. 529).
bool retryable_status(int status);

// "http://host:port" part of a URL, for messages.
std::string origin_of(const std::string& url);

}  // namespace retort
